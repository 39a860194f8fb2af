package fcgi

// Conformance against a real Apache httpd whose mod_proxy_fcgi is the
// client of our server side. Without apache2 these tests skip, unless
// MODPHP_MIGRATE_REAL=1.

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// apacheFront starts our server on a Unix socket Apache's workers can
// reach and an Apache proxying /app/ to it with extra ProxyPass keys.
func apacheFront(t *testing.T, h Handler, proxyKeys string) (*lab.Apache, *countingListener, chan error) {
	return apacheFrontOn(t, "unix", h, proxyKeys)
}

// apacheFrontOn is apacheFront with our server on "unix" or "tcp"
// (127.0.0.1).
func apacheFrontOn(t *testing.T, network string, h Handler, proxyKeys string) (*lab.Apache, *countingListener, chan error) {
	t.Helper()
	lab.FindBinary(t, "apache2", "/usr/sbin/apache2", "httpd", "/usr/sbin/httpd")
	var l net.Listener
	var target string
	if network == "tcp" {
		var err error
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		target = "fcgi://" + l.Addr().String() + "/app/"
	} else {
		sock := filepath.Join(lab.TempDir(t), "shim.sock")
		var err error
		if l, err = net.Listen("unix", sock); err != nil {
			t.Fatal(err)
		}
		// Apache's workers run as www-data and need write permission
		// on the socket to connect.
		if err := os.Chmod(sock, 0o666); err != nil {
			t.Fatal(err)
		}
		target = "unix:" + sock + "|fcgi://localhost/app/"
	}
	cl := &countingListener{Listener: l}
	errs := make(chan error, 100)
	srv := &Server{Handler: h, ConnError: func(err error) { errs <- err }}
	go srv.Serve(cl)
	t.Cleanup(func() { srv.Close() })
	a := lab.StartApache(t, fmt.Sprintf("ProxyPass /app/ \"%s\" %s\n", target, proxyKeys))
	return a, cl, errs
}

// get fetches url with a client that keeps one HTTP connection.
func get(t *testing.T, hc *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestApacheRequestResponse(t *testing.T) {
	var mu sync.Mutex
	var seen []*ServerRequest
	h := HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
		io.WriteString(w, "Status: 201 Created\r\nContent-Type: text/plain\r\nX-Shim: yes\r\n\r\n")
		for _, name := range []string{"REQUEST_METHOD", "REQUEST_URI", "QUERY_STRING", "SCRIPT_FILENAME", "SCRIPT_NAME", "HTTP_X_CUSTOM"} {
			v, _ := r.Params.Lookup(name)
			fmt.Fprintf(w, "%s=%s\n", name, v)
		}
		io.WriteString(w.Stderr(), "shim says hello")
	})
	for _, tc := range []struct {
		network string
		reuse   bool
	}{{"unix", false}, {"unix", true}, {"tcp", false}, {"tcp", true}} {
		reuse := tc.reuse
		t.Run(fmt.Sprintf("%s/enablereuse=%v", tc.network, reuse), func(t *testing.T) {
			seen = nil
			keys := ""
			if reuse {
				keys = "enablereuse=on"
			}
			a, cl, errs := apacheFrontOn(t, tc.network, h, keys)
			hc := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
			// Apache keeps the backend's host:port in SCRIPT_FILENAME
			// (ProxyFCGIBackendType FPM, docs/behaviour.md#b-apache-params).
			host := "localhost"
			if tc.network == "tcp" {
				host = cl.Addr().String()
			}
			const requests = 8
			for i := range requests {
				req, _ := http.NewRequest("GET", fmt.Sprintf("%s/app/x.php?q=%d", a.URL, i), nil)
				req.Header.Set("X-Custom", "v \"quoted\"")
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				want := fmt.Sprintf("REQUEST_METHOD=GET\nREQUEST_URI=/app/x.php?q=%d\nQUERY_STRING=q=%d\n"+
					"SCRIPT_FILENAME=proxy:fcgi://%s/app/x.php\nSCRIPT_NAME=/app/x.php\nHTTP_X_CUSTOM=v \"quoted\"\n", i, i, host)
				if resp.StatusCode != 201 || resp.Header.Get("X-Shim") != "yes" || resp.Header.Get("Content-Type") != "text/plain" || string(body) != want {
					t.Fatalf("request %d: %d %v\n%s\nwant\n%s\nerror log:\n%s", i, resp.StatusCode, resp.Header, body, want, a.ErrorLogText())
				}
			}
			mu.Lock()
			for i, r := range seen {
				if r.KeepConn != reuse || r.ID != 1 || r.Role != RoleResponder {
					t.Errorf("request %d: KeepConn=%v ID=%d Role=%s, want KeepConn=%v ID=1 RESPONDER", i, r.KeepConn, r.ID, r.Role, reuse)
				}
			}
			mu.Unlock()
			accepted := cl.n.Load()
			if reuse && (accepted < 1 || accepted >= requests) {
				t.Errorf("enablereuse=on: %d connections for %d requests", accepted, requests)
			}
			if !reuse && accepted != requests {
				t.Errorf("default: %d connections for %d requests, want one each", accepted, requests)
			}
			t.Logf("%d requests over %d FastCGI connections", requests, accepted)
			// STDERR reaches Apache's error log as AH01071.
			if s := a.ErrorLogText(); !strings.Contains(s, "AH01071: Got error 'shim says hello'") {
				t.Errorf("error log lacks the STDERR line:\n%s", s)
			}
			select {
			case err := <-errs:
				t.Errorf("connection error: %v", err)
			default:
			}
		})
	}
}

