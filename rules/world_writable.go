package rules

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/text"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
)

// worldWritable is MPM1003: world-writable files under the trees that
// serve PHP.
var worldWritable = register(&Rule{
	Code:     "MPM1003",
	Title:    "world-writable files under a PHP tree",
	Severity: Error,
	NeedsFS:  true,
	Doc: Doc{
		Text: `Walks every DocumentRoot, and every Alias target that holds PHP files, for files and directories anyone may write (mode 777, 666, any o+w), and reports them once per tree: counts, the directories with the most, and a few examples (` + "`--max-examples`" + `).

Under mod_php every site runs as Apache's user, so hosting operators often made upload and cache directories writable by everyone to let "the web server" write there. Under php-fpm each site can have its own pool user; a world-writable file then lets any other site's pool — or any local account — change what this site runs. Give the site's pool group write access instead (` + "`chgrp POOL_GROUP`, `chmod g+w,o-w`" + `), never o+w.

The walk never leaves a tree: symbolic links are not followed, and a tree shared by several virtual hosts is walked once. ` + "`DocumentRoot /`" + ` (or an ` + "`Alias`" + ` to /, or a link to /) is the whole filesystem, where o+w is normal (` + "`/tmp`" + `): it is not walked, and a warning at its line says so. Directories that cannot be read are reported as a warning, because the check is incomplete there. The walk looks at no more directory entries, in all trees together, than ` + "`--max-walk`" + ` allows (10,000,000 by default, the bound of the search for .htaccess files too); where it stops, a warning names the tree and how many trees were left. ` + "`--no-permissions`" + ` skips the walk.`,
		Before: "$ ls -l /var/www/site/uploads\n-rw-rw-rw- 1 www-data www-data 1024 avatar.php\n",
		After:  "$ chgrp -R site /var/www/site/uploads && chmod -R g+w,o-w /var/www/site/uploads\n",
		Since:  "0.1.0",
	},
	Run: runWorldWritable,
})

// inherited labels the origin of a tree that is a virtual host's only
// through the main server's DocumentRoot.
const inherited = "virtual host"

// tree is one directory tree to walk and the lines that make it served.
type tree struct {
	path    string // as httpd sees it
	host    string // on this machine
	alias   bool   // only an Alias target: report only when it holds PHP
	origins []Related
}

func runWorldWritable(p *Pass) {
	trees, whole := phpTrees(p)
	reportWholeFS(p, whole)
	budget := walkBudget(p.Options)
	for i, t := range trees {
		res := walkTree(p.ctx, p.facts.FS, t.host, p.Options, budget)
		if res.cut {
			reportCut(p, t, len(trees)-i-1)
		}
		if !t.alias || res.php {
			reportTree(p, t, res)
		}
		if res.cut {
			return
		}
	}
}

// walkBudget returns the directory entries the walks of a run may look at.
func walkBudget(opt *Options) *atomic.Int64 {
	b := &atomic.Int64{}
	b.Store(opt.maxWalk())
	return b
}

// reportWholeFS says which lines make "/" a tree, and that it is not walked.
func reportWholeFS(p *Pass, whole []Related) {
	for _, o := range whole {
		p.Report(Diagnostic{Pos: o.Pos, Severity: Warning,
			Message: fmt.Sprintf("%s: the world-writable check does not walk /, the whole filesystem (o+w is normal in /tmp, /var/tmp and /dev/shm, and the site's files cannot be told from the system's); give the site a directory of its own", o.Message)})
	}
}

// reportCut says that the walk ran out of its budget of directory
// entries in t, and how many trees after it were not walked.
func reportCut(p *Pass, t *tree, skipped int) {
	after := ""
	if skipped > 0 {
		after = fmt.Sprintf(" (%d later %s not walked)", skipped, text.Plural(skipped, "tree", "trees"))
	}
	p.Report(Diagnostic{Pos: parser.Pos{File: t.host}, Severity: Warning, Related: t.origins,
		Message: fmt.Sprintf("the world-writable check stopped under %s: the trees hold more than %d directory entries%s; files further in are not checked; raise the limit with --max-walk if the tree is genuine",
			t.path, p.Options.maxWalk(), after)})
}

