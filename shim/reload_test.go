package shim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// switchSource returns whatever pools (or error) it currently holds.
type switchSource struct {
	mu    sync.Mutex
	pools []*Pool
	err   error
}

func (s *switchSource) LoadPools(context.Context, string, string) ([]*Pool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pools, s.err
}

func (s *switchSource) set(p []*Pool, err error) {
	s.mu.Lock()
	s.pools, s.err = p, err
	s.mu.Unlock()
}

// TestReload: SIGHUP's Reload installs new baselines and pool sizes for new
// requests; a request in flight finishes on the old backend; a failed
// reload keeps the running configuration; the keys set before a reload
// are still reset after it.
func TestReload(t *testing.T) {
	s := startShim(t, 4, map[string]string{"a/x.php": "", "a/.htaccess": "php_value memory_limit 64M\n", "plain.php": ""})
	src := &switchSource{}
	pool := func(mem string, children int) []*Pool {
		return []*Pool{{Name: "www", Listen: s.fpm.addr, MaxChildren: children, Baseline: map[string]string{"memory_limit": mem}, Locked: map[string]bool{}}}
	}
	src.set(pool("128M", 2), nil)
	s.srv.cfg.Source = src
	if err := s.srv.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	last := func() string {
		r := s.fpm.requests()
		return strings.Join(phpValues(r[len(r)-1]), "|")
	}
	s.do(t, "/a/x.php")
	s.do(t, "/plain.php")
	if got := last(); got != "PHP_VALUE=memory_limit='128M'\n" {
		t.Errorf("before reload: %q", got)
	}
	// A request in flight across the reload.
	block := s.blockFPM()
	inflight := make(chan string)
	go func() { inflight <- s.do(t, "/plain.php") }()
	s.waitFPMRequests(3)
	oldBackend := s.srv.state.Load().def.be.Load()
	src.set(pool("256M", 3), nil)
	if err := s.srv.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if nb := s.srv.state.Load().def.be.Load(); nb == oldBackend || nb.info.MaxChildren != 3 {
		t.Errorf("pm.max_children change did not install a new backend")
	}
	s.fpm.mu.Lock()
	s.fpm.block = nil
	s.fpm.mu.Unlock()
	close(block)
	if body := <-inflight; !strings.HasSuffix(body, "ok") {
		t.Errorf("request across reload: %q", body)
	}
	s.do(t, "/plain.php")
	if got := last(); got != "PHP_VALUE=memory_limit='256M'\n" {
		t.Errorf("after reload: %q", got)
	}
	src.set(nil, errors.New("broken php-fpm.conf"))
	if err := s.srv.Reload(context.Background()); err == nil {
		t.Error("reload with a broken source succeeded")
	}
	s.do(t, "/a/x.php")
	if got := last(); got != "PHP_VALUE=memory_limit='64M'\n" {
		t.Errorf("after failed reload: %q", got)
	}
	if !strings.Contains(s.logs.String(), "reload failed; keeping the previous configuration") {
		t.Error("failed reload not logged")
	}
}

func TestStatusEndpoint(t *testing.T) {
	fpm := startFakeFPM(t)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	statusAddr := l.Addr().String()
	l.Close()
	sock := filepath.Join(t.TempDir(), "shim.sock")
	srv, err := New(context.Background(), Config{
		Listen: Addr{Network: "unix", Address: sock}, Pool: Addr{Network: "unix", Address: fpm.addr},
		StatusListen: statusAddr, ShutdownGrace: time.Second,
		Source: &fakeSource{pools: []*Pool{{Name: "www", Listen: fpm.addr, MaxChildren: 5, Baseline: map[string]string{}}}},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runShim(t, srv)
	srv.stats.Requests.Add(3)
	srv.stats.DroppedParams.Add(2)
	for range 50 {
		srv.stats.observe(2 * time.Millisecond)
	}
	var text, js string
	for range 200 {
		resp, err := http.Get("http://" + statusAddr + "/")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			text = string(b)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// "/" serves the Prometheus text (its content: TestStatusPrometheus,
	// TestWritePrometheus).
	if want := "modphp_shim_pool_max_children{pool=\"unix:" + fpm.addr + "\"} 5\n"; !strings.Contains(text, want) {
		t.Errorf("text status lacks %q:\n%s", want, text)
	}
	resp, err := http.Get("http://" + statusAddr + "/?format=json")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	js = string(b)
	var snap StatusSnapshot
	if err := json.Unmarshal(b, &snap); err != nil || snap.Requests != 3 || snap.DroppedParams != 2 || snap.LatencyP99ms != 2 || len(snap.Pools) != 1 {
		t.Errorf("json status %s (%v)", js, err)
	}
}

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:9000": true, "[::1]:9000": true, "localhost:9000": true,
		"0.0.0.0:9000": false, "192.168.1.2:80": false, ":9000": false, "127.0.0.1": false,
	} {
		if err := CheckLoopback(addr); (err == nil) != ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}
