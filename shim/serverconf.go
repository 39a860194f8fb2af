package shim

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/aprmatch"
	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// serverConf is what the shim takes from the Apache configuration
// (--apache-config): php_* lines by scope, AllowOverride, AccessFileName,
// modules and defines.
type serverConf struct {
	cfg    *parser.Config
	main   scopeSet
	vhosts []*vhostScopes
	env    evalEnv
	// dirs are the <Directory> sections with php_* or Options lines, of
	// every server; which apply to a request, in which order, is dirs.Walk's
	// answer, and dirOf maps its indexes back.
	dirs  parser.DirSections
	dirOf []*dirSection
	// sectionArgs are the arguments, ${VAR} substituted, of sections the
	// loader left as written (inside a PHP guard that is false once
	// mod_php is unloaded).
	sectionArgs map[*parser.Node][]string
}

// args returns a section's arguments as httpd with mod_php read them.
func (sc *serverConf) args(n *parser.Node) []string {
	if a, ok := sc.sectionArgs[n]; ok {
		return a
	}
	return n.Args
}

// scopeSet holds the php_* lines of one server (main or a virtual host)
// by where httpd merges them (docs/manual/sections.xml "How the sections
// are merged").
type scopeSet struct {
	server []phpLine // outside any section: the server's defaults
	// opts are the server's default Options (outside any section),
	// where httpd's directory walk starts.
	opts  parser.Options
	dirs  []*dirSection // <Directory>, <DirectoryMatch>, in file order
	files []filesBlock  // top-level <Files>, <FilesMatch>
	locs  []locSection  // <Location>, <LocationMatch>
}

type vhostScopes struct {
	vh *parser.VHost
	scopeSet
}

// dirSection is a <Directory> or <DirectoryMatch> section.
type dirSection struct {
	sec   *parser.DirSection
	lines []phpLine
	files []filesBlock // <Files> inside it
}

// locSection is a <Location> or <LocationMatch> section.
type locSection struct {
	path  string
	re    *regexp.Regexp
	lines []phpLine
}

// match follows httpd's ap_location_walk: a non-regex location matches a
// URI it is a prefix of, ending at a slash or at the URI's end.
func (l *locSection) match(uri string) bool {
	if l.re != nil {
		return l.re.MatchString(uri)
	}
	if !strings.HasPrefix(uri, l.path) {
		return false
	}
	return strings.HasSuffix(l.path, "/") || len(uri) == len(l.path) || uri[len(l.path)] == '/'
}

// loadServerConf reads the Apache configuration as the server runs after
// mod_php is removed (modules, vhosts, AllowOverride), and its php_* lines
// as mod_php would have applied them: <IfModule mod_php.c> and
// <IfModule php_module> bodies count, other PHP module names do not, and
// ${VAR} in those bodies is substituted as httpd with mod_php did
// (confWalker). ${VAR} never reads the shim's environment.
func loadServerConf(p string, accessNames []string) (*serverConf, error) {
	cfg, err := parser.LoadView(p, parser.AfterModPHP, parser.LoadOptions{AccessFileNames: accessNames, NoAccessFiles: true, Env: noEnv})
	if err != nil {
		return nil, fmt.Errorf("loading apache config %s: %w", p, err)
	}
	for _, d := range cfg.Diagnostics {
		if d.Severity == parser.SevError {
			return nil, fmt.Errorf("apache config: %s: %s", d.Pos, d.Message)
		}
	}
	sc := &serverConf{cfg: cfg, main: scopeSet{opts: parser.ServerOptions()}}
	mods := map[string]bool{}
	for _, m := range cfg.Modules {
		mods[m.ID] = true
		mods[parser.SourceName(m.ID)] = true
	}
	sc.env = evalEnv{
		module: func(n string) bool { return mods[n] },
		define: func(n string) bool { _, ok := cfg.Defines[n]; return ok },
		lookup: envLookup(cfg.Vars, cfg.Envvars),
	}
	vhByNode := map[*parser.Node]*vhostScopes{}
	for _, vh := range cfg.VHosts {
		v := &vhostScopes{vh: vh, scopeSet: scopeSet{opts: parser.ServerOptions()}}
		sc.vhosts = append(sc.vhosts, v)
		vhByNode[vh.Node] = v
	}
	w := newConfWalker(sc, vhByNode)
	if err := w.walk(cfg.Main.Nodes, true); err != nil {
		return nil, err
	}
	// Access files see the Defines httpd with mod_php ended with,
	// including those under a PHP guard.
	sc.env.define = func(n string) bool { _, ok := cfg.Defines[n]; return ok || w.defined[n] }
	sc.env.lookup = envLookup(w.vars, cfg.Envvars)
	return sc, nil
}

