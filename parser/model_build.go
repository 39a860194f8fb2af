package parser

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// dirOverride is what a non-regex <Directory> says about overrides.
type dirOverride struct {
	override *Node // AllowOverride, or nil
	list     *Node // AllowOverrideList, or nil
}

// finish builds the model from the evaluated tree.
func (l *loader) finish() {
	c := l.cfg
	m := &modelBuilder{l: l, dirIndex: &dirIndex{}}
	c.dirs = m.dirIndex
	if c.Main != nil {
		m.collect(c.Main.Nodes, nil, false)
	}
	for _, vh := range c.VHosts {
		if vh.DocumentRoot == "" {
			vh.DocumentRoot = m.mainDocRoot
			vh.docRoot = m.mainDocRootNode
		}
	}
	c.DocumentRoot, c.docRoot = m.mainDocRoot, m.mainDocRootNode
	c.AccessNames = m.accessNames
	if len(l.opt.AccessFileNames) > 0 {
		c.AccessNames = l.opt.AccessFileNames
	}
	if len(c.AccessNames) == 0 {
		c.AccessNames = []string{".htaccess"}
	}
	if !l.opt.NoAccessFiles && !l.stopped {
		m.discoverAccess()
	}
}

type modelBuilder struct {
	l           *loader
	mainDocRoot string
	// mainDocRootNode is the main server's DocumentRoot line.
	mainDocRootNode *Node
	accessNames     []string
	*dirIndex
}

// dirIndex holds the non-regex <Directory> sections of a tree.
type dirIndex struct {
	secs DirSections
	info []dirOverride // by the index secs gave each section
}

// AllowOverrideFor returns the effective AllowOverride/AllowOverrideList of
// a directory (as httpd sees the path) for a vhost (nil = the main server).
func (c *Config) AllowOverrideFor(dir string, vh *VHost) Override {
	if c.dirs == nil {
		return Override{}
	}
	return c.dirs.overrideFor(filepath.Clean(dir), vh)
}

// collect walks the active tree keeping track of the enclosing vhost and
// whether we are inside a per-directory section.
func (m *modelBuilder) collect(ns []*Node, vh *VHost, inDir bool) {
	c := m.l.cfg
	for _, n := range ns {
		switch n.Kind {
		case KindDirective:
			m.directive(n, vh, inDir)
			for _, f := range n.Included() {
				m.collect(f.Nodes, vh, inDir)
			}
		case KindSection:
			if !n.Active {
				continue
			}
			switch lower(n.Name) {
			case "virtualhost":
				if vh != nil {
					m.collect(n.Children, vh, inDir) // httpd refuses nesting; keep reading
					continue
				}
				v := &VHost{Node: n, Addrs: n.Args, Pos: n.Pos}
				c.VHosts = append(c.VHosts, v)
				if c.vhosts == nil {
					c.vhosts, c.vhostAt = map[*Node]*VHost{}, map[Pos]*VHost{}
				}
				c.vhosts[n], c.vhostAt[n.Pos] = v, v
				m.collect(n.Children, v, false)
			case "directory":
				if len(n.Args) == 1 && n.Args[0] != "~" {
					m.addDir(n, vh)
				}
				if vh != nil {
					vh.Sections = append(vh.Sections, n)
				}
				m.collect(n.Children, vh, true)
			case "location", "locationmatch":
				if vh != nil {
					vh.Sections = append(vh.Sections, n)
				}
				m.locationAliases(n, vh)
				m.collect(n.Children, vh, true)
			case "directorymatch", "files", "filesmatch", "proxy", "proxymatch":
				if vh != nil {
					vh.Sections = append(vh.Sections, n)
				}
				m.collect(n.Children, vh, true)
			case "macro":
			default:
				if IsConditional(n) {
					m.collect(n.Children, vh, inDir)
				} else {
					m.collect(n.Children, vh, true)
				}
			}
		}
	}
}

