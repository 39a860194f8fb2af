package fcgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Handler serves one FastCGI request on the server side.
//
// ServeFCGI reads the body from r.Stdin as it arrives and writes the
// response to w as it is produced. It is called once the params have ended
// and the STDIN stream has begun (the web server sends its first STDIN
// record right after the params; an empty body is then known at once), on
// a goroutine of its own. When it returns, the
// server ends the STDOUT (and, if used, STDERR) stream and sends
// END_REQUEST. It should return soon after r.Context() is canceled: by
// ABORT_REQUEST (cause ErrAborted) or because the connection to the web
// server failed (ErrConnClosed).
type Handler interface {
	ServeFCGI(w *ResponseWriter, r *ServerRequest)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(w *ResponseWriter, r *ServerRequest)

// ServeFCGI calls f(w, r).
func (f HandlerFunc) ServeFCGI(w *ResponseWriter, r *ServerRequest) { f(w, r) }

// ServerRequest is a request received from the web server.
type ServerRequest struct {
	// ID is the request id from BEGIN_REQUEST; Apache always uses 1.
	ID uint16
	// Role is the role from BEGIN_REQUEST; the server only runs
	// handlers for RoleResponder.
	Role Role
	// KeepConn reports FCGI_KEEP_CONN: the web server keeps the
	// connection for further requests (Apache with enablereuse=on).
	KeepConn bool
	// Params are the request's params in the order received.
	Params Params
	// Stdin streams the request body as STDIN records arrive; it returns
	// io.EOF at the empty STDIN record that ends the stream.
	Stdin io.Reader

	ctx context.Context
	end *reqEnd
}

// cancel cancels r's context with cause, then stops what was registered
// with its Stopper.
func (r *serverReq) cancel(cause error) {
	r.stopCtx(cause)
	r.end.end()
}

// Stopper returns a Stopper that stops when the request's context is
// canceled: given as Request.Stop to a Client's Do with r.Context(), it
// spares the round trip context.AfterFunc's allocations and its
// registration with the context.
func (r *ServerRequest) Stopper() Stopper {
	if r.end == nil {
		return nil
	}
	return r.end
}

// Context returns the request's context, canceled by ABORT_REQUEST or when
// the connection fails; context.Cause tells which (ErrAborted or
// ErrConnClosed).
func (r *ServerRequest) Context() context.Context { return r.ctx }

// ResponseWriter writes a response's STDOUT and STDERR streams as records
// of at most 65535 bytes. By default every Write is sent at once; after
// Buffer, writes collect until Flush, until maxPending bytes are waiting,
// or until the handler returns, when they leave together with the end of
// the request. It is not safe for concurrent use.
type ResponseWriter struct {
	c         *serverConn
	id        uint16
	appStatus uint32
	stderr    stderrWriter
	buffered  bool
	pending   []byte // records held since Buffer
}

// maxPending bounds the records a buffered ResponseWriter holds before it
// sends them: one full record and its header.
const maxPending = headerLen + maxContent + 8

// Write sends p as STDOUT, or holds it after Buffer. Empty writes send
// nothing (an empty record would end the stream).
func (w *ResponseWriter) Write(p []byte) (int, error) {
	if err := w.writeStream(typeStdout, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Buffer makes later writes wait for Flush or for the end of the request,
// so that a short response and END_REQUEST leave in one write. A handler
// that relays a stream calls Flush whenever it is about to wait.
func (w *ResponseWriter) Buffer() { w.buffered = true }

// Flush sends the records held since Buffer.
func (w *ResponseWriter) Flush() error {
	if len(w.pending) == 0 {
		return nil
	}
	err := w.c.write(w.pending)
	w.pending = w.pending[:0]
	return err
}

func (w *ResponseWriter) writeStream(t recType, p []byte) error {
	if !w.buffered {
		return w.c.writeStream(t, w.id, p)
	}
	for len(p) > 0 {
		n := min(len(p), maxContent)
		if len(w.pending)+headerLen+n+8 > maxPending {
			if err := w.Flush(); err != nil {
				return err
			}
		}
		w.pending = appendRecord(w.pending, t, w.id, p[:n])
		p = p[n:]
	}
	return nil
}

// Stderr returns a writer for the STDERR stream, which Apache logs as
// AH01071 "Got error '...'".
func (w *ResponseWriter) Stderr() io.Writer { return &w.stderr }

// SetAppStatus sets the application status sent in END_REQUEST (the CGI
// exit status; 0 by default).
func (w *ResponseWriter) SetAppStatus(s uint32) { w.appStatus = s }

type stderrWriter struct {
	w    *ResponseWriter
	used bool
}

func (s *stderrWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.used = true
	if err := s.w.writeStream(typeStderr, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// emptyBody is the Stdin of a request whose STDIN stream ended before the
// handler started.
type emptyBody struct{}

func (emptyBody) Read([]byte) (int, error) { return 0, io.EOF }

// start runs r's handler.
func (c *serverConn) start(r *serverReq, stdin io.Reader) {
	c.headSince.Store(0)
	c.proven.Store(true)
	r.req = ServerRequest{ID: r.id, Role: r.role, KeepConn: r.keep, Params: r.ps, Stdin: stdin, ctx: r.ctx, end: &r.end}
	r.ps = nil
	w := &r.w
	*w = ResponseWriter{c: c, id: r.id}
	w.stderr.w = w
	c.mu.Lock()
	r.started = true
	w.pending, c.spare = c.spare, nil
	c.mu.Unlock()
	c.handlers.Add(1)
	c.srv.dispatch(handlerJob{c: c, r: r})
}

// finish runs a request's handler, on a handler goroutine
// (handler_pool.go), and ends the request.
func (c *serverConn) finish(r *serverReq) {
	defer c.handlers.Done()
	w := &r.w
	ok := c.run(w, &r.req)
	if r.pr != nil {
		r.pr.CloseWithError(errHandlerDone)
	}
	r.cancel(context.Canceled)
	c.srv.releaseParams(r)
	if !ok {
		c.fail(fmt.Errorf("handler for request %d panicked; connection closed without END_REQUEST", r.id))
		return
	}
	// End the streams and the request, after whatever the handler left
	// buffered. The request stops being active before END_REQUEST
	// leaves, so the web server's next BEGIN_REQUEST on a kept connection
	// finds it free.
	b := w.pending
	if !c.srv.PHPFPMEnding {
		b = appendHeader(b, typeStdout, r.id, 0)
		if w.stderr.used {
			b = appendHeader(b, typeStderr, r.id, 0)
		}
	}
	b = appendEndRequest(b, r.id, w.appStatus, StatusRequestComplete)
	w.pending = nil
	c.mu.Lock()
	c.active = nil
	closing := c.srv.closing.Load()
	c.mu.Unlock()
	if r.keep {
		// Idle from here: the web server sends its next BEGIN_REQUEST
		// only after it has read this END_REQUEST.
		c.markIdle()
	}
	err := c.write(b)
	if cap(b) <= maxPending {
		c.mu.Lock()
		if c.spare == nil {
			c.spare = b[:0]
		}
		c.mu.Unlock()
	}
	if err != nil {
		c.fail(fmt.Errorf("ending request %d: %w", r.id, err))
		return
	}
	switch {
	case closing:
		c.fail(nil)
	case !r.keep && r.bodyless:
		// The web server has sent all it will: close at once, no
		// linger needed.
		c.fail(nil)
	case !r.keep:
		c.linger()
	}
}

// linger half-closes a connection whose request did not ask for
// FCGI_KEEP_CONN: the web server sees EOF after END_REQUEST, and whatever it
// still sends (the end of STDIN) is read and ignored until it closes.
func (c *serverConn) linger() {
	c.draining.Store(true)
	cw, ok := c.nc.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		c.fail(nil)
		return
	}
	c.nc.SetReadDeadline(time.Now().Add(lingerTimeout))
}

// errHandlerDone ends a request's stdin pipe once its handler returned.
var errHandlerDone = errors.New("fcgi: handler returned")

// run calls the handler and reports whether it returned normally.
func (c *serverConn) run(w *ResponseWriter, r *ServerRequest) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	c.srv.Handler.ServeFCGI(w, r)
	return true
}
