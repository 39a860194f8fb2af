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
	"syscall"
	"time"
)

// DefaultMaxConns is the connection limit of a Server whose MaxConns is
// zero. It is reported as FCGI_MAX_CONNS and FCGI_MAX_REQS.
const DefaultMaxConns = 256

// DefaultMaxParamsBytes bounds one request's params stream when
// Server.MaxParamsBytes is zero. mod_proxy_fcgi never encodes an env var
// that does not fit in 16 KiB and typically sends 1 KiB of params
// (docs/behaviour.md#b-apache-params, #b-fpm-params); 1 MiB leaves room for
// huge cookies and stops a
// broken peer from growing memory.
const DefaultMaxParamsBytes = 1 << 20

// DefaultMaxParamsTotal bounds the params all connections of a Server hold
// at once when Server.MaxParamsTotal is zero: 64 times the largest params
// stream one request may have, and thousands of times what Apache sends
// (about 1 KiB). Without it, every connection could hold
// DefaultMaxParamsBytes of a params stream it never ends.
const DefaultMaxParamsTotal = 64 << 20

// maxKeptParamsBuf is the largest params buffer a connection keeps for its
// next request; a larger one, grown by a huge params stream, is dropped
// with its request so that idle connections hold little.
const maxKeptParamsBuf = 64 << 10

// DefaultHeadTimeout bounds, when Server.HeadTimeout is zero, how long a
// connection may take from its accept (or, on a kept connection, from
// BEGIN_REQUEST) until its request's handler starts, which is at the first
// STDIN record. mod_proxy_fcgi sends BEGIN_REQUEST and the params at once
// and the first STDIN record once the client's body begins; it waits for
// that body at most its own Timeout (60 s by default), so a connection
// still without STDIN after that long is not Apache's.
const DefaultHeadTimeout = 60 * time.Second

// headTicks is how many ticks of the server's coarse clock make a
// HeadTimeout: connections are checked that often, and the clock is read
// per request without a system call.
const headTicks = 10

// acceptBackoff bounds the pause after accept fails for lack of file
// descriptors (EMFILE, ENFILE), doubling from 5 ms as net/http does.
const acceptBackoff = time.Second

// lingerTimeout bounds how long a finished request's connection without
// FCGI_KEEP_CONN stays half-open for the web server's end of the request.
// mod_proxy_fcgi writes the empty STDIN record after the params and may
// still be writing it when a fast handler has already answered; closing
// outright makes that write fail with EPIPE and Apache answers 503
// (AH01075, observed with Apache 2.4.71). php-fpm shuts down its write
// side and reads until EOF instead (main/fastcgi.c fcgi_close); we do the
// same, for at most this long, since Apache closes at once after
// END_REQUEST.
const lingerTimeout = 5 * time.Second

// shutdownPollInterval is how often Shutdown checks whether connections
// have become idle; the same 10 ms net/http uses as its first interval.
const shutdownPollInterval = 10 * time.Millisecond

// Handler serves one FastCGI request on the server side.
//
// ServeFCGI reads the body from r.Stdin as it arrives and writes the
// response to w as it is produced. It is called once the params have ended
// and the STDIN stream has begun (the web server sends its first STDIN
// record right after the params; an empty body is then known at once), on
// a goroutine that goes on to serve later requests. When it returns, the
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

