package fcgi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	stdfcgi "net/http/fcgi"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

var dateLine = regexp.MustCompile(`Date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\n`)

// startStdlib serves h with the standard library's net/http/fcgi on a Unix
// socket: an independent implementation of the application side.
func startStdlib(t *testing.T, h http.Handler) string {
	t.Helper()
	addr := filepath.Join(t.TempDir(), "std.sock")
	l, err := net.Listen("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	go stdfcgi.Serve(l, h)
	t.Cleanup(func() { l.Close() })
	return addr
}

func TestClientAgainstStdlib(t *testing.T) {
	addr := startStdlib(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sum := sha256.New()
		n, _ := io.Copy(sum, r.Body)
		env := stdfcgi.ProcessEnv(r)
		w.Header().Set("X-Env-Foo", env["FOO"])
		w.Header().Set("X-Method", r.Method)
		w.WriteHeader(201)
		fmt.Fprintf(w, "len=%d sha=%x cl=%d", n, sum.Sum(nil), r.ContentLength)
	}))
	cl := &Client{Network: "unix", Addr: addr}
	for _, size := range []int{0, 1, 65535, 65536, 1<<20 + 3} {
		body := bytes.Repeat([]byte("0123456789"), size/10+1)[:size]
		sum := sha256.Sum256(body)
		var out bytes.Buffer
		res, err := cl.Do(context.Background(), &Request{
			Params: Params{
				{"REQUEST_METHOD", "POST"}, {"SERVER_PROTOCOL", "HTTP/1.1"}, {"REQUEST_URI", "/x"},
				{"FOO", "bar baz"}, {"HTTP_HOST", "example"},
			},
			Body: bytes.NewReader(body), ContentLength: int64(size),
		}, &out)
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		want := fmt.Sprintf("Status: 201 Created\r\nContent-Type: text/plain; charset=utf-8\r\nX-Env-Foo: bar baz\r\nX-Method: POST\r\n\r\nlen=%d sha=%x cl=%d", size, sum, size)
		// net/http/fcgi always adds a Date header: check its shape, then
		// compare the rest byte for byte.
		got := dateLine.ReplaceAllString(out.String(), "")
		if got != want || dateLine.FindString(out.String()) == "" {
			t.Errorf("%d bytes:\n got %q\nwant %q", size, out.String(), want)
		}
		if res.AppStatus != 0 || res.ProtocolStatus != StatusRequestComplete || res.Stdout != int64(out.Len()) {
			t.Errorf("%d bytes: result %+v", size, res)
		}
	}
}

// TestClientUnknownLength spools bodies of unknown length and sends the
// exact CONTENT_LENGTH, in memory and through a temporary file.
func TestClientUnknownLength(t *testing.T) {
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		sum := sha256.New()
		n, _ := io.Copy(sum, r.Stdin)
		cl, _ := r.Params.Lookup("CONTENT_LENGTH")
		fmt.Fprintf(w, "cl=%s n=%d sha=%x", cl, n, sum.Sum(nil))
	}))
	dir := t.TempDir()
	cl := &Client{Network: "unix", Addr: ts.addr, SpoolDir: dir}
	for _, size := range []int{0, 5, spoolMemLimit, spoolMemLimit + 1, 3 << 20} {
		body := bytes.Repeat([]byte{'q'}, size)
		var out bytes.Buffer
		// OneByteReader hides the length and forces many small reads.
		_, err := cl.Do(context.Background(), &Request{
			Params: Params{{"CONTENT_LENGTH", "999"}}, Body: iotest.HalfReader(bytes.NewReader(body)), ContentLength: -1,
		}, &out)
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		if want := fmt.Sprintf("cl=%d n=%d sha=%x", size, size, sha256.Sum256(body)); out.String() != want {
			t.Errorf("%d bytes: %q, want %q", size, out.String(), want)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("spool files left behind: %v", left)
		}
	}
}