func (m *modelBuilder) directive(n *Node, vh *VHost, inDir bool) {
	c := m.l.cfg
	arg := ""
	if len(n.Args) > 0 {
		arg = n.Args[0]
	}
	switch lower(n.Name) {
	case "user":
		if vh == nil && !inDir {
			c.User = arg
		}
	case "group":
		if vh == nil && !inDir {
			c.Group = arg
		}
	case "servername":
		if vh != nil && !inDir {
			vh.ServerName = hostOnly(arg)
		}
	case "serveralias":
		if vh != nil && !inDir {
			vh.ServerAliases = append(vh.ServerAliases, n.Args...)
		}
	case "documentroot":
		if inDir || arg == "" {
			return
		}
		root := m.l.serverRootRelative(arg)
		if vh != nil {
			vh.DocumentRoot, vh.docRoot = root, n
		} else {
			m.mainDocRoot, m.mainDocRootNode = root, n
		}
	case "accessfilename":
		if !inDir && len(n.Args) > 0 {
			m.accessNames = append([]string(nil), n.Args...)
		}
	case "alias", "aliasmatch", "scriptalias", "scriptaliasmatch":
		if len(n.Args) == 2 && !inDir {
			m.addAlias(n, n.Args[0], n.Args[1], vh)
		}
	}
}

// locationAliases records the one-argument Alias and ScriptAlias forms
// directly inside a <Location> or <LocationMatch> (through true
// conditionals): the section names the URL.
func (m *modelBuilder) locationAliases(sec *Node, vh *VHost) {
	if len(sec.Args) != 1 {
		return
	}
	Walk(sec.Children, false, func(n *Node) bool {
		if n.Kind == KindSection {
			return IsConditional(n)
		}
		if n.Kind != KindDirective {
			return true
		}
		if k, ok := aliasKinds[lower(n.Name)]; ok && !k.Regex() && len(n.Args) == 1 {
			m.addAlias(n, sec.Args[0], n.Args[0], vh)
		}
		return true
	})
}

// addAlias records an alias directive; a Match form's target is cut at
// its first $N to the directory every target lies under.
func (m *modelBuilder) addAlias(n *Node, url, target string, vh *VHost) {
	k := aliasKinds[lower(n.Name)]
	if k.Regex() {
		if i := strings.IndexByte(target, '$'); i >= 0 {
			target = target[:i]
			if j := strings.LastIndexByte(target, '/'); j >= 0 {
				target = target[:j+1]
			}
		}
	}
	if target == "" {
		return
	}
	a := Alias{Kind: k, URL: url, Path: m.l.serverRootRelative(target), VHost: vh, Node: n}
	m.l.cfg.Aliases = append(m.l.cfg.Aliases, a)
}

// hostOnly strips a scheme and port from a ServerName, as apache2 -S shows it.
func hostOnly(name string) string {
	if i := strings.Index(name, "://"); i >= 0 {
		name = name[i+3:]
	}
	if strings.HasPrefix(name, "[") {
		if i := strings.IndexByte(name, ']'); i > 0 {
			return name[:i+1]
		}
	}
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		name = name[:i]
	}
	return name
}

func (m *modelBuilder) addDir(n *Node, vh *VHost) {
	d, err := NewDirSection(n, n.Args, vh, m.l.cfg.ServerRoot)
	if err != nil {
		return
	}
	var o dirOverride
	Walk(n.Children, false, func(c *Node) bool {
		if c.Kind == KindSection && !IsConditional(c) {
			return false
		}
		switch lower(c.Name) {
		case "allowoverride":
			o.override = c
		case "allowoverridelist":
			o.list = c
		}
		return true
	})
	m.secs.Add(d)
	m.info = append(m.info, o)
}

// overrideFor computes the effective AllowOverride of dir for a vhost:
// the sections that apply, in httpd's merge order (DirSections), each
// replacing what the ones before it set.
func (m *dirIndex) overrideFor(dir string, vh *VHost) Override {
	var o Override
	m.secs.Walk(dir, dir, false, vh, func(_, i int) {
		d := m.info[i]
		if d.override != nil {
			o.Set, o.Pos = true, d.override.Pos
			o.Mask, o.Nonfatal = parseOverride(d.override.Args)
		}
		if d.list != nil {
			o.List = nil
			for _, a := range d.list.Args {
				if !strings.EqualFold(a, "none") {
					o.List = append(o.List, strings.ToLower(a))
				}
			}
		}
	})
	return o
}

