package parser

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/aprmatch"
	"github.com/modphp-migrate/modphp-migrate/internal/rootfs"
)

// include follows Include/IncludeOptional like httpd's include_config:
// ServerRoot-relative; a directory is included recursively (dotfiles and
// backups too); wildcards may stand in the file part and in directory
// parts, leading dots must be matched explicitly, candidates sort in byte
// order, and a matching directory is included recursively. Include fails
// on what is missing; IncludeOptional ignores it.
func (l *loader) include(n *Node, optional bool) {
	if l.stopped {
		return
	}
	if len(n.Args) != 1 {
		l.diag(n.Pos, SevError, "syntax", "%s takes one argument, Name(s) of the config file(s) to be included", n.Name)
		return
	}
	target := l.serverRootRelative(n.Args[0])
	var paths []string
	var err error
	l.listed = 0
	if hasWildcard(target) {
		paths, err = l.expandGlob(target)
	} else {
		paths, err = l.expandPlain(target)
	}
	switch {
	case errors.Is(err, errListLimit):
		l.stop(n.Pos, fmt.Sprintf("%s names more than %d files and directories", n.Args[0], l.opt.maxFiles()), "--max-files")
		return
	case errors.Is(err, errLookLimit):
		l.stop(n.Pos, fmt.Sprintf("the Includes looked at more than %d directory entries (each time an Include reads a directory or matches a wildcard, every entry of the directory counts)", l.opt.maxWalk()), "--max-walk")
		return
	}
	if err != nil {
		if !optional {
			l.diag(n.Pos, SevError, "include", "%s", err.Error())
		}
		return
	}
	// Parse ahead only what the view may still read.
	l.cache.prefetch(paths[:min(len(paths), max(0, l.opt.maxFiles()-l.filesRead))])
	for _, p := range paths {
		l.includeFile(p, n)
	}
}

// errListLimit stops listing an Include's directories and wildcards once
// they name more files and directories than the view may still read.
var errListLimit = errors.New("too many files to include")

// errLookLimit stops an Include's expansion once the view's Includes have
// looked at more directory entries than LoadOptions.MaxWalk: a wildcard
// that matches one name in a directory of a million, read again and again,
// costs a million entries each time.
var errLookLimit = errors.New("too many directory entries looked at")

// dirNames lists a directory for an Include (once per load, see
// parseCache.dirNames) and counts its entries against the view's budget.
func (l *loader) dirNames(dir string) ([]string, error) {
	names, err := l.cache.dirNames(dir)
	l.looked += int64(len(names))
	if l.looked > l.opt.maxWalk() {
		return nil, errLookLimit
	}
	return names, err
}

// count counts one listed file or directory against the files the view
// may still read.
func (l *loader) count() error {
	l.listed++
	if l.listed > l.opt.maxFiles()-l.filesRead {
		return errListLimit
	}
	return nil
}

// includeError is an Include failure worded as httpd words it.
type includeError string

func (e includeError) Error() string { return string(e) }

// hasWildcard is httpd's test for a wildcard Include, path or component
// (apr_fnmatch_test in server/config.c and util.c ap_dir_fnmatch).
func hasWildcard(p string) bool { return aprmatch.IsPattern(p) }

// expandPlain returns the host paths for a non-wildcard include.
func (l *loader) expandPlain(target string) ([]string, error) {
	host := l.hostPath(target)
	isDir, err := l.cache.isDir(host)
	if err != nil {
		return nil, includeError("Could not open configuration file " + target + ": " + describeErrno(err))
	}
	if !isDir {
		return []string{host}, nil
	}
	var out []string
	if err := l.listRecursive(host, &out, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// listRecursive appends every file below dir (sorted by strcmp, depth first).
func (l *loader) listRecursive(dir string, out *[]string, depth int) error {
	if depth > maxIncludeDepth {
		return includeError("Directory " + dir + " exceeds the maximum include directory nesting level of 128")
	}
	names, err := l.dirNames(dir)
	if errors.Is(err, errLookLimit) {
		return err
	}
	if err != nil {
		return includeError("Could not open config directory " + dir + ": " + describeErrno(err))
	}
	for _, name := range names {
		if err := l.count(); err != nil {
			return err
		}
		p := filepath.Join(dir, name)
		if isDir, err := l.cache.isDir(p); err == nil && isDir {
			if err := l.listRecursive(p, out, depth+1); err != nil {
				return err
			}
			continue
		}
		*out = append(*out, p)
	}
	return nil
}

// readDir lists a directory for an Include, sorted by name in byte order,
// like httpd's strcmp sort.
func readDir(root *rootfs.Root, dir string) ([]fs.DirEntry, error) {
	f, err := root.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return ents, nil
}

// expandGlob resolves a wildcard include component by component.
func (l *loader) expandGlob(target string) ([]string, error) {
	parts := strings.Split(filepath.ToSlash(target), "/")
	i := 0
	for i < len(parts) && !hasWildcard(parts[i]) {
		i++
	}
	if i == len(parts) {
		// A wildcard only across components ("a[b/c]d") is none in any
		// one of them: httpd then includes the path as written.
		return l.expandPlain(target)
	}
	base := strings.Join(parts[:i], "/")
	if base == "" {
		base = "/"
	}
	var out []string
	if err := l.globFrom(l.hostPath(base), base, parts[i:], target, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func (l *loader) globFrom(hostDir, dir string, rest []string, target string, out *[]string) error {
	names, err := l.dirNames(hostDir)
	if errors.Is(err, errLookLimit) {
		return err
	}
	if err != nil {
		return includeError("Could not open directory " + dir + ": " + describeErrno(err))
	}
	pattern, last := rest[0], len(rest) == 1
	matched := 0
	for _, name := range names {
		if !includeMatch(pattern, name) {
			continue
		}
		if err := l.count(); err != nil {
			return err
		}
		hp := filepath.Join(hostDir, name)
		isDir, err := l.cache.isDir(hp)
		if err != nil {
			continue
		}
		switch {
		case !last && isDir:
			matched++
			if err := l.globFrom(hp, dir+"/"+name, rest[1:], target, out); err != nil {
				return err
			}
		case last && isDir:
			matched++
			if err := l.listRecursive(hp, out, 0); err != nil {
				return err
			}
		case last:
			matched++
			*out = append(*out, hp)
		}
	}
	if matched == 0 && last {
		return includeError("No matches for the wildcard '" + pattern + "' in '" + dir + "', failing")
	}
	return nil
}

// includeMatch is how httpd's ap_dir_fnmatch picks directory entries for
// one component of a wildcard Include: apr_fnmatch with APR_FNM_PERIOD (a
// leading '.' needs a literal '.') for a wildcard, the name itself for
// a component without one.
func includeMatch(pattern, name string) bool {
	if !hasWildcard(pattern) {
		return pattern == name
	}
	return aprmatch.Match(pattern, name, aprmatch.Period)
}
