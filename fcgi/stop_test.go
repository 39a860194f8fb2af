package fcgi

import (
	"context"
	"testing"
)

// closeCounter counts Close calls.
type closeCounter struct{ n int }

func (c *closeCounter) Close() error { c.n++; return nil }

// TestReqEnd: a received request's Stopper closes the registered closer
// exactly when the request ends before Release.
func TestReqEnd(t *testing.T) {
	for _, tc := range []struct {
		name        string
		run         func(x *reqEnd, c *closeCounter) bool // returns Release's result
		wantClosed  int
		wantRelease bool
	}{
		{"released before the end", func(x *reqEnd, c *closeCounter) bool {
			x.CloseOnStop(c)
			ok := x.Release()
			x.end()
			return ok
		}, 0, true},
		{"ended while registered", func(x *reqEnd, c *closeCounter) bool {
			x.CloseOnStop(c)
			x.end()
			return x.Release()
		}, 1, false},
		{"registered after the end", func(x *reqEnd, c *closeCounter) bool {
			x.end()
			x.CloseOnStop(c)
			return x.Release()
		}, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, c := new(reqEnd), &closeCounter{}
			if got := tc.run(x, c); got != tc.wantRelease {
				t.Errorf("Release() = %v, want %v", got, tc.wantRelease)
			}
			if c.n != tc.wantClosed {
				t.Errorf("closed %d times, want %d", c.n, tc.wantClosed)
			}
		})
	}
}

// TestCloseOnStopContext: without a Stopper, closeOnStop falls back to
// context.AfterFunc on the context.
func TestCloseOnStopContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	kept := &closeCounter{}
	if !closeOnStop(ctx, nil, kept).release() || kept.n != 0 {
		t.Errorf("released before the end: release false or closed %d times", kept.n)
	}
	closed := make(chan struct{})
	d := closeOnStop(ctx, nil, closerFunc(func() error { close(closed); return nil }))
	cancel()
	<-closed // AfterFunc closes it from its own goroutine
	if d.release() {
		t.Error("release() after the context ended = true, want false")
	}
}

// TestServerRequestStopper: the Stopper of a request the Server received
// stops when the request's context is canceled, after the cancellation,
// so that Do sees the context's cause.
func TestServerRequestStopper(t *testing.T) {
	r := &serverReq{}
	r.ctx, r.stopCtx = context.WithCancelCause(context.Background())
	r.req = ServerRequest{ctx: r.ctx, end: &r.end}
	var sawCause error
	r.req.Stopper().CloseOnStop(closerFunc(func() error { sawCause = context.Cause(r.ctx); return nil }))
	r.cancel(ErrAborted)
	if sawCause != ErrAborted {
		t.Errorf("closed with context cause %v, want ErrAborted", sawCause)
	}
	if (&ServerRequest{}).Stopper() != nil {
		t.Error("Stopper of a ServerRequest not from a Server is not nil")
	}
}

// closerFunc is an io.Closer made of a function.
type closerFunc func() error

func (f closerFunc) Close() error { return f() }