// TestClientMaxBody: a body over Client.MaxBody is refused with
// ErrBodyTooLarge before php-fpm is contacted — at once for a known length,
// after spooling at most MaxBody+1 bytes for an unknown one, whose spool
// file is removed; a body of exactly MaxBody bytes goes through.
func TestClientMaxBody(t *testing.T) {
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		n, _ := io.Copy(io.Discard, r.Stdin)
		fmt.Fprintf(w, "n=%d", n)
	}))
	const max = spoolMemLimit + 4096 // past the part held in memory
	dir := t.TempDir()
	cl := &Client{Network: "unix", Addr: ts.addr, SpoolDir: dir, MaxBody: max}
	defer cl.Close()
	for _, tc := range []struct {
		size, length int64
		want         string // output, or "" for ErrBodyTooLarge
	}{
		{max, max, "n=1052672"},
		{max, -1, "n=1052672"},
		{max + 1, max + 1, ""},
		{max + 1, -1, ""},
		{100 << 20, -1, ""},
		{spoolMemLimit + 1, -1, "n=1048577"},
	} {
		body := &countingReader{r: io.LimitReader(zeroReader{}, tc.size)}
		var out bytes.Buffer
		_, err := cl.Do(context.Background(), &Request{Body: body, ContentLength: tc.length}, &out)
		if tc.want == "" {
			if !errors.Is(err, ErrBodyTooLarge) || out.Len() != 0 {
				t.Errorf("%d bytes (length %d): %q, %v; want ErrBodyTooLarge", tc.size, tc.length, out.String(), err)
			}
			if read := body.n; tc.length >= 0 && read != 0 || read > max+1 {
				t.Errorf("%d bytes (length %d): %d bytes read before the refusal", tc.size, tc.length, read)
			}
		} else if err != nil || out.String() != tc.want {
			t.Errorf("%d bytes (length %d): %q, %v; want %q", tc.size, tc.length, out.String(), err, tc.want)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("spool files left behind: %v", left)
		}
	}
	if s := cl.Stats(); s.Requests != 3 {
		t.Errorf("stats %+v: want 3 requests sent, none for the refused bodies", s)
	}
}

// zeroReader reads zeros forever.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestClientContentLengthMismatch(t *testing.T) {
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) { io.Copy(io.Discard, r.Stdin) }))
	cl := &Client{Network: "unix", Addr: ts.addr}
	for _, tc := range []struct {
		body string
		n    int64
		msg  string
	}{
		{"short", 10, "request body ended after 5 of 10 bytes"},
		{"longer than said", 3, "request body longer than its length 3"},
	} {
		_, err := cl.Do(context.Background(), &Request{Body: strings.NewReader(tc.body), ContentLength: tc.n}, io.Discard)
		if !errors.Is(err, ErrContentLength) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q as %d bytes: err = %v", tc.body, tc.n, err)
		}
	}
	if s := cl.Stats(); s.Open != 0 {
		t.Errorf("connections left open after body errors: %+v", s)
	}
}

// fakeBackend answers each connection with fixed bytes after reading the
// request head.
func fakeBackend(t *testing.T, answer func(c net.Conn)) string {
	t.Helper()
	addr := filepath.Join(t.TempDir(), "fake.sock")
	l, err := net.Listen("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				rr := newRecordReader(c)
				for { // read up to the end of STDIN
					h, content, err := rr.next()
					if err != nil || (h.Type == typeStdin && len(content) == 0) {
						break
					}
				}
				answer(c)
			}()
		}
	}()
	return addr
}

func TestClientResponseErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer []byte
		want   error
		msg    string
	}{
		{"overloaded", appendEndRequest(nil, 1, 0, StatusOverloaded), ErrOverloaded, "ended the request with OVERLOADED"},
		{"unknown role", appendEndRequest(nil, 1, 0, StatusUnknownRole), ErrUnknownRole, "UNKNOWN_ROLE"},
		{"cant mpx", appendEndRequest(nil, 1, 0, StatusCantMultiplex), ErrCantMultiplex, "CANT_MPX_CONN"},
		{"wrong id", appendRecord(nil, typeStdout, 2, []byte("x")), ErrWrongRequestID, "STDOUT record for request 2, sent 1"},
		{"stdin in response", appendRecord(nil, typeStdin, 1, []byte("x")), ErrUnexpectedRecord, "STDIN record in a response"},
		{"unknown type", appendRecord(nil, 99, 1, nil), ErrUnknownType, "record type 99"},
		{"bad version", unhex(t, "09 06 0001 0000 00 00"), ErrBadVersion, "version 9"},
		{"short end", appendRecord(nil, typeEndRequest, 1, []byte{0}), ErrMalformedRecord, "END_REQUEST with 1 content bytes"},
		{"eof mid-response", appendRecord(nil, typeStdout, 1, []byte("abc")), ErrIncompleteResponse, "after 3 stdout bytes"},
		{"eof mid-record", unhex(t, "01 06 0001 0100 00 00 | 4142"), ErrMalformedRecord, "stream ends after 2 of 256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeBackend(t, func(c net.Conn) { c.Write(tc.answer) })
			cl := &Client{Network: "unix", Addr: addr}
			res, err := cl.Do(context.Background(), &Request{}, io.Discard)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %v containing %q", err, tc.want, tc.msg)
			}
			if tc.want == ErrOverloaded && (res == nil || res.ProtocolStatus != StatusOverloaded) {
				t.Errorf("result %+v", res)
			}
		})
	}
}

func TestClientStderrCap(t *testing.T) {
	addr := fakeBackend(t, func(c net.Conn) {
		var b []byte
		b = appendRecord(b, typeStderr, 1, []byte("0123456789"))
		b = appendRecord(b, typeStdout, 1, []byte("out"))
		b = appendRecord(b, typeStderr, 1, []byte("abcdef"))
		b = appendEndRequest(b, 1, 7, StatusRequestComplete)
		c.Write(b)
	})
	cl := &Client{Network: "unix", Addr: addr, MaxStderr: 12}
	var out bytes.Buffer
	res, err := cl.Do(context.Background(), &Request{}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stderr) != "0123456789ab" || res.StderrDropped != 4 || res.AppStatus != 7 || out.String() != "out" {
		t.Errorf("stderr %q dropped %d app %d out %q", res.Stderr, res.StderrDropped, res.AppStatus, out.String())
	}
}

func TestClientBackendDown(t *testing.T) {
	cl := &Client{Network: "unix", Addr: filepath.Join(t.TempDir(), "missing.sock")}
	_, err := cl.Do(context.Background(), &Request{}, io.Discard)
	if !errors.Is(err, ErrBackendUnavailable) || !strings.Contains(err.Error(), "dialing php-fpm pool unix") {
		t.Errorf("err = %v", err)
	}
	if _, err := (&Client{Network: "unix", Addr: "x", KeepAlive: true}).Do(context.Background(), &Request{}, io.Discard); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("KeepAlive without MaxConns: %v", err)
	}
	if _, err := cl.Do(context.Background(), &Request{Params: Params{{"PHP_VALUE", strings.Repeat("x", 70000)}}}, io.Discard); !errors.Is(err, ErrParamTooLarge) {
		t.Errorf("oversized param: %v", err)
	}
}

// TestClientPoolBound checks that MaxConns bounds open connections and that
// a waiting request gets the next free one.
func TestClientPoolBound(t *testing.T) {
	release := make(chan struct{})
	var active, peak int32
	var mu = make(chan struct{}, 1)
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		mu <- struct{}{}
		active++
		peak = max(peak, active)
		<-mu
		<-release
		mu <- struct{}{}
		active--
		<-mu
		io.WriteString(w, "ok")
	}))
	cl := &Client{Network: "unix", Addr: ts.addr, KeepAlive: true, MaxConns: 2}
	defer cl.Close()
	errs := make(chan error, 5)
	for range 5 {
		go func() {
			_, err := cl.Do(context.Background(), &Request{}, io.Discard)
			errs <- err
		}()
	}
	for deadline := time.Now().Add(5 * time.Second); cl.Stats().Open < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let the other three queue
	if s := cl.Stats(); s.Open != 2 || s.Dials != 2 {
		t.Errorf("with 5 requests waiting: %+v, want 2 open", s)
	}
	// A request whose context ends while waiting gives up cleanly.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err := cl.Do(ctx, &Request{}, io.Discard)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for a connection") {
		t.Errorf("waiting request: %v", err)
	}
	close(release)
	for range 5 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if s := cl.Stats(); s.Dials != 2 || s.Reuses != 3 || peak != 2 {
		t.Errorf("after: %+v, peak %d", s, peak)
	}
}

