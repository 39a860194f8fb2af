package fcgi

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// roundTrip is one request on one php-fpm connection, from its head to
// END_REQUEST: the head is written first, the body (if any) by a
// goroutine of its own while the response is read.
type roundTrip struct {
	c      *Client
	cc     *clientConn
	body   *countingReader
	n      int64       // body length
	bw     *bodyWriter // nil without a body
	stdout io.Writer

	// flusher is stdout when it holds writes; held reports that it may
	// hold some now.
	flusher Flusher
	held    bool

	res      Result
	received bool // a response record arrived
}

// roundTrip runs one request on cc. keep reports whether cc can serve
// another request. res is nil unless END_REQUEST was read.
//
// When ctx ends, the connection is closed under the round trip: php-fpm
// ignores ABORT_REQUEST, and closing is the only way to stop the script.
func (c *Client) roundTrip(ctx context.Context, stopper Stopper, cc *clientConn, ps Params, body *countingReader, n int64, stdout io.Writer) (res *Result, keep bool, err error) {
	stop := closeOnStop(ctx, stopper, cc.nc)
	defer func() {
		if !stop.release() {
			// ctx ended: the connection has been closed under us.
			keep = false
			if err != nil {
				err = fmt.Errorf("php-fpm request to %s: %w", c.Addr, context.Cause(ctx))
			}
		}
	}()
	rt := &roundTrip{c: c, cc: cc, body: body, n: n, stdout: stdout}
	rt.flusher, _ = stdout.(Flusher)
	if err := rt.writeHead(ps); err != nil {
		return nil, false, err
	}
	if n > 0 {
		rt.bw = startBody(rt)
		defer rt.bw.wait()
	}
	return rt.readResponse()
}

// writeHead writes BEGIN_REQUEST, PARAMS, the empty PARAMS record and, for
// an empty body, the empty STDIN record, in as few writes as possible.
func (rt *roundTrip) writeHead(ps Params) error {
	c, cc := rt.c, rt.cc
	ps = setContentLength(ps, rt.n)
	wrote := false
	flush := func(b []byte) ([]byte, error) {
		cc.setWriteDeadline(c.timeout(c.WriteTimeout, DefaultWriteTimeout))
		k, err := cc.nc.Write(b)
		wrote = wrote || k > 0
		return b[:0], err
	}
	buf := appendBeginRequest(cc.wbuf[:0], requestID, RoleResponder, c.KeepAlive)
	buf, err := appendParamsRecords(buf, requestID, ps, cap(cc.wbuf), flush)
	if err == nil {
		if rt.n == 0 {
			buf = appendHeader(buf, typeStdin, requestID, 0)
		}
		buf, err = flush(buf)
	}
	cc.wbuf = buf[:0]
	if err == nil {
		return nil
	}
	if !wrote && isConnReset(err) {
		// Refused before a byte left: php-fpm had closed the
		// connection, so it cannot have run the request.
		err = fmt.Errorf("%w: %w", errNotDelivered, err)
	}
	return fmt.Errorf("writing request head to php-fpm %s: %w: %w", c.Addr, ErrIncompleteResponse, err)
}

// readResponse reads records until END_REQUEST, relaying STDOUT.
func (rt *roundTrip) readResponse() (*Result, bool, error) {
	readTimeout := rt.c.timeout(rt.c.ReadTimeout, DefaultReadTimeout)
	for {
		if !rt.cc.rr.hasRecord() {
			// About to wait for php-fpm: output held so far leaves now.
			if err := rt.flush(); err != nil {
				return nil, false, err
			}
			rt.cc.setReadDeadline(readTimeout)
		}
		h, content, err := rt.cc.rr.next()
		if err != nil {
			return nil, false, rt.readFailed(err)
		}
		rt.received = true
		if h.ID != requestID {
			return nil, false, fmt.Errorf("php-fpm %s: %s record for request %d, sent %d: %w", rt.c.Addr, h.Type, h.ID, requestID, ErrWrongRequestID)
		}
		switch h.Type {
		case typeStdout:
			if err := rt.onStdout(content); err != nil {
				return nil, false, err
			}
		case typeStderr:
			rt.onStderr(content)
		case typeEndRequest:
			return rt.onEndRequest(content)
		default:
			if h.Type < 1 || h.Type > maxKnownType {
				return nil, false, fmt.Errorf("php-fpm %s: record %s: %w", rt.c.Addr, h.Type, ErrUnknownType)
			}
			return nil, false, fmt.Errorf("php-fpm %s: %s record in a response: %w", rt.c.Addr, h.Type, ErrUnexpectedRecord)
		}
	}
}

