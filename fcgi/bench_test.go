package fcgi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// apacheParams is a params set shaped like what mod_proxy_fcgi sends for a
// GET (docs/behaviour.md#b-apache-params): about 30 pairs, ~900 bytes.
var apacheParams = Params{
	{"HTTP_HOST", "127.0.0.1:8082"}, {"HTTP_USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0"},
	{"HTTP_ACCEPT", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, {"HTTP_ACCEPT_LANGUAGE", "en-US,en;q=0.5"},
	{"HTTP_ACCEPT_ENCODING", "gzip, deflate, br"}, {"HTTP_COOKIE", "session=" + strings.Repeat("c", 64)},
	{"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, {"SERVER_SIGNATURE", ""},
	{"SERVER_SOFTWARE", "Apache/2.4.71 (Debian)"}, {"SERVER_NAME", "127.0.0.1"}, {"SERVER_ADDR", "127.0.0.1"},
	{"SERVER_PORT", "8082"}, {"REMOTE_ADDR", "127.0.0.1"}, {"DOCUMENT_ROOT", "/tmp/lab/www"}, {"REQUEST_SCHEME", "http"},
	{"CONTEXT_PREFIX", ""}, {"CONTEXT_DOCUMENT_ROOT", "/tmp/lab/www"}, {"SERVER_ADMIN", "[no address given]"},
	{"SCRIPT_FILENAME", "proxy:fcgi://localhost/tmp/lab/www/bench/hello.php"}, {"REMOTE_PORT", "53422"},
	{"GATEWAY_INTERFACE", "CGI/1.1"}, {"SERVER_PROTOCOL", "HTTP/1.1"}, {"REQUEST_METHOD", "GET"},
	{"QUERY_STRING", "a=1&b=2"}, {"REQUEST_URI", "/bench/hello.php?a=1&b=2"}, {"SCRIPT_NAME", "/bench/hello.php"},
	{"PHP_VALUE", "memory_limit='64M'\ndisplay_errors='1'"},
}

func BenchmarkEncodeParams(b *testing.B) {
	buf := make([]byte, 0, headerLen+maxContent+8)
	size := len(encodeParamsForBench(apacheParams))
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = appendParamsRecords(buf[:0], 1, apacheParams, cap(buf), nil)
	}
}

func encodeParamsForBench(ps Params) []byte {
	b, _ := appendParamsRecords(nil, 1, ps, 1<<30, nil)
	return b
}

func BenchmarkDecodeParams(b *testing.B) {
	var enc []byte
	for _, p := range apacheParams {
		enc = appendPair(enc, p.Name, p.Value)
	}
	s := string(enc)
	dst := make(Params, 0, len(apacheParams))
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = decodeParams(dst[:0], s)
	}
}

// BenchmarkReadRecords decodes a 1 MiB STDOUT stream of full records.
func BenchmarkReadRecords(b *testing.B) {
	var stream bytes.Buffer
	if _, err := writeStream(&stream, nil, typeStdout, 1, make([]byte, 1<<20)); err != nil {
		b.Fatal(err)
	}
	data := stream.Bytes()
	r := bytes.NewReader(data)
	rr := newRecordReader(r)
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(data)
		rr.br.Reset(r)
		for {
			if _, _, err := rr.next(); err != nil {
				break
			}
		}
	}
}

// BenchmarkWriteStream encodes 1 MiB as STDOUT records.
func BenchmarkWriteStream(b *testing.B) {
	p := make([]byte, 1<<20)
	buf := make([]byte, 0, headerLen+maxContent+8)
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = writeStream(io.Discard, buf, typeStdout, 1, p)
	}
}

// benchServer starts our server with a handler that reads the body and
// writes a small answer.
func benchServer(tb testing.TB) string {
	addr := filepath.Join(tb.TempDir(), "b.sock")
	l, err := net.Listen("unix", addr)
	if err != nil {
		tb.Fatal(err)
	}
	srv := &Server{Handler: HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		var buf [4096]byte
		n := 0
		for {
			k, err := r.Stdin.Read(buf[:])
			n += k
			if err != nil {
				break
			}
		}
		w.Write(okResponse)
	})}
	go srv.Serve(l)
	tb.Cleanup(func() { srv.Close() })
	return addr
}

var okResponse = []byte("Content-Type: text/plain\r\n\r\nok")

