package shim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modphp-migrate/modphp-migrate/fcgi"
)

// startShimTo runs a shim whose default pool is pool (which need not
// answer) with the given timeouts, and returns a client playing Apache.
func startShimTo(t *testing.T, pool Addr, dial, backend time.Duration) (*Server, *fcgi.Client, string) {
	t.Helper()
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "x.php"), nil, 0o644)
	sock := filepath.Join(t.TempDir(), "shim.sock")
	srv, err := New(context.Background(), Config{
		Listen: Addr{Network: "unix", Address: sock}, Pool: pool, ShutdownGrace: time.Second,
		DialTimeout: dial, BackendTimeout: backend,
		Source: &fakeSource{pools: []*Pool{{Name: "www", Listen: pool.Address, MaxChildren: 2, Baseline: map[string]string{}}}},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	serveInTest(t, srv, Addr{Network: "unix", Address: sock})
	return srv, &fcgi.Client{Network: "unix", Addr: sock}, root
}

// serveInTest serves srv on addr until the test ends.
func serveInTest(t *testing.T, srv *Server, addr Addr) {
	t.Helper()
	l, err := Listen(addr, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	t.Cleanup(func() { cancel(); srv.Close(); <-done })
}

// runShim runs srv (Server.Run) until the test ends.
func runShim(tb testing.TB, srv *Server) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	tb.Cleanup(func() { cancel(); <-done })
}

// askShim sends one SetHandler-style request and returns the status line
// of the answer and how long it took.
func askShim(t *testing.T, c *fcgi.Client, root string) (string, time.Duration) {
	t.Helper()
	var out bytes.Buffer
	start := time.Now()
	_, err := c.Do(context.Background(), &fcgi.Request{Params: pp(
		"SCRIPT_FILENAME", "proxy:fcgi://localhost"+filepath.Join(root, "x.php"), "DOCUMENT_ROOT", root, "REQUEST_METHOD", "GET")}, &out)
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(out.String(), "\r\n")
	return line, time.Since(start)
}

// TestBackendTimeout: php-fpm accepts the request and sends nothing; after
// the backend timeout the shim answers 504 (mod_proxy_fcgi's answer to a
// backend timeout) and closes the connection, counted per pool.
func TestBackendTimeout(t *testing.T) {
	fpm := startFakeFPM(t)
	block := make(chan struct{})
	defer close(block)
	fpm.block = block
	srv, c, root := startShimTo(t, Addr{Network: "unix", Address: fpm.addr}, 0, 300*time.Millisecond)
	line, took := askShim(t, c, root)
	if line != "Status: 504 Gateway Timeout" {
		t.Errorf("answer %q, want 504", line)
	}
	if took < 300*time.Millisecond || took > 5*time.Second {
		t.Errorf("answered after %v, want just after the 300ms backend timeout", took)
	}
	snap := srv.Snapshot()
	if snap.GatewayTimeouts != 1 || snap.BackendErrors != 1 || snap.Pools[0].Answers["504"] != 1 || snap.Pools[0].BackendErrors != 1 {
		t.Errorf("snapshot: 504s %d, backend errors %d, pool %+v", snap.GatewayTimeouts, snap.BackendErrors, snap.Pools[0])
	}
}

// TestBackendDown: a pool whose socket is gone, or whose TCP port refuses,
// is answered 503 at once; a pool that does not complete the connection
// (its listen backlog is full) is answered 503 when the dial timeout ends.
func TestBackendDown(t *testing.T) {
	closedPort := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		a := l.Addr().String()
		l.Close()
		return a
	}
	for _, tc := range []struct {
		name string
		pool Addr
	}{
		{"missing-socket", Addr{Network: "unix", Address: filepath.Join(t.TempDir(), "gone.sock")}},
		{"refused", Addr{Network: "tcp", Address: closedPort()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c, root := startShimTo(t, tc.pool, 2*time.Second, 0)
			line, took := askShim(t, c, root)
			if line != "Status: 503 Service Unavailable" || took > time.Second {
				t.Errorf("answer %q after %v, want 503 at once", line, took)
			}
			if snap := srv.Snapshot(); snap.Overloaded != 1 || snap.Pools[0].Answers["503"] != 1 {
				t.Errorf("503s %d, pool answers %v", snap.Overloaded, snap.Pools[0].Answers)
			}
		})
	}
	t.Run("backlog-full", func(t *testing.T) {
		addr := fullBacklog(t)
		_, c, root := startShimTo(t, Addr{Network: "tcp", Address: addr}, 400*time.Millisecond, 0)
		line, took := askShim(t, c, root)
		if line != "Status: 503 Service Unavailable" {
			t.Errorf("answer %q, want 503", line)
		}
		if took < 400*time.Millisecond || took > 3*time.Second {
			t.Errorf("answered after %v, want just after the 400ms dial timeout", took)
		}
	})
}

