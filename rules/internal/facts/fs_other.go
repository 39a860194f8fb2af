//go:build !linux

package facts

import (
	"io/fs"
	"os"
	"path/filepath"
)

// lstatEntry returns what the walks need of dir/name without following a
// symbolic link.
func lstatEntry(_ *os.File, dir, name string) DirEntry {
	st, err := os.Lstat(filepath.Join(dir, name))
	if err != nil {
		return DirEntry{Name: name, Err: err}
	}
	return DirEntry{Name: name, Dir: st.IsDir(), Symlink: st.Mode()&fs.ModeSymlink != 0, Perm: uint32(st.Mode().Perm())}
}
