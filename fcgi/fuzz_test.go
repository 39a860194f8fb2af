package fcgi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// Seeds in testdata/fuzz/<FuzzName>/ were captured from real traffic by
// TestCaptureFuzzSeeds (Apache mod_proxy_fcgi requests, php-fpm responses,
// php-fpm's GET_VALUES_RESULT); the f.Add seeds below are hand-made edge
// cases.

// FuzzReadRecords decodes a record stream. Every record read must
// re-encode to a record that decodes to the same header fields and
// content.
func FuzzReadRecords(f *testing.F) {
	f.Add(appendRecord(nil, typeStdout, 1, []byte("hello")))
	f.Add(appendEndRequest(appendHeader(nil, typeStdout, 1, 0), 1, 0, StatusRequestComplete))
	f.Add(unhex(f, "01 06 0001 0010 00 00 | 4142"))
	f.Add([]byte{2, 1, 0, 1, 0, 0, 0, 0})
	f.Add(appendRecord(appendRecord(nil, typeParams, 1, bytes.Repeat([]byte{'p'}, 9000)), typeStdin, 1, []byte("x")))
	f.Fuzz(func(t *testing.T, data []byte) {
		// A server connection's reader starts small and grows: it must
		// read exactly what the whole-record reader reads.
		small := newSmallRecordReader(bytes.NewReader(data))
		whole := newRecordReader(bytes.NewReader(data))
		for {
			h1, c1, err1 := whole.next()
			h2, c2, err2 := small.next()
			if h1 != h2 || !bytes.Equal(c1, c2) || (err1 == nil) != (err2 == nil) {
				t.Fatalf("small reader: %+v %q %v; whole reader: %+v %q %v", h2, c2, err2, h1, c1, err1)
			}
			if err1 != nil {
				break
			}
			if h1.Type == typeStdin {
				small.grow()
			}
		}
		rr := newRecordReader(bytes.NewReader(data))
		consumed := 0
		for {
			h, content, err := rr.next()
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrBadVersion) && !errors.Is(err, ErrMalformedRecord) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			if len(content) != int(h.ContentLength) {
				t.Fatalf("%s: %d content bytes, header says %d", h.Type, len(content), h.ContentLength)
			}
			consumed += headerLen + int(h.ContentLength) + int(h.PaddingLength)
			if consumed > len(data) {
				t.Fatalf("read %d bytes from %d", consumed, len(data))
			}
			re := appendRecord(nil, h.Type, h.ID, content)
			rr2 := newRecordReader(bytes.NewReader(re))
			h2, c2, err := rr2.next()
			if err != nil || h2.Type != h.Type || h2.ID != h.ID || !bytes.Equal(c2, content) {
				t.Fatalf("re-encoded %s record does not round-trip: %v", h.Type, err)
			}
		}
	})
}

// FuzzDecodeParams decodes a name-value stream: a successful decode must
// survive encode → decode unchanged, and a failure must be
// ErrMalformedParams.
func FuzzDecodeParams(f *testing.F) {
	f.Add(appendPair(appendPair(nil, "SCRIPT_FILENAME", "/x.php"), "A", ""))
	f.Add(unhex(f, "80000080 01"))
	f.Add(unhex(f, "ffffffff 00"))
	f.Add([]byte{0x7f})
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := decodeParams(nil, string(data))
		if err != nil {
			if !errors.Is(err, ErrMalformedParams) {
				t.Fatalf("error %v is not ErrMalformedParams", err)
			}
			return
		}
		var enc []byte
		for _, p := range ps {
			enc = appendPair(enc, p.Name, p.Value)
		}
		if len(enc) > len(data) {
			t.Fatalf("canonical encoding (%d bytes) longer than the input (%d)", len(enc), len(data))
		}
		ps2, err := decodeParams(nil, string(enc))
		if err != nil || len(ps2) != len(ps) {
			t.Fatalf("re-decode: %d pairs, %v", len(ps2), err)
		}
		for i := range ps {
			if ps[i] != ps2[i] {
				t.Fatalf("pair %d changed: %q → %q", i, ps[i], ps2[i])
			}
		}
	})
}

// FuzzServerConn feeds arbitrary bytes to the server side as a web
// server would send them: the connection must end (no hang, no panic)
// once the peer closes, whatever the input.
func FuzzServerConn(f *testing.F) {
	f.Add(request(1, false, Params{{"A", "b"}}, "body"))
	f.Add(append(request(1, true, nil, "x"), request(1, false, nil, "")...))
	f.Add(appendRecord(nil, typeGetValues, 0, appendPair(nil, ValueMaxConns, "")))
	f.Add(append(appendBeginRequest(nil, 1, RoleResponder, true), appendRecord(nil, typeAbortRequest, 1, nil)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		srv := &Server{Handler: HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
			if r.KeepConn {
				w.Buffer() // both ways of writing, chosen by the input
			}
			io.Copy(w, r.Stdin)
			io.WriteString(w.Stderr(), "e")
			w.Flush()
		})}
		client, server := net.Pipe()
		c := &serverConn{srv: srv, nc: server, rr: newSmallRecordReader(server)}
		done := make(chan struct{})
		go func() { c.serve(); close(done) }()
		go io.Copy(io.Discard, client)
		client.SetWriteDeadline(time.Now().Add(5 * time.Second))
		client.Write(data)
		client.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("server connection still running 10 s after the peer closed")
		}
	})
}

// FuzzClientResponse feeds arbitrary bytes to the client as php-fpm's
// answer: Do must return (no hang, no panic) and only report success with
// a well-formed END_REQUEST.
func FuzzClientResponse(f *testing.F) {
	f.Add(appendEndRequest(appendRecord(nil, typeStdout, 1, []byte("Status: 200\r\n\r\nok")), 1, 0, StatusRequestComplete))
	f.Add(appendRecord(nil, typeStderr, 1, []byte("warn")))
	f.Add(appendEndRequest(nil, 1, 0, StatusOverloaded))
	f.Fuzz(func(t *testing.T, data []byte) {
		cl := &Client{Network: "pipe", Addr: "fuzz", KeepAlive: true, MaxConns: 1, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second}
		client, backend := net.Pipe()
		go func() {
			defer backend.Close()
			rr := newRecordReader(backend)
			for { // read the request head up to the empty STDIN record
				h, content, err := rr.next()
				if err != nil || (h.Type == typeStdin && len(content) == 0) {
					break
				}
			}
			backend.Write(data)
		}()
		cc := &clientConn{nc: client, rr: newRecordReader(client), wbuf: make([]byte, 0, headerLen+maxContent+8)}
		var out bytes.Buffer
		res, keep, err := cl.roundTrip(context.Background(), nil, cc, Params{{"A", "b"}}, &countingReader{r: bytes.NewReader(nil)}, 0, &out)
		client.Close()
		if err == nil && (res == nil || res.ProtocolStatus != StatusRequestComplete) {
			t.Fatalf("success without a complete END_REQUEST: %+v", res)
		}
		if keep && err != nil {
			t.Fatal("connection kept after an error")
		}
	})
}
