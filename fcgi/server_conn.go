package fcgi

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
)

// serverConn is one connection from the web server.
type serverConn struct {
	srv *Server
	nc  net.Conn
	rr  recordReader

	wmu  sync.Mutex // serializes writes and guards wbuf
	wbuf []byte

	// spare is a record buffer for the next request's ResponseWriter,
	// guarded by mu: consecutive requests on a kept connection may run on
	// different handler goroutines.
	spare []byte

	// headSince is the tick of the server's clock at which the wait for
	// the current request's handler began (accept or BEGIN_REQUEST), 0
	// while none is awaited; idleSince orders the connections idle after
	// a request (idleSeq), 0 while it is not idle. proven: a request ran
	// on it.
	headSince atomic.Int64
	idleSince atomic.Int64
	proven    atomic.Bool

	mu       sync.Mutex // guards active, closed and active.started
	active   *serverReq
	closed   bool        // closed on purpose: read errors are not reported
	draining atomic.Bool // answered without KEEP_CONN: waiting for EOF

	handlers sync.WaitGroup

	// paramsBuf is the params buffer of the last request, reused by the
	// next one on a kept connection; only the read loop uses it.
	paramsBuf []byte
}

// serverReq is the state of the active request.
type serverReq struct {
	id       uint16
	keep     bool
	role     Role
	params   []byte // params stream so far
	inStdin  bool   // params done
	started  bool   // handler running
	bodyless bool   // STDIN had ended when the handler started
	stdinEOF bool
	ps       Params       // decoded params, until the handler starts
	held     atomic.Int64 // bytes of the server's params budget taken
	pw       *io.PipeWriter
	pr       *io.PipeReader
	ctx      context.Context
	stopCtx  context.CancelCauseFunc
	end      reqEnd // ctx's Stopper

	// The handler's view of the request, allocated with it.
	req ServerRequest
	w   ResponseWriter
}

func (c *serverConn) closeIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active == nil {
		c.closed = true
		c.nc.Close()
	}
}

func (c *serverConn) fail(err error) {
	c.mu.Lock()
	quiet := c.closed
	c.closed = true
	c.mu.Unlock()
	c.nc.Close()
	if !quiet && err != nil && c.srv.ConnError != nil {
		c.srv.ConnError(err)
	}
}

// writeStream sends p as records of type t, at once.
func (c *serverConn) writeStream(t recType, id uint16, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var err error
	c.wbuf, err = writeStream(c.nc, c.wbuf, t, id, p)
	return err
}

// write sends pre-encoded records.
func (c *serverConn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.nc.Write(b)
	return err
}

// serve reads records until the connection ends. Records for the active
// request are dispatched; the handler runs in its own goroutine so that
// ABORT_REQUEST and management records are seen while it runs.
func (c *serverConn) serve() {
	err := c.readLoop()
	// Whatever ended the loop, a running handler must stop.
	c.mu.Lock()
	if r := c.active; r != nil {
		c.srv.releaseParams(r)
		r.cancel(ErrConnClosed)
		if r.pw != nil {
			r.pw.CloseWithError(fmt.Errorf("request body: %w", ErrConnClosed))
		}
	}
	c.mu.Unlock()
	if errors.Is(err, io.EOF) || c.draining.Load() {
		err = nil
	}
	c.fail(err)
	c.handlers.Wait()
	c.rr.release() // the read loop and every handler are done with it
}

// readLoop reads records until the connection ends or fails.
func (c *serverConn) readLoop() error {
	for {
		h, content, err := c.rr.next()
		if err != nil {
			return err
		}
		if err := c.onRecord(h, content); err != nil {
			return err
		}
	}
}