// noEnv is the environment the loader may read ${VAR} from besides Define
// and envvars: none. The shim's own environment is not Apache's, and a
// secret in it must not reach a php_value.
func noEnv(string) (string, bool) { return "", false }

// envLookup resolves ${VAR} in access files as httpd does when it reads
// them at request time (server/core.c ap_resolve_env): a Define NAME VALUE
// variable, else httpd's environment, of which the shim knows what
// Debian's envvars beside the main file exports. The shim's own
// environment is never consulted: a tenant's php_value user_agent
// ${SECRET} must not read the shim's variables. Unknown names stay as
// written, as httpd leaves them (with its AH00111 warning).
func envLookup(vars, envvars map[string]string) func(string) (string, bool) {
	return func(n string) (string, bool) {
		if v, ok := vars[n]; ok {
			return v, true
		}
		v, ok := envvars[n]
		return v, ok
	}
}

// place files a server-config php line under its innermost scope.
func (sc *serverConf) place(l phpLine, n *parser.Node, vhByNode map[*parser.Node]*vhostScopes) error {
	set := &sc.main
	var vh *parser.VHost
	if vn := parser.Enclosing(n, "virtualhost"); vn != nil {
		if v := vhByNode[vn]; v != nil {
			set, vh = &v.scopeSet, v.vh
		}
	}
	sec := parser.Enclosing(n, "directory", "directorymatch", "files", "filesmatch", "location", "locationmatch", "proxy", "proxymatch")
	if sec == nil {
		if set == &sc.main {
			l.scope = "/"
		}
		set.server = append(set.server, l)
		return nil
	}
	lname := parser.LowerName(sec.Name)
	switch lname {
	case "files", "filesmatch":
		m, err := compileFiles(sec.Name, sc.args(sec))
		if err != nil {
			return fmt.Errorf("%s: %w", sec.Pos, err)
		}
		if dn := parser.Enclosing(sec, "directory", "directorymatch"); dn != nil {
			d, err := sc.dir(set, vh, dn)
			if err != nil {
				return err
			}
			d.files = appendFilesLine(d.files, sec, m, l)
			return nil
		}
		set.files = appendFilesLine(set.files, sec, m, l)
		return nil
	case "directory", "directorymatch":
		d, err := sc.dir(set, vh, sec)
		if err != nil {
			return err
		}
		if d.sec.Regexp() == nil && !d.sec.Wildcard() {
			l.scope = d.sec.Path()
		}
		d.lines = append(d.lines, l)
	case "location", "locationmatch":
		args := sc.args(sec)
		regex := lname == "locationmatch"
		if !regex && len(args) == 2 && args[0] == "~" {
			regex, args = true, args[1:]
		}
		if len(args) != 1 {
			return fmt.Errorf("%s: <%s> takes one argument", sec.Pos, sec.Name)
		}
		ls := locSection{path: args[0]}
		if regex {
			re, err := regexp.Compile(args[0])
			if err != nil {
				return fmt.Errorf("%s: %w", sec.Pos, err)
			}
			ls.re = re
		}
		// One locSection per line keeps file order without a node index.
		ls.lines = []phpLine{l}
		set.locs = append(set.locs, ls)
	default:
		// <Proxy>: the request reaches the shim through it, not through a
		// directory; mod_php never saw such requests.
	}
	return nil
}

