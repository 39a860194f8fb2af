//go:build !(linux && amd64)

package rules

import (
	"io/fs"
	"os"
	"path/filepath"
)

// lstatEntry returns what the walk needs of dir/name without following a
// symbolic link.
func lstatEntry(_ *os.File, dir, name string, _ *[]byte) (entryInfo, error) {
	st, err := os.Lstat(filepath.Join(dir, name))
	if err != nil {
		return entryInfo{}, err
	}
	return entryInfo{dir: st.IsDir(), symlink: st.Mode()&fs.ModeSymlink != 0, perm: uint32(st.Mode().Perm())}, nil
}
