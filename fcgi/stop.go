package fcgi

import (
	"context"
	"io"
	"sync"
)

// Stopper stops a Client round trip when the request it serves ends, in
// place of context.AfterFunc on Do's context (see Request.Stop). A
// request the Server received has one without allocations:
// ServerRequest.Stopper.
type Stopper interface {
	// CloseOnStop registers c to be closed when the request ends, at
	// once if it has ended.
	CloseOnStop(c io.Closer)
	// Release unregisters it; false means the request ended first and c
	// has been, or is being, closed.
	Release() bool
}

// reqEnd is the Stopper of a request the Server received: it closes the
// registered closer when the request's context is canceled.
type reqEnd struct {
	mu     sync.Mutex
	ended  bool
	closer io.Closer // closed at end unless released
}

// end marks the request ended and closes the registered closer.
func (x *reqEnd) end() {
	x.mu.Lock()
	c := x.closer
	x.ended, x.closer = true, nil
	x.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// CloseOnStop registers c, or closes it at once when the request has ended.
func (x *reqEnd) CloseOnStop(c io.Closer) {
	x.mu.Lock()
	if !x.ended {
		x.closer, c = c, nil
	}
	x.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// Release unregisters the closer; false when the request ended first.
func (x *reqEnd) Release() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.closer = nil
	return !x.ended
}

// stopCloser closes a connection when a round trip must stop: see
// closeOnStop.
type stopCloser struct {
	s    Stopper     // Request.Stop, or
	stop func() bool // context.AfterFunc's
}

// closeOnStop closes c when s stops or, without s, when ctx ends.
func closeOnStop(ctx context.Context, s Stopper, c io.Closer) stopCloser {
	if s != nil {
		s.CloseOnStop(c)
		return stopCloser{s: s}
	}
	return stopCloser{stop: context.AfterFunc(ctx, func() { c.Close() })}
}

// release unregisters the connection; false means it has been closed, or
// is being closed, because the request stopped.
func (d stopCloser) release() bool {
	if d.s != nil {
		return d.s.Release()
	}
	return d.stop()
}