// TestApacheLargeTransfers pushes a large upload (with and without a
// Content-Length) and a large download through Apache and our server,
// comparing SHA-256 and watching the heap.
func TestApacheLargeTransfers(t *testing.T) {
	h := HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		if size, ok := r.Params.Lookup("HTTP_X_DOWNLOAD"); ok {
			var n int64
			fmt.Sscan(size, &n)
			io.WriteString(w, "Content-Type: application/octet-stream\r\n\r\n")
			io.Copy(w, &patternReader{n: n})
			return
		}
		sum := sha256.New()
		n, err := io.Copy(sum, r.Stdin)
		cl, ok := r.Params.Lookup("CONTENT_LENGTH")
		if !ok {
			cl = "absent"
		}
		fmt.Fprintf(w, "Content-Type: text/plain\r\n\r\nlen=%d sha=%x cl=%s err=%v", n, sum.Sum(nil), cl, err)
	})
	for _, reuse := range []string{"", "enablereuse=on"} {
		t.Run("keys="+reuse, func(t *testing.T) {
			a, _, _ := apacheFront(t, h, reuse)
			const n = 64 << 20
			runtime.GC()
			hs := sampleHeap()
			for _, chunked := range []bool{false, true} {
				var body io.Reader = &patternReader{n: n}
				req, _ := http.NewRequest("POST", a.URL+"/app/upload.php", body)
				if chunked {
					req.ContentLength = -1 // Transfer-Encoding: chunked
				} else {
					req.ContentLength = n
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				// Apache streams a chunked body without CONTENT_LENGTH
				// (no proxy-sendcl; docs/behaviour.md#b-apache-body): the server side
				// must cope, only the client side to php-fpm spools.
				cl := fmt.Sprint(n)
				if chunked {
					cl = "absent"
				}
				if want := fmt.Sprintf("len=%d sha=%s cl=%s err=<nil>", n, patternSHA(n), cl); resp.StatusCode != 200 || string(got) != want {
					t.Errorf("upload chunked=%v: %d %q, want %q", chunked, resp.StatusCode, got, want)
				}
			}
			req, _ := http.NewRequest("GET", a.URL+"/app/download.php", nil)
			req.Header.Set("X-Download", fmt.Sprint(n))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.New()
			got, _ := io.Copy(sum, resp.Body)
			resp.Body.Close()
			if fmt.Sprintf("%x", sum.Sum(nil)) != patternSHA(n) || got != n {
				t.Errorf("download: %d bytes, sha %x", got, sum.Sum(nil))
			}
			if peak := hs.Stop(); peak > heapBound {
				t.Errorf("peak HeapInuse %d MiB while moving 3×64 MiB", peak>>20)
			}
		})
	}
}

