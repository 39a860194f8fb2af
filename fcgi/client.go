package fcgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Default timeouts of the client side. Each applies to progress, not to the
// whole request: a 1 GB upload or a long report is fine as long as bytes
// keep moving (docs/behaviour.md#b-fpm-connections: idle or read-progress deadlines, not
// one absolute deadline).
const (
	// DefaultDialTimeout bounds connecting to php-fpm. A local socket
	// either accepts at once or the pool's listen backlog is full; waiting
	// longer than this only stacks requests up in front of a stuck backend.
	DefaultDialTimeout = 3 * time.Second

	// DefaultReadTimeout bounds the wait for the next response record.
	// It sits above php.ini's max_execution_time (30 s in Debian's
	// php.ini-production) and Apache's default Timeout/ProxyTimeout (60 s),
	// so a slow script is cut off by PHP or Apache first and a hung worker
	// is still detected.
	DefaultReadTimeout = 90 * time.Second

	// DefaultWriteTimeout bounds each write of a request record. PHP may
	// compute for a while before it reads php://input, and a full socket
	// buffer blocks the write meanwhile; the same 90 s as reads.
	DefaultWriteTimeout = 90 * time.Second

	// DefaultIdleTimeout closes a kept-alive connection that has been idle
	// this long. An idle kept connection pins one php-fpm worker (php-fpm
	// blocks reading that socket and never times it out, docs/behaviour.md#b-fpm-connections),
	// so idle connections are released quickly when traffic stops.
	DefaultIdleTimeout = 5 * time.Second
)

// DefaultMaxStderr is how many bytes of STDERR a request keeps when
// Client.MaxStderr is zero. php-fpm sends PHP notices and warnings as
// STDERR (fastcgi.logging=1); a runaway loop of warnings must not grow
// memory without bound.
const DefaultMaxStderr = 64 << 10

// spoolMemLimit is how much of a body of unknown length is held in memory
// before spooling continues in a temporary file.
const spoolMemLimit = 1 << 20

// requestID is the id of every client request: php-fpm does not multiplex
// and mod_proxy_fcgi always uses 1 as well (docs/behaviour.md#b-apache-params, #b-fpm-connections).
const requestID = 1

// Request is one FastCGI request sent by a Client.
type Request struct {
	// Params is sent in order, each pair whole inside one PARAMS record.
	// Client.Do sets CONTENT_LENGTH to the number of body bytes it sends:
	// an existing CONTENT_LENGTH pair gets the value in place, otherwise the
	// pair is appended — except for an empty body, which is sent without
	// one, as Apache sends a GET.
	Params Params

	// Body is the request body, sent as STDIN. Nil means no body.
	Body io.Reader

	// ContentLength is the number of bytes Body holds; 0 sends an empty
	// body without reading Body. -1 means unknown:
	// the body is then spooled (in memory up to 1 MiB, then in a temporary
	// file) to learn its length, because php-fpm needs CONTENT_LENGTH.
	ContentLength int64

	// ConnParams, when set, is called once the request has its php-fpm
	// connection and before anything is written to it; the params it
	// returns are sent after Params. state is the caller's value for that
	// connection: nil on a new connection, kept for the later requests on
	// it, dropped when it closes. php-fpm serves a kept-alive connection
	// with one worker for the connection's whole life (the worker reads
	// the next request from it), so the state can describe that worker. A
	// request retried on a fresh connection calls ConnParams again; a
	// request that fails closes its connection, so a state updated for it
	// is dropped with it.
	ConnParams func(state *any) Params

	// Stop, when set, closes the php-fpm connection under the round trip
	// when the request ends, in place of context.AfterFunc on Do's
	// context; it must stop no later than that context ends. A Server's
	// handler passes r.Stopper() with r.Context().
	Stop Stopper
}

// Result describes how a request ended.
type Result struct {
	// AppStatus and ProtocolStatus are the fields of END_REQUEST.
	AppStatus      uint32
	ProtocolStatus ProtocolStatus

	// Stdout is the number of STDOUT bytes written to the caller's writer.
	Stdout int64

	// Stderr holds the start of the STDERR stream, at most
	// Client.MaxStderr bytes; StderrDropped counts the bytes beyond.
	Stderr        []byte
	StderrDropped int64

	// Reused reports whether the request went over a kept-alive connection
	// that had served an earlier request.
	Reused bool
}

