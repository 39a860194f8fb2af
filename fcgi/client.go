package fcgi

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"sync"
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
	// request waits for a free one until its context ends. It must not
	// exceed the pool's pm.max_children. Zero means no bound, which is only
	// allowed without KeepAlive.
	MaxConns int

	// Reserve is how many of MaxConns are never held idle: a finished
	// request's connection is kept for the next one only while at most
	// MaxConns−Reserve connections (busy and idle, counting it) are open,
	// and closed otherwise. Every kept connection pins a php-fpm worker,
	// so php-fpm's own clients (its status page, health checks, another
	// web server) are served only by workers left unpinned; with a
	// reserve they find one as soon as the client's load falls below
	// MaxConns−Reserve, instead of waiting for IdleTimeout. A Reserve of
	// MaxConns or more keeps nothing.
	Reserve int

	// Timeouts; zero means the Default* constant of the same name. On a
	// kept connection a read or write deadline is moved only when less
	// than 7/8 of its timeout remains, which spares a runtime timer update
	// on nearly every request: a wait may end after 7/8 of ReadTimeout or
	// WriteTimeout.
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

	mu        sync.Mutex
	idle      []*clientConn // most recently used last
	open      int
	waiters   []chan struct{}
	closed    bool
	reapArmed bool
	stats     ClientStats
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
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Open, s.Idle = c.open, len(c.idle)
	return s
}

// clientConn is one connection to php-fpm.
type clientConn struct {
	nc       net.Conn
	probe    *prober
	rr       recordReader
	wbuf     []byte // request head and STDIN records
	lastUsed time.Time
	state    any // Request.ConnParams's

	// The deadlines set on nc, zero for none or unknown.
	rdl, wdl time.Time
}

// setDeadline makes *cur, the read or write deadline set with set, at
// least 7/8 of timeout away from now, moving it to now+timeout only when
// it is closer than that.
func setDeadline(cur *time.Time, set func(time.Time) error, timeout time.Duration) {
	d := time.Now().Add(timeout)
	if !cur.IsZero() && !cur.Before(d.Add(-timeout/8)) {
		return
	}
	if set(d) == nil {
		*cur = d
	} else {
		*cur = time.Time{}
	}
}

