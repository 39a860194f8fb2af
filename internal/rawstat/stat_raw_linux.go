//go:build linux && (amd64 || arm64)

package rawstat

import (
	"strings"
	"syscall"
	"unsafe"
)

// Stat is stat(2) made as a raw system call, outside the scheduler's
// system-call bookkeeping: each ordinary call would wake the runtime's
// monitor thread, and the shim makes several per request (1.10× the
// shim's hello-world throughput, docs/benchmarks.md). A stat of a local
// file that the kernel has cached does not block. On a hung network mount
// it holds one of the process's Go processors until the mount answers.
// Errors are the bare syscall.Errno.
func Stat(p string, st *syscall.Stat_t) error {
	// The C string on the stack for usual paths: no allocation.
	var buf [512]byte
	var b *byte
	if len(p) < len(buf) && strings.IndexByte(p, 0) < 0 {
		copy(buf[:], p)
		b = &buf[0]
	} else {
		var err error
		if b, err = syscall.BytePtrFromString(p); err != nil {
			return err
		}
	}
	_, _, e := syscall.RawSyscall6(sysFstatat, atFDCWD, uintptr(unsafe.Pointer(b)), uintptr(unsafe.Pointer(st)), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// atFDCWD is AT_FDCWD (-100) as a register value.
const atFDCWD = ^uintptr(99)
