//go:build unix

package fcgi

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// prober checks that an idle connection is still open and silent: a
// non-blocking MSG_PEEK read that finds nothing to read. EOF (php-fpm
// closed it after pm.max_requests or a restart) or unexpected bytes mean
// the connection must not carry another request. It is made once per
// connection, so that the check, made before every request on a kept
// connection, allocates nothing.
type prober struct {
	rc    syscall.RawConn
	fn    func(fd uintptr) bool
	alive bool
	buf   [1]byte
}

func newProber(nc net.Conn) *prober {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	p := &prober{rc: rc}
	p.fn = func(fd uintptr) bool {
		e := peek(fd, &p.buf)
		p.alive = e == syscall.EAGAIN || e == syscall.EWOULDBLOCK
		return true
	}
	return p
}

// check reports whether the connection is open and silent; a connection
// that cannot be checked counts as alive.
func (p *prober) check() bool {
	if p == nil {
		return true
	}
	p.alive = false
	err := p.rc.Read(p.fn)
	return err == nil && p.alive
}

// isConnReset reports whether err is a connection reset or broken pipe,
// which php-fpm produces when a worker dies or drops a connection.
func isConnReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// drainTimeout bounds the write peerDraining makes; a peer that drains
// takes it at once.
const drainTimeout = time.Second

// peerDraining reports whether the peer of a Unix stream socket that has
// just read EOF still takes writes: it shut down only its sending side and
// is reading on. That is how php-fpm ends a kept connection it will not
// serve again (pm.max_requests reached: main/fastcgi.c fcgi_close shuts
// down its side, then reads and discards until the web server closes), and
// it reads nothing of what arrives then as a request. A worker that died
// has closed the socket entirely, and the write fails with EPIPE
// (unix_stream_sendmsg); over TCP the first write after a close succeeds
// either way, so only Unix sockets can tell. The byte written is an
// ABORT_REQUEST record, which means nothing to a peer that drains.
func peerDraining(nc net.Conn) bool {
	if nc.LocalAddr().Network() != "unix" {
		return false
	}
	nc.SetWriteDeadline(time.Now().Add(drainTimeout))
	_, err := nc.Write(appendRecord(nil, typeAbortRequest, requestID, nil))
	return err == nil
}
