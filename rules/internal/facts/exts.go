package facts

import (
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// PHPExts are the extensions ServedExts looks for: those a PHP handler
// pattern may cover.
var PHPExts = []string{".php", ".phtml", ".phar", ".php3", ".php4", ".php5", ".php7", ".php8", ".html", ".htm", ".inc", ".shtml", ".tpl"}

// maxExtWalk bounds the entries ServedExts looks at in each served tree;
// past it every extension counts as present there.
const maxExtWalk = 1_000_000

// errWalkDone ends a walk early.
var errWalkDone = errors.New("walk done")

// ServedExts returns, for each served tree (a DocumentRoot or Alias target
// of the Today view, as written), which of PHPExts its files have. Built
// on first use, once per run. A tree too large to walk, or one that cannot
// be read, counts as holding them all: a finding is not dropped for want
// of a look.
func (f *Facts) ServedExts() map[string]map[string]bool { return f.servedExts() }

func (f *Facts) findServedExts() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	var dirs []string
	for _, dr := range DocumentRoots(f.Today) {
		dirs = append(dirs, dr.Path)
	}
	for _, a := range f.Today.Aliases {
		dirs = append(dirs, a.Path)
	}
	for _, d := range dirs {
		if _, done := out[d]; !done && d != "/" {
			out[d] = f.extsUnder(f.Today.HostPath(d))
		}
	}
	return out
}

// extsUnder walks one tree on this machine.
func (f *Facts) extsUnder(host string) map[string]bool {
	found := map[string]bool{}
	walked := 0
	err := f.FS.WalkDir(host, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == host && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if walked++; walked > maxExtWalk {
			return errWalkDone
		}
		if e.IsDir() {
			return nil
		}
		x := strings.ToLower(path.Ext(e.Name()))
		for _, w := range PHPExts {
			if x == w {
				found[x] = true
			}
		}
		if len(found) == len(PHPExts) {
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		for _, w := range PHPExts {
			found[w] = true
		}
	}
	return found
}

// ServesExt reports whether files with extension x exist in the trees a
// line of vh serves: the virtual host's DocumentRoot and the Alias targets,
// or every served tree for the main server (vh nil). Without any served
// tree (no DocumentRoot written: httpd's compiled-in default) it cannot
// tell, and says yes.
func (f *Facts) ServesExt(vh *parser.VHost, x string) bool {
	all := f.ServedExts()
	if len(all) == 0 {
		return true
	}
	if vh == nil {
		for _, exts := range all {
			if exts[x] {
				return true
			}
		}
		return false
	}
	root, _ := f.Today.DocumentRootOf(vh)
	if all[root][x] {
		return true
	}
	for _, a := range f.Today.Aliases {
		if (a.VHost == nil || SameVHost(a.VHost, vh)) && all[a.Path][x] {
			return true
		}
	}
	return false
}
