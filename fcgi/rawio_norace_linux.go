//go:build linux && !race

package fcgi

import (
	"syscall"
	"unsafe"
)

// sysRW makes one read(2) or write(2) (trap) of b, b not empty, as a raw
// system call.
func sysRW(trap, fd uintptr, b []byte) (int, syscall.Errno) {
	k, _, e := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(k), e
}
