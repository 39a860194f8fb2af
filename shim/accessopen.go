package shim

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"syscall"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// Access files are opened as httpd opens them (server/config.c
// ap_parse_htaccess through server/util.c ap_pcfg_openfile): by the path the
// directory walk built from the request, following every symbolic link — the
// access file's own and any directory's — whatever Options says. Options
// FollowSymLinks and SymLinksIfOwnerMatch only decide, in ap_directory_walk's
// resolve_symlink, whether httpd serves a request whose path crosses a
// symlinked directory at all (403, AH00037, before any handler runs); such a
// request never reaches the shim. Debian's dokuwiki and roundcube ship
// .htaccess as a symlink into /etc/<app>/, and httpd applies it.
//
// Unlike httpd, which blocks in open(2) on a FIFO until a writer comes (an
// Apache worker held for good), the shim opens with O_NONBLOCK and refuses
// anything but a regular file with httpd's answer once it gets past the
// open: 403 "not a regular file".

// errNotRegular is an access file that is a directory, FIFO, socket or
// device (httpd: AH00554 "Access to file %s denied by server: not a
// regular file", then 403).
var errNotRegular = errors.New("not a regular file")

// readAccessBytes reads the access file at abs. It returns fs.ErrNotExist
// (or syscall.ENOTDIR) when there is none, errNotRegular for anything but
// a regular file, and never blocks on a special file.
func readAccessBytes(abs string) ([]byte, fileID, error) {
	fd, err := syscall.Open(abs, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, fileID{}, &fs.PathError{Op: "open", Path: abs, Err: err}
	}
	f := os.NewFile(uintptr(fd), abs)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fileID{}, err
	}
	if !fi.Mode().IsRegular() {
		return nil, idOf(fi), errNotRegular
	}
	data, err := io.ReadAll(io.LimitReader(f, maxAccessFileSize+1))
	if err != nil {
		return nil, fileID{}, fmt.Errorf("reading %s: %w", abs, err)
	}
	return data, idOf(fi), nil
}

// isMissing reports an error httpd takes for "no access file here":
// ENOENT (also a dangling symlink) or ENOTDIR.
func isMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// accessIOError maps a failure to read an access file to httpd's answer:
// every error but a missing file is 403 (AH00529 "unable to check htaccess
// file, ensure it is readable"), including a file that is not regular.
func accessIOError(abs string, err error) *AccessError {
	msg := "unable to check htaccess file, ensure it is readable: "
	var pe *fs.PathError
	switch {
	case errors.Is(err, errNotRegular):
		msg = "access to file denied by server: not a regular file"
	case errors.As(err, &pe):
		msg += pe.Err.Error()
	default:
		msg += err.Error()
	}
	return &AccessError{Pos: parser.Pos{File: abs}, Msg: msg, Status: http.StatusForbidden}
}
