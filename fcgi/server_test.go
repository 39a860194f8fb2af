package fcgi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testServer runs a Server on a Unix socket in a temp dir.
type testServer struct {
	*Server
	addr    string
	errs    chan error
	network string
}

func startServer(t *testing.T, h Handler) *testServer {
	t.Helper()
	return startServerWith(t, &Server{Handler: h, MaxConns: 7})
}

// startServerWith serves srv on a Unix socket until the test ends; unless
// srv has a ConnError, connection errors go to the errs channel.
func startServerWith(t *testing.T, srv *Server) *testServer {
	t.Helper()
	addr := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: srv, addr: addr, errs: make(chan error, 16), network: "unix"}
	if ts.ConnError == nil {
		ts.ConnError = func(err error) { ts.errs <- err }
	}
	done := make(chan error, 1)
	go func() { done <- ts.Serve(l) }()
	t.Cleanup(func() {
		ts.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ts
}

// rawConn is a test web server speaking bytes.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	rr recordReader
}

func (ts *testServer) dial(t *testing.T) *rawConn {
	t.Helper()
	nc, err := net.Dial(ts.network, ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, nc: nc, rr: newRecordReader(nc)}
}

func (c *rawConn) send(b ...[]byte) {
	c.t.Helper()
	if _, err := c.nc.Write(bytes.Join(b, nil)); err != nil {
		c.t.Fatal(err)
	}
}

// record reads one record and returns it re-encoded, for exact comparison.
func (c *rawConn) record() []byte {
	c.t.Helper()
	h, content, err := c.rr.next()
	if err != nil {
		c.t.Fatalf("reading record: %v", err)
	}
	return appendRecord(nil, h.Type, h.ID, content)
}

// response reads records up to END_REQUEST and returns stdout, stderr and
// the END_REQUEST record.
func (c *rawConn) response(id uint16) (stdout, stderr string, end []byte) {
	c.t.Helper()
	var o, e bytes.Buffer
	for {
		h, content, err := c.rr.next()
		if err != nil {
			c.t.Fatalf("reading response: %v (stdout so far %q)", err, o.String())
		}
		if h.ID != id {
			c.t.Fatalf("%s for request %d, want %d", h.Type, h.ID, id)
		}
		switch h.Type {
		case typeStdout:
			o.Write(content)
		case typeStderr:
			e.Write(content)
		case typeEndRequest:
			return o.String(), e.String(), appendRecord(nil, h.Type, h.ID, content)
		default:
			c.t.Fatalf("unexpected %s", h.Type)
		}
	}
}

// expectClosed checks that the server closed the connection.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	var b [1]byte
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.nc.Read(b[:]); err != io.EOF {
		c.t.Errorf("connection still open: read %d bytes, err %v", n, err)
	}
}

func paramsRecords(id uint16, ps Params) []byte {
	b, _ := appendParamsRecords(nil, id, ps, 1<<30, nil)
	return b
}

func request(id uint16, keep bool, ps Params, body string) []byte {
	b := appendBeginRequest(nil, id, RoleResponder, keep)
	b = append(b, paramsRecords(id, ps)...)
	if body != "" {
		b = appendRecord(b, typeStdin, id, []byte(body))
	}
	return appendRecord(b, typeStdin, id, nil)
}

// echoHandler writes the params and body back as text.
var echoHandler = HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
	body, err := io.ReadAll(r.Stdin)
	if err != nil {
		fmt.Fprintf(w.Stderr(), "read: %v", err)
	}
	fmt.Fprintf(w, "Content-Type: text/plain\r\n\r\nid=%d keep=%v role=%s\n", r.ID, r.KeepConn, r.Role)
	for _, p := range r.Params {
		fmt.Fprintf(w, "%q=%q\n", p.Name, p.Value)
	}
	fmt.Fprintf(w, "body=%q\n", body)
})

