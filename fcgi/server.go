package fcgi

import (
	"context"
	"errors"
	"fmt"
	"net"
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
		if !s.track(fastConn(nc), sem) {
			return ErrServerClosed
		}
	}
}

// track serves nc, which holds one of sem's slots, on a goroutine of its
// own until it ends; false means the server is closing (nc is closed).
func (s *Server) track(nc net.Conn, sem chan struct{}) bool {
	c := &serverConn{srv: s, nc: nc, rr: newSmallRecordReader(nc)}
	c.headSince.Store(s.clock.Load())
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		nc.Close()
		<-sem
		return false
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
	return true
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

func (s *Server) maxParamsBytes() int {
	if s.MaxParamsBytes > 0 {
		return s.MaxParamsBytes
	}
	return DefaultMaxParamsBytes
}

func (s *Server) paramsBudget() int64 {
	if s.MaxParamsTotal > 0 {
		return s.MaxParamsTotal
	}
	return DefaultMaxParamsTotal
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