// onRecord handles one record; an error ends the connection (io.EOF for
// a clean end).
func (c *serverConn) onRecord(h header, content []byte) error {
	if h.Type < 1 || h.Type > maxKnownType {
		return c.onUnknownType(h)
	}
	if h.Type == typeGetValues {
		if h.ID != 0 {
			return fmt.Errorf("GET_VALUES with request id %d, want 0: %w", h.ID, ErrMalformedRecord)
		}
		return c.getValues(string(content))
	}
	if h.ID == 0 {
		return fmt.Errorf("%s record with request id 0 (reserved for management records): %w", h.Type, ErrMalformedRecord)
	}
	c.mu.Lock()
	r := c.active
	c.mu.Unlock()
	switch h.Type {
	case typeBeginRequest:
		return c.onBeginRequest(r, h, content)
	case typeParams:
		if r == nil || r.id != h.ID {
			return nil // §3.3: records of inactive requests are ignored
		}
		return c.onParams(r, content)
	case typeStdin:
		if r == nil || r.id != h.ID || r.stdinEOF {
			return nil // the tail of a request the handler already finished
		}
		return c.onStdin(r, content)
	case typeAbortRequest:
		if r == nil || r.id != h.ID {
			return nil
		}
		return c.onAbortRequest(r)
	}
	// DATA (we serve responders only) and the types that only flow from
	// application to web server.
	return fmt.Errorf("%s record for request %d sent to the application: %w", h.Type, h.ID, ErrUnexpectedRecord)
}

// onUnknownType answers an unknown management record with UNKNOWN_TYPE
// and carries on (§4.2); an unknown record for a request ends the
// connection.
func (c *serverConn) onUnknownType(h header) error {
	if h.ID != 0 {
		return fmt.Errorf("%s for request %d: %w", h.Type, h.ID, ErrUnknownType)
	}
	body := [8]byte{byte(h.Type)}
	return c.write(appendRecord(nil, typeUnknownType, 0, body[:]))
}

// onBeginRequest starts request h.ID, or refuses it: a second request
// while r is active (§5.5), or a role other than responder.
func (c *serverConn) onBeginRequest(r *serverReq, h header, content []byte) error {
	if len(content) != 8 {
		return fmt.Errorf("BEGIN_REQUEST for request %d with %d content bytes, want 8: %w", h.ID, len(content), ErrMalformedRecord)
	}
	if c.draining.Load() {
		return fmt.Errorf("BEGIN_REQUEST for request %d on a connection ended without FCGI_KEEP_CONN: %w", h.ID, ErrUnexpectedRecord)
	}
	role := Role(binary.BigEndian.Uint16(content[:2]))
	keep := content[2]&flagKeepConn != 0
	if r != nil {
		if r.id == h.ID {
			return fmt.Errorf("BEGIN_REQUEST for request %d while it is active: %w", h.ID, ErrRequestIDInUse)
		}
		// §5.5: a second request on a connection that does not
		// multiplex is refused, the first goes on.
		return c.write(appendEndRequest(nil, h.ID, 0, StatusCantMultiplex))
	}
	if role != RoleResponder {
		if err := c.write(appendEndRequest(nil, h.ID, 0, StatusUnknownRole)); err != nil {
			return err
		}
		if !keep {
			return io.EOF
		}
		c.markIdle()
		return nil
	}
	if c.headSince.Load() == 0 {
		c.headSince.Store(c.srv.clock.Load())
	}
	c.idleSince.Store(0)
	nr := &serverReq{id: h.ID, keep: keep, role: role, params: c.paramsBuf[:0]}
	nr.ctx, nr.stopCtx = context.WithCancelCause(context.Background())
	c.mu.Lock()
	c.active = nr
	c.mu.Unlock()
	return nil
}

// onParams collects r's params stream, and decodes it at its end.
func (c *serverConn) onParams(r *serverReq, content []byte) error {
	if r.inStdin {
		return fmt.Errorf("PARAMS for request %d after its params stream ended: %w", r.id, ErrUnexpectedRecord)
	}
	if len(content) > 0 {
		if maxParams := c.srv.maxParamsBytes(); len(r.params)+len(content) > maxParams {
			return fmt.Errorf("request %d: params stream over %d bytes: %w", r.id, maxParams, ErrParamsTooLarge)
		}
		if !c.srv.reserveParams(r, len(content)) {
			return c.refuseOverloaded(r)
		}
		r.params = append(r.params, content...)
		return nil
	}
	ps, err := decodeParams(nil, string(r.params))
	if err != nil {
		return fmt.Errorf("params of request %d: %w", r.id, err)
	}
	c.paramsBuf = nil
	if cap(r.params) <= maxKeptParamsBuf {
		c.paramsBuf = r.params[:0] // for the next request on a kept connection
	}
	r.inStdin = true
	r.ps = ps
	return nil
}

