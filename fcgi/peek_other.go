//go:build unix && !(linux && (amd64 || arm64))

package fcgi

import "syscall"

// peek is a non-blocking recv(2) of one byte with MSG_PEEK into b. It
// returns 0 when a byte (or EOF) is there to read, else the errno
// (EAGAIN: open and silent).
func peek(fd uintptr, b *[1]byte) syscall.Errno {
	_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	if err == nil {
		return 0
	}
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EIO
}