// TestClientIdleTimeout checks that idle kept connections are closed (they
// pin php-fpm workers) and that a connection the backend closed is not
// reused.
func TestClientIdleTimeout(t *testing.T) {
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) { io.WriteString(w, "ok") }))
	cl := &Client{Network: "unix", Addr: ts.addr, KeepAlive: true, MaxConns: 1, IdleTimeout: 50 * time.Millisecond}
	if _, err := cl.Do(context.Background(), &Request{}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if s := cl.Stats(); s.Idle != 1 {
		t.Fatalf("after one request: %+v", s)
	}
	deadline := time.Now().Add(5 * time.Second)
	for cl.Stats().Open != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s := cl.Stats(); s.Open != 0 || s.Idle != 0 {
		t.Errorf("idle connection not reaped: %+v", s)
	}

	// Backend closes kept connections after each request (like php-fpm
	// at pm.max_requests): the client notices and dials again, with no
	// error for the caller. The next request waits until the close has
	// happened; a close racing with the next request is the case of
	// TestClientRetriesUndelivered.
	closed := make(chan struct{}, 1)
	addr := fakeBackend(t, func(c net.Conn) {
		c.Write(appendEndRequest(appendRecord(nil, typeStdout, 1, []byte("hi")), 1, 0, StatusRequestComplete))
		c.Close()
		closed <- struct{}{}
	})
	// Whatever the method, the kept connection is probed first and the
	// closed one is never used: nothing reaches the caller.
	for _, method := range []string{"", "GET"} {
		cl2 := &Client{Network: "unix", Addr: addr, KeepAlive: true, MaxConns: 1}
		var ps Params
		if method != "" {
			ps = Params{{"REQUEST_METHOD", method}}
		}
		for i := range 5 {
			var out bytes.Buffer
			res, err := cl2.Do(context.Background(), &Request{Params: ps}, &out)
			<-closed
			if err != nil || out.String() != "hi" {
				t.Fatalf("method %q request %d: %q, %v", method, i, out.String(), err)
			}
			if res.Reused {
				t.Errorf("method %q request %d: answered on a reused connection", method, i)
			}
		}
		if s := cl2.Stats(); s.Dials != 5 {
			t.Errorf("method %q: stats %+v, want 5 dials", method, s)
		}
		cl2.Close()
	}
}

// flushLog is a stdout that holds writes until Flush, as a buffered
// ResponseWriter does, and reports each flush.
type flushLog struct {
	held    bytes.Buffer
	flushes chan string
}

func (f *flushLog) Write(p []byte) (int, error) { return f.held.Write(p) }

func (f *flushLog) Flush() error {
	f.flushes <- f.held.String()
	f.held.Reset()
	return nil
}

