package fcgi

import (
	"context"
	"io"
	"sync"
)

// reqCtx is the context of a request the Server received: canceled, with
// ErrAborted or ErrConnClosed as its cause, when the web server gives the
// request up, and with context.Canceled when the handler has returned.
//
// It also closes one io.Closer when that happens (closeOnEnd), which is
// what Client.Do needs to stop a php-fpm round trip on behalf of an
// aborted request: the same as context.AfterFunc, without its allocations
// and its registration with the parent context on every request.
type reqCtx struct {
	context.Context
	cancel context.CancelCauseFunc

	mu     sync.Mutex
	ended  bool
	closer io.Closer // closed at end unless released
}

// init makes x a new request's context.
func (x *reqCtx) init() {
	x.Context, x.cancel = context.WithCancelCause(context.Background())
}

// end cancels the context with cause and closes the registered closer.
func (x *reqCtx) end(cause error) {
	x.cancel(cause)
	x.mu.Lock()
	c := x.closer
	x.ended, x.closer = true, nil
	x.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// closeOnEnd registers c to be closed when the request ends, at once if
// it has.
func (x *reqCtx) closeOnEnd(c io.Closer) {
	x.mu.Lock()
	if !x.ended {
		x.closer = c
		c = nil
	}
	x.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// release unregisters the closer; it reports false when the request ended
// first, and the closer has been closed.
func (x *reqCtx) release() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.closer = nil
	return !x.ended
}

// endHook is what Client.Do needs from a context to close a connection
// when the context ends; reqCtx has it.
type endHook interface {
	closeOnEnd(c io.Closer)
	release() bool
}

// doneCloser closes a connection when a context ends: see afterDone.
type doneCloser struct {
	hook endHook     // ctx's own hook, or
	stop func() bool // context.AfterFunc's
}

// afterDone closes c when ctx ends, through ctx's own hook when it has one
// and with context.AfterFunc otherwise.
func afterDone(ctx context.Context, c io.Closer) doneCloser {
	if h, ok := ctx.(endHook); ok {
		h.closeOnEnd(c)
		return doneCloser{hook: h}
	}
	return doneCloser{stop: context.AfterFunc(ctx, func() { c.Close() })}
}

// release unregisters the connection; it reports false when ctx ended
// first and the connection has been closed (or is being closed).
func (d doneCloser) release() bool {
	if d.hook != nil {
		return d.hook.release()
	}
	return d.stop()
}
