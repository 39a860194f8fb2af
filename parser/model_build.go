package parser

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// dirSection is a non-regex <Directory> with what it says about overrides.
type dirSection struct {
	path     string
	parts    []string
	vhost    *VHost
	override *Node // AllowOverride, or nil
	list     *Node // AllowOverrideList, or nil
}

// finish builds the model from the evaluated tree.
func (l *loader) finish() {
	c := l.cfg
	m := &modelBuilder{l: l, mainDocRoot: ""}
	if c.Main != nil {
		m.collect(c.Main.Nodes, nil, false)
	}
	for _, vh := range c.VHosts {
		if vh.DocumentRoot == "" {
			vh.DocumentRoot = m.mainDocRoot
		}
	}
	c.AccessNames = m.accessNames
	if len(l.opt.AccessFileNames) > 0 {
		c.AccessNames = l.opt.AccessFileNames
	}
	if len(c.AccessNames) == 0 {
		c.AccessNames = []string{".htaccess"}
	}
	if !l.opt.NoAccessFiles {
		m.discoverAccess()
	}
}

type modelBuilder struct {
	l           *loader
	mainDocRoot string
	accessNames []string
	dirs        []*dirSection
	aliases     []aliasTarget
}

type aliasTarget struct {
	path  string
	vhost *VHost
}