// onStdin passes a STDIN record on to r's handler, starting the handler
// with the first one, which the web server sends right after the params:
// an empty body is then known at once and needs no pipe.
func (c *serverConn) onStdin(r *serverReq, content []byte) error {
	if !r.inStdin {
		return fmt.Errorf("STDIN for request %d before its params stream ended: %w", r.id, ErrUnexpectedRecord)
	}
	if len(content) == 0 {
		r.stdinEOF = true
		if !r.started {
			r.bodyless = true
			c.start(r, emptyBody{})
		} else {
			r.pw.Close()
		}
		return nil
	}
	if !r.started {
		r.pr, r.pw = io.Pipe()
		c.start(r, r.pr)
	}
	// Blocks until the handler has read it all: the body streams with the
	// handler's pace. An error means the handler has stopped reading; the
	// rest is discarded.
	r.pw.Write(content)
	// A body is coming: read it in whole records.
	c.rr.grow()
	return nil
}

// onAbortRequest cancels r's context; a request whose handler has not
// started is ended at once.
func (c *serverConn) onAbortRequest(r *serverReq) error {
	r.cancel(ErrAborted)
	if r.started {
		if r.pw != nil {
			r.pw.CloseWithError(fmt.Errorf("request body: %w", ErrAborted))
		}
		return nil
	}
	// Aborted before the body began: no handler runs.
	c.srv.releaseParams(r)
	c.mu.Lock()
	c.active = nil
	c.mu.Unlock()
	if err := c.write(appendEndRequest(nil, r.id, 0, StatusRequestComplete)); err != nil {
		return err
	}
	if !r.keep {
		return io.EOF
	}
	c.markIdle()
	return nil
}

// markIdle records that a kept connection waits for its next request,
// with no request head awaited.
func (c *serverConn) markIdle() {
	c.headSince.Store(0)
	c.idleSince.Store(c.srv.idleSeq.Add(1))
}

// closeIfWaiting closes the connection unless a request runs on it or it
// is lingering after one; it reports whether it closed it.
func (c *serverConn) closeIfWaiting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.active != nil && c.active.started || c.draining.Load() {
		return false
	}
	c.closed = true
	c.nc.Close()
	return true
}

// overloadedResponse is the CGI response sent before END_REQUEST
// FCGI_OVERLOADED: mod_proxy_fcgi ignores the protocol status and would
// answer an empty 200 (TestApacheParamsOverloaded).
const overloadedResponse = "Status: 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nFastCGI server overloaded\n"

// refuseOverloaded answers r with a 503 response and END_REQUEST
// FCGI_OVERLOADED (§5.5) and returns the error that closes the connection:
// r's params could not get room in the server's budget.
func (c *serverConn) refuseOverloaded(r *serverReq) error {
	c.srv.stats.paramsRefused.Add(1)
	c.srv.releaseParams(r)
	r.cancel(ErrConnClosed)
	c.mu.Lock()
	c.active = nil
	c.mu.Unlock()
	b := appendRecord(nil, typeStdout, r.id, []byte(overloadedResponse))
	b = appendHeader(b, typeStdout, r.id, 0)
	if err := c.write(appendEndRequest(b, r.id, 0, StatusOverloaded)); err != nil {
		return err
	}
	return fmt.Errorf("request %d: params of all requests over %d bytes: %w", r.id, c.srv.paramsBudget(), ErrParamsTooLarge)
}

// getValues answers a GET_VALUES query (§4.1) with the variables it knows;
// unknown names are left out, as the specification requires.
func (c *serverConn) getValues(query string) error {
	names, err := decodeParams(nil, query)
	if err != nil {
		return fmt.Errorf("GET_VALUES: %w", err)
	}
	var body []byte
	maxConns := strconv.Itoa(c.srv.maxConns())
	for _, p := range names {
		switch p.Name {
		case ValueMaxConns, ValueMaxReqs:
			body = appendPair(body, p.Name, maxConns)
		case ValueMpxsConns:
			body = appendPair(body, p.Name, "0")
		}
	}
	if len(body) > maxContent {
		return fmt.Errorf("GET_VALUES answer of %d bytes: %w", len(body), ErrParamTooLarge)
	}
	return c.write(appendRecord(nil, typeGetValuesResult, 0, body))
}