func TestServerRequestExact(t *testing.T) {
	ts := startServer(t, echoHandler)
	c := ts.dial(t)
	c.send(request(1, false, Params{{"SCRIPT_FILENAME", "/x.php"}, {"B", "2"}, {"A", "\x00\xff"}, {"B", "dup"}}, "post body"))
	out, errOut, end := c.response(1)
	want := "Content-Type: text/plain\r\n\r\nid=1 keep=false role=RESPONDER\n" +
		`"SCRIPT_FILENAME"="/x.php"` + "\n" + `"B"="2"` + "\n" + `"A"="\x00\xff"` + "\n" + `"B"="dup"` + "\n" + `body="post body"` + "\n"
	if out != want || errOut != "" {
		t.Errorf("stdout %q, stderr %q; want %q", out, errOut, want)
	}
	if !bytes.Equal(end, appendEndRequest(nil, 1, 0, StatusRequestComplete)) {
		t.Errorf("END_REQUEST % x", end)
	}
	c.expectClosed() // no KEEP_CONN: the application closes
}

// TestServerEndsStreams checks the exact record sequence after a handler
// that wrote stdout and stderr and set an app status.
func TestServerEndsStreams(t *testing.T) {
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		io.WriteString(w, "out")
		io.WriteString(w.Stderr(), "err")
		w.SetAppStatus(3)
	}))
	c := ts.dial(t)
	c.send(request(1, false, nil, ""))
	var got []byte
	for i := 0; i < 5; i++ {
		got = append(got, c.record()...)
	}
	var want []byte
	want = appendRecord(want, typeStdout, 1, []byte("out"))
	want = appendRecord(want, typeStderr, 1, []byte("err"))
	want = appendRecord(want, typeStdout, 1, nil)
	want = appendRecord(want, typeStderr, 1, nil)
	want = appendEndRequest(want, 1, 3, StatusRequestComplete)
	if !bytes.Equal(got, want) {
		t.Errorf("got  % x\nwant % x", got, want)
	}
}

func TestServerKeepConn(t *testing.T) {
	ts := startServer(t, echoHandler)
	c := ts.dial(t)
	for i := range 3 {
		c.send(request(1, true, Params{{"N", fmt.Sprint(i)}}, strings.Repeat("b", i)))
		out, _, end := c.response(1)
		if !strings.Contains(out, fmt.Sprintf("keep=true role=RESPONDER\n\"N\"=\"%d\"\nbody=%q\n", i, strings.Repeat("b", i))) {
			t.Errorf("request %d: %q", i, out)
		}
		if !bytes.Equal(end, appendEndRequest(nil, 1, 0, StatusRequestComplete)) {
			t.Errorf("END_REQUEST % x", end)
		}
	}
	// A request id other than 1 works too.
	c.send(request(9, false, nil, ""))
	if out, _, _ := c.response(9); !strings.Contains(out, "id=9 keep=false") {
		t.Errorf("id 9: %q", out)
	}
	c.expectClosed()
}

// TestServerParamsStraddle sends pairs split across PARAMS records at every
// offset, including inside a 4-byte length.
func TestServerParamsStraddle(t *testing.T) {
	ts := startServer(t, echoHandler)
	ps := Params{{"SHORT", "v"}, {strings.Repeat("N", 130), strings.Repeat("V", 200)}, {"LAST", ""}}
	var enc []byte
	for _, p := range ps {
		enc = appendPair(enc, p.Name, p.Value)
	}
	for cut := 1; cut < len(enc); cut += 7 {
		c := ts.dial(t)
		b := appendBeginRequest(nil, 1, RoleResponder, false)
		b = appendRecord(b, typeParams, 1, enc[:cut])
		b = appendRecord(b, typeParams, 1, enc[cut:])
		b = appendRecord(b, typeParams, 1, nil)
		b = appendRecord(b, typeStdin, 1, nil)
		c.send(b)
		out, _, _ := c.response(1)
		want := fmt.Sprintf("%q=%q\n%q=%q\n%q=%q\n", ps[0].Name, ps[0].Value, ps[1].Name, ps[1].Value, ps[2].Name, ps[2].Value)
		if !strings.Contains(out, want) {
			t.Fatalf("cut at %d: %q", cut, out)
		}
		c.nc.Close() // free the server's connection slot at once
	}
}