// options applies an Options line n (arguments args) to what httpd's
// directory walk merges: the server's defaults or a <Directory> section.
// Options elsewhere (<Files>, <Location>, <If>, regular expressions)
// merge after the walk and cannot change where it ends. A line httpd
// rejects, or a section the shim cannot read, is left out: only php_*
// lines make the shim refuse a configuration.
func (sc *serverConf) options(n *parser.Node, args []string, vhByNode map[*parser.Node]*vhostScopes) {
	set := &sc.main
	var vh *parser.VHost
	if vn := parser.Enclosing(n, "virtualhost"); vn != nil {
		if v := vhByNode[vn]; v != nil {
			set, vh = &v.scopeSet, v.vh
		}
	}
	sec := parser.Enclosing(n, "directory", "directorymatch", "files", "filesmatch", "location", "locationmatch",
		"proxy", "proxymatch", "if", "elseif", "else", "limit", "limitexcept")
	switch {
	case sec == nil:
		_ = set.opts.Apply(args)
	case strings.EqualFold(sec.Name, "directory"):
		if d, err := sc.dir(set, vh, sec); err == nil && d.sec.Regexp() == nil {
			_ = d.sec.Options.Apply(args)
		}
	}
}

// startOptions returns the Options httpd's directory walk starts from in
// virtual host v (nil: the main server): the main server's defaults with
// the virtual host's merged onto them.
func (sc *serverConf) startOptions(v *vhostScopes) parser.Options {
	if v == nil {
		return sc.main.opts
	}
	return sc.main.opts.Merge(v.opts)
}

// appendFilesLine adds l to the block for section sec (the last block when
// it is the same section).
func appendFilesLine(blocks []filesBlock, sec *parser.Node, m modphp.Files, l phpLine) []filesBlock {
	if k := len(blocks) - 1; k >= 0 && len(blocks[k].lines) > 0 && blocks[k].lines[0].pos.File == l.pos.File && blocks[k].sameSection == sec {
		blocks[k].lines = append(blocks[k].lines, l)
		return blocks
	}
	return append(blocks, filesBlock{chain: (*filesChain)(nil).nest(m), lines: []phpLine{l}, sameSection: sec})
}

// dir returns the dirSection of a <Directory> node n of set (in virtual
// host vh, nil for the main server), adding it on first use. Nodes come in
// file order, as parser.DirSections wants them.
func (sc *serverConf) dir(set *scopeSet, vh *parser.VHost, n *parser.Node) (*dirSection, error) {
	for _, d := range set.dirs {
		if d.sec.Node == n {
			return d, nil
		}
	}
	sec, err := parser.NewDirSection(n, sc.args(n), vh, sc.cfg.ServerRoot)
	if err != nil {
		return nil, err
	}
	d := &dirSection{sec: sec}
	set.dirs = append(set.dirs, d)
	sc.dirs.Add(sec)
	sc.dirOf = append(sc.dirOf, d)
	return d, nil
}

// pickVHost chooses the virtual host of a request the way name-based
// virtual hosting would: ServerName or ServerAlias equal to SERVER_NAME,
// else the one whose DocumentRoot is the request's; nil means the main
// server.
func (sc *serverConf) pickVHost(serverName, docRoot string) *vhostScopes {
	if sc == nil {
		return nil
	}
	for _, v := range sc.vhosts {
		if strings.EqualFold(v.vh.ServerName, serverName) {
			return v
		}
		for _, a := range v.vh.ServerAliases {
			// httpd's matches_aliases: ap_strcasecmp_match.
			if aprmatch.CaseMatch(a, serverName) {
				return v
			}
		}
	}
	for _, v := range sc.vhosts {
		if docRoot != "" && path.Clean(v.vh.DocumentRoot) == path.Clean(docRoot) {
			return v
		}
	}
	return nil
}

// overrideRule returns whether httpd reads access files in dir, and what
// it allows in them.
func (sc *serverConf) overrideRule(dir string, v *vhostScopes) (bool, overrideRule) {
	if sc == nil {
		return true, allowRule
	}
	var vh *parser.VHost
	if v != nil {
		vh = v.vh
	}
	o := sc.cfg.AllowOverrideFor(dir, vh)
	if !o.Reads() {
		return false, overrideRule{}
	}
	rule := overrideRule{options: o.Mask&parser.OverrideOptions != 0, nonfatal: o.Nonfatal&parser.NonfatalOverride != 0}
	for _, n := range o.List {
		if rule.list == nil {
			rule.list = map[string]bool{}
		}
		rule.list[strings.ToLower(n)] = true
	}
	return true, rule
}