// clearDeadlines removes nc's deadlines if one has passed by now, so that
// a probe of an idle connection does not fail on a deadline of its last
// request.
func (cc *clientConn) clearDeadlines(now time.Time) {
	if !cc.rdl.IsZero() && cc.rdl.Before(now) || !cc.wdl.IsZero() && cc.wdl.Before(now) {
		cc.nc.SetDeadline(time.Time{})
		cc.rdl, cc.wdl = time.Time{}, time.Time{}
	}
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
		cc, reused, err := c.get(ctx, forceDial, true)
		if err != nil {
			return nil, err
		}
		ps, err := connParams(req, cc)
		if err != nil {
			c.put(cc, false) // its state may count params never sent
			return nil, err
		}
		res, keep, _, err := c.roundTrip(ctx, cc, ps, &cb, n, stdout)
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

// countingReader counts the bytes read from r.
type countingReader struct {
	r io.Reader
	n int64
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n += int64(n)
	return n, err
}

// setContentLength returns ps with CONTENT_LENGTH set to n: the value of
// an existing pair is replaced in place, otherwise a pair is appended. ps is
// copied only when it has to change.
func setContentLength(ps Params, n int64) Params {
	if n == 0 {
		if _, ok := ps.Lookup("CONTENT_LENGTH"); !ok {
			// No body and no length, as Apache sends a GET: php-fpm
			// reads no body without CONTENT_LENGTH, and PHP sees the
			// same $_SERVER as from Apache directly.
			return ps
		}
	}
	v := strconv.FormatInt(n, 10)
	idx := -1
	for i := range ps {
		if ps[i].Name == "CONTENT_LENGTH" {
			if ps[i].Value == v && idx == -1 {
				idx = -2 // already right so far
				continue
			}
			idx = i
		}
	}
	if idx == -2 {
		return ps
	}
	out := make(Params, len(ps), len(ps)+1)
	copy(out, ps)
	if idx < 0 {
		return append(out, Param{Name: "CONTENT_LENGTH", Value: v})
	}
	for i := range out {
		if out[i].Name == "CONTENT_LENGTH" {
			out[i].Value = v
		}
	}
	return out
}

// roundTrip runs one request on cc. keep reports whether cc can serve
// another request; received whether any response record arrived. res is
// nil unless END_REQUEST was read.
func (c *Client) roundTrip(ctx context.Context, cc *clientConn, ps Params, body *countingReader, n int64, stdout io.Writer) (res *Result, keep, received bool, err error) {
	done := afterDone(ctx, cc.nc)
	defer func() {
		if !done.release() {
			// ctx ended: the connection has been closed under us.
			keep = false
			if err != nil {
				err = fmt.Errorf("php-fpm request to %s: %w", c.Addr, context.Cause(ctx))
			}
		}
	}()
	writeTimeout := c.timeout(c.WriteTimeout, DefaultWriteTimeout)
	readTimeout := c.timeout(c.ReadTimeout, DefaultReadTimeout)

	// Request head: BEGIN_REQUEST, PARAMS, the empty PARAMS record and,
	// for an empty body, the empty STDIN record, in as few writes as
	// possible.
	ps = setContentLength(ps, n)
	wrote := false
	flush := func(b []byte) ([]byte, error) {
		setDeadline(&cc.wdl, cc.nc.SetWriteDeadline, writeTimeout)
		k, err := cc.nc.Write(b)
		wrote = wrote || k > 0
		return b[:0], err
	}
	buf := appendBeginRequest(cc.wbuf[:0], requestID, RoleResponder, c.KeepAlive)
	buf, err = appendParamsRecords(buf, requestID, ps, cap(cc.wbuf), flush)
	if err == nil {
		if n == 0 {
			buf = appendHeader(buf, typeStdin, requestID, 0)
		}
		buf, err = flush(buf)
	}
	cc.wbuf = buf[:0]
	if err != nil {
		if !wrote && isConnReset(err) {
			// Refused before a byte left: php-fpm had closed the
			// connection, so it cannot have run the request.
			err = fmt.Errorf("%w: %w", errNotDelivered, err)
		}
		return nil, false, false, fmt.Errorf("writing request head to php-fpm %s: %w: %w", c.Addr, ErrIncompleteResponse, err)
	}

	var bw *bodyWriter
	if n > 0 {
		// The body writer sets write deadlines of its own.
		cc.wdl = time.Time{}
		bw = &bodyWriter{nc: cc.nc, timeout: writeTimeout, done: make(chan struct{}), ended: make(chan struct{})}
		go func() {
			defer close(bw.done)
			bw.err = c.writeBody(cc, bw, body, n)
			if bw.err != nil {
				// The body cannot be completed (its reader failed, its
				// length was wrong, or the backend stopped reading):
				// closing the connection tells php-fpm and ends the read
				// below.
				cc.nc.Close()
			}
		}()
	}
	// waitBody stops the body writer (unblocking a write the backend will
	// never read) and returns its error: nil only if the whole body and
	// its end record were written.
	waitBody := func() error {
		if bw == nil {
			return nil
		}
		bw.stop()
		<-bw.done
		return bw.err
	}
	defer waitBody()
	// endBody is waitBody at END_REQUEST: a writer that has sent the whole
	// body (or records so within endGrace) is let finish (php-fpm often answers before the record that
	// ends the body, which the web server may even not have sent yet;
	// stopping the writer then would cost the kept connection for
	// nothing). Its wait is bounded as waitBody's: by the body's reader,
	// then by the write timeout.
	endBody := func() error {
		if bw == nil {
			return nil
		}
		if !bw.ending() {
			t := time.NewTimer(endGrace)
			select {
			case <-bw.ended:
			case <-bw.done:
			case <-t.C:
			}
			t.Stop()
			if !bw.ending() {
				return waitBody()
			}
		}
		<-bw.done
		return bw.err
	}
	// bodyFailed stops the writer after a failed read and returns the
	// error of a body that could not be completed on our side (its reader
	// failed or its length was wrong): the real cause when the writer
	// closed the connection.
	bodyFailed := func() error {
		if bw == nil {
			return nil
		}
		waitBody()
		var ce *contentError
		if errors.As(bw.err, &ce) {
			return bw.err
		}
		return nil
	}

	r := &Result{}
	maxStderr := c.MaxStderr
	if maxStderr <= 0 {
		maxStderr = DefaultMaxStderr
	}
	// A buffering stdout is flushed before waiting on php-fpm: output
	// leaves as soon as the next record is not at hand.
	flusher, _ := stdout.(Flusher)
	held := false
	for {
		if held && !cc.rr.hasRecord() {
			if err := flusher.Flush(); err != nil {
				return nil, false, true, fmt.Errorf("relaying php-fpm %s output after %d bytes: %w", c.Addr, r.Stdout, err)
			}
			held = false
		}
		if !cc.rr.hasRecord() {
			setDeadline(&cc.rdl, cc.nc.SetReadDeadline, readTimeout)
		}
		h, content, err := cc.rr.next()
		if err != nil {
			if werr := bodyFailed(); werr != nil {
				return nil, false, received, fmt.Errorf("php-fpm %s: %w", c.Addr, werr)
			}
			if errors.Is(err, io.EOF) && !received && n == 0 && peerDraining(cc.nc) {
				// php-fpm closed the kept connection in its orderly way
				// (pm.max_requests) and discarded the request unread.
				err = fmt.Errorf("%w: %w", errNotDelivered, err)
			}
			if errors.Is(err, io.EOF) || isConnReset(err) {
				err = fmt.Errorf("reading from php-fpm %s after %d stdout bytes: %w: %w", c.Addr, r.Stdout, ErrIncompleteResponse, err)
			} else {
				err = fmt.Errorf("reading from php-fpm %s after %d stdout bytes: %w", c.Addr, r.Stdout, err)
			}
			return nil, false, received, err
		}
		received = true
		if h.ID != requestID {
			return nil, false, true, fmt.Errorf("php-fpm %s: %s record for request %d, sent %d: %w", c.Addr, h.Type, h.ID, requestID, ErrWrongRequestID)
		}
		switch h.Type {
		case typeStdout:
			if len(content) == 0 {
				continue
			}
			if _, err := stdout.Write(content); err != nil {
				return nil, false, true, fmt.Errorf("relaying php-fpm %s output after %d bytes: %w", c.Addr, r.Stdout, err)
			}
			held = flusher != nil
			r.Stdout += int64(len(content))
		case typeStderr:
			room := max(maxStderr-len(r.Stderr), 0)
			take := min(room, len(content))
			r.Stderr = append(r.Stderr, content[:take]...)
			r.StderrDropped += int64(len(content) - take)
		case typeEndRequest:
			if len(content) != 8 {
				return nil, false, true, fmt.Errorf("php-fpm %s: END_REQUEST with %d content bytes, want 8: %w", c.Addr, len(content), ErrMalformedRecord)
			}
			r.AppStatus = binary.BigEndian.Uint32(content[:4])
			r.ProtocolStatus = ProtocolStatus(content[4])
			keep := c.KeepAlive && r.ProtocolStatus == StatusRequestComplete
			if werr := endBody(); werr != nil {
				keep = false
			}
			if cc.rr.buffered() > 0 {
				keep = false // bytes after END_REQUEST: the stream is out of step
			}
			if r.ProtocolStatus != StatusRequestComplete {
				return r, false, true, fmt.Errorf("php-fpm %s ended the request with %s: %w", c.Addr, r.ProtocolStatus, statusError(r.ProtocolStatus))
			}
			return r, keep, true, nil
		default:
			if h.Type < 1 || h.Type > maxKnownType {
				return nil, false, true, fmt.Errorf("php-fpm %s: record %s: %w", c.Addr, h.Type, ErrUnknownType)
			}
			return nil, false, true, fmt.Errorf("php-fpm %s: %s record in a response: %w", c.Addr, h.Type, ErrUnexpectedRecord)
		}
	}
}

// bodyWriter lets the response reader stop the body writer: once the
// response has ended, php-fpm reads no more, so a write still pending must
// fail rather than wait for the write timeout.
type bodyWriter struct {
	nc      net.Conn
	timeout time.Duration
	done    chan struct{}
	err     error // set before done is closed

	mu      sync.Mutex
	stopped bool
	end     bool          // the whole body is sent: only its end is left
	ended   chan struct{} // closed by markEnding
}

// endGrace is how long END_REQUEST waits for a body writer that has not
// yet recorded sending the whole body before stopping it. php-fpm answers
// as soon as it has read CONTENT_LENGTH bytes, which can be before the
// writer, descheduled right after its last write, records it; stopping the
// writer then would cost the kept connection. A writer that really is
// mid-body (the script ended the response without reading it) waits this
// long before being stopped.
const endGrace = 50 * time.Millisecond

// markEnding records that every body byte has been written: what is left
// is to see the body's end (EOF from its reader) and write the empty
// STDIN record.
func (bw *bodyWriter) markEnding() {
	bw.mu.Lock()
	bw.end = !bw.stopped
	bw.mu.Unlock()
	close(bw.ended)
}

// ending reports whether the whole body has been written; the writer is
// then let finish rather than stopped.
func (bw *bodyWriter) ending() bool {
	bw.mu.Lock()
	defer bw.mu.Unlock()
	return bw.end
}

// contentError marks a body failure on the caller's side (reader error,
// wrong length), as opposed to a failed write to php-fpm.
type contentError struct{ err error }

func (e *contentError) Error() string { return e.err.Error() }
func (e *contentError) Unwrap() error { return e.err }

// errBodyStopped ends a body write cut short by the end of the response.
var errBodyStopped = errors.New("response ended before the request body was sent")

// arm sets the write deadline for the next write, unless stopped.
func (bw *bodyWriter) arm() error {
	bw.mu.Lock()
	defer bw.mu.Unlock()
	if bw.stopped {
		return errBodyStopped
	}
	return bw.nc.SetWriteDeadline(time.Now().Add(bw.timeout))
}

// stop makes pending and later writes fail at once.
func (bw *bodyWriter) stop() {
	bw.mu.Lock()
	defer bw.mu.Unlock()
	bw.stopped = true
	bw.nc.SetWriteDeadline(time.Unix(1, 0))
}

// writeBody streams n bytes of body as STDIN records and ends the stream.
// It reads straight into the record buffer and sends whatever each Read
// returns, so a body that trickles in is forwarded without waiting for a
// full record.
func (c *Client) writeBody(cc *clientConn, bw *bodyWriter, body *countingReader, n int64) error {
	buf := cc.wbuf[:cap(cc.wbuf)]
	var sent int64
	for sent < n {
		want := int(min(n-sent, maxContent))
		got, err := body.Read(buf[headerLen : headerLen+want])
		if got > 0 {
			appendHeader(buf[:0], typeStdin, requestID, got)
			clear(buf[headerLen+got : headerLen+got+padding(got)])
			if aerr := bw.arm(); aerr != nil {
				return aerr
			}
			if _, werr := cc.nc.Write(buf[:headerLen+got+padding(got)]); werr != nil {
				return fmt.Errorf("writing request body to php-fpm %s after %d bytes: %w", c.Addr, sent, werr)
			}
			sent += int64(got)
		}
		if err == io.EOF {
			if sent < n {
				return &contentError{fmt.Errorf("request body ended after %d of %d bytes: %w", sent, n, ErrContentLength)}
			}
			break
		}
		if err != nil {
			return &contentError{fmt.Errorf("reading request body after %d bytes: %w", sent, err)}
		}
	}
	bw.markEnding()
	var one [1]byte
	if k, _ := io.ReadFull(body, one[:]); k > 0 {
		return &contentError{fmt.Errorf("request body longer than its length %d: %w", n, ErrContentLength)}
	}
	if err := bw.arm(); err != nil {
		return err
	}
	if _, err := cc.nc.Write(appendHeader(buf[:0], typeStdin, requestID, 0)); err != nil {
		return fmt.Errorf("ending request body to php-fpm %s: %w", c.Addr, err)
	}
	return nil
}

// get returns a connection: the most recently used idle one that is still
// alive (probed only with probe), a new one when fewer than MaxConns are
// open, or the next one freed.
func (c *Client) get(ctx context.Context, forceDial, probe bool) (*clientConn, bool, error) {
	idleTimeout := c.timeout(c.IdleTimeout, DefaultIdleTimeout)
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, false, ErrClientClosed
		}
		if !forceDial && len(c.idle) > 0 {
			cc := c.idle[len(c.idle)-1]
			c.idle = c.idle[:len(c.idle)-1]
			c.mu.Unlock()
			now := time.Now()
			cc.clearDeadlines(now)
			if now.Sub(cc.lastUsed) < idleTimeout && cc.rr.buffered() == 0 && (!probe || cc.probe.check()) {
				c.mu.Lock()
				c.stats.Reuses++
				c.stats.Requests++
				c.mu.Unlock()
				return cc, true, nil
			}
			c.put(cc, false)
			continue
		}
		if c.MaxConns == 0 || c.open < c.MaxConns {
			c.open++
			c.stats.Dials++
			c.stats.Requests++
			c.mu.Unlock()
			cc, err := c.dial(ctx)
			if err != nil {
				c.mu.Lock()
				c.open--
				c.stats.Dials--
				c.stats.Requests--
				c.wakeLocked()
				c.mu.Unlock()
				return nil, false, err
			}
			return cc, false, nil
		}
		if forceDial && len(c.idle) > 0 {
			// Every slot is taken and one is idle: give it up for the
			// fresh connection the retry needs.
			cc := c.idle[0]
			c.idle = c.idle[1:]
			c.mu.Unlock()
			c.put(cc, false)
			continue
		}
		ch := make(chan struct{}, 1)
		c.waiters = append(c.waiters, ch)
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			c.mu.Lock()
			for i, w := range c.waiters {
				if w == ch {
					c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
					break
				}
			}
			select {
			case <-ch:
				c.wakeLocked() // pass on a wake-up that arrived meanwhile
			default:
			}
			c.mu.Unlock()
			return nil, false, fmt.Errorf("waiting for a connection to php-fpm %s (%d open): %w", c.Addr, c.MaxConns, context.Cause(ctx))
		}
	}
}

