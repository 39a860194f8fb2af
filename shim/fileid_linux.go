package shim

import (
	"io/fs"
	"syscall"

	"github.com/modphp-migrate/modphp-migrate/internal/rawstat"
)

// statID stats p, following symbolic links, and reports its fileID and
// whether it is a regular file. Unlike os.Stat it allocates nothing but
// a C string for paths over 511 bytes: it runs several times per request to validate the
// cached access files. Errors are the bare syscall.Errno (errors.Is works
// with fs.ErrNotExist).
func statID(p string) (fileID, bool, error) {
	var st syscall.Stat_t
	if err := rawstat.Stat(p, &st); err != nil {
		return fileID{}, false, err
	}
	return fileID{
		dev: uint64(st.Dev), ino: uint64(st.Ino), size: int64(st.Size),
		mtime: int64(st.Mtim.Sec)*1e9 + int64(st.Mtim.Nsec),
		ctime: int64(st.Ctim.Sec)*1e9 + int64(st.Ctim.Nsec),
	}, st.Mode&syscall.S_IFMT == syscall.S_IFREG, nil
}

// idOf is the fileID of an os.Stat result.
func idOf(fi fs.FileInfo) fileID {
	id := fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino = uint64(st.Dev), uint64(st.Ino)
		id.ctime = int64(st.Ctim.Sec)*1e9 + int64(st.Ctim.Nsec)
	}
	return id
}