// Client sends requests to one php-fpm pool (one listen address). It is
// safe for concurrent use; each connection carries one request at a time.
// The zero value is not usable: Network and Addr are required.
type Client struct {
	// Network is "unix" or "tcp"; Addr is the socket path or host:port.
	Network string
	Addr    string

	// KeepAlive sets FCGI_KEEP_CONN and keeps connections open between
	// requests. Each open connection pins one php-fpm worker, so
	// MaxConns is required with KeepAlive.
	KeepAlive bool

	// MaxConns bounds the connections open at once (busy and idle); a
	// request waits for a free one until its context ends or QueueTimeout
	// passes. It must not exceed the pool's pm.max_children. Zero means
	// no bound, which is only allowed without KeepAlive.
	MaxConns int

	// QueueTimeout bounds how long a request waits for a connection while
	// MaxConns are busy; past it Do fails with ErrPoolBusy. php-fpm would
	// hold such a request in its listen backlog; a pool that frees no
	// worker for this long is not keeping up. Zero means the wait ends
	// only with the request's context.
	QueueTimeout time.Duration

	// Reserve is how many of MaxConns are not held idle for longer than
	// a grace of 5 ms: a finished request's connection is kept for the
	// next one while at most MaxConns−Reserve connections (busy and
	// idle, counting it) are open, or while a request waits for it;
	// otherwise it stays idle for the grace, for a request that comes
	// meanwhile (a busy client's next one, within microseconds, which
	// then dials nothing), and is closed after it. Every kept connection
	// pins a php-fpm worker, so php-fpm's own clients (its status page,
	// health checks, another web server) are served only by workers left
	// unpinned; with a reserve they find one within the grace after the
	// client's load falls below MaxConns−Reserve, instead of waiting for
	// IdleTimeout. A Reserve of MaxConns or more keeps nothing beyond
	// the grace.
	Reserve int

	// Timeouts; zero means the Default* constant of the same name.
	// ReadTimeout bounds each wait for php-fpm's next record and
	// WriteTimeout each write of the request, exactly.
	DialTimeout  time.Duration
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	IdleTimeout  time.Duration

	// MaxStderr caps Result.Stderr; zero means DefaultMaxStderr.
	MaxStderr int

	// SpoolDir is where bodies of unknown length are spooled; empty means
	// os.TempDir().
	SpoolDir string

	// MaxBody bounds a request body, as Apache's LimitRequestBody does:
	// a ContentLength above it, or a body of unknown length that grows
	// past it while it is spooled, fails with ErrBodyTooLarge before
	// anything is sent to php-fpm (and the spool file is removed). Zero
	// means no bound.
	MaxBody int64

	pool connPool
}

// ClientStats counts connection events since the Client was created.
type ClientStats struct {
	Dials    int64 // connections opened
	Reuses   int64 // requests sent over a kept-alive connection
	Requests int64 // requests that got a connection
	Open     int   // connections open now (busy and idle)
	Idle     int   // idle kept-alive connections now
}

// Stats returns a snapshot of the client's counters.
func (c *Client) Stats() ClientStats {
	c.pool.mu.Lock()
	defer c.pool.mu.Unlock()
	s := c.pool.stats
	s.Open, s.Idle = c.pool.open, len(c.pool.idle)
	return s
}