// phpTrees collects the DocumentRoots and Alias targets, and keeps only
// the outermost of nested trees (and one of several paths that resolve to
// the same directory). Missing directories are dropped; the lines that
// make the whole filesystem a tree ("/", or a link to it) are returned
// apart, as whole, and not walked. A virtual host without a DocumentRoot
// of its own is not among them: the main server's line is.
func phpTrees(p *Pass) (out []*tree, whole []Related) {
	var trees []*tree
	wholeFS := func(o Related, what string) {
		if o.Message != inherited {
			whole = appendOrigin(whole, Related{Pos: o.Pos, Message: o.Message + " " + what})
		}
	}
	add := func(path string, alias bool, origin Related) {
		switch {
		case path == "":
		case path == "/":
			wholeFS(origin, "/")
		default:
			trees = append(trees, &tree{path: path, alias: alias, origins: []Related{origin}})
		}
	}
	for _, cfg := range []*parser.Config{p.Today, p.After} {
		for _, d := range facts.DocumentRoots(cfg) {
			if d.Inherited {
				add(d.Path, false, Related{Pos: d.VHost.Pos, Message: inherited})
			} else if d.Node != nil {
				add(d.Path, false, Related{Pos: d.Node.Pos, Message: "DocumentRoot"})
			}
		}
		for _, a := range cfg.Aliases {
			add(a.Path, true, Related{Pos: a.Node.Pos, Message: a.Node.Name + " target"})
		}
		if p.After == p.Today {
			break
		}
	}
	// Resolve on disk; drop what is not a directory.
	byHost := map[string]*tree{}
	var kept []*tree
	for _, t := range trees {
		host := p.Today.HostPath(t.path)
		real, err := p.facts.FS.EvalSymlinks(host)
		if err != nil {
			continue
		}
		if st, err := p.facts.FS.Stat(real); err != nil || !st.IsDir() {
			continue
		}
		if real == p.Today.HostPath("/") { // the server's / (under --root, the root)
			for _, o := range t.origins {
				wholeFS(o, t.path+" (resolves to /)")
			}
			continue
		}
		if prev := byHost[real]; prev != nil {
			prev.origins = appendOrigin(prev.origins, t.origins...)
			prev.alias = prev.alias && t.alias
			continue
		}
		t.host = real
		byHost[real] = t
		kept = append(kept, t)
	}
	slices.SortFunc(kept, func(a, b *tree) int { return strings.Compare(a.host, b.host) })
	for _, t := range kept {
		if n := len(out); n > 0 && facts.Under(t.host, out[n-1].host) {
			out[n-1].origins = appendOrigin(out[n-1].origins, t.origins...)
			out[n-1].alias = out[n-1].alias && t.alias
			continue
		}
		out = append(out, t)
	}
	return out, whole
}

func appendOrigin(list []Related, more ...Related) []Related {
	for _, m := range more {
		if !slices.ContainsFunc(list, func(r Related) bool { return r.Pos == m.Pos }) {
			list = append(list, m)
		}
	}
	return list
}

// walkResult is what a walk found.
type walkResult struct {
	mu              sync.Mutex
	files, dirs     int
	perDir          map[string]int // parent directory (relative) -> count
	examples        []example      // the smallest paths, at most max
	max             int
	unreadable      []string
	unreadableCount int
	php             bool
	cut             bool // the budget of directory entries ran out
}

type example struct {
	rel  string
	mode fs.FileMode
}

func (r *walkResult) found(rel string, mode fs.FileMode, dir bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if dir {
		r.dirs++
	} else {
		r.files++
	}
	// A world-writable directory is its own place to fix; a file is
	// counted in its directory.
	if dir {
		r.perDir[rel]++
	} else {
		r.perDir[filepath.Dir(rel)]++
	}
	if r.max <= 0 {
		return
	}
	i, _ := slices.BinarySearchFunc(r.examples, rel, func(e example, s string) int { return strings.Compare(e.rel, s) })
	if i >= r.max {
		return
	}
	r.examples = slices.Insert(r.examples, i, example{rel, mode})
	if len(r.examples) > r.max {
		r.examples = r.examples[:r.max]
	}
}

func (r *walkResult) failed(rel string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unreadableCount++
	r.unreadable = append(r.unreadable, rel)
}

