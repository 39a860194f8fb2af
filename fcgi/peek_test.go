//go:build unix

package fcgi

import (
	"syscall"
	"testing"
)

// TestPeek: the probe's peek finds nothing on an open, silent socket
// (EAGAIN), and something once the peer has written or closed, without
// consuming the byte.
func TestPeek(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fds[0])
	var b [1]byte
	if e := peek(uintptr(fds[0]), &b); e != syscall.EAGAIN {
		t.Fatalf("silent peer: %v, want EAGAIN", e)
	}
	if _, err := syscall.Write(fds[1], []byte("x")); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if e := peek(uintptr(fds[0]), &b); e != 0 || b[0] != 'x' {
			t.Fatalf("peer wrote x: %v, %q; want no error and x, twice (not consumed)", e, b[0])
		}
	}
	var rd [1]byte
	if n, err := syscall.Read(fds[0], rd[:]); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	syscall.Close(fds[1])
	if e := peek(uintptr(fds[0]), &b); e != 0 {
		t.Fatalf("peer closed: %v, want no error (EOF to read)", e)
	}
}