// roundTrip runs one keep-alive request with a body of n bytes.
func benchRoundTrip(tb testing.TB, c *Client, body *bytes.Reader, n int) {
	body.Seek(0, io.SeekStart)
	_, err := c.Do(context.Background(), &Request{Params: apacheParams, Body: body, ContentLength: int64(n)}, io.Discard)
	if err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkRoundTrip is a steady-state request over a kept connection to
// our own server (client and server in process, Unix socket).
func BenchmarkRoundTrip(b *testing.B) {
	for _, n := range []int{0, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("body=%d", n), func(b *testing.B) {
			c := &Client{Network: "unix", Addr: benchServer(b), KeepAlive: true, MaxConns: 1}
			defer c.Close()
			body := bytes.NewReader(make([]byte, n))
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				benchRoundTrip(b, c, body, n)
			}
		})
	}
}

// TestRoundTripAllocsConstant checks that a round trip allocates the same
// small number of objects whatever the body size: memory per request is
// per request, never per byte or per record.
func TestRoundTripAllocsConstant(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counting is slow under -short")
	}
	c := &Client{Network: "unix", Addr: benchServer(t), KeepAlive: true, MaxConns: 1}
	defer c.Close()
	allocs := map[int]float64{}
	for _, n := range []int{0, 1 << 20, 8 << 20} {
		body := bytes.NewReader(make([]byte, n))
		benchRoundTrip(t, c, body, n) // warm up the connection
		allocs[n] = testing.AllocsPerRun(20, func() { benchRoundTrip(t, c, body, n) })
	}
	// 8 MiB is 129 records each way: a per-record allocation would show
	// as 100+; allow a little noise from the runtime. A body costs a few
	// objects of its own (the server's stdin pipe, the client's body
	// writer), once per request.
	if allocs[8<<20] > allocs[1<<20]+6 || allocs[1<<20] > allocs[0]+12 || allocs[0] > 60 {
		t.Errorf("allocations per round trip by body size: %v", allocs)
	}
	t.Logf("allocations per round trip by body size: %v", allocs)
}

// relayHandler forwards each request to php-fpm through c, streaming the
// body in and the response out: the shape of the shim's hot path.
func relayHandler(c *Client) Handler {
	return HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		n := int64(-1)
		if v, ok := r.Params.Lookup("CONTENT_LENGTH"); ok {
			if k, err := strconv.ParseInt(v, 10, 64); err == nil {
				n = k
			}
		}
		res, err := c.Do(r.Context(), &Request{Params: r.Params, Body: r.Stdin, ContentLength: n}, w)
		if err != nil {
			io.WriteString(w.Stderr(), err.Error())
			return
		}
		if len(res.Stderr) > 0 {
			w.Stderr().Write(res.Stderr)
		}
	})
}

// BenchmarkRelay measures in-process server → client → real php-fpm: a
// driving client sends to our server over a Unix socket, and its handler
// relays to php-fpm over a kept connection. "direct" is the same driving
// client straight to php-fpm, the baseline. php-fpm runs pm=static with 2
// workers; hello.php prints one line, echo.php hashes a POST body.
func BenchmarkRelay(b *testing.B) {
	f := startFPM(b, lab.FPMConfig{Children: 2})
	backend := &Client{Network: f.Network, Addr: f.Addr, KeepAlive: true, MaxConns: 2}
	defer backend.Close()
	addr := filepath.Join(b.TempDir(), "relay.sock")
	l, err := net.Listen("unix", addr)
	if err != nil {
		b.Fatal(err)
	}
	srv := &Server{Handler: relayHandler(backend)}
	go srv.Serve(l)
	defer srv.Close()
	hello := append(append(Params{}, apacheParams...), fpmRequest(f, "hello.php", "GET")...)
	for _, tc := range []struct {
		name string
		n    int
	}{{"hello", 0}, {"post-1MiB", 1 << 20}} {
		ps := hello
		if tc.n > 0 {
			ps = append(append(Params{}, apacheParams...), fpmRequest(f, "echo.php", "POST")...)
		}
		body := make([]byte, tc.n)
		want := sha256.Sum256(body)
		for _, path := range []struct{ name, network, addr string }{{"direct", f.Network, f.Addr}, {"relay", "unix", addr}} {
			b.Run(tc.name+"/"+path.name, func(b *testing.B) {
				c := &Client{Network: path.network, Addr: path.addr, KeepAlive: true, MaxConns: 1}
				defer c.Close()
				var out bytes.Buffer
				b.SetBytes(int64(tc.n))
				b.ReportAllocs()
				for b.Loop() {
					out.Reset()
					if _, err := c.Do(context.Background(), &Request{Params: ps, Body: bytes.NewReader(body), ContentLength: int64(tc.n)}, &out); err != nil {
						b.Fatal(err)
					}
				}
				if tc.n > 0 && !strings.Contains(out.String(), fmt.Sprintf("sha=%x", want)) {
					b.Fatalf("relayed body lost: %q", out.String())
				}
				if tc.n == 0 && !strings.HasSuffix(out.String(), "hello\n") {
					b.Fatalf("response %q", out.String())
				}
			})
		}
	}
}