// walkTree walks root without following symbolic links, on as many
// goroutines as there are CPUs (a stat per entry dominates, as for
// find -perm). Each directory's entries are taken from budget, shared by
// the trees of a run; once it runs out the walk stops and says so (cut).
// It stops entering directories once ctx is done.
func walkTree(ctx context.Context, fsys facts.FS, root string, opt *Options, budget *atomic.Int64) *walkResult {
	res := &walkResult{perDir: map[string]int{}, max: opt.maxExamples()}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	var walk func(dir, rel string)
	walk = func(dir, rel string) {
		defer wg.Done()
		if ctx.Err() != nil {
			return
		}
		entries, err := fsys.ReadDirModes(dir)
		if err != nil {
			res.failed(rel)
			return
		}
		if budget.Add(-int64(len(entries))) < 0 {
			res.mu.Lock()
			res.cut = true
			res.mu.Unlock()
			return
		}
		php := false
		for i, e := range entries {
			if i%1024 == 1023 && ctx.Err() != nil {
				return
			}
			if opt.Walked != nil {
				opt.Walked.Add(1)
			}
			if e.Err != nil {
				if !errors.Is(e.Err, fs.ErrNotExist) {
					res.failed(joinRel(rel, e.Name))
				}
				continue
			}
			if e.Symlink {
				continue
			}
			if !php && !e.Dir && isPHPName(e.Name) {
				php = true
			}
			if e.Perm&0o002 != 0 {
				mode := fs.FileMode(e.Perm & 0o777)
				if e.Dir {
					mode |= fs.ModeDir
				}
				res.found(joinRel(rel, e.Name), mode, e.Dir)
			}
			if e.Dir {
				wg.Add(1)
				child, childRel := filepath.Join(dir, e.Name), joinRel(rel, e.Name)
				select {
				case sem <- struct{}{}:
					go func() {
						defer func() { <-sem }()
						walk(child, childRel)
					}()
				default:
					walk(child, childRel)
				}
			}
		}
		if php {
			res.mu.Lock()
			res.php = true
			res.mu.Unlock()
		}
	}
	// The root itself.
	if st, err := fsys.Lstat(root); err == nil && st.Mode().Perm()&0o002 != 0 {
		res.found(".", st.Mode(), true)
	}
	wg.Add(1)
	walk(root, ".")
	wg.Wait()
	slices.Sort(res.unreadable)
	return res
}

// isPHPName is phpIndex.MatchString without the regexp, for the hot loop.
func isPHPName(name string) bool {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return false
	}
	ext := strings.ToLower(name[i+1:])
	switch ext {
	case "php", "phtml", "phar":
		return true
	}
	return len(ext) == 4 && ext[:3] == "php" && ext[3] >= '0' && ext[3] <= '9'
}

func joinRel(rel, name string) string {
	if rel == "." {
		return name
	}
	return rel + "/" + name
}

func reportTree(p *Pass, t *tree, res *walkResult) {
	pos := parser.Pos{File: t.host}
	if res.files+res.dirs > 0 {
		type dirCount struct {
			dir string
			n   int
		}
		var top []dirCount
		for d, n := range res.perDir {
			top = append(top, dirCount{d, n})
		}
		slices.SortFunc(top, func(a, b dirCount) int { return cmp.Or(cmp.Compare(b.n, a.n), strings.Compare(a.dir, b.dir)) })
		top = top[:min(3, len(top))]
		var tops, fixDirs []string
		for _, d := range top {
			name := d.dir + "/"
			if d.dir == "." {
				name = "./"
			}
			tops = append(tops, fmt.Sprintf("%s (%d)", name, d.n))
			fixDirs = append(fixDirs, filepath.Join(t.path, d.dir))
		}
		rel := slices.Clone(t.origins)
		for _, e := range res.examples {
			rel = append(rel, Related{Pos: parser.Pos{File: filepath.Join(t.host, e.rel)}, Message: fmt.Sprintf("world-writable (%04o)", e.mode.Perm())})
		}
		var fix strings.Builder
		fmt.Fprintf(&fix, "find %s -perm -o+w ! -type l -exec chmod o-w {} +\n", t.path)
		for _, d := range fixDirs {
			fmt.Fprintf(&fix, "chgrp -R POOL_GROUP %s && chmod -R g+w %s\n", d, d)
		}
		p.Report(Diagnostic{Pos: pos, Related: rel, Fix: fix.String(),
			Message: fmt.Sprintf("%s under %s (most in %s): under php-fpm another site's pool or any local user can change what this site runs; give the site's pool group g+w instead, never o+w (see fix)",
				countPhrase(res.files, res.dirs), t.path, strings.Join(tops, ", "))})
	}
	if res.unreadableCount > 0 {
		ex := res.unreadable[:min(len(res.unreadable), max(1, p.Options.maxExamples()))]
		p.Report(Diagnostic{Pos: pos, Severity: Warning, Related: t.origins,
			Message: fmt.Sprintf("%d %s under %s could not be read (%s): the world-writable check is incomplete there; run lint as root or fix their permissions",
				res.unreadableCount, text.Plural(res.unreadableCount, "entry", "entries"), t.path, strings.Join(ex, ", "))})
	}
}

// countPhrase says "3 world-writable files and 1 directory", leaving out a
// zero count.
func countPhrase(files, dirs int) string {
	switch {
	case files > 0 && dirs > 0:
		return fmt.Sprintf("%d world-writable %s and %d %s", files, text.Plural(files, "file", "files"), dirs, text.Plural(dirs, "directory", "directories"))
	case files > 0:
		return fmt.Sprintf("%d world-writable %s", files, text.Plural(files, "file", "files"))
	}
	return fmt.Sprintf("%d world-writable %s", dirs, text.Plural(dirs, "directory", "directories"))
}
