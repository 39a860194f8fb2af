package parser

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/aprmatch"
)

// DirSection is a <Directory> or <DirectoryMatch> section as httpd keeps
// it for its directory walk (server/core.c dirsection): a regular
// expression, or an absolute path with a trailing slash that is a
// wildcard pattern when apr_fnmatch_test says so.
type DirSection struct {
	Node  *Node
	VHost *VHost // nil: the main server
	// Options are the section's own Options lines (Options.Apply); the
	// walk's callers merge them to learn whether the walk ends on the
	// file (Options.FollowsSymLinks).
	Options Options
	path    string // "/a/b/" ("/" for the root); a regex section's expression
	re      *regexp.Regexp
	glob    bool
	depth   int // path components ("/" is 0), httpd's d_components less one
}

// NewDirSection reads the header of a <Directory> or <DirectoryMatch>
// section n with arguments args (${VAR} substituted) in virtual host vh:
// "~ re" or <DirectoryMatch re> is a regular expression, any other path
// is made absolute under serverRoot and cleaned.
func NewDirSection(n *Node, args []string, vh *VHost, serverRoot string) (*DirSection, error) {
	regex := strings.EqualFold(n.Name, "directorymatch")
	if !regex && len(args) == 2 && args[0] == "~" {
		regex, args = true, args[1:]
	}
	if len(args) != 1 {
		return nil, fmt.Errorf("%s: <%s> takes one argument", n.Pos, n.Name)
	}
	d := &DirSection{Node: n, VHost: vh, path: args[0]}
	if regex {
		re, err := regexp.Compile(args[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.Pos, err)
		}
		d.re = re
		return d, nil
	}
	p := args[0]
	if !filepath.IsAbs(p) {
		p = filepath.Join(serverRoot, p)
	}
	d.path = filepath.ToSlash(filepath.Clean(p))
	if d.path != "/" {
		d.path += "/"
		d.depth = strings.Count(d.path, "/") - 1
	}
	d.glob = aprmatch.IsPattern(d.path)
	return d, nil
}

// Path returns the cleaned path without its trailing slash, or a regex
// section's expression.
func (d *DirSection) Path() string {
	if d.re == nil && d.path != "/" {
		return strings.TrimSuffix(d.path, "/")
	}
	return d.path
}

// Regexp returns the expression of a <DirectoryMatch> or <Directory ~>
// section, nil for a path.
func (d *DirSection) Regexp() *regexp.Regexp { return d.re }

// Wildcard reports whether the path is an apr_fnmatch pattern.
func (d *DirSection) Wildcard() bool { return d.glob }

// DirSections answers which <Directory> and <DirectoryMatch> sections
// apply to a directory, in the order httpd merges them. httpd sorts a
// server's sections (core.c ap_core_reorder_directories): paths before
// regular expressions, paths by their number of components, then the
// main server's before a virtual host's, then file order. Its directory
// walk (request.c ap_directory_walk) goes from "/" down to the directory
// and at each level merges the path sections with that many components
// that equal the level's path, or match it with apr_fnmatch and
// APR_FNM_PATHNAME; then the regular expressions that match.
//
// Build it once (Add, in file order), then ask Walk as often as needed.
//
// The walk can end on the request's file itself. httpd first stats
// r->filename; when that is an existing file (no path-info past it) and
// the Options merged so far (the server's, each level's sections and
// access file, in walk order) have FollowSymLinks without
// SymLinksIfOwnerMatch (Options.FollowsSymLinks), it takes every
// remaining path segment for a directory without a stat, the file's own
// name included: the sections whose path equals the file's, or whose
// wildcard matches it, merge at one more level after the directory's
// access file (shim TestIntegrationDirectoryMatchesFile). Otherwise it
// lstat()s the segment, finds a file and stops. Access files are not read
// at that level (the open fails with ENOTDIR, which httpd ignores), so
// such a section's AllowOverride changes nothing; its Options come too
// late to change the walk. Walk's toFile asks for that level.
type DirSections struct {
	secs  []*DirSection
	exact map[string][]int // path sections without wildcards, by path
	globs [][]int          // wildcard path sections, by depth
	regex []int
}

// Add appends a section and returns its index, the i Walk reports.
// Sections must be added in file order.
func (s *DirSections) Add(d *DirSection) int {
	i := len(s.secs)
	s.secs = append(s.secs, d)
	switch {
	case d.re != nil:
		s.regex = s.insert(s.regex, i)
	case d.glob:
		for len(s.globs) <= d.depth {
			s.globs = append(s.globs, nil)
		}
		s.globs[d.depth] = s.insert(s.globs[d.depth], i)
	default:
		if s.exact == nil {
			s.exact = map[string][]int{}
		}
		k := d.Path()
		s.exact[k] = s.insert(s.exact[k], i)
	}
	return i
}