// Server serves FastCGI to a web server (Apache mod_proxy_fcgi) over the
// listeners given to Serve, one goroutine per connection.
type Server struct {
	// Handler serves each request. Required.
	Handler Handler

	// MaxConns bounds the connections served at once. A connection that
	// arrives when MaxConns are open takes the place of one that is
	// waiting: the one that has waited longest for its request to begin
	// among those that never ran a request, else the one idle longest
	// between requests (the web server notices a kept connection closed
	// while idle and opens another). Only when every connection runs a
	// request does the new one wait. It is reported as FCGI_MAX_CONNS and
	// FCGI_MAX_REQS (one request per connection). Zero means
	// DefaultMaxConns.
	MaxConns int

	// HeadTimeout bounds the time from a connection's accept, or from
	// BEGIN_REQUEST on a kept connection, until the request's handler
	// starts; a connection past it is closed. A kept connection idle
	// between requests has no bound. Zero means DefaultHeadTimeout.
	HeadTimeout time.Duration

	// MaxParamsBytes bounds one request's params stream; zero means
	// DefaultMaxParamsBytes.
	MaxParamsBytes int

	// MaxParamsTotal bounds the params bytes held by all connections at
	// once, each request's from its first PARAMS record until it ends. A
	// request whose params would pass it is refused as the FastCGI
	// specification provides (§5.5), with END_REQUEST FCGI_OVERLOADED —
	// after a CGI "Status: 503" response, since mod_proxy_fcgi ignores the
	// protocol status — and its connection is closed. Zero means
	// DefaultMaxParamsTotal.
	MaxParamsTotal int64

	// ConnError, when set, is called with the error that ended a
	// connection: malformed input (ErrBadVersion, ErrRequestIDInUse, ...)
	// or an I/O failure. A clean close by the peer is not reported. The
	// package never logs; the caller decides.
	ConnError func(err error)

	// PHPFPMEnding ends each request as php-fpm does: END_REQUEST right
	// after the last output, without the empty STDOUT and STDERR records
	// that close the streams (FastCGI spec §5.3). The web servers that
	// front php-fpm accept it, and Apache's mod_proxy_fcgi then spends a
	// poll and a read less per request. Off by default: the spec asks for
	// the closing records.
	PHPFPMEnding bool

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*serverConn]struct{}
	sem       chan struct{}
	jobs      chan handlerJob // to idle handler goroutines
	closing   atomic.Bool
	params    atomic.Int64 // params bytes held by requests (MaxParamsTotal)
	clock     atomic.Int64 // coarse clock: ticks of HeadTimeout/headTicks, from 1
	idleSeq   atomic.Int64 // orders connections by when they became idle
	reaper    sync.Once
	stats     serverCounters
	done      chan struct{} // closed by Close and Shutdown
	doneOnce  sync.Once
	wg        sync.WaitGroup
}

// doneChan returns the channel closed when the server starts closing.
func (s *Server) doneChan() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		s.done = make(chan struct{})
	}
	return s.done
}

// markClosing flags the server as closing and wakes a Serve waiting for a
// connection slot.
func (s *Server) markClosing() {
	s.closing.Store(true)
	done := s.doneChan()
	s.doneOnce.Do(func() { close(done) })
}

func (s *Server) maxConns() int {
	if s.MaxConns > 0 {
		return s.MaxConns
	}
	return DefaultMaxConns
}

// Serve accepts connections on l until l fails or the server is closed,
// when it returns ErrServerClosed. l is closed on return.
func (s *Server) Serve(l net.Listener) error {
	if s.Handler == nil {
		return fmt.Errorf("server without a Handler: %w", ErrInvalidConfig)
	}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
		s.conns = map[*serverConn]struct{}{}
	}
	if s.sem == nil {
		s.sem = make(chan struct{}, s.maxConns())
		s.jobs = make(chan handlerJob)
	}
	s.listeners[l] = struct{}{}
	sem := s.sem
	s.mu.Unlock()
	done := s.doneChan()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		l.Close()
	}()
	s.clock.CompareAndSwap(0, 1) // 0 means "not waiting" in headSince
	s.reaper.Do(func() { go s.reap(done) })
	backoff := time.Duration(0)
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Out of file descriptors: make room as at MaxConns and
				// retry after a pause, rather than stop serving.
				s.evictOne()
				backoff = min(max(2*backoff, 5*time.Millisecond), acceptBackoff)
				select {
				case <-time.After(backoff):
				case <-done:
					return ErrServerClosed
				}
				continue
			}
			return fmt.Errorf("accepting FastCGI connections on %s: %w", l.Addr(), err)
		}
		backoff = 0
		if !s.takeConnSlot(sem, done) {
			nc.Close()
			return ErrServerClosed
		}
		nc = fastConn(nc)
		c := &serverConn{srv: s, nc: nc, rr: newSmallRecordReader(nc)}
		c.headSince.Store(s.clock.Load())
		s.mu.Lock()
		if s.closing.Load() {
			s.mu.Unlock()
			nc.Close()
			<-sem
			return ErrServerClosed
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				<-sem
				s.wg.Done()
			}()
			c.serve()
		}()
	}
}

// Close closes the listeners and every connection at once; handlers see
// their contexts canceled with ErrConnClosed.
func (s *Server) Close() error {
	s.markClosing()
	s.mu.Lock()
	for l := range s.listeners {
		l.Close()
	}
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	return nil
}