func TestServerMalformed(t *testing.T) {
	begin := appendBeginRequest(nil, 1, RoleResponder, true)
	for _, tc := range []struct {
		name  string
		input []byte
		want  error
		msg   string
	}{
		{"bad version", unhex(t, "02 01 0001 0008 00 00 | 0001 00 0000000000"), ErrBadVersion, "version 2"},
		{"unknown type with request id", appendRecord(nil, 42, 1, nil), ErrUnknownType, "type 42 for request 1"},
		{"request id in use", append(append([]byte{}, begin...), begin...), ErrRequestIDInUse, "BEGIN_REQUEST for request 1 while it is active"},
		{"params past the end", append(append([]byte{}, begin...), append(appendRecord(nil, typeParams, 1, unhex(t, "05 05 41")), appendRecord(nil, typeParams, 1, nil)...)...),
			ErrMalformedParams, "params of request 1: pair at offset 0: name 5 + value 5 bytes run past the end (1 bytes left)"},
		{"short begin", appendRecord(nil, typeBeginRequest, 1, []byte{0, 1}), ErrMalformedRecord, "BEGIN_REQUEST for request 1 with 2 content bytes"},
		{"stdout to the application", appendRecord(nil, typeStdout, 1, []byte("x")), ErrUnexpectedRecord, "STDOUT record for request 1 sent to the application"},
		{"data for a responder", append(append([]byte{}, begin...), appendRecord(nil, typeData, 1, []byte("x"))...), ErrUnexpectedRecord, "DATA record"},
		{"stdin before params end", append(append([]byte{}, begin...), appendRecord(nil, typeStdin, 1, []byte("x"))...), ErrUnexpectedRecord, "STDIN for request 1 before its params stream ended"},
		{"get values with an id", appendRecord(nil, typeGetValues, 1, nil), ErrMalformedRecord, "GET_VALUES with request id 1"},
		{"begin with id 0", appendBeginRequest(nil, 0, RoleResponder, false), ErrMalformedRecord, "request id 0"},
		{"truncated record", unhex(t, "01 04 0001 0010 00 00 | 4142"), ErrMalformedRecord, "PARAMS record for request 1: stream ends after 2 of 16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, echoHandler)
			c := ts.dial(t)
			c.send(tc.input)
			if tc.name == "truncated record" {
				c.nc.(*net.UnixConn).CloseWrite()
			}
			c.expectClosed()
			select {
			case err := <-ts.errs:
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
					t.Errorf("ConnError(%v), want %v containing %q", err, tc.want, tc.msg)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no ConnError")
			}
			// Only that connection closed: the server still serves.
			c2 := ts.dial(t)
			c2.send(request(1, false, nil, ""))
			if out, _, _ := c2.response(1); !strings.Contains(out, "id=1") {
				t.Errorf("server after a malformed connection: %q", out)
			}
		})
	}
}

func TestServerManagementRecords(t *testing.T) {
	ts := startServer(t, echoHandler)
	c := ts.dial(t)
	var q []byte
	for _, n := range []string{ValueMaxConns, "NOT_A_VARIABLE", ValueMaxReqs, ValueMpxsConns} {
		q = appendPair(q, n, "")
	}
	c.send(appendRecord(nil, typeGetValues, 0, q))
	var want []byte
	want = appendPair(want, ValueMaxConns, "7")
	want = appendPair(want, ValueMaxReqs, "7")
	want = appendPair(want, ValueMpxsConns, "0")
	if got := c.record(); !bytes.Equal(got, appendRecord(nil, typeGetValuesResult, 0, want)) {
		t.Errorf("GET_VALUES_RESULT % x", got)
	}
	// §4.2: an unknown management type is answered with UNKNOWN_TYPE.
	c.send(appendRecord(nil, 200, 0, []byte("whatever")))
	if got, want := c.record(), unhex(t, "01 0b 0000 0008 00 00 | c8 00000000000000"); !bytes.Equal(got, want) {
		t.Errorf("UNKNOWN_TYPE: % x, want % x", got, want)
	}
	// The connection still serves requests.
	c.send(request(1, false, nil, "x"))
	if out, _, _ := c.response(1); !strings.Contains(out, `body="x"`) {
		t.Errorf("after management records: %q", out)
	}

	// Through GetValues.
	vals, err := GetValues(context.Background(), "unix", ts.addr, ValueMaxConns, ValueMaxReqs, ValueMpxsConns)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(vals) != "[{FCGI_MAX_CONNS 7} {FCGI_MAX_REQS 7} {FCGI_MPXS_CONNS 0}]" {
		t.Errorf("GetValues = %v", vals)
	}
}

