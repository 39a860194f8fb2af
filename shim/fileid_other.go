//go:build !linux

package shim

import (
	"io/fs"
	"os"
)

// statID stats p, following symbolic links, and reports its fileID and
// whether it is a regular file. Outside Linux the fileID holds the size
// and modification time only.
func statID(p string) (fileID, bool, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return fileID{}, false, err
	}
	return idOf(fi), fi.Mode().IsRegular(), nil
}

// idOf is the fileID of an os.Stat result.
func idOf(fi fs.FileInfo) fileID {
	return fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
}
