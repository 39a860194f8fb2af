package fcgi

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Record framing (§3.3): an 8-byte header
//
//	version, type, requestIdB1, requestIdB0,
//	contentLengthB1, contentLengthB0, paddingLength, reserved
//
// then contentLength bytes of content and paddingLength bytes of padding.
// Writers pad every record to a multiple of 8 bytes, as the specification
// recommends and php-fpm does (fcgi_make_header), except near the maximum
// length (see padding).

// header is a decoded record header.
type header struct {
	Type          recType
	ID            uint16
	ContentLength uint16
	PaddingLength uint8
}

// padding returns the padding that aligns n content bytes to 8, except for
// records longer than 65528 bytes, which go unpadded: php-src rejects a
// record whose content plus padding exceeds 65535 (main/fastcgi.c
// fcgi_read_request, `if (len + padding > FCGI_MAX_LENGTH) return 0;`; a
// 65535-byte PARAMS record with padding 1 got the connection closed with
// no reply from php-fpm 8.2), and the specification only recommends the
// alignment (§3.3).
func padding(n int) int {
	if n > maxContent&^7 {
		return 0
	}
	return -n & 7
}

// appendHeader appends the header of a record of type t for request id with
// n content bytes, padded to 8.
func appendHeader(dst []byte, t recType, id uint16, n int) []byte {
	return append(dst, version1, byte(t), byte(id>>8), byte(id), byte(n>>8), byte(n), byte(padding(n)), 0)
}

// appendRecord appends a whole record: header, content and zero padding.
// len(content) must be at most maxContent.
func appendRecord(dst []byte, t recType, id uint16, content []byte) []byte {
	dst = appendHeader(dst, t, id, len(content))
	dst = append(dst, content...)
	var zero [8]byte
	return append(dst, zero[:padding(len(content))]...)
}

// appendEndRequest appends an END_REQUEST record (§5.5).
func appendEndRequest(dst []byte, id uint16, appStatus uint32, ps ProtocolStatus) []byte {
	var body [8]byte
	binary.BigEndian.PutUint32(body[:4], appStatus)
	body[4] = byte(ps)
	return appendRecord(dst, typeEndRequest, id, body[:])
}

// appendBeginRequest appends a BEGIN_REQUEST record (§5.1).
func appendBeginRequest(dst []byte, id uint16, role Role, keepConn bool) []byte {
	var body [8]byte
	binary.BigEndian.PutUint16(body[:2], uint16(role))
	if keepConn {
		body[2] = flagKeepConn
	}
	return appendRecord(dst, typeBeginRequest, id, body[:])
}

// decodeHeader decodes and checks an 8-byte record header.
func decodeHeader(b []byte) (header, error) {
	h := header{
		Type:          recType(b[1]),
		ID:            binary.BigEndian.Uint16(b[2:4]),
		ContentLength: binary.BigEndian.Uint16(b[4:6]),
		PaddingLength: b[6],
	}
	if b[0] != version1 {
		return h, fmt.Errorf("record header % x: version %d: %w", b[:headerLen], b[0], ErrBadVersion)
	}
	return h, nil
}

// recordReader reads records from a buffered stream without copying:
// content returned by next stays valid until the following call, or grow.
type recordReader struct {
	br *bufio.Reader
	// src is the stream while br is a small buffer (newSmallRecordReader),
	// nil once br holds a whole record.
	src io.Reader
}

// readerBufSize holds a whole record (header, 65535 bytes of content, 255
// bytes of padding) so that content can be returned from the buffer.
const readerBufSize = headerLen + maxContent + 255 + 1

// smallBufSize is the buffer a server connection starts with: enough for
// the BEGIN_REQUEST and params records mod_proxy_fcgi sends (about 1 KiB
// of params), not for a full record. A connection waiting for its request
// then holds 8 KiB instead of 64, which is what many connections that
// send a byte and stop cost (TestServerSlowloris).
const smallBufSize = 8 << 10

// freeReaders recycles record buffers: Apache opens a connection per
// request by default, and allocating 64 KiB for each was the largest cost
// of a short request on the server side. A bounded free list rather than a
// sync.Pool, which the garbage collector empties at every cycle — and these
// allocations were what made the cycles frequent. At most maxFreeReaders
// buffers (4 MiB) are kept, and as many small ones (512 KiB).
const maxFreeReaders = 64

