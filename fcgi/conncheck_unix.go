//go:build unix

package fcgi

import (
	"errors"
	"net"
	"syscall"
)

// connAlive reports whether an idle connection is still open and silent: a
// non-blocking MSG_PEEK read that finds nothing to read. EOF (php-fpm
// closed it after pm.max_requests or a restart) or unexpected bytes mean the
// connection must not carry another request.
func connAlive(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := false
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		alive = n < 0 && (rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK)
		return true
	})
	return err == nil && alive
}

// isConnReset reports whether err is a connection reset or broken pipe,
// which php-fpm produces when a worker dies or drops a connection.
func isConnReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