// parseOverride turns AllowOverride arguments into httpd's OR_* bits and
// the Nonfatal= bits. As in httpd's core.c set_override, All and None
// assign the whole set, so a Nonfatal= before them is lost.
func parseOverride(args []string) (mask, nonfatal uint) {
	for _, a := range args {
		name, val, _ := strings.Cut(a, "=")
		switch lower(name) {
		case "all":
			mask, nonfatal = OverrideAll, 0
		case "none":
			mask, nonfatal = 0, 0
		case "nonfatal":
			switch {
			case strings.EqualFold(val, "override"):
				nonfatal |= NonfatalOverride
			case strings.EqualFold(val, "unknown"):
				nonfatal |= NonfatalUnknown
			case strings.EqualFold(val, "all"):
				nonfatal |= NonfatalOverride | NonfatalUnknown
			}
		case "limit":
			mask |= OverrideLimit
		case "options":
			mask |= OverrideOptions
		case "fileinfo":
			mask |= OverrideFileInfo
		case "authconfig":
			mask |= OverrideAuth
		case "indexes":
			mask |= OverrideIndexes
		}
	}
	return mask, nonfatal
}

// overrideMask is parseOverride's OR_* bits alone.
func overrideMask(args []string) uint {
	m, _ := parseOverride(args)
	return m
}

// accessRoot is a directory tree httpd may read access files in.
type accessRoot struct {
	path  string
	vhost *VHost
	must  bool // report when missing (a DocumentRoot)
	pos   Pos  // the line that makes it a root
}

// accessRoots lists every DocumentRoot, Alias target and <Directory> that
// allows overrides, in configuration order.
func (m *modelBuilder) accessRoots() []accessRoot {
	roots := make([]accessRoot, 0, 1+len(m.l.cfg.VHosts)+len(m.l.cfg.Aliases)+len(m.info))
	if m.mainDocRoot != "" {
		roots = append(roots, accessRoot{m.mainDocRoot, nil, true, m.mainDocRootNode.Pos})
	}
	for _, vh := range m.l.cfg.VHosts {
		if vh.DocumentRoot != "" {
			pos := vh.Pos
			if vh.docRoot != nil {
				pos = vh.docRoot.Pos
			}
			roots = append(roots, accessRoot{vh.DocumentRoot, vh, true, pos})
		}
	}
	for _, a := range m.l.cfg.Aliases {
		// The two-argument Alias and ScriptAlias, as before the other
		// forms were recorded (a Match prefix can be all of /home).
		if !a.Kind.Regex() && len(a.Node.Args) == 2 {
			roots = append(roots, accessRoot{a.Path, a.VHost, false, a.Node.Pos})
		}
	}
	for i, o := range m.info {
		d := m.secs.Section(i)
		if d.depth > 0 && !d.glob && (o.override != nil && overrideMask(o.override.Args) != 0 || o.list != nil) {
			roots = append(roots, accessRoot{d.Path(), d.VHost, false, d.Node.Pos})
		}
	}
	return roots
}

// discoverAccess finds the access files httpd would read under every
// root: the roots are walked concurrently, then the files are evaluated
// in root order (a directory shared by several roots counts once).
func (m *modelBuilder) discoverAccess() {
	c := m.l.cfg
	roots := m.accessRoots()
	results, missing, cut := m.walkRoots(roots)
	m.reportCut(roots, cut)
	seen := map[string]bool{}
	for i, r := range roots {
		if seen[r.path] || m.l.cache.ctx.Err() != nil {
			continue
		}
		if missing[i] {
			seen[r.path] = true
			if r.must && r.vhost != nil {
				m.l.diag(r.vhost.Pos, SevWarning, "io", "DocumentRoot [%s] does not exist", r.path)
			}
			continue
		}
		for _, d := range results[i] {
			if seen[d.dir] {
				continue
			}
			seen[d.dir] = true
			if d.err != nil {
				m.l.diag(Pos{File: d.hostDir}, SevWarning, "io", "cannot read directory %s: %s", d.hostDir, describeErrno(d.err))
				continue
			}
			m.readAccess(d.file, d.dir, d.override)
		}
	}
	sort.SliceStable(c.Access, func(i, j int) bool { return c.Access[i].Dir < c.Access[j].Dir })
}

