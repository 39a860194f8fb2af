// Package rootfs reads a server's filesystem copied or mounted under a
// directory of this machine (lint and plan --root) as the server would
// read it: every symbolic link is followed inside that directory, an
// absolute target starting again at its top, and ".." stopping there as
// it stops at the server's "/". A nil *Root is this machine's own
// filesystem, read with the os functions of the same names.
//
// Paths come in two forms. A server path is what the server's
// configuration says (/etc/apache2/apache2.conf). A path as opened is the
// server path joined under the root, lexically (ROOT/etc/apache2/...):
// the parser names files that way in its positions. The methods take
// paths as opened and resolve them when they touch the disk; names not
// under the root are used as given.
//
// Resolution reads the tree as it is: a tree changed while it is read may
// race with it, as for any tool walking paths by name.
package rootfs

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// MaxLinks bounds the symbolic links one resolution follows, as Linux's
// MAXSYMLINKS: past it, resolution fails with ELOOP.
const MaxLinks = 40

// Root is a directory holding a server's filesystem.
type Root struct {
	dir  string   // cleaned, as given
	abs  string   // absolute form of dir
	dirs sync.Map // server directory (clean) → its resolved server path
}

// New returns the root at dir, or nil (this machine's filesystem) when
// dir is "".
func New(dir string) *Root {
	if dir == "" {
		return nil
	}
	r := &Root{dir: filepath.Clean(dir)}
	r.abs = r.dir
	if a, err := filepath.Abs(r.dir); err == nil {
		r.abs = a
	}
	return r
}

// Dir returns the root directory as given (cleaned), "" for nil.
func (r *Root) Dir() string {
	if r == nil {
		return ""
	}
	return r.dir
}

// Opened maps a server path to the path it is opened at: joined under the
// root, lexically. Relative paths and a nil root leave it as it is.
func (r *Root) Opened(p string) string {
	if r == nil || !filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(r.dir, p)
}

// Server maps a path as opened back to the server's path; ok is false
// (and p returned) when it does not lie under the root.
func (r *Root) Server(opened string) (p string, ok bool) {
	if r == nil {
		return opened, true
	}
	opened = filepath.Clean(opened)
	if r.dir == "." && !filepath.IsAbs(opened) && opened != ".." && !strings.HasPrefix(opened, "../") {
		return path.Clean("/" + filepath.ToSlash(opened)), true
	}
	for _, base := range []string{r.dir, r.abs} {
		if rel, ok := cutDir(opened, base); ok {
			return rel, true
		}
	}
	if a, err := filepath.Abs(opened); err == nil {
		if rel, ok := cutDir(a, r.abs); ok {
			return rel, true
		}
	}
	return opened, false
}

// cutDir returns p below dir as an absolute path ("/" for dir itself).
func cutDir(p, dir string) (string, bool) {
	if p == dir {
		return "/", true
	}
	if dir == "/" {
		return p, strings.HasPrefix(p, "/")
	}
	rel, ok := strings.CutPrefix(p, dir)
	if !ok || !strings.HasPrefix(rel, "/") {
		return "", false
	}
	return rel, true
}

// Resolve returns where on this machine the server reads the server path
// p, every symbolic link followed inside the root (the last one too when
// follow is set, as stat does; as lstat does otherwise). The last
// component need not exist. Errors are the kernel's: ENOENT for a missing
// directory on the way, ENOTDIR, ELOOP past MaxLinks links, ENAMETOOLONG
// for a path of PATH_MAX bytes or more or a name longer than NAME_MAX.
func (r *Root) Resolve(p string, follow bool) (string, error) {
	if r == nil {
		return p, nil
	}
	sp, err := r.resolve(p, follow)
	switch {
	case err != nil:
		return "", err
	case r.dir == "/":
		return sp, nil
	case sp == "/":
		return r.dir, nil
	}
	return r.dir + sp, nil
}

// pathMax and nameMax are Linux's PATH_MAX and NAME_MAX: a longer path
// or component is ENAMETOOLONG.
const (
	pathMax = 4096
	nameMax = 255
)

