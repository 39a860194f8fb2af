//go:build unix

package facts

import (
	"io/fs"
	"syscall"
)

// Owner returns the numeric owner and group of a file.
func Owner(fi fs.FileInfo) (uid, gid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}
