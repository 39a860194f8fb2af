package rootfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// The methods below resolve the directories of a name (known ones from
// the root's cache) and look at its last component without following it:
// only when it is a link is it resolved further. A file costs the system
// calls it costs without a root, plus one lstat per directory first seen.

// OpenFile is os.OpenFile of the file the server reads at name. Under the
// root the last component is opened with O_NOFOLLOW, so that a link put
// there after it was resolved is not followed out of the root.
func (r *Root) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	p, under, err := r.real(name, false)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	if !under {
		return os.OpenFile(p, flag, perm)
	}
	f, err := os.OpenFile(p, flag|oNoFollow, perm)
	if errors.Is(err, syscall.ELOOP) { // a link: open where it leads
		if p, _, err = r.real(name, true); err != nil {
			return nil, pathErr("open", name, err)
		}
		f, err = os.OpenFile(p, flag|oNoFollow, perm)
	}
	return f, pathErr("open", name, err)
}

// Open is os.Open of the file the server reads at name.
func (r *Root) Open(name string) (*os.File, error) { return r.OpenFile(name, os.O_RDONLY, 0) }

// Stat is os.Stat inside the root.
func (r *Root) Stat(name string) (fs.FileInfo, error) {
	p, under, err := r.real(name, false)
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	if !under {
		return os.Stat(p)
	}
	fi, err := os.Lstat(p)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if p, _, err = r.real(name, true); err != nil {
			return nil, pathErr("stat", name, err)
		}
		fi, err = os.Stat(p)
	}
	return fi, pathErr("stat", name, err)
}

// Lstat is os.Lstat inside the root: the links on the way are followed,
// the last one is described.
func (r *Root) Lstat(name string) (fs.FileInfo, error) {
	p, _, err := r.real(name, false)
	if err != nil {
		return nil, pathErr("lstat", name, err)
	}
	fi, err := os.Lstat(p)
	return fi, pathErr("lstat", name, err)
}

// Readlink is os.Readlink inside the root.
func (r *Root) Readlink(name string) (string, error) {
	p, _, err := r.real(name, false)
	if err != nil {
		return "", pathErr("readlink", name, err)
	}
	t, err := os.Readlink(p)
	return t, pathErr("readlink", name, err)
}

// ReadDir is os.ReadDir inside the root.
func (r *Root) ReadDir(name string) ([]fs.DirEntry, error) {
	p, _, err := r.real(name, true)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	es, err := os.ReadDir(p)
	return es, pathErr("open", name, err)
}

// ReadFile is os.ReadFile inside the root.
func (r *Root) ReadFile(name string) ([]byte, error) {
	if r == nil {
		return os.ReadFile(name)
	}
	f, err := r.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	return data, pathErr("read", name, err)
}

// EvalSymlinks is filepath.EvalSymlinks inside the root: the resolved
// path, as opened (under the root).
func (r *Root) EvalSymlinks(name string) (string, error) {
	if r == nil {
		return filepath.EvalSymlinks(name)
	}
	sp, ok := r.Server(name)
	if !ok {
		return filepath.EvalSymlinks(name)
	}
	p, err := r.Resolve(sp, true)
	if err != nil {
		return "", pathErr("lstat", name, err)
	}
	if _, err := os.Lstat(p); err != nil {
		return "", pathErr("lstat", name, err)
	}
	return p, nil
}

// WalkDir is filepath.WalkDir inside the root: links are reported, not
// followed (name itself included, as filepath.WalkDir does), and every
// path is given under name as the caller wrote it.
func (r *Root) WalkDir(name string, fn fs.WalkDirFunc) error {
	p, _, err := r.real(name, false)
	if err != nil {
		err = fn(name, nil, pathErr("lstat", name, err))
		if err == filepath.SkipDir || err == filepath.SkipAll {
			return nil // as filepath.WalkDir
		}
		return err
	}
	if p == name {
		return filepath.WalkDir(name, fn)
	}
	return filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		return fn(name+strings.TrimPrefix(q, p), d, err)
	})
}

// Glob is filepath.Glob inside the root: pattern is a path as opened;
// each directory is listed where the server would find it (links
// followed inside the root), and the matches are paths as opened. Errors
// reading directories are ignored, as filepath.Glob ignores them.
func (r *Root) Glob(pattern string) ([]string, error) {
	if r == nil {
		return filepath.Glob(pattern)
	}
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, err
	}
	if !hasMeta(pattern) {
		if _, err := r.Lstat(pattern); err != nil {
			return nil, nil
		}
		return []string{pattern}, nil
	}
	dir, file := filepath.Split(pattern)
	dir = cleanGlobDir(dir)
	dirs := []string{dir}
	if hasMeta(dir) {
		var err error
		if dirs, err = r.Glob(dir); err != nil {
			return nil, err
		}
	}
	var out []string
	for _, d := range dirs {
		ents, err := r.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range ents {
			ok, err := filepath.Match(file, e.Name())
			if err != nil {
				return out, err // as filepath.Glob: a pattern bad past what the check read
			}
			if ok {
				out = append(out, filepath.Join(d, e.Name()))
			}
		}
	}
	return out, nil
}

// hasMeta reports whether a path holds a wildcard of filepath.Match.
func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

// cleanGlobDir is filepath.Glob's cleaning of a pattern's directory.
func cleanGlobDir(dir string) string {
	switch dir {
	case "":
		return "."
	case string(filepath.Separator):
		return dir
	}
	return dir[:len(dir)-1] // the trailing separator
}