// TestApacheClientGone: when the HTTP client goes away mid-download,
// Apache closes the FastCGI connection and the handler's context is
// canceled with ErrConnClosed (its writes fail as well).
func TestApacheClientGone(t *testing.T) {
	done := make(chan error, 1)
	h := HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		io.WriteString(w, "Content-Type: application/octet-stream\r\n\r\n")
		chunk := make([]byte, 32<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				done <- fmt.Errorf("write: %w", err)
				return
			}
			if r.Context().Err() != nil {
				done <- context.Cause(r.Context())
				return
			}
		}
	})
	a, _, _ := apacheFront(t, h, "")
	resp, err := http.Get(a.URL + "/app/endless.php")
	if err != nil {
		t.Fatal(err)
	}
	io.CopyN(io.Discard, resp.Body, 1<<20)
	resp.Body.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrConnClosed) && !strings.Contains(err.Error(), "write") {
			t.Errorf("handler ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("handler still running 30 s after the client went away")
	}
}

// TestApacheRelayToFPM runs the whole chain the shim will sit in: Apache
// mod_proxy_fcgi → our server → our client → real php-fpm. Responses,
// status lines and STDERR pass through unchanged; a chunked upload (no
// CONTENT_LENGTH from Apache) is spooled by the client, which then sends
// the exact length php-fpm needs.
func TestApacheRelayToFPM(t *testing.T) {
	f := startFPM(t, lab.FPMConfig{Children: 2})
	backend := &Client{Network: f.Network, Addr: f.Addr, KeepAlive: true, MaxConns: 2, SpoolDir: t.TempDir()}
	defer backend.Close()
	lab.FindBinary(t, "apache2", "/usr/sbin/apache2", "httpd", "/usr/sbin/httpd")
	sock := filepath.Join(lab.TempDir(t), "relay.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(sock, 0o666)
	srv := &Server{Handler: relayHandler(backend)}
	go srv.Serve(l)
	defer srv.Close()
	// php-fpm strips "proxy:fcgi://localhost" from SCRIPT_FILENAME, so the
	// path after it is the script in php-fpm's document root.
	a := lab.StartApache(t, fmt.Sprintf("ProxyPass /php/ \"unix:%s|fcgi://localhost%s/\" enablereuse=on\n", sock, f.DocRoot))

	resp, body := get(t, http.DefaultClient, a.URL+"/php/status.php")
	// Apache merges the two X-Lab lines of the CGI response into one
	// (observed with 2.4.71).
	if resp.StatusCode != 404 || fmt.Sprint(resp.Header.Values("X-Lab")) != "[a, b]" || body != "missing" {
		t.Errorf("status.php: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	resp, body = get(t, http.DefaultClient, a.URL+"/php/stderr.php")
	if resp.StatusCode != 200 || body != "done" {
		t.Errorf("stderr.php: %d %q", resp.StatusCode, body)
	}
	if s := a.ErrorLogText(); !strings.Contains(s, "AH01071: Got error 'PHP message: to stderr; PHP message: PHP Warning:  warned in "+f.Script("stderr.php")) {
		t.Errorf("php-fpm's STDERR did not reach Apache's error log:\n%s", s)
	}
	for _, chunked := range []bool{false, true} {
		const n = 20<<20 + 7
		req, _ := http.NewRequest("POST", a.URL+"/php/echo.php", &patternReader{n: n})
		req.ContentLength = n
		if chunked {
			req.ContentLength = -1
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("len=%d sha=%s cl=%d\n", n, patternSHA(n), n); resp.StatusCode != 200 || string(got) != want {
			t.Errorf("POST chunked=%v: %d %q, want %q", chunked, resp.StatusCode, got, want)
		}
	}
	req, _ := http.NewRequest("GET", a.URL+"/php/big.php", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("big.php without SIZE: %d", resp.StatusCode)
	}
	if s := backend.Stats(); s.Dials > 2 {
		t.Errorf("relay opened %d php-fpm connections, bound is 2: %+v", s.Dials, s)
	}
}

// TestApacheKeptConnEvicted: when a connection arrives at MaxConns and the
// only one to give way is Apache's kept connection, idle between requests
// (enablereuse=on), the server closes that one; Apache notices at its next
// request that the pooled connection was closed, opens a new one, and the
// request is answered without an error — which is what makes closing idle
// kept connections a safe last resort (issue 16 point 8).
func TestApacheKeptConnEvicted(t *testing.T) {
	lab.FindBinary(t, "apache2", "/usr/sbin/apache2", "httpd", "/usr/sbin/httpd")
	sock := filepath.Join(lab.TempDir(t), "shim.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(sock, 0o666) // Apache's workers run as www-data
	cl := &countingListener{Listener: l}
	srv := &Server{Handler: okHandler, MaxConns: 1}
	go srv.Serve(cl)
	t.Cleanup(func() { srv.Close() })
	a := lab.StartApache(t, fmt.Sprintf("ProxyPass /app/ \"unix:%s|fcgi://localhost/app/\" enablereuse=on\n", sock))
	getOK := func(step string) {
		t.Helper()
		resp, err := http.Get(a.URL + "/app/x")
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "ok" {
			t.Fatalf("%s: %d %q", step, resp.StatusCode, b)
		}
	}
	getOK("first request")
	nc, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte{version1})
	for deadline := time.Now().Add(5 * time.Second); srv.Stats().Evicted < 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Apache's idle connection not closed for the new one: %+v", srv.Stats())
		}
	}
	getOK("request after its kept connection was closed")
	if st := srv.Stats(); st.Evicted != 2 || cl.n.Load() != 3 {
		t.Errorf("stats %+v, %d accepted; want 2 evicted (Apache's idle connection, then the one-byte one) and 3 accepted", st, cl.n.Load())
	}
	if log := a.ErrorLogText(); strings.Contains(log, "proxy") {
		t.Errorf("Apache's error log:\n%s", log)
	}
}

// TestApacheParamsOverloaded: a request refused for the server's params
// budget is answered 503 by Apache. mod_proxy_fcgi ignores END_REQUEST's
// protocol status: FCGI_OVERLOADED alone, before any output, gave an
// empty 200, so the server sends a CGI 503 response first (or Apache
// answers 503 itself when the closed connection fails its write).
func TestApacheParamsOverloaded(t *testing.T) {
	lab.FindBinary(t, "apache2", "/usr/sbin/apache2", "httpd", "/usr/sbin/httpd")
	sock := filepath.Join(lab.TempDir(t), "shim.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(sock, 0o666) // Apache's workers run as www-data
	// A budget smaller than any request's params.
	srv := &Server{Handler: okHandler, MaxParamsTotal: 64}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	a := lab.StartApache(t, fmt.Sprintf("ProxyPass /app/ \"unix:%s|fcgi://localhost/app/\"\n", sock))
	resp, err := http.Get(a.URL + "/app/x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The body is the server's, or Apache's own 503 page when the close
	// cut its write of the request short.
	if resp.StatusCode != 503 || srv.Stats().ParamsRefused != 1 {
		t.Errorf("refused request: %d %q, stats %+v; want 503 and one refusal", resp.StatusCode, b, srv.Stats())
	}
}