func TestServerRoles(t *testing.T) {
	ts := startServer(t, echoHandler)
	c := ts.dial(t)
	// A second request while one runs: CANT_MPX_CONN for it, the first
	// goes on.
	c.send(appendBeginRequest(nil, 1, RoleResponder, true), paramsRecords(1, nil))
	c.send(appendBeginRequest(nil, 2, RoleResponder, true))
	if got := c.record(); !bytes.Equal(got, appendEndRequest(nil, 2, 0, StatusCantMultiplex)) {
		t.Errorf("second request: % x", got)
	}
	c.send(appendRecord(nil, typeStdin, 1, nil))
	if out, _, _ := c.response(1); !strings.Contains(out, "id=1 keep=true") {
		t.Errorf("first request: %q", out)
	}
	// Authorizer and filter roles are refused with UNKNOWN_ROLE.
	c.send(appendBeginRequest(nil, 1, RoleAuthorizer, true))
	if got := c.record(); !bytes.Equal(got, appendEndRequest(nil, 1, 0, StatusUnknownRole)) {
		t.Errorf("authorizer: % x", got)
	}
	c.send(appendBeginRequest(nil, 1, RoleFilter, false))
	if got := c.record(); !bytes.Equal(got, appendEndRequest(nil, 1, 0, StatusUnknownRole)) {
		t.Errorf("filter: % x", got)
	}
	c.expectClosed()
}

func TestServerAbort(t *testing.T) {
	started := make(chan struct{})
	causes := make(chan error, 1)
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		io.WriteString(w, "partial")
		close(started)
		<-r.Context().Done()
		causes <- context.Cause(r.Context())
		w.SetAppStatus(1)
	}))
	c := ts.dial(t)
	c.send(request(1, true, nil, ""))
	<-started
	c.send(appendRecord(nil, typeAbortRequest, 1, nil))
	out, _, end := c.response(1)
	if out != "partial" || !bytes.Equal(end, appendEndRequest(nil, 1, 1, StatusRequestComplete)) {
		t.Errorf("aborted request: stdout %q, end % x", out, end)
	}
	if err := <-causes; !errors.Is(err, ErrAborted) {
		t.Errorf("context cause %v, want ErrAborted", err)
	}
	// Abort while reading the body unblocks the read with ErrAborted.
	readErr := make(chan error, 1)
	ts2 := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		_, err := io.ReadAll(r.Stdin)
		readErr <- err
	}))
	c2 := ts2.dial(t)
	c2.send(appendBeginRequest(nil, 1, RoleResponder, false), paramsRecords(1, nil), appendRecord(nil, typeStdin, 1, []byte("some")))
	c2.send(appendRecord(nil, typeAbortRequest, 1, nil))
	if err := <-readErr; !errors.Is(err, ErrAborted) {
		t.Errorf("stdin read after abort: %v", err)
	}
	c2.response(1)
}

// TestServerStreams proves STDIN reaches the handler as it arrives and
// STDOUT leaves as produced: the handler echoes each chunk and the test
// reads the echo before it sends the next chunk.
func TestServerStreams(t *testing.T) {
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		buf := make([]byte, 100)
		for {
			n, err := r.Stdin.Read(buf)
			if n > 0 {
				w.Write([]byte("got:" + string(buf[:n])))
			}
			if err != nil {
				return
			}
		}
	}))
	c := ts.dial(t)
	c.send(appendBeginRequest(nil, 1, RoleResponder, false), paramsRecords(1, nil))
	for _, chunk := range []string{"one", "two", "three"} {
		c.send(appendRecord(nil, typeStdin, 1, []byte(chunk)))
		if got, want := c.record(), appendRecord(nil, typeStdout, 1, []byte("got:"+chunk)); !bytes.Equal(got, want) {
			t.Fatalf("echo of %q: % x", chunk, got)
		}
	}
	c.send(appendRecord(nil, typeStdin, 1, nil))
	if out, _, _ := c.response(1); out != "" {
		t.Errorf("after stream end: %q", out)
	}
}

// TestServerHandlerIgnoresBody checks that a handler that does not read the
// body still completes and the body tail is discarded on a kept
// connection.
func TestServerHandlerIgnoresBody(t *testing.T) {
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) { io.WriteString(w, "hi") }))
	c := ts.dial(t)
	c.send(appendBeginRequest(nil, 1, RoleResponder, true), paramsRecords(1, nil), appendRecord(nil, typeStdin, 1, []byte("unread")))
	if out, _, _ := c.response(1); out != "hi" {
		t.Fatalf("stdout %q", out)
	}
	c.send(appendRecord(nil, typeStdin, 1, []byte("more")), appendRecord(nil, typeStdin, 1, nil))
	c.send(request(1, false, nil, ""))
	if out, _, _ := c.response(1); out != "hi" {
		t.Errorf("second request %q", out)
	}
}

