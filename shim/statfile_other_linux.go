//go:build linux && !amd64 && !arm64

package shim

import "syscall"

// statFile is stat(2).
func statFile(p string, st *syscall.Stat_t) error { return syscall.Stat(p, st) }
