package shim

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modphp-migrate/modphp-migrate/fcgi"
)

// startRoutedShim runs a shim with a default pool and --pool-for routes
// (document root → pool index), each pool a fake php-fpm with
// pm.max_children children.
func startRoutedShim(t *testing.T, children int, routes map[string]int, npools int) (*Server, *fcgi.Client, []*fakeFPM) {
	t.Helper()
	var fpms []*fakeFPM
	var pools []*Pool
	for range npools {
		f := startFakeFPM(t)
		fpms = append(fpms, f)
		pools = append(pools, &Pool{Name: "p", Listen: f.addr, MaxChildren: children, Baseline: map[string]string{}})
	}
	sock := filepath.Join(t.TempDir(), "shim.sock")
	cfg := Config{
		Listen: Addr{Network: "unix", Address: sock}, Pool: Addr{Network: "unix", Address: fpms[0].addr},
		ShutdownGrace: time.Second, Source: &fakeSource{pools: pools},
	}
	for root, i := range routes {
		cfg.Routes = append(cfg.Routes, Route{DocRoot: root, Pool: Addr{Network: "unix", Address: fpms[i].addr}})
	}
	srv, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	serveInTest(t, srv, cfg.Listen)
	return srv, &fcgi.Client{Network: "unix", Addr: sock}, fpms
}

func askDoc(t *testing.T, c *fcgi.Client, docRoot, script string) string {
	t.Helper()
	var out bytes.Buffer
	if _, err := c.Do(context.Background(), &fcgi.Request{Params: pp(
		"SCRIPT_FILENAME", "proxy:fcgi://localhost"+script, "DOCUMENT_ROOT", docRoot, "REQUEST_METHOD", "GET")}, &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestRouting: --pool-for sends a document root (and what lies below it)
// to its pool, the longest matching root wins, a root is matched by whole
// path segments, and everything else goes to --pool.
func TestRouting(t *testing.T) {
	base := t.TempDir()
	for _, d := range []string{"www", "www/a", "www/a/b", "www/ab"} {
		os.MkdirAll(filepath.Join(base, d), 0o755)
		os.WriteFile(filepath.Join(base, d, "x.php"), nil, 0o644)
	}
	w := filepath.Join(base, "www")
	srv, c, fpms := startRoutedShim(t, 2, map[string]int{w + "/a": 1, w + "/a/b": 2}, 3)
	for _, tc := range []struct {
		docRoot, script string
		pool            int
	}{
		{w, w + "/x.php", 0},
		{w + "/a", w + "/a/x.php", 1},
		{w + "/a/b", w + "/a/b/x.php", 2},
		{w, w + "/a/b/x.php", 2},        // the script's path decides when the root does not
		{w + "/ab", w + "/ab/x.php", 0}, // /a is not a prefix of /ab
	} {
		before := make([]int, len(fpms))
		for i, f := range fpms {
			before[i] = len(f.requests())
		}
		if body := askDoc(t, c, tc.docRoot, tc.script); !strings.HasSuffix(body, "ok") {
			t.Fatalf("%s: %q", tc.script, body)
		}
		for i, f := range fpms {
			want := before[i]
			if i == tc.pool {
				want++
			}
			if got := len(f.requests()); got != want {
				t.Errorf("%s (root %s): pool %d got %d requests, want %d", tc.script, tc.docRoot, i, got-before[i], want-before[i])
			}
		}
	}
	var reqs []int64
	for _, p := range srv.Snapshot().Pools {
		reqs = append(reqs, p.Requests)
	}
	if len(reqs) != 3 || reqs[0]+reqs[1]+reqs[2] != 5 {
		t.Errorf("per-pool requests %v, want 5 in all", reqs)
	}
}

// TestPoolBound: a pool with pm.max_children = 2 never gets more than two
// requests at once from the shim; a third waits for a free connection and,
// when none frees within poolQueueWait, is answered 503 instead of queueing
// further.
func TestPoolBound(t *testing.T) {
	base := t.TempDir()
	os.WriteFile(filepath.Join(base, "x.php"), nil, 0o644)
	srv, c, fpms := startRoutedShim(t, 2, nil, 1)
	block := make(chan struct{})
	fpms[0].mu.Lock()
	fpms[0].block = block
	fpms[0].mu.Unlock()
	first := make(chan string, 2)
	for range 2 {
		go func() { first <- askDoc(t, c, base, base+"/x.php") }()
	}
	for len(fpms[0].requests()) < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	third := askDoc(t, c, base, base+"/x.php")
	if took := time.Since(start); !strings.HasPrefix(third, "Status: 503 Service Unavailable\r\n") || took < poolQueueWait {
		t.Errorf("third request: %q after %v, want 503 after %v", third, took, poolQueueWait)
	}
	if n := len(fpms[0].requests()); n != 2 {
		t.Errorf("php-fpm got %d requests at once, want 2 (pm.max_children)", n)
	}
	close(block)
	for range 2 {
		if body := <-first; !strings.HasSuffix(body, "ok") {
			t.Errorf("first requests: %q", body)
		}
	}
	p := srv.Snapshot().Pools[0]
	if p.Answers["503"] != 1 || p.Open > 2 {
		t.Errorf("pool: %d 503s, %d connections open; want 1 and at most 2", p.Answers["503"], p.Open)
	}
}