// TestClientServerRoundTrip drives our server with our client over Unix
// and TCP, with large bodies both ways.
func TestClientServerRoundTrip(t *testing.T) {
	h := HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		sum := sha256.New()
		n, _ := io.Copy(sum, r.Stdin)
		cl, _ := r.Params.Lookup("CONTENT_LENGTH")
		fmt.Fprintf(w, "Status: 200 OK\r\n\r\nlen=%d cl=%s sha=%x keep=%v\n", n, cl, sum.Sum(nil), r.KeepConn)
		if v, ok := r.Params.Lookup("DOWNLOAD"); ok {
			var size int
			fmt.Sscan(v, &size)
			w.Write(bytes.Repeat([]byte{'d'}, size))
		}
	})
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			ts := startServer(t, h)
			if network == "tcp" {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				go ts.Serve(l)
				ts.network, ts.addr = "tcp", l.Addr().String()
			}
			cl := &Client{Network: ts.network, Addr: ts.addr, KeepAlive: true, MaxConns: 2}
			defer cl.Close()
			for _, size := range []int{0, 1, 65535, 65536, 3<<20 + 5} {
				body := bytes.Repeat([]byte{'u'}, size)
				sum := sha256.Sum256(body)
				var out bytes.Buffer
				res, err := cl.Do(context.Background(), &Request{
					Params: Params{{"DOWNLOAD", fmt.Sprint(size)}}, Body: bytes.NewReader(body), ContentLength: int64(size),
				}, &out)
				if err != nil {
					t.Fatalf("%d bytes: %v", size, err)
				}
				cl := fmt.Sprint(size)
				if size == 0 {
					cl = "" // no body, no CONTENT_LENGTH
				}
				head := fmt.Sprintf("Status: 200 OK\r\n\r\nlen=%d cl=%s sha=%s keep=true\n", size, cl, hex.EncodeToString(sum[:]))
				if !strings.HasPrefix(out.String(), head) || out.Len() != len(head)+size || res.Stdout != int64(out.Len()) {
					t.Errorf("%d bytes: got %d bytes starting %q", size, out.Len(), out.String()[:min(out.Len(), 120)])
				}
			}
			if s := cl.Stats(); s.Dials != 1 || s.Reuses != 4 {
				t.Errorf("stats %+v, want 1 dial and 4 reuses", s)
			}
		})
	}
}

// TestServerShutdown: Shutdown closes idle kept connections at once, lets
// an active request finish (then closes its connection) and makes Serve
// return ErrServerClosed.
func TestServerShutdown(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	addr := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Handler: HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		if _, ok := r.Params.Lookup("SLOW"); ok {
			close(started)
			<-release
		}
		io.WriteString(w, "done")
	})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	ts := &testServer{Server: srv, addr: addr, network: "unix"}
	idle := ts.dial(t)
	idle.send(request(1, true, nil, ""))
	idle.response(1)
	busy := ts.dial(t)
	busy.send(request(1, true, Params{{"SLOW", "1"}}, ""))
	<-started
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	idle.expectClosed()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if out, _, _ := busy.response(1); out != "done" {
		t.Errorf("in-flight request: %q", out)
	}
	busy.expectClosed()
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	// Shutdown with an expired context closes what is left.
	running := make(chan struct{})
	srv2 := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) { close(running); <-r.Context().Done() }))
	c := srv2.dial(t)
	c.send(request(1, false, nil, ""))
	<-running
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := srv2.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown past its deadline: %v", err)
	}
	c.expectClosed()
}

// waitRunning waits until n of srv's connections run a request.
func waitRunning(t *testing.T, srv *Server, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		k := 0
		srv.mu.Lock()
		for c := range srv.conns {
			c.mu.Lock()
			if c.active != nil && c.active.started {
				k++
			}
			c.mu.Unlock()
		}
		srv.mu.Unlock()
		if k >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections run a request, want %d", k, n)
		}
	}
}