// flush passes output a buffering stdout holds on.
func (rt *roundTrip) flush() error {
	if !rt.held {
		return nil
	}
	rt.held = false
	if err := rt.flusher.Flush(); err != nil {
		return fmt.Errorf("relaying php-fpm %s output after %d bytes: %w", rt.c.Addr, rt.res.Stdout, err)
	}
	return nil
}

// readFailed returns the error of a response that ended without
// END_REQUEST: the body's own failure when there is one, else err
// classified (errNotDelivered, ErrIncompleteResponse).
func (rt *roundTrip) readFailed(err error) error {
	if werr := rt.bw.contentErr(); werr != nil {
		return fmt.Errorf("php-fpm %s: %w", rt.c.Addr, werr)
	}
	if errors.Is(err, io.EOF) && !rt.received && rt.n == 0 && peerDraining(rt.cc.nc) {
		// php-fpm closed the kept connection in its orderly way
		// (pm.max_requests) and discarded the request unread.
		err = fmt.Errorf("%w: %w", errNotDelivered, err)
	}
	if errors.Is(err, io.EOF) || isConnReset(err) {
		return fmt.Errorf("reading from php-fpm %s after %d stdout bytes: %w: %w", rt.c.Addr, rt.res.Stdout, ErrIncompleteResponse, err)
	}
	return fmt.Errorf("reading from php-fpm %s after %d stdout bytes: %w", rt.c.Addr, rt.res.Stdout, err)
}

// onStdout relays a STDOUT record.
func (rt *roundTrip) onStdout(content []byte) error {
	if len(content) == 0 {
		return nil
	}
	if _, err := rt.stdout.Write(content); err != nil {
		return fmt.Errorf("relaying php-fpm %s output after %d bytes: %w", rt.c.Addr, rt.res.Stdout, err)
	}
	rt.held = rt.flusher != nil
	rt.res.Stdout += int64(len(content))
	return nil
}

// onStderr keeps the start of the STDERR stream, up to MaxStderr bytes.
func (rt *roundTrip) onStderr(content []byte) {
	maxStderr := rt.c.MaxStderr
	if maxStderr <= 0 {
		maxStderr = DefaultMaxStderr
	}
	r := &rt.res
	take := min(max(maxStderr-len(r.Stderr), 0), len(content))
	r.Stderr = append(r.Stderr, content[:take]...)
	r.StderrDropped += int64(len(content) - take)
}

// onEndRequest ends the round trip at END_REQUEST.
func (rt *roundTrip) onEndRequest(content []byte) (*Result, bool, error) {
	if len(content) != 8 {
		return nil, false, fmt.Errorf("php-fpm %s: END_REQUEST with %d content bytes, want 8: %w", rt.c.Addr, len(content), ErrMalformedRecord)
	}
	r := &rt.res
	r.AppStatus = binary.BigEndian.Uint32(content[:4])
	r.ProtocolStatus = ProtocolStatus(content[4])
	keep := rt.c.KeepAlive && r.ProtocolStatus == StatusRequestComplete
	if rt.bw.finish() != nil {
		keep = false
	}
	if rt.cc.rr.buffered() > 0 {
		keep = false // bytes after END_REQUEST: the stream is out of step
	}
	if r.ProtocolStatus != StatusRequestComplete {
		return r, false, fmt.Errorf("php-fpm %s ended the request with %s: %w", rt.c.Addr, r.ProtocolStatus, statusError(r.ProtocolStatus))
	}
	return r, keep, nil
}

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