// fullBacklog returns a 127.0.0.1 TCP address whose listen queue is full:
// listen(2) with backlog 0 queues one connection, which the test makes, so
// Linux drops further SYNs and connect hangs as with a stuck php-fpm.
func fullBacklog(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	for range 2 {
		// Fill the queue; a dial that no longer completes shows it is full.
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	d, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err == nil {
		d.Close()
		t.Skip("listen backlog does not fill on this kernel")
	}
	return addr
}

// TestStatusPrometheus: the status endpoint after known requests, over
// HTTP: per pool, with firewall drops, the shim's own answers, REDIRECT_
// copies and the latency histogram, in Prometheus text (every line that
// does not depend on timing is compared exactly) and in JSON.
func TestStatusPrometheus(t *testing.T) {
	s := startShim(t, 4, map[string]string{"x.php": "", "off/x.php": "", "off/.htaccess": "php_flag engine off\n"})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go http.Serve(l, s.srv.statusHandler())
	t.Cleanup(func() { l.Close() })
	s.do(t, "/x.php", "PHP_VALUE", "auto_prepend_file=/evil", "REQUEST_BODY_FILE", "/etc/shadow")
	s.do(t, "/off/x.php")
	s.do(t, "/x.php", "REDIRECT_HTTP_AUTHORIZATION", "Bearer x")

	resp, err := http.Get("http://" + l.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	p := `{pool="unix:` + s.fpm.addr + `"}`
	pl := `{pool="unix:` + s.fpm.addr + `",`
	var got []string
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(line, "modphp_shim_request_duration_seconds_") && !strings.Contains(line, `le="30"`) && !strings.Contains(line, "_count") {
			continue // timing-dependent buckets and sum
		}
		if strings.HasPrefix(line, "modphp_shim_heap_live_bytes ") || strings.HasPrefix(line, "modphp_shim_memory_") {
			continue // the runtime's figures (TestRuntimeMemory)
		}
		if line == "modphp_shim_front_connections 1" {
			line = "modphp_shim_front_connections 0" // the last request's, ending
		}
		if !strings.HasPrefix(line, "#") {
			got = append(got, line)
		}
	}
	want := []string{
		"modphp_shim_apache_keepalive_requests_total 0",
		// /x.php: the root's .htaccess is absent (miss, negative entry);
		// /off/x.php: that entry (hit) and off/.htaccess (miss); /x.php
		// again: the cached resolution, one stat (hit). Two access file
		// entries and two resolutions.
		"modphp_shim_cache_hits_total 2",
		"modphp_shim_cache_misses_total 2",
		"modphp_shim_cache_entries 4",
		"modphp_shim_cache_bytes " + fmt.Sprint(s.srv.Snapshot().CacheBytes),
		"modphp_shim_cache_evictions_total 0",
		"modphp_shim_front_connections 0",
		"modphp_shim_front_evictions_total 0",
		"modphp_shim_front_head_timeouts_total 0",
		"modphp_shim_front_params_bytes 0",
		"modphp_shim_front_params_refused_total 0",
		"modphp_shim_requests_total" + p + " 3",
		"modphp_shim_forwarded_total" + p + " 2",
		"modphp_shim_errors_total" + pl + `code="403"} 1`,
		"modphp_shim_errors_total" + pl + `code="413"} 0`,
		"modphp_shim_errors_total" + pl + `code="500"} 0`,
		"modphp_shim_errors_total" + pl + `code="502"} 0`,
		"modphp_shim_errors_total" + pl + `code="503"} 0`,
		"modphp_shim_errors_total" + pl + `code="504"} 0`,
		"modphp_shim_backend_errors_total" + p + " 0",
		"modphp_shim_firewall_drops_total" + p + " 2",
		"modphp_shim_redirect_copies_total" + p + " 1",
		"modphp_shim_request_duration_seconds_bucket" + pl + `le="30"} 3`,
		"modphp_shim_request_duration_seconds_count" + p + " 3",
		"modphp_shim_pool_max_children" + p + " 2",
		"modphp_shim_pool_connections" + pl + `state="busy"} 0`,
		"modphp_shim_pool_connections" + pl + `state="idle"} 1`,
		// pm.max_children 2, one connection kept, one worker left free.
		"modphp_shim_pool_workers" + pl + `state="busy"} 0`,
		"modphp_shim_pool_workers" + pl + `state="kept"} 1`,
		"modphp_shim_pool_workers" + pl + `state="free"} 1`,
		"modphp_shim_pool_reserve" + p + " 1",
		"modphp_shim_pool_dials_total" + p + " 1",
		"modphp_shim_pool_reuses_total" + p + " 1",
		"modphp_shim_pool_managed_keys" + p + " 0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("metrics:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	h := s.srv.Snapshot().Pools[0].Latency
	for i := 1; i < len(h.Counts); i++ {
		if h.Counts[i] < h.Counts[i-1] {
			t.Errorf("histogram not cumulative: %v", h.Counts)
		}
	}
	if h.SumSeconds <= 0 || h.SumSeconds > 3*30 {
		t.Errorf("latency sum %v", h.SumSeconds)
	}
}

// TestWritePrometheus: the exact text for a fixed snapshot (two pools, a
// label that needs escaping), against testdata/status.prom.
func TestWritePrometheus(t *testing.T) {
	h := Histogram{Counts: []int64{1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4}, Count: 5, SumSeconds: 31.00425}
	for _, b := range latencyBuckets {
		h.Bounds = append(h.Bounds, b.Seconds())
	}
	snap := StatusSnapshot{
		KeptAlive: 7, CacheHits: 120, CacheMisses: 8, CacheEntries: 9, CacheBytes: 4321, CacheEvictions: 2,
		HeapLiveBytes: 5 << 20, MemoryBytes: 12 << 20, MemoryLimitBytes: 512 << 20,
		Pools: []PoolStatus{
			{Addr: "tcp:127.0.0.1:9000", MaxChildren: 8, Open: 3, Idle: 1, Dials: 3, Reuses: 2, ManagedKeys: []string{"a", "b"},
				Requests: 5, Forwarded: 4, BackendErrors: 1, FirewallDrops: 2, RedirectCopies: 1,
				Answers: map[string]int64{"403": 1, "504": 1}, Latency: h},
			{Addr: `unix:/run/a "b"\c.sock`, MaxChildren: 1, Answers: map[string]int64{}, Latency: Histogram{Bounds: h.Bounds, Counts: make([]int64, len(h.Bounds))}},
		},
	}
	var b bytes.Buffer
	snap.writePrometheus(&b)
	golden := filepath.Join("testdata", "status.prom")
	if os.Getenv("MODPHP_SHIM_UPDATE") == "1" {
		os.WriteFile(golden, b.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("got\n%s\nwant (%s; MODPHP_SHIM_UPDATE=1 rewrites it)\n%s", b.String(), golden, want)
	}
}

// TestClientAbort: when Apache gives up on a request (its client went
// away), the shim closes its connection to php-fpm, the only way to stop
// the script (php-fpm ignores ABORT_REQUEST), instead of keeping it.
func TestClientAbort(t *testing.T) {
	s := startShim(t, 4, map[string]string{"x.php": ""})
	defer close(s.blockFPM())
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.apache.Do(ctx, &fcgi.Request{Params: pp("SCRIPT_FILENAME", filepath.Join(s.root, "x.php"), "DOCUMENT_ROOT", s.root)}, io.Discard)
		errc <- err
	}()
	s.waitFPMRequests(1)
	if p := s.srv.Snapshot().Pools[0]; p.Open != 1 || p.Idle != 0 {
		t.Fatalf("before the abort: %d open, %d idle php-fpm connections, want 1 busy", p.Open, p.Idle)
	}
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("aborted request finished normally")
	}
	// The connection closes before the handler logs the abort: wait for
	// both.
	deadline := time.Now().Add(3 * time.Second)
	for (s.srv.Snapshot().Pools[0].Open != 0 || !strings.Contains(s.logs.String(), "request aborted by apache")) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	p := s.srv.Snapshot().Pools[0]
	if p.Open != 0 || p.BackendErrors != 1 {
		t.Errorf("after the abort: %d php-fpm connections open, %d backend errors; want 0 and 1", p.Open, p.BackendErrors)
	}
	if !strings.Contains(s.logs.String(), "request aborted by apache") {
		t.Error("abort not logged")
	}
}