// reportCut reports, at the first root (in configuration order) whose
// walk the budget of directory entries cut short, that access files went
// unread from there on.
func (m *modelBuilder) reportCut(roots []accessRoot, cut []bool) {
	for i, r := range roots {
		if cut[i] {
			m.l.diag(r.pos, SevWarning, "limit", "the search for access files stopped under %s: the document roots hold more than %d directory entries; access files further in, and under the roots after this one, are not checked; raise the limit with --max-walk if the tree is genuine", r.path, m.l.opt.maxWalk())
			return
		}
	}
}

// walkRoots walks the roots with GOMAXPROCS workers.
func (m *modelBuilder) walkRoots(roots []accessRoot) (results [][]accessDir, missing, cut []bool) {
	results = make([][]accessDir, len(roots))
	missing = make([]bool, len(roots))
	cut = make([]bool, len(roots))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(roots) || m.l.cache.ctx.Err() != nil {
					return
				}
				results[i], missing[i], cut[i] = m.walkRoot(m.l.cfg.HostPath(roots[i].path), roots[i].path, roots[i].vhost)
			}
		}()
	}
	wg.Wait()
	return results, missing, cut
}

// accessDir is a directory found by a walk whose access file httpd reads.
type accessDir struct {
	hostDir, dir string
	file         string // host path of the access file
	override     Override
	err          error // the directory could not be read
}

// walkRoot lists the access files httpd reads under one root, and
// reports a root that does not exist. The filesystem listing is shared by
// both views (parseCache.listing); only the overrides are per view. It only
// reads, so roots are walked concurrently.
func (m *modelBuilder) walkRoot(host, dir string, vh *VHost) (out []accessDir, missing, cut bool) {
	lst := m.l.cache.listing(host, m.l.cfg.AccessNames)
	if lst.missing {
		return nil, true, false
	}
	for _, e := range lst.dirs {
		d, hd := filepath.Join(dir, e.rel), filepath.Join(host, e.rel)
		if e.err != nil {
			out = append(out, accessDir{hostDir: hd, dir: d, err: e.err})
			continue
		}
		if e.file == "" {
			continue
		}
		if o := m.overrideFor(d, vh); o.Reads() {
			p := filepath.Join(hd, e.file)
			out = append(out, accessDir{hostDir: hd, dir: d, file: p, override: o})
			m.l.cache.parse(p, true) // parse while walking; evaluated later in order
		}
	}
	return out, false, lst.cut
}

// listedDir is one directory of a tree listing: its path relative to the
// root, the first access file name present in it, or why it could not be read.
type listedDir struct {
	rel  string
	file string
	err  error
}

// treeListing is every directory under a root (symbolic links to
// directories are not followed), in depth-first order.
type treeListing struct {
	once    sync.Once
	dirs    []listedDir
	missing bool
	// cut is set when the load's budget of directory entries
	// (LoadOptions.MaxWalk) ran out before the tree was listed.
	cut bool
}

// listing lists a tree once per load, whichever view asks first. Each
// directory costs one read of its entries: the access file is looked up
// among them rather than with a stat per name.
func (c *parseCache) listing(host string, names []string) *treeListing {
	key := host + "\x00" + strings.Join(names, "\x00")
	c.mu.Lock()
	if c.lists == nil {
		c.lists = map[string]*treeListing{}
	}
	t := c.lists[key]
	if t == nil {
		t = &treeListing{}
		c.lists[key] = t
	}
	c.mu.Unlock()
	t.once.Do(func() {
		// Below the root, every directory listed is one (not a link), so
		// only the root's path needs resolving.
		real, err := c.root.Real(host)
		var entries []fs.DirEntry
		if err == nil {
			entries, err = os.ReadDir(real)
		}
		switch {
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
			t.missing = true
		case err != nil:
			t.dirs = []listedDir{{rel: ".", err: err}}
		default:
			t.list(c, real, ".", entries, names)
		}
	})
	return t
}