// Shutdown stops accepting, closes idle connections, and waits for active
// requests to finish (their connections are then closed) or for ctx to
// end, whichever comes first; on ctx's end it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.markClosing()
	s.mu.Lock()
	for l := range s.listeners {
		l.Close()
	}
	s.mu.Unlock()
	t := time.NewTicker(shutdownPollInterval)
	defer t.Stop()
	for {
		s.mu.Lock()
		n := len(s.conns)
		for c := range s.conns {
			c.closeIfIdle()
		}
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			s.Close()
			return fmt.Errorf("shutting down the FastCGI server with %d connections open: %w", n, context.Cause(ctx))
		case <-t.C:
		}
	}
}

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
	ctx      reqCtx

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
		r.ctx.end(ErrConnClosed)
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

func (c *serverConn) readLoop() error {
	maxParams := c.srv.MaxParamsBytes
	if maxParams <= 0 {
		maxParams = DefaultMaxParamsBytes
	}
	var paramsBuf []byte // reused between requests on a kept connection
	for {
		h, content, err := c.rr.next()
		if err != nil {
			return err
		}
		if h.Type < 1 || h.Type > maxKnownType {
			if h.ID == 0 {
				// §4.2: answer an unknown management record with
				// UNKNOWN_TYPE and carry on.
				body := [8]byte{byte(h.Type)}
				if err := c.write(appendRecord(nil, typeUnknownType, 0, body[:])); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("%s for request %d: %w", h.Type, h.ID, ErrUnknownType)
		}
		if h.Type == typeGetValues {
			if h.ID != 0 {
				return fmt.Errorf("GET_VALUES with request id %d, want 0: %w", h.ID, ErrMalformedRecord)
			}
			if err := c.getValues(string(content)); err != nil {
				return err
			}
			continue
		}
		if h.ID == 0 {
			return fmt.Errorf("%s record with request id 0 (reserved for management records): %w", h.Type, ErrMalformedRecord)
		}
		c.mu.Lock()
		r := c.active
		c.mu.Unlock()
		switch h.Type {
		case typeBeginRequest:
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
				if err := c.write(appendEndRequest(nil, h.ID, 0, StatusCantMultiplex)); err != nil {
					return err
				}
				continue
			}
			if role != RoleResponder {
				if err := c.write(appendEndRequest(nil, h.ID, 0, StatusUnknownRole)); err != nil {
					return err
				}
				if !keep {
					return io.EOF
				}
				c.markIdle()
				continue
			}
			if c.headSince.Load() == 0 {
				c.headSince.Store(c.srv.clock.Load())
			}
			c.idleSince.Store(0)
			nr := &serverReq{id: h.ID, keep: keep, role: role, params: paramsBuf[:0]}
			nr.ctx.init()
			c.mu.Lock()
			c.active = nr
			c.mu.Unlock()
		case typeParams:
			if r == nil || r.id != h.ID {
				continue // §3.3: records of inactive requests are ignored
			}
			if r.inStdin {
				return fmt.Errorf("PARAMS for request %d after its params stream ended: %w", h.ID, ErrUnexpectedRecord)
			}
			if len(content) > 0 {
				if len(r.params)+len(content) > maxParams {
					return fmt.Errorf("request %d: params stream over %d bytes: %w", h.ID, maxParams, ErrParamsTooLarge)
				}
				if !c.srv.reserveParams(r, len(content)) {
					return c.refuseOverloaded(r)
				}
				r.params = append(r.params, content...)
				continue
			}
			ps, err := decodeParams(nil, string(r.params))
			if err != nil {
				return fmt.Errorf("params of request %d: %w", h.ID, err)
			}
			paramsBuf = nil
			if cap(r.params) <= maxKeptParamsBuf {
				paramsBuf = r.params[:0]
			}
			r.inStdin = true
			r.ps = ps
		case typeStdin:
			if r == nil || r.id != h.ID || r.stdinEOF {
				continue // the tail of a request the handler already finished
			}
			if !r.inStdin {
				return fmt.Errorf("STDIN for request %d before its params stream ended: %w", h.ID, ErrUnexpectedRecord)
			}
			// The handler starts with the first STDIN record, which the
			// web server sends right after the params: an empty body is
			// then known at once and needs no pipe.
			if len(content) == 0 {
				r.stdinEOF = true
				if !r.started {
					r.bodyless = true
					c.start(r, emptyBody{})
				} else {
					r.pw.Close()
				}
				continue
			}
			if !r.started {
				r.pr, r.pw = io.Pipe()
				c.start(r, r.pr)
			}
			// Blocks until the handler has read it all: the body streams
			// with the handler's pace. An error means the handler has
			// stopped reading; the rest is discarded.
			r.pw.Write(content)
			// A body is coming: read it in whole records.
			c.rr.grow()
		case typeAbortRequest:
			if r == nil || r.id != h.ID {
				continue
			}
			r.ctx.end(ErrAborted)
			if r.started {
				if r.pw != nil {
					r.pw.CloseWithError(fmt.Errorf("request body: %w", ErrAborted))
				}
			} else {
				// Aborted before the body began: no handler runs.
				c.srv.releaseParams(r)
				c.mu.Lock()
				c.active = nil
				c.mu.Unlock()
				if err := c.write(appendEndRequest(nil, h.ID, 0, StatusRequestComplete)); err != nil {
					return err
				}
				if !r.keep {
					return io.EOF
				}
				c.markIdle()
			}
		default:
			// DATA (we serve responders only) and the types that only
			// flow from application to web server.
			return fmt.Errorf("%s record for request %d sent to the application: %w", h.Type, h.ID, ErrUnexpectedRecord)
		}
	}
}