// TestClientFlushesBeforeWaiting: Do flushes a Flusher stdout whenever the
// next record is not already received, and not between records that
// arrived together.
func TestClientFlushesBeforeWaiting(t *testing.T) {
	proceed := make(chan struct{})
	addr := fakeBackend(t, func(c net.Conn) {
		c.Write(appendRecord(appendRecord(nil, typeStdout, 1, []byte("one")), typeStdout, 1, []byte("two")))
		<-proceed
		c.Write(appendEndRequest(appendRecord(nil, typeStdout, 1, []byte("three")), 1, 0, StatusRequestComplete))
	})
	cl := &Client{Network: "unix", Addr: addr}
	out := &flushLog{flushes: make(chan string, 4)}
	done := make(chan error, 1)
	go func() {
		_, err := cl.Do(context.Background(), &Request{}, out)
		done <- err
	}()
	select {
	case got := <-out.flushes:
		if got != "onetwo" {
			t.Errorf("first flush %q, want \"onetwo\"", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("output held while waiting for the backend")
	}
	close(proceed)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The last record came with END_REQUEST: it is left for the caller
	// to send with its own end of the response.
	if out.held.String() != "three" || len(out.flushes) != 0 {
		t.Errorf("after the end: held %q, %d more flushes", out.held.String(), len(out.flushes))
	}
}

func TestClientContextCancel(t *testing.T) {
	started := make(chan struct{})
	ended := make(chan error, 1)
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		io.WriteString(w, "first")
		close(started)
		<-r.Context().Done()
		ended <- context.Cause(r.Context())
	}))
	cl := &Client{Network: "unix", Addr: ts.addr, KeepAlive: true, MaxConns: 1}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	_, err := cl.Do(ctx, &Request{}, io.Discard)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	// The client closed the connection (php-fpm ignores ABORT_REQUEST),
	// which the server sees as ErrConnClosed.
	if cause := <-ended; !errors.Is(cause, ErrConnClosed) {
		t.Errorf("server-side cause %v", cause)
	}
	if s := cl.Stats(); s.Open != 0 {
		t.Errorf("canceled connection kept: %+v", s)
	}
}

// failWriter fails after n bytes: a web client that went away.
type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, errors.New("client went away")
	}
	return len(p), nil
}

func TestClientStdoutWriteError(t *testing.T) {
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		for i := 0; i < 1000; i++ {
			if _, err := w.Write(make([]byte, 1000)); err != nil {
				return
			}
		}
	}))
	cl := &Client{Network: "unix", Addr: ts.addr, KeepAlive: true, MaxConns: 1}
	_, err := cl.Do(context.Background(), &Request{}, &failWriter{n: 5000})
	if err == nil || !strings.Contains(err.Error(), "client went away") || !strings.Contains(err.Error(), "relaying php-fpm") {
		t.Errorf("err = %v", err)
	}
	if s := cl.Stats(); s.Open != 0 {
		t.Errorf("connection kept after a failed relay: %+v", s)
	}
}

// lateEOF is a body whose end is seen only once release is closed, as when
// Apache's record ending the body arrives after php-fpm has answered.
type lateEOF struct {
	r       io.Reader
	release chan struct{}
}

func (b *lateEOF) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		<-b.release
	}
	return n, err
}

// TestClientKeepsConnWhenAnsweredBeforeBodyEnd: php-fpm answers once it has
// read CONTENT_LENGTH bytes, before the empty STDIN record that ends the
// body; the client still ends the body and keeps the connection.
func TestClientKeepsConnWhenAnsweredBeforeBodyEnd(t *testing.T) {
	answered := make(chan struct{}, 2)
	addr := filepath.Join(t.TempDir(), "fpm.sock")
	l, err := net.Listen("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ends := make(chan int, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		rr := newRecordReader(c)
		emptyStdin := 0
		for req := 0; req < 2; {
			h, content, err := rr.next()
			if err != nil {
				break
			}
			switch {
			case h.Type == typeStdin && len(content) == 4: // the whole body
				c.Write(appendEndRequest(appendRecord(nil, typeStdout, 1, []byte("ok")), 1, 0, StatusRequestComplete))
				answered <- struct{}{}
				req++
			case h.Type == typeStdin && len(content) == 0:
				emptyStdin++
			}
		}
		for emptyStdin < 2 { // the second body's end
			h, content, err := rr.next()
			if err != nil {
				break
			}
			if h.Type == typeStdin && len(content) == 0 {
				emptyStdin++
			}
		}
		ends <- emptyStdin
	}()
	cl := &Client{Network: "unix", Addr: addr, KeepAlive: true, MaxConns: 1}
	defer cl.Close()
	for i := range 2 {
		body := &lateEOF{r: strings.NewReader("data"), release: make(chan struct{})}
		go func() { <-answered; close(body.release) }()
		var out bytes.Buffer
		if _, err := cl.Do(context.Background(), &Request{Params: Params{{"REQUEST_METHOD", "POST"}}, Body: body, ContentLength: 4}, &out); err != nil || out.String() != "ok" {
			t.Fatalf("request %d: %q, %v", i, out.String(), err)
		}
	}
	if s := cl.Stats(); s.Dials != 1 || s.Reuses != 1 {
		t.Errorf("stats %+v, want the connection kept", s)
	}
	cl.Close()
	select {
	case n := <-ends:
		if n != 2 {
			t.Errorf("backend saw %d bodies ended, want 2", n)
		}
	case <-time.After(5 * time.Second):
		t.Error("backend never saw the second body's end")
	}
}