// resolve is Resolve in server paths: the resolved server path.
func (r *Root) resolve(p string, follow bool) (string, error) {
	p = "/" + strings.TrimLeft(filepath.ToSlash(p), "/")
	if len(p) >= pathMax {
		return "", syscall.ENAMETOOLONG
	}
	cur, rest := "", p
	if p == path.Clean(p) { // no "..", "." or "//": start from the directory's known resolution
		dir, base := path.Split(p)
		var err error
		if cur, err = r.resolveDir(path.Clean(dir)); err != nil {
			return "", err
		}
		rest = base
	}
	sp, err := r.walk(cur, rest, follow)
	if sp == "" && err == nil {
		sp = "/"
	}
	return sp, err
}

// resolveDir resolves a clean server directory, and each directory above
// it, once per root: a tree is read as it was when first looked at, and
// the directories of a tree's files cost one lstat each.
func (r *Root) resolveDir(dir string) (string, error) {
	if dir == "/" {
		return "", nil
	}
	if v, ok := r.dirs.Load(dir); ok {
		return v.(string), nil
	}
	parent, base := path.Split(dir)
	cur, err := r.resolveDir(path.Clean(parent))
	if err != nil {
		return "", err
	}
	if cur, err = r.walk(cur, base+"/", true); err != nil {
		return "", err
	}
	r.dirs.Store(dir, cur)
	return cur, nil
}

// walk resolves the slash-separated rest from cur, a resolved server
// directory with no symbolic link in it; "" stands for "/", in cur and
// in the result. A trailing slash asks for a directory.
func (r *Root) walk(cur, rest string, follow bool) (string, error) {
	links := 0
	for {
		rest = strings.TrimLeft(rest, "/")
		if rest == "" {
			break
		}
		c, tail, slash := strings.Cut(rest, "/")
		rest = tail
		switch c {
		case ".":
			continue
		case "..":
			cur = cur[:max(strings.LastIndexByte(cur, '/'), 0)] // "/.." is "/"
			continue
		}
		if len(c) > nameMax {
			return "", syscall.ENAMETOOLONG
		}
		next := cur + "/" + c
		last := strings.Trim(rest, "/") == ""
		if last && !slash && !follow {
			cur = next
			break
		}
		fi, err := os.Lstat(r.dir + next)
		if err != nil {
			if last && !slash && errors.Is(err, fs.ErrNotExist) {
				cur = next
				break
			}
			return "", errnoOf(err)
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			if links++; links > MaxLinks {
				return "", syscall.ELOOP
			}
			target, err := os.Readlink(r.dir + next)
			if err != nil {
				return "", errnoOf(err)
			}
			if target == "" {
				return "", syscall.ENOENT
			}
			if strings.HasPrefix(target, "/") {
				cur = ""
			}
			if slash {
				target += "/"
			}
			rest = target + rest
		case (!last || slash) && !fi.IsDir():
			return "", syscall.ENOTDIR
		default:
			cur = next
		}
	}
	return cur, nil
}

// errnoOf returns the system error inside err, or err.
func errnoOf(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// real returns the path on this machine of a path as opened: resolved
// when it lies under the root (under), as given otherwise.
func (r *Root) real(name string, follow bool) (p string, under bool, err error) {
	if r == nil {
		return name, false, nil
	}
	sp, ok := r.Server(name)
	if !ok {
		return name, false, nil
	}
	p, err = r.Resolve(sp, follow)
	return p, true, err
}

// Real is the path on this machine the server reads for a path as opened
// (the last link followed), for callers that must hand a path to another
// function; the os-like methods below resolve by themselves.
func (r *Root) Real(name string) (string, error) {
	p, _, err := r.real(name, true)
	return p, pathErr("stat", name, err)
}

// pathErr names the path as opened in an error of a resolution or of the
// call made with the resolved path.
func pathErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: name, Err: pe.Err}
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}