// Section returns the section Add numbered i.
func (s *DirSections) Section(i int) *DirSection { return s.secs[i] }

// insert adds i to a list kept in merge order: the main server's
// sections before virtual hosts', each in file order.
func (s *DirSections) insert(list []int, i int) []int {
	k := len(list)
	for k > 0 && s.secs[list[k-1]].VHost != nil && s.secs[i].VHost == nil {
		k--
	}
	list = append(list, 0)
	copy(list[k+1:], list[k:])
	list[k] = i
	return list
}

// Walk calls fn, in httpd's merge order, for each section that applies to
// the absolute, cleaned directory dir in virtual host vh (nil: the main
// server; a virtual host also has the main server's sections). level is
// the depth of the walk's step that merges the section ("/" is 0, dir is
// its number of components), or -1 for a regular expression, merged after
// every level. With toFile, and file a name in dir, the walk goes on to
// file's own path as a directory (level: dir's depth plus one), which
// httpd does when file exists and Options.FollowsSymLinks holds at dir; a
// caller that learns the access files' Options only as it merges the
// levels asks with toFile and drops that level's sections when the
// Options say no. Regular expressions are matched against file, the path
// httpd's walk ends on (r->filename): the request's file when there is
// one, so <DirectoryMatch "/rx$"> does not apply to /rx/i.php
// (TestIntegrationResolverAgainstModPHP); else dir. Walk allocates only
// to match a wildcard at dir's own level.
func (s *DirSections) Walk(dir, file string, toFile bool, vh *VHost, fn func(level, i int)) {
	if len(s.secs) == 0 {
		return
	}
	s.walkLevel(0, "/", "/", vh, fn)
	level := 1
	for end := 0; dir != "/" && end < len(dir); level++ {
		next := strings.IndexByte(dir[end+1:], '/')
		if next < 0 {
			end = len(dir)
		} else {
			end += 1 + next
		}
		// subject is the level's path as httpd matches it, with a
		// trailing slash; made only when a wildcard of this depth exists.
		subject := ""
		if level < len(s.globs) && len(s.globs[level]) > 0 {
			if end < len(dir) {
				subject = dir[:end+1]
			} else {
				subject = dir + "/"
			}
		}
		s.walkLevel(level, dir[:end], subject, vh, fn)
	}
	if toFile && inDir(file, dir) {
		subject := ""
		if level < len(s.globs) && len(s.globs[level]) > 0 {
			subject = file + "/"
		}
		s.walkLevel(level, file, subject, vh, fn)
	}
	for _, i := range s.regex {
		if d := s.secs[i]; applies(d, vh) && d.re.MatchString(file) {
			fn(-1, i)
		}
	}
}

// inDir reports whether file is a name directly in the directory dir.
func inDir(file, dir string) bool {
	if dir == "/" {
		return len(file) > 1 && file[0] == '/' && strings.IndexByte(file[1:], '/') < 0
	}
	return len(file) > len(dir)+1 && file[len(dir)] == '/' && file[:len(dir)] == dir &&
		strings.IndexByte(file[len(dir)+1:], '/') < 0
}

// walkLevel reports the path sections of one level: those without
// wildcards whose path is key (the level's path, no trailing slash but
// for "/"), and the wildcards of that depth that match subject, merged in
// order.
func (s *DirSections) walkLevel(level int, key, subject string, vh *VHost, fn func(level, i int)) {
	exact := s.exact[key]
	var globs []int
	if level < len(s.globs) {
		globs = s.globs[level]
	}
	for len(exact) > 0 || len(globs) > 0 {
		var i int
		if len(globs) == 0 || len(exact) > 0 && s.before(exact[0], globs[0]) {
			i, exact = exact[0], exact[1:]
		} else {
			i, globs = globs[0], globs[1:]
			if !aprmatch.Match(s.secs[i].path, subject, aprmatch.PathName) {
				continue
			}
		}
		if applies(s.secs[i], vh) {
			fn(level, i)
		}
	}
}

// before reports whether section i merges before section j of the same
// level: the main server's first, then file order.
func (s *DirSections) before(i, j int) bool {
	mi, mj := s.secs[i].VHost == nil, s.secs[j].VHost == nil
	if mi != mj {
		return mi
	}
	return i < j
}

// applies reports whether a section belongs to the server a request in
// vh reads: the main server's, or vh's own.
func applies(d *DirSection, vh *VHost) bool { return d.VHost == nil || d.VHost == vh }
