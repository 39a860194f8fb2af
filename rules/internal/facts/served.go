package facts

import (
	"io/fs"
	"path"
	"path/filepath"

	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// ServedRoot is a DocumentRoot line of the After view, with the pool
// serving it (nil when none can be told).
type ServedRoot struct {
	Root DocumentRoot
	Pool *fpmconf.Pool
}

// ServedRoots lists each distinct DocumentRoot written in the After view
// once (the first line naming it), with its pool.
func (f *Facts) ServedRoots() []ServedRoot { return f.served() }

func (f *Facts) findServedRoots() []ServedRoot {
	var out []ServedRoot
	seen := map[string]bool{}
	for _, dr := range DocumentRoots(f.After) {
		if dr.Node == nil || dr.Inherited || seen[dr.Path] {
			continue
		}
		seen[dr.Path] = true
		out = append(out, ServedRoot{dr, f.PoolServing(dr.VHost)})
	}
	return out
}

// PoolServing returns the pool that serves a virtual host (nil: the main
// server): the one a php-fpm handler inside it (else in the main server)
// connects to, else the only pool; nil when it cannot be told.
func (f *Facts) PoolServing(vh *parser.VHost) *fpmconf.Pool {
	pools := f.Pools()
	var fallback *fpmconf.Pool
	for _, h := range f.Handlers() {
		if !h.Entry.After {
			continue
		}
		hv := f.VHostOf(h.Node)
		if hv != nil && !SameVHost(hv, vh) {
			continue
		}
		if ps := PoolsFor(pools, h.Backend); len(ps) > 0 {
			if SameVHost(hv, vh) {
				return ps[0]
			}
			fallback = ps[0]
		}
	}
	if fallback != nil {
		return fallback
	}
	if len(pools) == 1 {
		return pools[0]
	}
	return nil
}

// maxRootWalk bounds the entries looked at per document root.
const maxRootWalk = 200000

// WalkRoot walks the document root docPath (a path in the configuration),
// looking at no more than maxRootWalk entries and skipping what cannot be
// read. It returns how many entries match accepted and up to maxExamples
// of them as configuration paths.
func (f *Facts) WalkRoot(docPath string, maxExamples int, match func(d fs.DirEntry) bool) (int, []string) {
	count, n := 0, 0
	var examples []string
	root := f.After.HostPath(docPath)
	_ = f.FS.WalkDir(root, func(fp string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if n++; n > maxRootWalk {
			return fs.SkipAll
		}
		if !match(d) {
			return nil
		}
		count++
		if len(examples) < maxExamples {
			rel, _ := filepath.Rel(root, fp)
			examples = append(examples, path.Join(docPath, filepath.ToSlash(rel)))
		}
		return nil
	})
	return count, examples
}
