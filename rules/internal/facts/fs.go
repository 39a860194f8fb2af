package facts

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/rootfs"
)

// FS is how rules read the server's files: document roots, wrapper
// scripts, /etc/passwd. Names are paths on this machine (the loaded
// configuration's HostPath). OS is the real filesystem; FromFS serves an
// in-memory tree to tests. Implementations are safe for concurrent use.
type FS interface {
	Stat(name string) (fs.FileInfo, error)
	Lstat(name string) (fs.FileInfo, error)
	Open(name string) (fs.File, error)
	// EvalSymlinks resolves every symbolic link in name.
	EvalSymlinks(name string) (string, error)
	// ReadDirModes lists a directory without following symbolic links.
	ReadDirModes(dir string) ([]DirEntry, error)
	// WalkDir walks a tree as filepath.WalkDir does.
	WalkDir(root string, fn fs.WalkDirFunc) error
}

// DirEntry is what the permission walks need to know of a directory entry.
type DirEntry struct {
	Name         string
	Dir, Symlink bool
	Perm         uint32 // permission bits, with setuid/setgid/sticky
	Err          error  // the entry could not be looked at
}

// OS returns the real filesystem.
func OS() FS { return osFS{} }

type osFS struct{}

func (osFS) Stat(name string) (fs.FileInfo, error)        { return os.Stat(name) }
func (osFS) Lstat(name string) (fs.FileInfo, error)       { return os.Lstat(name) }
func (osFS) Open(name string) (fs.File, error)            { return os.Open(name) }
func (osFS) EvalSymlinks(name string) (string, error)     { return filepath.EvalSymlinks(name) }
func (osFS) WalkDir(root string, fn fs.WalkDirFunc) error { return filepath.WalkDir(root, fn) }

// ReadDirModes reads the names, then looks at each entry relative to the
// open directory (lstatEntry): one system call per entry, as find -perm.
func (osFS) ReadDirModes(dir string) ([]DirEntry, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil && len(names) == 0 {
		return nil, err
	}
	out := make([]DirEntry, len(names))
	for i, name := range names {
		out[i] = lstatEntry(f, dir, name)
	}
	return out, nil
}

// InRoot returns the filesystem of a server copied under a root (lint
// --root): names are paths as opened (the configuration's HostPath), and
// symbolic links are followed inside the root. A nil root is OS.
func InRoot(r *rootfs.Root) FS {
	if r == nil {
		return OS()
	}
	return rootFS{r}
}

type rootFS struct{ r *rootfs.Root }

func (f rootFS) Stat(name string) (fs.FileInfo, error)        { return f.r.Stat(name) }
func (f rootFS) Lstat(name string) (fs.FileInfo, error)       { return f.r.Lstat(name) }
func (f rootFS) Open(name string) (fs.File, error)            { return f.r.Open(name) }
func (f rootFS) EvalSymlinks(name string) (string, error)     { return f.r.EvalSymlinks(name) }
func (f rootFS) WalkDir(root string, fn fs.WalkDirFunc) error { return f.r.WalkDir(root, fn) }

// ReadDirModes lists the directory the name resolves to; its entries
// are looked at without following links, as OS's.
func (f rootFS) ReadDirModes(dir string) ([]DirEntry, error) {
	real, err := f.r.Real(dir)
	if err != nil {
		return nil, err
	}
	return osFS{}.ReadDirModes(real)
}

// FromFS serves fsys as the filesystem rooted at "/": the name /a/b is
// a/b in fsys. Symbolic links are not resolved (EvalSymlinks only checks
// that the name exists).
func FromFS(fsys fs.FS) FS { return memFS{fsys} }

type memFS struct{ fsys fs.FS }

// rel turns an absolute name into an fs.FS name.
func rel(name string) string {
	name = strings.TrimPrefix(path.Clean(filepath.ToSlash(name)), "/")
	if name == "" {
		return "."
	}
	return name
}

func (m memFS) Stat(name string) (fs.FileInfo, error)  { return fs.Stat(m.fsys, rel(name)) }
func (m memFS) Lstat(name string) (fs.FileInfo, error) { return fs.Lstat(m.fsys, rel(name)) }
func (m memFS) Open(name string) (fs.File, error)      { return m.fsys.Open(rel(name)) }

func (m memFS) EvalSymlinks(name string) (string, error) {
	if _, err := m.Stat(name); err != nil {
		return "", err
	}
	return path.Clean(name), nil
}

func (m memFS) ReadDirModes(dir string) ([]DirEntry, error) {
	entries, err := fs.ReadDir(m.fsys, rel(dir))
	if err != nil {
		return nil, err
	}
	out := make([]DirEntry, len(entries))
	for i, e := range entries {
		out[i] = DirEntry{Name: e.Name(), Dir: e.IsDir(), Symlink: e.Type()&fs.ModeSymlink != 0}
		info, err := e.Info()
		if err != nil {
			out[i].Err = err
			continue
		}
		out[i].Perm = uint32(info.Mode().Perm())
	}
	return out, nil
}

func (m memFS) WalkDir(root string, fn fs.WalkDirFunc) error {
	return fs.WalkDir(m.fsys, rel(root), func(p string, d fs.DirEntry, err error) error {
		if p == "." {
			return fn("/", d, err)
		}
		return fn("/"+p, d, err)
	})
}

// ReadFile reads a whole file of fsys, at most limit bytes of it, and
// only when it is a regular file.
func ReadFile(fsys FS, name string, limit int64) ([]byte, error) {
	st, err := fsys.Stat(name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New(name + ": not a regular file")
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}