// list records a directory and lists its subdirectories, depth first,
// while the budget of entries shared by every listing of the load
// (c.walkLeft) lasts, and stops descending once the load is given up
// (c.ctx is done).
func (t *treeListing) list(c *parseCache, host, rel string, entries []fs.DirEntry, names []string) {
	if c.walkLeft.Add(-int64(len(entries))) < 0 {
		t.cut = true
		return
	}
	t.dirs = append(t.dirs, listedDir{rel: rel, file: accessName(entries, names)})
	c.listed.add(host, entries)
	if c.progress != nil {
		c.progress.Dirs.Add(1)
	}
	for _, e := range entries {
		if t.cut {
			return
		}
		if !e.IsDir() { // symbolic links to directories are not followed
			continue
		}
		if c.ctx.Err() != nil {
			return
		}
		sub, subRel := filepath.Join(host, e.Name()), filepath.Join(rel, e.Name())
		children, err := os.ReadDir(sub)
		if err != nil {
			t.dirs = append(t.dirs, listedDir{rel: subRel, err: err})
			continue
		}
		t.list(c, sub, subRel, children, names)
	}
}

// dirListings are the subdirectories of each directory the search for
// access files listed, by host path, for Config.ListedSubdirs.
type dirListings struct {
	mu   sync.Mutex
	subs map[string][]string
}

// add records the subdirectories among a directory's entries.
func (d *dirListings) add(host string, entries []fs.DirEntry) {
	var subs []string
	for _, e := range entries {
		if e.IsDir() {
			subs = append(subs, e.Name())
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.subs == nil {
		d.subs = map[string][]string{}
	}
	d.subs[filepath.Clean(host)] = subs
}

// ListedSubdirs returns the names of the subdirectories of the directory
// at host path host (under Root), sorted, as the search for access files
// listed them while loading (symbolic links to directories are no
// subdirectories), and whether it listed that directory. Whoever needs a
// document root's subdirectories after the load (the migration plan)
// asks here before reading the directory again.
func (c *Config) ListedSubdirs(host string) ([]string, bool) {
	if c.listed == nil {
		return nil, false
	}
	c.listed.mu.Lock()
	defer c.listed.mu.Unlock()
	subs, ok := c.listed.subs[filepath.Clean(host)]
	return subs, ok
}

// accessName returns the first AccessFileName present among the entries
// (a regular file or a link to one; httpd opens it either way).
func accessName(entries []fs.DirEntry, names []string) string {
	for _, name := range names {
		i := sort.Search(len(entries), func(i int) bool { return entries[i].Name() >= name })
		if i < len(entries) && entries[i].Name() == name && !entries[i].IsDir() {
			return name
		}
	}
	return ""
}

// readAccess reads, evaluates and records one access file.
func (m *modelBuilder) readAccess(path, dir string, o Override) {
	l := m.l
	if l.stopped {
		return
	}
	f, diags, err := l.cache.get(path, true)
	if err != nil {
		if !l.tooLarge(Pos{File: path}, path, err) {
			l.diag(Pos{File: path}, SevError, "io", "%s: %s (httpd answers 403 for every request here)", path, describeErrno(err))
		}
		return
	}
	if !l.admit(Pos{File: path}, f) {
		return
	}
	l.cfg.Diagnostics = append(l.cfg.Diagnostics, diags...)
	l.evalAccess(f)
	l.cfg.Access = append(l.cfg.Access, &AccessFile{File: f, Dir: dir, Override: o})
}

// evalAccess evaluates an access file against the modules of the view.
func (l *loader) evalAccess(f *File) {
	l.accessIn = true
	l.evalNodes(f.Nodes)
	l.checkUnclosed(f.Nodes, false)
	l.accessIn = false
}
