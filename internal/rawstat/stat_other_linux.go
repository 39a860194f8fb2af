//go:build linux && !amd64 && !arm64

package rawstat

import "syscall"

// Stat is stat(2), through package syscall on this architecture.
func Stat(p string, st *syscall.Stat_t) error { return syscall.Stat(p, st) }
