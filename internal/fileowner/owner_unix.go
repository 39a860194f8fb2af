//go:build unix

// Package fileowner reads the numeric owner and group of a file, where the
// system has them.
package fileowner

import (
	"io/fs"
	"syscall"
)

// Of returns the numeric owner and group of a file, and false where the
// system keeps none.
func Of(fi fs.FileInfo) (uid, gid uint32, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return st.Uid, st.Gid, true
}
