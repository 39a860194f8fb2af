package fcgi

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
)

// goroutineID is the running goroutine's number, from its stack header.
func goroutineID() string {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// TestHandlerGoroutineReused: requests that follow one another run on the
// same pooled handler goroutine, and the pool's goroutines end when the
// server closes.
func TestHandlerGoroutineReused(t *testing.T) {
	ids := make(chan string, 3)
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		ids <- goroutineID()
		w.Write([]byte("Content-Type: text/plain\r\n\r\nok"))
	}))
	cl := &Client{Network: ts.network, Addr: ts.addr, KeepAlive: true, MaxConns: 1}
	defer cl.Close()
	for range 3 {
		var out bytes.Buffer
		if _, err := cl.Do(context.Background(), &Request{Params: Params{{"A", "b"}}}, &out); err != nil {
			t.Fatal(err)
		}
		// The goroutine is back in the pool once END_REQUEST is out; give
		// it the moment it needs to reach its select.
		time.Sleep(20 * time.Millisecond)
	}
	first := <-ids
	for range 2 {
		if id := <-ids; id != first {
			t.Errorf("a later request ran on goroutine %s, the first on %s: want one pooled goroutine", id, first)
		}
	}
	ts.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "fcgi.(*Server).worker") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a handler goroutine still runs 5 s after Close:\n%s", stacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