// TestServerMaxConns: at MaxConns, while every connection runs a request,
// a new connection waits until one ends; Close still returns from Serve
// while it waits. A connection that only waits (idle between requests, or
// without a request) gives its place up instead (TestServerEvicts).
func TestServerMaxConns(t *testing.T) {
	addr := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Handler: echoHandler, MaxConns: 1}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	ts := &testServer{Server: srv, addr: addr, network: "unix"}
	first := ts.dial(t)
	// A request whose body has begun and not ended: its handler runs.
	first.send(appendBeginRequest(nil, 1, RoleResponder, true), paramsRecords(1, nil), appendRecord(nil, typeStdin, 1, []byte("1")))
	waitRunning(t, srv, 1)
	second := ts.dial(t) // connects (backlog) but is not served yet
	second.send(request(1, false, nil, "2"))
	second.nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	var b [1]byte
	if _, err := second.nc.Read(b[:]); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("second connection served beyond MaxConns: %v", err)
	}
	first.nc.Close()
	second.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if out, _, _ := second.response(1); !strings.Contains(out, `body="2"`) {
		t.Errorf("second connection after the first closed: %q", out)
	}
	second.expectClosed() // half-closed by the server (no KEEP_CONN) ...
	second.nc.Close()     // ... and closed by us, freeing the slot
	// Fill the only slot again and close the server while Serve waits.
	third := ts.dial(t)
	third.send(appendBeginRequest(nil, 1, RoleResponder, true), paramsRecords(1, nil), appendRecord(nil, typeStdin, 1, []byte("3")))
	waitRunning(t, srv, 1)
	ts.dial(t)
	srv.Close()
	select {
	case err := <-served:
		if !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve still waiting for a slot after Close")
	}
}

// writeLog is a listener whose connections report every Write, to check
// how the server groups records into writes.
type writeLog struct {
	net.Listener
	writes chan []byte
}

func (l *writeLog) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &loggedConn{Conn: nc, writes: l.writes}, nil
}

type loggedConn struct {
	net.Conn
	writes chan []byte
}

func (c *loggedConn) Write(p []byte) (int, error) {
	c.writes <- bytes.Clone(p)
	return c.Conn.Write(p)
}

// CloseWrite keeps the half-close the server lingers with.
func (c *loggedConn) CloseWrite() error { return c.Conn.(*net.UnixConn).CloseWrite() }

// TestServerBufferedWrites checks ResponseWriter.Buffer: a short response
// leaves with its stream ends and END_REQUEST in one write, Flush sends at
// once, and more than one record's worth is sent without waiting for the
// end.
func TestServerBufferedWrites(t *testing.T) {
	proceed := make(chan struct{})
	h := HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		w.Buffer()
		mode, _ := r.Params.Lookup("MODE")
		switch mode {
		case "short":
			io.WriteString(w, "Status: 200 OK\r\n\r\n")
			io.WriteString(w, "hello")
			io.WriteString(w.Stderr(), "warn")
		case "flush":
			io.WriteString(w, "x")
			w.Flush()
			<-proceed
		case "big":
			w.Write(bytes.Repeat([]byte{'b'}, 100000))
		}
	})
	addr := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	wl := &writeLog{Listener: l, writes: make(chan []byte, 16)}
	srv := &Server{Handler: h}
	go srv.Serve(wl)
	t.Cleanup(func() { srv.Close() })
	ts := &testServer{addr: addr, network: "unix"}
	c := ts.dial(t)
	next := func() []byte {
		t.Helper()
		select {
		case b := <-wl.writes:
			return b
		case <-time.After(5 * time.Second):
			t.Fatal("no write from the server")
			return nil
		}
	}

	c.send(request(1, true, Params{{"MODE", "short"}}, ""))
	want := appendRecord(nil, typeStdout, 1, []byte("Status: 200 OK\r\n\r\n"))
	want = appendRecord(want, typeStdout, 1, []byte("hello"))
	want = appendRecord(want, typeStderr, 1, []byte("warn"))
	want = appendHeader(want, typeStdout, 1, 0)
	want = appendHeader(want, typeStderr, 1, 0)
	want = appendEndRequest(want, 1, 0, StatusRequestComplete)
	if got := next(); !bytes.Equal(got, want) {
		t.Errorf("short response in one write:\n got % x\nwant % x", got, want)
	}
	c.response(1)

	c.send(request(1, true, Params{{"MODE", "flush"}}, ""))
	if got, want := next(), appendRecord(nil, typeStdout, 1, []byte("x")); !bytes.Equal(got, want) {
		t.Errorf("flushed write: % x, want % x", got, want)
	}
	close(proceed)
	if got, want := next(), appendEndRequest(appendHeader(nil, typeStdout, 1, 0), 1, 0, StatusRequestComplete); !bytes.Equal(got, want) {
		t.Errorf("end after a flush: % x, want % x", got, want)
	}
	c.response(1)

	c.send(request(1, true, Params{{"MODE", "big"}}, ""))
	body := bytes.Repeat([]byte{'b'}, 100000)
	if got, want := next(), appendRecord(nil, typeStdout, 1, body[:maxContent]); !bytes.Equal(got, want) {
		t.Errorf("first record of a big write: %d bytes, want %d", len(got), len(want))
	}
	want = appendRecord(nil, typeStdout, 1, body[maxContent:])
	want = appendEndRequest(appendHeader(want, typeStdout, 1, 0), 1, 0, StatusRequestComplete)
	if got := next(); !bytes.Equal(got, want) {
		t.Errorf("rest of a big write with the end: %d bytes, want %d", len(got), len(want))
	}
	if out, _, _ := c.response(1); out != string(body) {
		t.Errorf("big response: %d bytes", len(out))
	}
}