// TestClientRetriesUndelivered: a POST whose first write on a kept
// connection is refused (php-fpm stopped reading it after the liveness
// probe) never reached php-fpm, so it is sent again on a fresh connection;
// a POST that reached php-fpm and got no answer is not
// (TestFPMNoRerunAfterKill).
func TestClientRetriesUndelivered(t *testing.T) {
	var conns atomic.Int32
	readClosed := make(chan struct{}, 2)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	addr := fakeBackend(t, func(c net.Conn) {
		c.Write(appendEndRequest(appendRecord(nil, typeStdout, 1, []byte("hi")), 1, 0, StatusRequestComplete))
		if conns.Add(1) <= 2 {
			// Stop reading but keep the connection open: the probe
			// sees nothing wrong, the next write fails at once.
			c.(*net.UnixConn).CloseRead()
			readClosed <- struct{}{}
			<-done
		}
	})
	cl := &Client{Network: "unix", Addr: addr, KeepAlive: true, MaxConns: 1}
	defer cl.Close()
	post := &Request{Params: Params{{"REQUEST_METHOD", "POST"}}}
	if _, err := cl.Do(context.Background(), post, io.Discard); err != nil {
		t.Fatal(err)
	}
	<-readClosed
	cc, reused, err := cl.get(context.Background(), false)
	if err != nil || !reused {
		t.Fatalf("get: reused %v, %v (the probe should pass)", reused, err)
	}
	_, _, err = cl.roundTrip(context.Background(), nil, cc, post.Params, &countingReader{r: bytes.NewReader(nil)}, 0, io.Discard)
	cl.put(cc, false)
	if !errors.Is(err, errNotDelivered) || !errors.Is(err, ErrIncompleteResponse) {
		t.Fatalf("write on a connection php-fpm stopped reading: %v, want errNotDelivered", err)
	}
	// Through Do: the second connection refuses the next POST the same
	// way, and Do sends it again on a third.
	if _, err := cl.Do(context.Background(), post, io.Discard); err != nil {
		t.Fatal(err)
	}
	<-readClosed
	var out bytes.Buffer
	res, err := cl.Do(context.Background(), post, &out)
	if err != nil || out.String() != "hi" || res.Reused {
		t.Fatalf("POST after the refusal: %q, %v, %+v", out.String(), err, res)
	}
	if s := cl.Stats(); s.Dials != 3 {
		t.Errorf("stats %+v, want 3 dials", s)
	}
}

// TestClientConnParams: ConnParams sees its connection's state (nil when
// new, kept while the connection is kept, gone with it), and its params go
// after the request's.
func TestClientConnParams(t *testing.T) {
	seen := make(chan string, 8)
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		var names []string
		for _, p := range r.Params {
			names = append(names, p.Name+"="+p.Value)
		}
		seen <- strings.Join(names, " ")
		if v, _ := r.Params.Lookup("DIE"); v == "1" {
			panic(http.ErrAbortHandler) // the connection closes without END_REQUEST
		}
		io.WriteString(w, "Status: 200 OK\r\n\r\n")
	}))
	c := &Client{Network: "unix", Addr: ts.addr, KeepAlive: true, MaxConns: 1}
	defer c.Close()
	connParams := func(state *any) Params {
		n, _ := (*state).(int)
		*state = n + 1
		return Params{{"SEQ", strconv.Itoa(n + 1)}}
	}
	for i, tc := range []struct{ die, want string }{
		{"0", "A=a DIE=0 SEQ=1"},
		{"0", "A=a DIE=0 SEQ=2"},
		{"1", "A=a DIE=1 SEQ=3"},
		{"0", "A=a DIE=0 SEQ=1"}, // a new connection
	} {
		_, err := c.Do(context.Background(), &Request{Params: Params{{"A", "a"}, {"DIE", tc.die}}, ConnParams: connParams}, nil)
		if (err != nil) != (tc.die == "1") {
			t.Errorf("request %d: err %v", i, err)
		}
		if got := <-seen; got != tc.want {
			t.Errorf("request %d: server got %q, want %q", i, got, tc.want)
		}
	}
}

