package shim

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modphp-migrate/modphp-migrate/fcgi"
)

// fakeSource serves fixed pools instead of reading php-fpm's files.
type fakeSource struct{ pools []*Pool }

func (f *fakeSource) LoadPools(context.Context, string, string) ([]*Pool, error) { return f.pools, nil }

// fakeFPM is an in-process FastCGI backend that records the params of
// every request and answers "ok"; block, when set, holds requests until it
// is closed.
type fakeFPM struct {
	mu     sync.Mutex
	params []fcgi.Params
	block  chan struct{}
	addr   string
}

func startFakeFPM(t *testing.T) *fakeFPM {
	t.Helper()
	f := &fakeFPM{addr: filepath.Join(t.TempDir(), "fpm.sock")}
	l, err := net.Listen("unix", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &fcgi.Server{Handler: fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		f.mu.Lock()
		f.params = append(f.params, r.Params)
		b := f.block
		f.mu.Unlock()
		if b != nil {
			<-b
		}
		w.Write([]byte("Content-Type: text/plain\r\n\r\nok"))
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return f
}

func (f *fakeFPM) requests() []fcgi.Params {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fcgi.Params(nil), f.params...)
}

// shimUnderTest runs a Server against a fake backend with a document root
// of access files.
type shimUnderTest struct {
	cancel context.CancelFunc
	done   chan error
	srv    *Server
	fpm    *fakeFPM
	apache *fcgi.Client
	root   string
	logs   *syncBuffer
}

func startShim(t *testing.T, workers int, files map[string]string) *shimUnderTest {
	t.Helper()
	s := &shimUnderTest{fpm: startFakeFPM(t), root: t.TempDir(), logs: &syncBuffer{}}
	for name, body := range files {
		p := filepath.Join(s.root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pool := &Pool{Name: "www", Listen: s.fpm.addr, MaxChildren: 2,
		Baseline: map[string]string{"memory_limit": "128M", "display_errors": "", "open_basedir": "", "max_execution_time": "30"},
		Locked:   map[string]bool{"max_execution_time": true},
	}
	sock := filepath.Join(t.TempDir(), "shim.sock")
	cfg := Config{
		Listen: Addr{Network: "unix", Address: sock}, Pool: Addr{Network: "unix", Address: s.fpm.addr},
		Workers: workers, ShutdownGrace: time.Second, Source: &fakeSource{pools: []*Pool{pool}},
	}
	log := slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	s.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan error, 1)
	go func() { s.done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		srv.Close()
		if t.Failed() {
			t.Logf("shim log:\n%s", s.logs.String())
		}
	})
	// Ready once it accepts: the socket file exists a moment before
	// listen(2).
	for range 200 {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.apache = &fcgi.Client{Network: "unix", Addr: sock}
	return s
}

// blockFPM makes the fake php-fpm hold every request until the returned
// channel is closed.
func (s *shimUnderTest) blockFPM() chan struct{} {
	block := make(chan struct{})
	s.fpm.mu.Lock()
	s.fpm.block = block
	s.fpm.mu.Unlock()
	return block
}

// waitFPMRequests waits until the fake php-fpm has received n requests.
func (s *shimUnderTest) waitFPMRequests(n int) {
	for len(s.fpm.requests()) < n {
		time.Sleep(5 * time.Millisecond)
	}
}

// do sends a request as Apache's SetHandler would for the script path
// (relative to the root), with extra params.
func (s *shimUnderTest) do(t *testing.T, script string, extra ...string) string {
	t.Helper()
	ps := pp("SCRIPT_FILENAME", "proxy:fcgi://localhost"+filepath.Join(s.root, script), "DOCUMENT_ROOT", s.root,
		"CONTEXT_DOCUMENT_ROOT", s.root, "SCRIPT_NAME", script, "REQUEST_URI", script, "REQUEST_METHOD", "GET")
	ps = append(ps, pp(extra...)...)
	var out bytes.Buffer
	if _, err := s.apache.Do(context.Background(), &fcgi.Request{Params: ps}, &out); err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	return out.String()
}

func phpValues(ps fcgi.Params) []string {
	var v []string
	for _, p := range ps {
		if p.Name == "PHP_VALUE" || p.Name == "PHP_ADMIN_VALUE" || p.Name == "REQUEST_BODY_FILE" {
			v = append(v, p.Name+"="+p.Value)
		}
	}
	return v
}

func TestHandlerPHPValue(t *testing.T) {
	s := startShim(t, 4, map[string]string{
		"a/x.php":          "",
		"a/.htaccess":      "php_value memory_limit 64M\nphp_flag display_errors on\nphp_value max_execution_time 5\nphp_value user_agent x\nphp_value open_basedir /\n",
		"b/x.php":          "",
		"plain.php":        "",
		"off/run.php":      "",
		"off/.htaccess":    "php_flag engine off\n",
		"broken/x.php":     "",
		"broken/.htaccess": "<Files x.php>\n",
	})
	steps := []struct {
		script string
		extra  []string
		want   string // the PHP_VALUE params php-fpm got, "|"-joined
	}{
		{"/plain.php", nil, ""},
		// max_execution_time is locked by the pool, user_agent has no known
		// baseline: neither is sent.
		{"/a/x.php", []string{"PHP_VALUE", "auto_prepend_file=/evil", "REDIRECT_PHP_ADMIN_VALUE", "open_basedir=/", "REQUEST_BODY_FILE", "/etc/shadow", "HTTP_AUTHORIZATION", "Bearer secret-token"},
			// Each value away from its baseline follows the baseline: a
			// value PHP refuses leaves the baseline, not an older value.
			"PHP_VALUE=display_errors=\"\"\ndisplay_errors='1'\nmemory_limit='128M'\nmemory_limit='64M'\nopen_basedir=\"\"\nopen_basedir='/'\n"},
		{"/b/x.php", nil, "PHP_VALUE=display_errors=\"\"\nmemory_limit='128M'\nopen_basedir=\"\"\n"},
		// The kept connection's worker holds the baselines already.
		{"/plain.php", []string{"PHP_VALUE", "x=1"}, ""},
	}
	for i, st := range steps {
		body := s.do(t, st.script, st.extra...)
		if !strings.HasSuffix(body, "\r\n\r\nok") {
			t.Fatalf("step %d: body %q", i, body)
		}
		reqs := s.fpm.requests()
		if got := strings.Join(phpValues(reqs[len(reqs)-1]), "|"); got != st.want {
			t.Errorf("step %d %s: php-fpm got %q, want %q", i, st.script, got, st.want)
		}
	}
	n := len(s.fpm.requests())
	for _, tc := range []struct{ script, status string }{
		{"/off/run.php", "Status: 403 Forbidden"},
		{"/broken/x.php", "Status: 500 Internal Server Error"},
	} {
		if body := s.do(t, tc.script); !strings.HasPrefix(body, tc.status+"\r\n") {
			t.Errorf("%s: %q, want %s", tc.script, body, tc.status)
		}
	}
	if got := len(s.fpm.requests()); got != n {
		t.Errorf("php-fpm got %d more requests for engine off / broken .htaccess, want 0", got-n)
	}
	logs := s.logs.String()
	for _, want := range []string{
		filepath.Join(s.root, "broken/.htaccess") + ":1:1", "<Files> was not closed.",
		"names=\"[PHP_VALUE REDIRECT_PHP_ADMIN_VALUE REQUEST_BODY_FILE]\"",
		"setting not sent: the pool sets it with php_admin_value",
		"setting not sent: its baseline value is unknown",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(logs, "secret-token") || strings.Contains(logs, "/etc/shadow") || strings.Contains(logs, "/evil") {
		t.Errorf("log holds param values:\n%s", logs)
	}
	if c := strings.Count(logs, "baseline value is unknown"); c != 1 {
		t.Errorf("unknown-baseline warning logged %d times, want once", c)
	}
	snap := s.srv.Snapshot()
	if snap.Requests != 6 || snap.Forwarded != 4 || snap.Forbidden != 1 || snap.ServerErrors != 1 || snap.DroppedParams != 4 {
		t.Errorf("snapshot %+v", snap)
	}
}

// TestHandlerPHPValuePerConnection: each kept connection to php-fpm is one
// worker; a request carries what that worker does not hold yet, and a new
// connection (a worker that may hold anything the shim set before) gets
// every managed key.
func TestHandlerPHPValuePerConnection(t *testing.T) {
	s := startShim(t, 4, map[string]string{
		"a/x.php":     "",
		"a/.htaccess": "php_value memory_limit 64M\nphp_flag display_errors on\n",
		"b/x.php":     "",
		"b/.htaccess": "php_value memory_limit 64M\n",
	})
	full := "PHP_VALUE=display_errors=\"\"\ndisplay_errors='1'\nmemory_limit='128M'\nmemory_limit='64M'\n"
	last := func() string {
		reqs := s.fpm.requests()
		return strings.Join(phpValues(reqs[len(reqs)-1]), "|")
	}
	for i, st := range []struct{ script, want string }{
		{"/a/x.php", full},
		{"/a/x.php", ""},
		{"/b/x.php", "PHP_VALUE=display_errors=\"\"\n"},
		{"/b/x.php", ""},
		// The worker holds display_errors' baseline: no reset first.
		{"/a/x.php", "PHP_VALUE=display_errors='1'\n"},
	} {
		s.do(t, st.script)
		if got := last(); got != st.want {
			t.Errorf("step %d %s: php-fpm got %q, want %q", i, st.script, got, st.want)
		}
	}
	// The kept connection busy, a second request opens a new one.
	block := s.blockFPM()
	done := make(chan string, 2)
	go func() { done <- s.do(t, "/a/x.php") }()
	s.waitFPMRequests(6)
	go func() { done <- s.do(t, "/a/x.php") }()
	s.waitFPMRequests(7)
	close(block)
	<-done
	<-done
	reqs := s.fpm.requests()
	if got := strings.Join(phpValues(reqs[5]), "|"); got != "" {
		t.Errorf("on the kept connection: php-fpm got %q, want nothing", got)
	}
	if got := strings.Join(phpValues(reqs[6]), "|"); got != full {
		t.Errorf("on a new connection: php-fpm got %q, want %q", got, full)
	}
}

// TestHandlerOverloaded: with one front worker busy, the next request is
// answered 503 at once instead of queueing.
func TestHandlerOverloaded(t *testing.T) {
	s := startShim(t, 1, map[string]string{"x.php": ""})
	block := s.blockFPM()
	first := make(chan string)
	go func() { first <- s.do(t, "/x.php") }()
	s.waitFPMRequests(1)
	if body := s.do(t, "/x.php"); !strings.HasPrefix(body, "Status: 503 Service Unavailable\r\n") {
		t.Errorf("second request: %q, want 503", body)
	}
	close(block)
	if body := <-first; !strings.HasSuffix(body, "ok") {
		t.Errorf("first request: %q", body)
	}
	if got := s.srv.Snapshot().Overloaded; got != 1 {
		t.Errorf("overloaded = %d, want 1", got)
	}
}

// TestShutdownDrains: when the context ends (SIGTERM), the listener goes
// at once, a request in flight still finishes, and Run returns nil.
func TestShutdownDrains(t *testing.T) {
	s := startShim(t, 4, map[string]string{"x.php": ""})
	block := s.blockFPM()
	first := make(chan string)
	go func() { first <- s.do(t, "/x.php") }()
	s.waitFPMRequests(1)
	s.cancel()
	for range 200 {
		if _, err := os.Stat(s.apache.Addr); err != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if c, err := net.Dial("unix", s.apache.Addr); err == nil {
		c.Close()
		t.Error("still accepting after shutdown began")
	}
	close(block)
	if body := <-first; !strings.HasSuffix(body, "ok") {
		t.Errorf("request in flight: %q", body)
	}
	if err := <-s.done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestShutdownForced: Close (the second signal) cuts requests in flight.
func TestShutdownForced(t *testing.T) {
	s := startShim(t, 4, map[string]string{"x.php": ""})
	defer close(s.blockFPM())
	errc := make(chan error, 1)
	go func() {
		_, err := s.apache.Do(context.Background(), &fcgi.Request{Params: pp("SCRIPT_FILENAME", filepath.Join(s.root, "x.php"))}, nil)
		errc <- err
	}()
	s.waitFPMRequests(1)
	s.cancel()
	time.Sleep(20 * time.Millisecond)
	s.srv.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Error("request in flight finished normally after Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("request in flight still running 5 s after Close")
	}
}