func (c *Client) timeout(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// Do sends req and copies the STDOUT stream to stdout (nil discards it) as
// records arrive.
// It returns when END_REQUEST has been read. The body is written while the
// response is read, so a large upload and a large response flow at once.
//
// When ctx ends, or a write to stdout fails (the web client went away), Do
// closes the backend connection: php-fpm ignores ABORT_REQUEST (docs/behaviour.md#b-fpm-connections), and closing is the only way to stop the script from writing.
//
// The Result is non-nil whenever END_REQUEST was read; a protocol status
// other than REQUEST_COMPLETE also returns ErrOverloaded, ErrUnknownRole or
// ErrCantMultiplex.
func (c *Client) Do(ctx context.Context, req *Request, stdout io.Writer) (*Result, error) {
	if stdout == nil {
		stdout = io.Discard
	}
	if c.KeepAlive && c.MaxConns <= 0 {
		return nil, fmt.Errorf("client for %s %s: KeepAlive needs MaxConns (at most pm.max_children): %w", c.Network, c.Addr, ErrInvalidConfig)
	}
	if c.MaxConns < 0 {
		return nil, fmt.Errorf("client for %s %s: MaxConns %d: %w", c.Network, c.Addr, c.MaxConns, ErrInvalidConfig)
	}
	if err := checkPairs(req.Params); err != nil {
		return nil, err
	}
	body, n := req.Body, req.ContentLength
	if body == nil {
		n = 0
	}
	if c.MaxBody > 0 && n > c.MaxBody {
		return nil, fmt.Errorf("request body of %d bytes, limit %d: %w", n, c.MaxBody, ErrBodyTooLarge)
	}
	if n < 0 {
		sp, err := spool(body, c.SpoolDir, c.MaxBody)
		if err != nil {
			return nil, err
		}
		defer sp.Close()
		body, n = sp, sp.size
	}
	cb := countingReader{r: body}
	forceDial := false
	for {
		// A kept connection is probed before it carries the request.
		// php-fpm ends one (pm.max_requests) by shutting down its side
		// and draining whatever still arrives (main/fastcgi.c
		// fcgi_close): a write to it succeeds, and the FIN, there when
		// the probe looks, tells that the request would never be read.
		cc, reused, err := c.get(ctx, forceDial)
		if err != nil {
			return nil, err
		}
		ps, err := connParams(req, cc)
		if err != nil {
			c.put(cc, false) // its state may count params never sent
			return nil, err
		}
		res, keep, err := c.roundTrip(ctx, req.Stop, cc, ps, &cb, n, stdout)
		if res != nil {
			res.Reused = reused
		}
		// Sent again, once, on a fresh connection only when php-fpm
		// certainly never read the request (errNotDelivered): its very
		// first write on a kept connection was refused, or php-fpm was
		// draining the connection to close it. Any other failure may have
		// started the script — a worker stopped mid-script by a graceful
		// reload (kill -USR2) closes the connection with nothing sent too
		// — so it is the caller's error, whatever the method: a second
		// run would repeat the script's side effects.
		if err != nil && reused && !forceDial && errors.Is(err, errNotDelivered) && ctx.Err() == nil {
			c.put(cc, false)
			forceDial = true
			continue
		}
		c.put(cc, keep && err == nil)
		return res, err
	}
}

// connParams returns req's params for a request on cc: Params, then what
// ConnParams adds for cc.
func connParams(req *Request, cc *clientConn) (Params, error) {
	if req.ConnParams == nil {
		return req.Params, nil
	}
	extra := req.ConnParams(&cc.state)
	if len(extra) == 0 {
		return req.Params, nil
	}
	if err := checkPairs(extra); err != nil {
		return nil, err
	}
	return append(req.Params[:len(req.Params):len(req.Params)], extra...), nil
}

// Flusher is a stdout for Do that holds writes (a buffered
// ResponseWriter): Do calls Flush whenever it is about to wait for
// php-fpm, so that output is never held while nothing else arrives.
type Flusher interface {
	Flush() error
}

// errNotDelivered marks a request php-fpm certainly never read as one: its
// first write on a kept connection failed with a reset or broken pipe
// before a byte left (the peer had closed the connection), or the answer
// was EOF from a peer that is draining the connection (peerDraining). The
// request, whatever its method, may be sent again.
var errNotDelivered = errors.New("connection closed by php-fpm before the request was sent")

// Close closes idle connections and makes later Do calls fail with
// ErrClientClosed. Requests in flight finish; their connections are closed
// when they return.
func (c *Client) Close() error {
	c.pool.close()
	return nil
}

// GetValues sends a GET_VALUES management record (§4.1) asking for names
// over a fresh connection and returns the GET_VALUES_RESULT pairs. php-fpm
// 8.2 answers only FCGI_MPXS_CONNS=0 (docs/behaviour.md#b-fpm-connections).
func GetValues(ctx context.Context, network, addr string, names ...string) (Params, error) {
	d := net.Dialer{Timeout: DefaultDialTimeout}
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("dialing %s %s: %w: %w", network, addr, ErrBackendUnavailable, err)
	}
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	var q []byte
	for _, n := range names {
		q = appendPair(q, n, "")
	}
	if len(q) > maxContent {
		return nil, fmt.Errorf("GET_VALUES query of %d bytes: %w", len(q), ErrParamTooLarge)
	}
	nc.SetDeadline(time.Now().Add(DefaultReadTimeout))
	if _, err := nc.Write(appendRecord(nil, typeGetValues, 0, q)); err != nil {
		return nil, fmt.Errorf("writing GET_VALUES to %s: %w", addr, err)
	}
	rr := newRecordReader(nc)
	h, content, err := rr.next()
	if err != nil {
		return nil, fmt.Errorf("reading GET_VALUES_RESULT from %s: %w", addr, err)
	}
	if h.Type != typeGetValuesResult || h.ID != 0 {
		return nil, fmt.Errorf("%s: %s record for request %d in answer to GET_VALUES: %w", addr, h.Type, h.ID, ErrUnexpectedRecord)
	}
	ps, err := decodeParams(nil, string(content))
	if err != nil {
		return nil, fmt.Errorf("GET_VALUES_RESULT from %s: %w", addr, err)
	}
	return ps, nil
}