var (
	freeReaders      = make(chan *bufio.Reader, maxFreeReaders)
	freeSmallReaders = make(chan *bufio.Reader, maxFreeReaders)
)

func newRecordReader(r io.Reader) recordReader {
	return recordReader{br: takeReader(freeReaders, r, readerBufSize)}
}

// newSmallRecordReader starts with a small buffer, which next (for a
// record that does not fit) or grow replaces with a whole one.
func newSmallRecordReader(r io.Reader) recordReader {
	return recordReader{br: takeReader(freeSmallReaders, r, smallBufSize), src: r}
}

func takeReader(free chan *bufio.Reader, r io.Reader, size int) *bufio.Reader {
	select {
	case br := <-free:
		br.Reset(r)
		return br
	default:
		return bufio.NewReaderSize(r, size)
	}
}

// grow replaces a small buffer with a whole one, keeping what it holds.
// Content returned by next before must no longer be used.
func (r *recordReader) grow() {
	if r.src == nil {
		return
	}
	rest := make([]byte, r.br.Buffered())
	r.br.Read(rest) // from the buffer only: it holds that much
	small := r.br
	r.br = takeReader(freeReaders, &prefixReader{rest: rest, r: r.src}, readerBufSize)
	r.src = nil
	small.Reset(nil)
	select {
	case freeSmallReaders <- small:
	default:
	}
}

// prefixReader reads rest, then r.
type prefixReader struct {
	rest []byte
	r    io.Reader
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if len(p.rest) > 0 {
		n := copy(b, p.rest)
		p.rest = p.rest[n:]
		return n, nil
	}
	return p.r.Read(b)
}

// release returns the buffer to the free list; content returned by next
// must no longer be used, and the reader must not be used again.
func (r *recordReader) release() {
	if r.br == nil {
		return
	}
	free := freeReaders
	if r.src != nil {
		free = freeSmallReaders
	}
	r.br.Reset(nil)
	select {
	case free <- r.br:
	default:
	}
	r.br, r.src = nil, nil
}

// next reads one record. At a clean record boundary it returns io.EOF; a
// stream that ends inside a record gives an error wrapping
// ErrMalformedRecord and io.ErrUnexpectedEOF.
func (r *recordReader) next() (header, []byte, error) {
	hb, err := r.br.Peek(headerLen)
	if err != nil {
		if err == io.EOF && len(hb) > 0 {
			return header{}, nil, fmt.Errorf("stream ends after %d of %d header bytes: %w: %w", len(hb), headerLen, ErrMalformedRecord, io.ErrUnexpectedEOF)
		}
		return header{}, nil, err
	}
	h, err := decodeHeader(hb)
	if err != nil {
		return h, nil, err
	}
	r.br.Discard(headerLen)
	n := int(h.ContentLength) + int(h.PaddingLength)
	if n > r.br.Size() {
		r.grow()
	}
	b, err := r.br.Peek(n)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return h, nil, fmt.Errorf("%s record for request %d: stream ends after %d of %d content and padding bytes: %w: %w",
				h.Type, h.ID, len(b), n, ErrMalformedRecord, io.ErrUnexpectedEOF)
		}
		return h, nil, err
	}
	r.br.Discard(n)
	return h, b[:h.ContentLength], nil
}

// hasRecord reports whether a whole record is buffered, so that next
// returns without reading from the stream.
func (r *recordReader) hasRecord() bool {
	n := r.br.Buffered()
	if n < headerLen {
		return false
	}
	hb, _ := r.br.Peek(headerLen)
	return n >= headerLen+int(hb[4])<<8+int(hb[5])+int(hb[6])
}

// buffered reports how many bytes have been read from the stream but not
// returned yet.
func (r *recordReader) buffered() int { return r.br.Buffered() }

// writeStream writes p as records of type t for request id, split at
// maxContent bytes, through buf (which is reused and returned). It does not
// write the empty record that ends a stream.
func writeStream(w io.Writer, buf []byte, t recType, id uint16, p []byte) ([]byte, error) {
	for len(p) > 0 {
		n := min(len(p), maxContent)
		buf = appendRecord(buf[:0], t, id, p[:n])
		if _, err := w.Write(buf); err != nil {
			return buf, err
		}
		p = p[n:]
	}
	return buf, nil
}
