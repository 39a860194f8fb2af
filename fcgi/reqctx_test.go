package fcgi

import (
	"context"
	"errors"
	"testing"
)

// closeCounter counts Close calls.
type closeCounter struct{ n int }

func (c *closeCounter) Close() error { c.n++; return nil }

// TestReqCtx: a request's context closes the registered connection exactly
// when it ends before release, and carries the cause.
func TestReqCtx(t *testing.T) {
	for _, tc := range []struct {
		name        string
		run         func(x *reqCtx, c *closeCounter) bool // returns release's result
		wantClosed  int
		wantRelease bool
	}{
		{"released before the end", func(x *reqCtx, c *closeCounter) bool {
			x.closeOnEnd(c)
			ok := x.release()
			x.end(ErrAborted)
			return ok
		}, 0, true},
		{"ended while registered", func(x *reqCtx, c *closeCounter) bool {
			x.closeOnEnd(c)
			x.end(ErrAborted)
			return x.release()
		}, 1, false},
		{"registered after the end", func(x *reqCtx, c *closeCounter) bool {
			x.end(ErrAborted)
			x.closeOnEnd(c)
			return x.release()
		}, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, c := new(reqCtx), &closeCounter{}
			x.init()
			if got := tc.run(x, c); got != tc.wantRelease {
				t.Errorf("release() = %v, want %v", got, tc.wantRelease)
			}
			if c.n != tc.wantClosed {
				t.Errorf("closed %d times, want %d", c.n, tc.wantClosed)
			}
			if cause := context.Cause(x); !errors.Is(cause, ErrAborted) {
				t.Errorf("cause %v, want ErrAborted", cause)
			}
		})
	}
}

// TestAfterDoneOtherContext: with a context that is not a request's,
// afterDone falls back to context.AfterFunc.
func TestAfterDoneOtherContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	kept := &closeCounter{}
	if !afterDone(ctx, kept).release() || kept.n != 0 {
		t.Errorf("released before the end: release false or closed %d times", kept.n)
	}
	closed := make(chan struct{})
	done := afterDone(ctx, closerFunc(func() error { close(closed); return nil }))
	cancel()
	<-closed // AfterFunc closes it from its own goroutine
	if done.release() {
		t.Error("release() after the context ended = true, want false")
	}
}

// closerFunc is an io.Closer made of a function.
type closerFunc func() error

func (f closerFunc) Close() error { return f() }