// collect walks the active tree keeping track of the enclosing vhost and
// whether we are inside a per-directory section.
func (m *modelBuilder) collect(ns []*Node, vh *VHost, inDir bool) {
	c := m.l.cfg
	for _, n := range ns {
		switch n.Kind {
		case KindDirective:
			m.directive(n, vh, inDir)
			for _, f := range n.Included {
				m.collect(f.Nodes, vh, inDir)
			}
		case KindSection:
			if !n.Active {
				continue
			}
			switch strings.ToLower(n.Name) {
			case "virtualhost":
				if vh != nil {
					m.collect(n.Children, vh, inDir) // httpd refuses nesting; keep reading
					continue
				}
				v := &VHost{Node: n, Addrs: n.Args, Pos: n.Pos}
				c.VHosts = append(c.VHosts, v)
				m.collect(n.Children, v, false)
			case "directory":
				if len(n.Args) == 1 && n.Args[0] != "~" {
					m.addDir(n, vh)
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
	switch strings.ToLower(n.Name) {
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
			vh.Aliases = append(vh.Aliases, n.Args...)
		}
	case "documentroot":
		if inDir || arg == "" {
			return
		}
		root := m.l.serverRootRelative(arg)
		if vh != nil {
			vh.DocumentRoot = root
		} else {
			m.mainDocRoot = root
		}
	case "accessfilename":
		if !inDir && len(n.Args) > 0 {
			m.accessNames = append([]string(nil), n.Args...)
		}
	case "alias", "scriptalias":
		if len(n.Args) == 2 && !inDir {
			m.aliases = append(m.aliases, aliasTarget{path: m.l.serverRootRelative(n.Args[1]), vhost: vh})
		}
	}
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
	p := filepath.Clean(m.l.serverRootRelative(n.Args[0]))
	d := &dirSection{path: p, parts: splitPath(p), vhost: vh}
	Walk(n.Children, false, func(c *Node) bool {
		if c.Kind == KindSection && !IsConditional(c) {
			return false
		}
		switch strings.ToLower(c.Name) {
		case "allowoverride":
			d.override = c
		case "allowoverridelist":
			d.list = c
		}
		return true
	})
	m.dirs = append(m.dirs, d)
}

func splitPath(p string) []string {
	p = strings.Trim(filepath.ToSlash(p), "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// covers reports whether a <Directory> path applies to dir (the same
// directory or an ancestor; wildcards match within one component).
func (d *dirSection) covers(dirParts []string) bool {
	if len(d.parts) > len(dirParts) {
		return false
	}
	for i, p := range d.parts {
		if p == dirParts[i] {
			continue
		}
		if ok, err := filepath.Match(p, dirParts[i]); err != nil || !ok {
			return false
		}
	}
	return true
}

// overrideFor computes the effective AllowOverride of dir for a vhost:
// non-regex <Directory> sections merge shortest path first, later ones in
// file order win among equals (httpd's core dir merge).
func (m *modelBuilder) overrideFor(dir string, vh *VHost) Override {
	parts := splitPath(dir)
	var hits []*dirSection
	for _, d := range m.dirs {
		if (d.vhost == nil || d.vhost == vh) && d.covers(parts) {
			hits = append(hits, d)
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return len(hits[i].parts) < len(hits[j].parts) })
	var o Override
	for _, d := range hits {
		if d.override != nil {
			o.Set, o.Mask, o.Pos = true, parseOverride(d.override.Args), d.override.Pos
		}
		if d.list != nil {
			o.List = nil
			for _, a := range d.list.Args {
				if !strings.EqualFold(a, "none") {
					o.List = append(o.List, strings.ToLower(a))
				}
			}
		}
	}
	return o
}

// ParseOverride turns AllowOverride arguments into httpd's OR_* bits.
func parseOverride(args []string) uint {
	var mask uint
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		switch strings.ToLower(name) {
		case "all":
			mask = OverrideAll
		case "none":
			mask = 0
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
	return mask
}

// discoverAccess finds the access files httpd would read under every
// DocumentRoot, Alias target and <Directory> that allows overrides.
func (m *modelBuilder) discoverAccess() {
	c := m.l.cfg
	type root struct {
		path  string
		vhost *VHost
		must  bool // report when missing (a DocumentRoot)
	}
	var roots []root
	if m.mainDocRoot != "" {
		roots = append(roots, root{m.mainDocRoot, nil, true})
	}
	for _, vh := range c.VHosts {
		if vh.DocumentRoot != "" {
			roots = append(roots, root{vh.DocumentRoot, vh, true})
		}
	}
	for _, a := range m.aliases {
		roots = append(roots, root{a.path, a.vhost, false})
	}
	for _, d := range m.dirs {
		if len(d.parts) > 0 && !strings.ContainsAny(d.path, "*?[") && (d.override != nil && parseOverride(d.override.Args) != 0 || d.list != nil) {
			roots = append(roots, root{d.path, d.vhost, false})
		}
	}
	seen := map[string]bool{}
	for _, r := range roots {
		if seen[r.path] {
			continue
		}
		host := c.HostPath(r.path)
		if _, err := os.Stat(host); err != nil {
			seen[r.path] = true
			if r.must && r.vhost != nil {
				m.l.diag(r.vhost.Pos, SevWarning, "io", "DocumentRoot [%s] does not exist", r.path)
			}
			continue
		}
		m.walkRoot(host, r.path, r.vhost, seen)
	}
	sort.SliceStable(c.Access, func(i, j int) bool { return c.Access[i].Dir < c.Access[j].Dir })
}

func (m *modelBuilder) walkRoot(host, dir string, vh *VHost, seen map[string]bool) {
	_ = filepath.WalkDir(host, func(p string, e fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(host, p)
		d := filepath.Join(dir, rel)
		if err != nil {
			m.l.diag(Pos{File: p}, SevWarning, "io", "cannot read directory %s: %s", p, describeErrno(err))
			return nil
		}
		if !e.IsDir() {
			return nil
		}
		if seen[d] {
			return fs.SkipDir
		}
		seen[d] = true
		o := m.overrideFor(d, vh)
		if o.Reads() {
			m.readAccess(p, d, o)
		}
		return nil
	})
}

// readAccess reads the first existing access file name in a directory.
func (m *modelBuilder) readAccess(hostDir, dir string, o Override) {
	l := m.l
	for _, name := range l.cfg.AccessNames {
		p := filepath.Join(hostDir, name)
		st, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if st.IsDir() {
			continue
		}
		f, diags, err := l.cache.get(p, true)
		if err != nil {
			l.diag(Pos{File: p}, SevError, "io", "%s: %s (httpd answers 403 for every request here)", p, describeErrno(err))
			return
		}
		l.cfg.Diagnostics = append(l.cfg.Diagnostics, diags...)
		l.evalAccess(f)
		l.cfg.Access = append(l.cfg.Access, &AccessFile{File: f, Dir: dir, Override: o})
		return
	}
}

// evalAccess evaluates an access file against the modules of the view.
func (l *loader) evalAccess(f *File) {
	l.accessIn = true
	l.evalNodes(f.Nodes)
	l.checkUnclosed(f.Nodes, false)
	l.accessIn = false
}
