//go:build linux && race

package fcgi

import "syscall"

// sysRW makes one read(2) or write(2) (trap) of b through package syscall:
// under the race detector its annotations (data written to a descriptor
// and read elsewhere orders the two goroutines) must stay, as they do for
// net.Conn.
func sysRW(trap, fd uintptr, b []byte) (int, syscall.Errno) {
	var n int
	var err error
	if trap == syscall.SYS_READ {
		n, err = syscall.Read(int(fd), b)
	} else {
		n, err = syscall.Write(int(fd), b)
	}
	var e syscall.Errno
	if err != nil {
		var ok bool
		if e, ok = err.(syscall.Errno); !ok {
			e = syscall.EIO
		}
	}
	return max(n, 0), e
}