// wakeLocked wakes the longest waiting get.
func (c *Client) wakeLocked() {
	if len(c.waiters) > 0 {
		ch := c.waiters[0]
		c.waiters = c.waiters[1:]
		ch <- struct{}{}
	}
}

// put returns cc to the idle list when reusable and within MaxConns less
// Reserve, and closes it otherwise.
func (c *Client) put(cc *clientConn, reusable bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if reusable && !c.closed && c.open <= c.MaxConns-c.Reserve {
		cc.lastUsed = time.Now()
		c.idle = append(c.idle, cc)
		if !c.reapArmed {
			c.reapArmed = true
			time.AfterFunc(c.timeout(c.IdleTimeout, DefaultIdleTimeout), c.reap)
		}
	} else {
		cc.nc.Close()
		c.open--
	}
	c.wakeLocked()
}

// reap closes idle connections older than the idle timeout, so that kept
// connections release their php-fpm workers when traffic stops.
func (c *Client) reap() {
	idleTimeout := c.timeout(c.IdleTimeout, DefaultIdleTimeout)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reapArmed = false
	now := time.Now()
	keep := c.idle[:0]
	var oldest time.Time
	for _, cc := range c.idle {
		if now.Sub(cc.lastUsed) >= idleTimeout {
			cc.nc.Close()
			c.open--
			c.wakeLocked()
			continue
		}
		if oldest.IsZero() || cc.lastUsed.Before(oldest) {
			oldest = cc.lastUsed
		}
		keep = append(keep, cc)
	}
	clear(c.idle[len(keep):])
	c.idle = keep
	if len(c.idle) > 0 {
		c.reapArmed = true
		time.AfterFunc(oldest.Add(idleTimeout).Sub(now), c.reap)
	}
}

