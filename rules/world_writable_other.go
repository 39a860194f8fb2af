//go:build !(linux && amd64)

package rules

import (
	"os"
	"path/filepath"
)

// lstatPerm returns the permission bits of dir/name without following a
// symbolic link.
func lstatPerm(_ *os.File, dir, name string) (uint32, error) {
	st, err := os.Lstat(filepath.Join(dir, name))
	if err != nil {
		return 0, err
	}
	return uint32(st.Mode().Perm()), nil
}