// TestClientIdleDeadlines: a deadline of a kept connection's last request
// that passed while the connection was idle does not fail the liveness
// probe of the next request, which reuses the connection.
func TestClientIdleDeadlines(t *testing.T) {
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) { io.WriteString(w, "ok") }))
	cl := &Client{Network: "unix", Addr: ts.addr, KeepAlive: true, MaxConns: 1, ReadTimeout: 20 * time.Millisecond, WriteTimeout: 20 * time.Millisecond}
	t.Cleanup(func() { cl.Close() })
	for i := range 2 {
		if i == 1 {
			time.Sleep(50 * time.Millisecond) // both deadlines pass
		}
		// No REQUEST_METHOD: the kept connection is probed before use.
		var out bytes.Buffer
		if _, err := cl.Do(context.Background(), &Request{}, &out); err != nil || out.String() != "ok" {
			t.Fatalf("request %d: %q, %v", i, out.String(), err)
		}
	}
	if s := cl.Stats(); s.Dials != 1 || s.Reuses != 1 {
		t.Errorf("stats %+v, want 1 dial and 1 reuse", s)
	}
}

// TestClientReserve: with Reserve r, no more than MaxConns−r connections
// stay open once requests end, so that r php-fpm workers are left unpinned
// for other clients; while requests run, all MaxConns are used. The
// surplus lingers for reserveGrace (TestClientReserveGrace), so it is
// awaited here within a bound generous for a loaded machine.
func TestClientReserve(t *testing.T) {
	release := make(chan struct{})
	var running atomic.Int32
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		running.Add(1)
		<-release
		io.WriteString(w, "ok")
	}))
	for _, tc := range []struct{ reserve, open int }{{0, 3}, {1, 2}, {3, 0}, {5, 0}} {
		cl := &Client{Network: "unix", Addr: ts.addr, KeepAlive: true, MaxConns: 3, Reserve: tc.reserve}
		running.Store(0)
		release = make(chan struct{})
		var wg sync.WaitGroup
		doAsync(t, cl, 3, &wg)
		waitCount(&running, 3)
		if s := cl.Stats(); s.Open != 3 {
			t.Errorf("reserve %d: %d open while 3 requests run, want 3", tc.reserve, s.Open)
		}
		close(release)
		wg.Wait()
		waitOpen(t, cl, tc.open, time.Second)
		if s := cl.Stats(); s.Open != tc.open || s.Idle != tc.open {
			t.Errorf("reserve %d: after the requests %+v, want %d open and idle", tc.reserve, s, tc.open)
		}
		cl.Close()
	}
}

// doAsync starts n requests on cl, each on a goroutine counted by wg;
// an error fails t.
func doAsync(t *testing.T, cl *Client, n int, wg *sync.WaitGroup) {
	for range n {
		wg.Go(func() {
			if _, err := cl.Do(context.Background(), &Request{}, io.Discard); err != nil {
				t.Error(err)
			}
		})
	}
}

// waitCount waits until a handler has counted n requests in running.
func waitCount(running *atomic.Int32, n int32) {
	for running.Load() < n {
		time.Sleep(time.Millisecond)
	}
}

// waitOpen waits up to bound for cl to have want connections open.
func waitOpen(t *testing.T, cl *Client, want int, bound time.Duration) {
	t.Helper()
	for start := time.Now(); cl.Stats().Open != want; time.Sleep(100 * time.Microsecond) {
		if time.Since(start) > bound {
			t.Fatalf("%+v: not %d open within %v", cl.Stats(), want, bound)
		}
	}
}