func (c *Client) dial(ctx context.Context) (*clientConn, error) {
	d := net.Dialer{Timeout: c.timeout(c.DialTimeout, DefaultDialTimeout)}
	nc, err := d.DialContext(ctx, c.Network, c.Addr)
	if err != nil {
		return nil, fmt.Errorf("dialing php-fpm pool %s %s: %w: %w", c.Network, c.Addr, ErrBackendUnavailable, err)
	}
	nc = fastConn(nc)
	return &clientConn{
		nc:    nc,
		probe: newProber(nc),
		rr:    newRecordReader(nc),
		wbuf:  make([]byte, 0, headerLen+maxContent+8),
	}, nil
}

// Close closes idle connections and makes later Do calls fail with
// ErrClientClosed. Requests in flight finish; their connections are closed
// when they return.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, cc := range c.idle {
		cc.nc.Close()
		c.open--
	}
	c.idle = nil
	for len(c.waiters) > 0 {
		c.wakeLocked()
	}
	return nil
}

// spooled is a body of unknown length copied to memory or a temporary file.
type spooled struct {
	io.Reader
	size int64
	file *os.File
}

func (s *spooled) Close() error {
	if s.file != nil {
		name := s.file.Name()
		s.file.Close()
		return os.Remove(name)
	}
	return nil
}