// reserveParams takes n bytes of the server's params budget for r; false
// means the budget is spent.
func (s *Server) reserveParams(r *serverReq, n int) bool {
	if s.params.Add(int64(n)) > s.paramsBudget() {
		s.params.Add(-int64(n))
		return false
	}
	r.held.Add(int64(n))
	return true
}

// releaseParams gives back what r took of the params budget, once.
func (s *Server) releaseParams(r *serverReq) {
	s.params.Add(-r.held.Swap(0))
}

// ParamsHeld reports the params bytes the server's requests hold now,
// counted against MaxParamsTotal.
func (s *Server) ParamsHeld() int64 { return s.params.Load() }

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
	r.ctx.end(ErrConnClosed)
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

func (s *Server) paramsBudget() int64 {
	if s.MaxParamsTotal > 0 {
		return s.MaxParamsTotal
	}
	return DefaultMaxParamsTotal
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

// takeConnSlot takes one of the MaxConns slots for a new connection: at
// once if one is free, else after making one free with evictOne, or when
// a connection ends. False means the server is closing.
func (s *Server) takeConnSlot(sem chan struct{}, done <-chan struct{}) bool {
	select {
	case sem <- struct{}{}:
		return true
	default:
	}
	s.evictOne()
	select {
	case sem <- struct{}{}:
		return true
	case <-done:
		return false
	}
}

// evictOne closes the connection that has waited longest for its request
// among those that never ran one, else the one idle longest after a
// request: room for a new connection at MaxConns, so that connections
// that send nothing (or a byte at a time) cannot keep the web server's
// next request out. Connections running a request are never closed.
func (s *Server) evictOne() {
	for range 3 { // a candidate may start its request meanwhile
		var best *serverConn
		var bestKey [2]int64 // class (0 unproven, 1 proven, 2 idle), since
		s.mu.Lock()
		for c := range s.conns {
			key := [2]int64{0, c.headSince.Load()}
			switch {
			case key[1] != 0 && c.proven.Load():
				key[0] = 1
			case key[1] == 0:
				key = [2]int64{2, c.idleSince.Load()}
				if key[1] == 0 {
					continue // running a request, or lingering
				}
			}
			if best == nil || key[0] < bestKey[0] || key[0] == bestKey[0] && key[1] < bestKey[1] {
				best, bestKey = c, key
			}
		}
		s.mu.Unlock()
		if best == nil {
			return
		}
		if best.closeIfWaiting() {
			s.stats.evicted.Add(1)
			return
		}
	}
}

// reap advances the coarse clock every HeadTimeout/headTicks and closes
// connections whose request has not started within HeadTimeout, until
// done is closed.
func (s *Server) reap(done <-chan struct{}) {
	timeout := s.HeadTimeout
	if timeout <= 0 {
		timeout = DefaultHeadTimeout
	}
	t := time.NewTicker(timeout / headTicks)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-done:
			return
		}
		now := s.clock.Add(1)
		var late []*serverConn
		s.mu.Lock()
		for c := range s.conns {
			if since := c.headSince.Load(); since != 0 && now-since >= headTicks {
				late = append(late, c)
			}
		}
		s.mu.Unlock()
		for _, c := range late {
			if c.closeIfWaiting() {
				s.stats.headTimeouts.Add(1)
			}
		}
	}
}

