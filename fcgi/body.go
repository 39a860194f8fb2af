package fcgi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"sync"
	"time"
)

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

// startBody starts writing rt's body on a goroutine of its own, so that
// a large upload and a large response flow at once.
func startBody(rt *roundTrip) *bodyWriter {
	c, cc := rt.c, rt.cc
	// The body writer sets write deadlines of its own.
	cc.wdl = time.Time{}
	bw := &bodyWriter{nc: cc.nc, timeout: c.timeout(c.WriteTimeout, DefaultWriteTimeout), done: make(chan struct{}), ended: make(chan struct{})}
	body, n := rt.body, rt.n
	go func() {
		defer close(bw.done)
		bw.err = c.writeBody(cc, bw, body, n)
		if bw.err != nil {
			// The body cannot be completed (its reader failed, its
			// length was wrong, or the backend stopped reading):
			// closing the connection tells php-fpm and ends the read
			// of the response.
			cc.nc.Close()
		}
	}()
	return bw
}

// wait stops the writer (unblocking a write the backend will never read)
// and returns its error: nil only if the whole body and its end record
// were written. A nil bodyWriter (no body) has nothing to wait for.
func (bw *bodyWriter) wait() error {
	if bw == nil {
		return nil
	}
	bw.stop()
	<-bw.done
	return bw.err
}

// finish is wait at END_REQUEST: a writer that has sent the whole body (or
// records so within endGrace) is let finish. php-fpm often answers before
// the record that ends the body, which the web server may even not have
// sent yet; stopping the writer then would cost the kept connection for
// nothing. Its wait is bounded as wait's: by the body's reader, then by
// the write timeout.
func (bw *bodyWriter) finish() error {
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
			return bw.wait()
		}
	}
	<-bw.done
	return bw.err
}

// contentErr stops the writer after a failed read of the response and
// returns the error of a body that could not be completed on our side (its
// reader failed or its length was wrong): the real cause when the writer
// closed the connection.
func (bw *bodyWriter) contentErr() error {
	if bw == nil {
		return nil
	}
	bw.wait()
	var ce *contentError
	if errors.As(bw.err, &ce) {
		return bw.err
	}
	return nil
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
