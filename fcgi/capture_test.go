package fcgi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// captureEnv makes TestCaptureFuzzSeeds rewrite the fuzz seed corpora in
// testdata/fuzz from real traffic:
//
//	MODPHP_MIGRATE_CAPTURE_SEEDS=1 go test -run TestCaptureFuzzSeeds ./fcgi/
const captureEnv = "MODPHP_MIGRATE_CAPTURE_SEEDS"

// teeConn records what is read from a connection.
type teeConn struct {
	net.Conn
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (c teeConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.buf.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

// teeListener records each accepted connection's incoming bytes.
type teeListener struct {
	net.Listener
	mu    sync.Mutex
	conns []*bytes.Buffer
}

func (l *teeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	b := &bytes.Buffer{}
	l.mu.Lock()
	l.conns = append(l.conns, b)
	l.mu.Unlock()
	return teeConn{Conn: c, mu: &l.mu, buf: b}, nil
}

func (l *teeListener) captured() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out [][]byte
	for _, b := range l.conns {
		out = append(out, bytes.Clone(b.Bytes()))
	}
	return out
}

// writeSeed writes data as a seed file of the named fuzz target.
func writeSeed(t *testing.T, fuzzName, name string, data []byte) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", fuzzName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// paramsStreams returns the concatenated PARAMS content of each request in
// a record stream.
func paramsStreams(t *testing.T, stream []byte) [][]byte {
	rr := newRecordReader(bytes.NewReader(stream))
	var out [][]byte
	var cur []byte
	for {
		h, content, err := rr.next()
		if err != nil {
			return out
		}
		if h.Type == typeParams {
			if len(content) == 0 {
				out = append(out, cur)
				cur = nil
			} else {
				cur = append(cur, content...)
			}
		}
	}
}

func TestCaptureFuzzSeeds(t *testing.T) {
	if os.Getenv(captureEnv) != "1" {
		t.Skipf("set %s=1 to recapture the fuzz seed corpora from real Apache and php-fpm", captureEnv)
	}
	// Apache → server: what mod_proxy_fcgi sends, with and without
	// enablereuse=on, for a GET and a POST.
	for _, keys := range []string{"", "enablereuse=on"} {
		sock := filepath.Join(lab.TempDir(t), "cap.sock")
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		os.Chmod(sock, 0o666)
		tl := &teeListener{Listener: l}
		srv := &Server{Handler: HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
			io.Copy(io.Discard, r.Stdin)
			io.WriteString(w, "Content-Type: text/plain\r\n\r\nok")
		})}
		go srv.Serve(tl)
		a := lab.StartApache(t, fmt.Sprintf("ProxyPass /app/ \"unix:%s|fcgi://localhost/app/\" %s\n", sock, keys))
		resp, err := http.Get(a.URL + "/app/index.php?q=1&r=%C3%A9")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		resp, err = http.Post(a.URL+"/app/form.php", "application/x-www-form-urlencoded", strings.NewReader("a=1&b="+strings.Repeat("x", 300)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		a.Stop()
		srv.Close()
		tag := "apache"
		if keys != "" {
			tag = "apache-reuse"
		}
		for i, b := range tl.captured() {
			name := fmt.Sprintf("%s-%d", tag, i)
			writeSeed(t, "FuzzServerConn", name, b)
			writeSeed(t, "FuzzReadRecords", name, b)
			for j, ps := range paramsStreams(t, b) {
				writeSeed(t, "FuzzDecodeParams", fmt.Sprintf("%s-%d-%d", tag, i, j), ps)
			}
		}
	}

	// php-fpm → client: responses relayed through a recording proxy.
	f := startFPM(t, lab.FPMConfig{})
	relay := filepath.Join(t.TempDir(), "relay.sock")
	rl, err := net.Listen("unix", relay)
	if err != nil {
		t.Fatal(err)
	}
	defer rl.Close()
	var mu sync.Mutex
	var responses []*bytes.Buffer
	go func() {
		for {
			c, err := rl.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial(f.Network, f.Addr)
			if err != nil {
				c.Close()
				return
			}
			b := &bytes.Buffer{}
			mu.Lock()
			responses = append(responses, b)
			mu.Unlock()
			go func() { io.Copy(up, c); up.(*net.UnixConn).CloseWrite() }()
			go func() { io.Copy(c, teeConn{Conn: up, mu: &mu, buf: b}); c.Close() }()
		}
	}()
	cl := &Client{Network: "unix", Addr: relay}
	for _, s := range []struct {
		script string
		extra  []Param
	}{{"status.php", nil}, {"stderr.php", nil}, {"fatal.php", nil}, {"missing.php", nil}, {"big.php", []Param{{"SIZE", "70000"}}}} {
		if _, err := cl.Do(context.Background(), &Request{Params: fpmRequest(f, s.script, "GET", s.extra...)}, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := GetValues(context.Background(), "unix", relay, ValueMaxConns, ValueMaxReqs, ValueMpxsConns); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	names := []string{"status", "stderr", "fatal", "missing", "big", "get-values-result"}
	for i, b := range responses {
		name := "php-fpm-" + names[i]
		if names[i] == "get-values-result" {
			rr := newRecordReader(bytes.NewReader(b.Bytes()))
			_, content, err := rr.next()
			if err != nil {
				t.Fatal(err)
			}
			writeSeed(t, "FuzzDecodeParams", name, content)
		} else {
			writeSeed(t, "FuzzClientResponse", name, b.Bytes())
		}
		writeSeed(t, "FuzzReadRecords", name, b.Bytes())
	}
}
