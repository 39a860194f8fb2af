package fcgi

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"
)

// TestClientQueueTimeout: with MaxConns busy, a request waits for a
// connection at most QueueTimeout and then fails with ErrPoolBusy without
// being sent; one freed within the wait carries it; a request whose
// context ends first fails with the context's cause. MaxConns is the only
// bound: no more requests reach the backend at once.
func TestClientQueueTimeout(t *testing.T) {
	release := make(chan struct{})
	var running, served atomic.Int32
	ts := startServer(t, HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		if running.Add(1) > 1 {
			t.Error("two requests at once with MaxConns 1")
		}
		if _, ok := r.Params.Lookup("BLOCK"); ok {
			<-release
		}
		running.Add(-1)
		served.Add(1)
		io.WriteString(w, "ok")
	}))
	cl := &Client{Network: "unix", Addr: ts.addr, KeepAlive: true, MaxConns: 1, QueueTimeout: 100 * time.Millisecond}
	t.Cleanup(func() { cl.Close() })
	first := make(chan error, 1)
	go func() {
		_, err := cl.Do(context.Background(), &Request{Params: Params{{"BLOCK", "1"}}}, io.Discard)
		first <- err
	}()
	for cl.Stats().Open == 0 {
		time.Sleep(time.Millisecond)
	}

	start := time.Now()
	_, err := cl.Do(context.Background(), &Request{}, io.Discard)
	if took := time.Since(start); !errors.Is(err, ErrPoolBusy) || took < 100*time.Millisecond {
		t.Errorf("request while the connection is busy: %v after %v, want ErrPoolBusy after 100ms", err, took)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("web client gone")
	time.AfterFunc(20*time.Millisecond, func() { cancel(cause) })
	if _, err := cl.Do(ctx, &Request{}, io.Discard); !errors.Is(err, cause) || errors.Is(err, ErrPoolBusy) {
		t.Errorf("request whose context ends while it waits: %v, want its cause", err)
	}

	// A wait long enough for a loaded machine; only this request reads it.
	cl.QueueTimeout = 10 * time.Second
	second := make(chan error, 1)
	go func() {
		_, err := cl.Do(context.Background(), &Request{}, io.Discard)
		second <- err
	}()
	time.Sleep(20 * time.Millisecond) // queued behind the first
	close(release)
	if err := <-first; err != nil {
		t.Errorf("first request: %v", err)
	}
	if err := <-second; err != nil {
		t.Errorf("request freed a connection within QueueTimeout: %v", err)
	}
	if n := served.Load(); n != 2 {
		t.Errorf("backend served %d requests, want 2 (refused ones are never sent)", n)
	}
}