// TestServerStartsOnStdin: the handler runs once the body has begun (an
// empty body reads as EOF at once); a request aborted between its params
// and its body never reaches the handler.
func TestServerStartsOnStdin(t *testing.T) {
	calls := make(chan string, 4)
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		b, err := io.ReadAll(r.Stdin)
		calls <- fmt.Sprintf("body %q err %v", b, err)
	}))
	c := ts.dial(t)
	c.send(appendBeginRequest(nil, 1, RoleResponder, true), paramsRecords(1, nil))
	c.send(appendRecord(nil, typeAbortRequest, 1, nil))
	if got, want := c.record(), appendEndRequest(nil, 1, 0, StatusRequestComplete); !bytes.Equal(got, want) {
		t.Errorf("abort before the body: % x, want % x", got, want)
	}
	c.send(request(1, true, nil, ""))
	c.response(1)
	c.send(request(1, true, nil, "data"))
	c.response(1)
	for _, want := range []string{`body "" err <nil>`, `body "data" err <nil>`} {
		if got := <-calls; got != want {
			t.Errorf("handler saw %s, want %s", got, want)
		}
	}
	select {
	case got := <-calls:
		t.Errorf("extra handler call: %s", got)
	default:
	}
}

// TestServerPHPFPMEnding: with PHPFPMEnding a request ends as php-fpm ends
// it, END_REQUEST right after the output; without it the empty STDOUT and
// STDERR records close the streams first (spec §5.3).
func TestServerPHPFPMEnding(t *testing.T) {
	for _, fpm := range []bool{false, true} {
		h := HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
			w.Buffer()
			io.WriteString(w, "Status: 200 OK\r\n\r\nhi")
			io.WriteString(w.Stderr(), "warn")
		})
		addr := filepath.Join(t.TempDir(), "s.sock")
		l, err := net.Listen("unix", addr)
		if err != nil {
			t.Fatal(err)
		}
		wl := &writeLog{Listener: l, writes: make(chan []byte, 16)}
		srv := &Server{Handler: h, PHPFPMEnding: fpm}
		go srv.Serve(wl)
		t.Cleanup(func() { srv.Close() })
		c := (&testServer{addr: addr, network: "unix"}).dial(t)
		c.send(request(1, true, nil, ""))
		want := appendRecord(nil, typeStdout, 1, []byte("Status: 200 OK\r\n\r\nhi"))
		want = appendRecord(want, typeStderr, 1, []byte("warn"))
		if !fpm {
			want = appendHeader(want, typeStdout, 1, 0)
			want = appendHeader(want, typeStderr, 1, 0)
		}
		want = appendEndRequest(want, 1, 0, StatusRequestComplete)
		select {
		case got := <-wl.writes:
			if !bytes.Equal(got, want) {
				t.Errorf("PHPFPMEnding %v:\n got % x\nwant % x", fpm, got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no write from the server")
		}
		if out, errOut, _ := c.response(1); out != "Status: 200 OK\r\n\r\nhi" || errOut != "warn" {
			t.Errorf("PHPFPMEnding %v: response %q, stderr %q", fpm, out, errOut)
		}
	}
}