// TestClientReserveGrace: a connection beyond MaxConns−Reserve whose
// request ends with nobody waiting stays idle for reserveGrace, and a
// request in that time takes it without dialling; then trim closes only
// the connections beyond MaxConns−Reserve.
func TestClientReserveGrace(t *testing.T) {
	defer func(g time.Duration) { reserveGrace = g }(reserveGrace)
	reserveGrace = time.Hour
	release := make(chan struct{})
	var running atomic.Int32
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		running.Add(1)
		<-release
		io.WriteString(w, "ok")
	}))
	cl := &Client{Network: "unix", Addr: ts.addr, KeepAlive: true, MaxConns: 2, Reserve: 1}
	defer cl.Close()
	var wg sync.WaitGroup
	doAsync(t, cl, 2, &wg)
	waitCount(&running, 2)
	close(release)
	wg.Wait()
	if s := cl.Stats(); s.Open != 2 || s.Idle != 2 {
		t.Fatalf("within the grace: %+v, want 2 open and idle", s)
	}
	if _, err := cl.Do(context.Background(), &Request{}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if s := cl.Stats(); s.Dials != 2 || s.Reuses != 1 || s.Open != 2 {
		t.Errorf("a request within the grace: %+v, want 2 dials, 1 reuse, 2 open", s)
	}
	reserveGrace = 0 // the grace has passed
	cl.trim()
	if s := cl.Stats(); s.Open != 1 || s.Idle != 1 {
		t.Errorf("after the grace: %+v, want 1 open and idle", s)
	}
}

// TestClientReserveHandsOver: a connection beyond MaxConns−Reserve is
// kept when a request is waiting for one, which takes it at once (no idle
// worker is pinned), instead of being closed and dialled again.
func TestClientReserveHandsOver(t *testing.T) {
	release := make(chan struct{}, 3)
	var running atomic.Int32
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		running.Add(1)
		<-release
		io.WriteString(w, "ok")
	}))
	cl := &Client{Network: "unix", Addr: ts.addr, KeepAlive: true, MaxConns: 2, Reserve: 1}
	defer cl.Close()
	var wg sync.WaitGroup
	doAsync(t, cl, 2, &wg)
	waitCount(&running, 2)
	doAsync(t, cl, 1, &wg) // waits: both connections are busy
	for {
		cl.pool.mu.Lock()
		n := len(cl.pool.waiters)
		cl.pool.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	release <- struct{}{} // one request ends; the waiting one takes its connection
	waitCount(&running, 3)
	release <- struct{}{}
	release <- struct{}{}
	wg.Wait()
	if s := cl.Stats(); s.Dials != 2 || s.Reuses != 1 {
		t.Errorf("stats %+v, want 2 dials and 1 reuse", s)
	}
}

// TestClientRedialRecyclesBuffers: a connection the client closes (here
// every one: Reserve equal to MaxConns keeps none) gives its read and write
// buffers to the next dial, so that a pool busy around MaxConns−Reserve,
// which closes and dials the connection beyond the reserve again and
// again, does not allocate two fresh 64 KiB buffers per dial.
func TestClientRedialRecyclesBuffers(t *testing.T) {
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) { io.WriteString(w, "ok") }))
	cl := &Client{Network: "unix", Addr: ts.addr, KeepAlive: true, MaxConns: 2, Reserve: 2}
	defer cl.Close()
	do := func() {
		if _, err := cl.Do(context.Background(), &Request{}, io.Discard); err != nil {
			t.Fatal(err)
		}
		waitOpen(t, cl, 0, time.Second) // closed after reserveGrace
	}
	do()
	const n = 50
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		do()
	}
	runtime.ReadMemStats(&after)
	if s := cl.Stats(); s.Dials != n+1 || s.Open != 0 {
		t.Fatalf("stats %+v, want %d dials and none open", s, n+1)
	}
	// Server and client together, per request: a few KiB of connection
	// state; some 150 KiB when the client's buffers were not recycled.
	per := (after.TotalAlloc - before.TotalAlloc) / n
	t.Logf("%d bytes allocated per request over a new connection", per)
	if per > 16<<10 {
		t.Errorf("%d bytes allocated per request over a new connection, want under 16 KiB", per)
	}
}
