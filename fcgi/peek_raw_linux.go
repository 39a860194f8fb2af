//go:build linux && (amd64 || arm64)

package fcgi

import (
	"syscall"
	"unsafe"
)

// peek is a non-blocking recv(2) of one byte with MSG_PEEK into b,
// made as a raw system call: it never blocks, and an ordinary system call
// wakes the runtime's monitor thread, which then polls at its fastest for
// as long as the calls go on (one per request on a kept connection:
// docs/benchmarks.md, section shim). It returns 0 when a byte (or EOF) is
// there to read, else the errno (EAGAIN: open and silent).
func peek(fd uintptr, b *[1]byte) syscall.Errno {
	n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	if e == 0 && int(n) < 0 {
		return syscall.EINVAL
	}
	return e
}