// spool copies body to learn its length: the first spoolMemLimit bytes in
// memory, the rest in a temporary file in dir; more than max bytes (when
// max > 0) fail with ErrBodyTooLarge.
func spool(body io.Reader, dir string, max int64) (*spooled, error) {
	limit := int64(math.MaxInt64 - 1)
	if max > 0 {
		limit = max
	}
	var mem bytes.Buffer
	n, err := io.CopyN(&mem, body, min(spoolMemLimit, limit)+1)
	if err == io.EOF {
		return &spooled{Reader: bytes.NewReader(mem.Bytes()), size: n}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("spooling request body of unknown length: %w", err)
	}
	if n > limit {
		return nil, fmt.Errorf("request body of unknown length over the limit of %d bytes: %w", limit, ErrBodyTooLarge)
	}
	f, err := os.CreateTemp(dir, "fcgi-body-*")
	if err != nil {
		return nil, fmt.Errorf("spooling request body of unknown length: %w", err)
	}
	sp := &spooled{file: f}
	if _, err := f.Write(mem.Bytes()); err != nil {
		sp.Close()
		return nil, fmt.Errorf("spooling request body to %s: %w", f.Name(), err)
	}
	rest, err := io.CopyN(f, body, limit-n+1)
	if err != nil && err != io.EOF {
		sp.Close()
		return nil, fmt.Errorf("spooling request body to %s: %w", f.Name(), err)
	}
	if n+rest > limit {
		sp.Close()
		return nil, fmt.Errorf("request body of unknown length over the limit of %d bytes: %w", limit, ErrBodyTooLarge)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		sp.Close()
		return nil, fmt.Errorf("spooling request body to %s: %w", f.Name(), err)
	}
	sp.Reader, sp.size = f, n+rest
	return sp, nil
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
	done := afterDone(ctx, nc)
	defer done.release()
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