// serverCounters count the server's own refusals.
type serverCounters struct {
	evicted, headTimeouts, paramsRefused atomic.Int64
}

// ServerStats describes a Server's connections.
type ServerStats struct {
	Conns         int   // open now
	ParamsHeld    int64 // params bytes held by requests (MaxParamsTotal)
	Evicted       int64 // waiting connections closed to make room at MaxConns
	HeadTimeouts  int64 // connections closed for passing HeadTimeout
	ParamsRefused int64 // requests refused FCGI_OVERLOADED for MaxParamsTotal
}

// Stats returns a snapshot of the server's connection counters.
func (s *Server) Stats() ServerStats {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	return ServerStats{
		Conns: n, ParamsHeld: s.params.Load(), Evicted: s.stats.evicted.Load(),
		HeadTimeouts: s.stats.headTimeouts.Load(), ParamsRefused: s.stats.paramsRefused.Load(),
	}
}

// handlerJob is one request for a handler goroutine.
type handlerJob struct {
	c   *serverConn
	r   *serverReq
	req *ServerRequest
	w   *ResponseWriter
}

// emptyBody is the Stdin of a request whose STDIN stream ended before the
// handler started.
type emptyBody struct{}

func (emptyBody) Read([]byte) (int, error) { return 0, io.EOF }

// start hands r to a handler goroutine.
func (c *serverConn) start(r *serverReq, stdin io.Reader) {
	c.headSince.Store(0)
	c.proven.Store(true)
	req := &r.req
	*req = ServerRequest{ID: r.id, Role: r.role, KeepConn: r.keep, Params: r.ps, Stdin: stdin, ctx: &r.ctx}
	r.ps = nil
	w := &r.w
	*w = ResponseWriter{c: c, id: r.id}
	w.stderr.w = w
	c.mu.Lock()
	r.started = true
	w.pending, c.spare = c.spare, nil
	c.mu.Unlock()
	c.handlers.Add(1)
	c.srv.dispatch(handlerJob{c: c, r: r, req: req, w: w})
}

// workerIdle is how long a handler goroutine waits for another request
// before it exits.
const workerIdle = 10 * time.Second

// dispatch runs j on an idle handler goroutine, or on a new one. Handler
// goroutines outlive their requests and connections, and so do their
// grown stacks: with Apache's default of one connection per request,
// starting a goroutine for each was a good part of the cost of a short
// request.
func (s *Server) dispatch(j handlerJob) {
	select {
	case s.jobs <- j:
	default:
		go s.worker(j)
	}
}

// worker runs j, then further jobs until it has been idle for workerIdle
// (up to twice that: the timer is not reset for every job, which would
// cost a runtime timer update per request) or the server closes.
func (s *Server) worker(j handlerJob) {
	done := s.doneChan()
	t := time.NewTimer(workerIdle)
	defer t.Stop()
	for {
		j.c.finish(j)
		j.c.handlers.Done()
		j = handlerJob{}
		if !s.nextJob(&j, t, done) {
			return
		}
	}
}

// nextJob waits for the next job into *j; false means none came within
// a full period of t, or the server closed. A period of t in which the
// worker ran jobs re-arms it.
func (s *Server) nextJob(j *handlerJob, t *time.Timer, done <-chan struct{}) bool {
	busy := true // a job ran since t was armed
	for {
		select {
		case *j = <-s.jobs:
			return true
		case <-t.C:
			if !busy {
				return false
			}
			busy = false
			t.Reset(workerIdle)
		case <-done:
			return false
		}
	}
}

// finish runs a request's handler and ends the request.
func (c *serverConn) finish(j handlerJob) {
	r, w := j.r, j.w
	ok := c.run(w, j.req)
	if r.pr != nil {
		r.pr.CloseWithError(errHandlerDone)
	}
	r.ctx.end(context.Canceled)
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
