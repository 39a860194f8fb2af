package shim

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modphp-migrate/modphp-migrate/fcgi"
	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// BenchmarkShimFPM sends hello.php under the 3-level .htaccess chain to a
// real php-fpm, directly and through the shim, one request at a time over
// kept connections, and reports the p50 and p99 of each: the shim's added
// latency without Apache and wrk competing for the CPU.
func BenchmarkShimFPM(b *testing.B) {
	fpm := lab.StartFPM(b, lab.FPMConfig{Children: 2})
	root := lab.TempDir(b)
	script := chain(b, root)
	_, sock := shimOnFPM(b, fpm)
	ps := pp("SCRIPT_FILENAME", "proxy:fcgi://localhost"+script, "DOCUMENT_ROOT", root, "CONTEXT_DOCUMENT_ROOT", root,
		"SCRIPT_NAME", "/a/b/c/hello.php", "REQUEST_URI", "/a/b/c/hello.php", "REQUEST_METHOD", "GET",
		"HTTP_HOST", "127.0.0.1", "SERVER_NAME", "127.0.0.1", "SERVER_PORT", "80", "REMOTE_ADDR", "127.0.0.1",
		"GATEWAY_INTERFACE", "CGI/1.1", "SERVER_PROTOCOL", "HTTP/1.1")
	for _, tc := range []struct {
		name string
		c    *fcgi.Client
	}{
		{"direct", &fcgi.Client{Network: "unix", Addr: fpm.Addr, KeepAlive: true, MaxConns: 1}},
		{"shim", &fcgi.Client{Network: "unix", Addr: sock, KeepAlive: true, MaxConns: 1}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var lat []time.Duration
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				if _, err := tc.c.Do(context.Background(), &fcgi.Request{Params: ps}, io.Discard); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
		tc.c.Close()
	}
}

// TestRecycledWorkers: php-fpm ends a kept connection after
// pm.max_requests (docs/behaviour.md#b-fpm-connections); the shim's requests keep succeeding
// with the right settings, and every worker it meets is reset.
func TestRecycledWorkers(t *testing.T) {
	fpm := lab.StartFPM(t, lab.FPMConfig{Children: 2, MaxRequests: 2, Scripts: map[string]string{
		"a/.htaccess": "php_value memory_limit 64M\n",
		"a/ini.php":   "<?php echo ini_get('memory_limit');",
		"ini.php":     "<?php echo ini_get('memory_limit');",
	}})
	srv, sock := shimOnFPM(t, fpm)
	apache := &fcgi.Client{Network: "unix", Addr: sock}
	for i := range 12 {
		script, want := "ini.php", "128M"
		if i%3 == 1 {
			script, want = "a/ini.php", "64M"
		}
		var out strings.Builder
		ps := pp("SCRIPT_FILENAME", "proxy:fcgi://localhost"+fpm.Script(script), "DOCUMENT_ROOT", fpm.DocRoot, "REQUEST_METHOD", "GET")
		if _, err := apache.Do(context.Background(), &fcgi.Request{Params: ps}, &out); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if _, body, _ := strings.Cut(out.String(), "\r\n\r\n"); body != want {
			t.Errorf("request %d %s: memory_limit %q, want %q", i, script, body, want)
		}
	}
	if d := srv.Snapshot().Pools[0].Dials; d < 4 {
		t.Errorf("dials = %d: workers were not recycled (want at least 4 with max_requests=2)", d)
	}
}

// shimOnFPM runs a shim in front of the real php-fpm until the test ends
// and returns it and its socket.
func shimOnFPM(tb testing.TB, fpm *lab.FPM) (*Server, string) {
	tb.Helper()
	sock := filepath.Join(lab.TempDir(tb), "shim.sock")
	srv, err := New(context.Background(), Config{
		Listen: Addr{Network: "unix", Address: sock}, Pool: Addr{Network: "unix", Address: fpm.Addr},
		FPMConfig: fpm.ConfPath, ShutdownGrace: time.Second,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	runShim(tb, srv)
	waitAccepts(sock)
	return srv, sock
}

// waitAccepts waits up to 2 s until the Unix socket sock accepts a
// connection: the socket file exists from bind(2) on, but a connect
// before listen(2) is refused.
func waitAccepts(sock string) {
	for range 400 {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
