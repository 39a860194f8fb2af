package migrate

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/phpini"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// phpLine reads a php_* directive: its kind, key and value as mod_php
// stores it. Nodes whose section is false in this view were not
// substituted, so their arguments are split again with the Defines.
func (b *builder) phpLine(n *parser.Node) (d phpDirective, key, value string, ok bool) {
	if n.Kind != parser.KindDirective {
		return d, "", "", false
	}
	d, ok = phpDirectiveOf(n.Name)
	if !ok {
		return d, "", "", false
	}
	args := n.Args
	if !parser.InEffect(n) {
		defs := b.in.Today.Defines
		args = parser.SplitArgs(parser.ExpandVars(n.Raw, func(k string) (string, bool) { v, ok := defs[k]; return v, ok }))
	}
	if len(args) < 2 {
		return d, "", "", false
	}
	return d, args[0], modPHPValue(d.Flag, args[1]), true
}

// classify sets a placement's target when the setting never applied
// under mod_php or cannot apply under php-fpm; it reports whether it did.
func (b *builder) classify(pl *Placement, n *parser.Node) bool {
	if ok, dead := appliedByModPHP(n); !ok {
		if guard, _ := isPHPGuardSection(dead); guard {
			pl.Target, pl.dead = TargetDropped, dead // the note cites it once wraps are known
		} else {
			pl.Target, pl.Note = TargetDropped, "not in effect today (<"+dead.Name+" "+strings.Join(dead.Args, " ")+"> at "+b.rel(dead.Pos)+" is false)"
		}
		return true
	}
	mode, known := phpini.Lookup(pl.Key)
	switch {
	case !known:
		pl.Target, pl.Note = TargetDropped, "PHP "+phpini.PHPVersion+" has no INI directive "+pl.Key
	case pl.access && pl.admin && !allowedInAccessFile(phpDirective{Flag: pl.flag, Admin: pl.admin}):
		pl.Target, pl.Note = TargetUnchanged, pl.Directive+" is not allowed in .htaccess: Apache answers 500 for this directory today and after"
	case !modPHPSets(phpDirective{Flag: pl.flag, Admin: pl.admin}, mode):
		pl.Target, pl.Note = TargetDropped, pl.Key+" is "+mode.String()+": mod_php ignores "+pl.Directive+" for it, so it never applied"
	case turnsEngineOff(pl.Key, pl.Value):
		pl.Target, pl.Note = TargetDeny, "php-fpm has no engine switch: scripts here are denied (mod_php served their source)"
	default:
		return false
	}
	return true
}

// collectServer places the php_* lines of the server configuration.
func (b *builder) collectServer() {
	if b.in.Today.Main == nil {
		return
	}
	for _, n := range b.lines.php {
		if d, key, value, ok := b.phpLine(n); ok {
			b.serverLine(n, &Placement{Source: b.pos(n.Pos), Directive: n.Name, Key: key, Value: value, flag: d.Flag, admin: d.Admin, node: n})
		}
	}
}

// serverLine places one server-config php_* line: dropped or denied by
// classify, else in the scope of its directory (a scope of its own for
// php_admin_* and SYSTEM keys, and for a directory whose .user.ini would
// miss scripts below it: scriptBelow); under <Files> or <Location>, for
// the shim.
func (b *builder) serverLine(n *parser.Node, pl *Placement) {
	b.plan.Placements = append(b.plan.Placements, pl)
	if b.classify(pl, n) && pl.Target != TargetDeny {
		if !strings.HasPrefix(pl.Note, "not in effect") {
			b.markWrap(pl)
		}
		return
	}
	vh := b.in.Today.VHostOf(n)
	sec := parser.Enclosing(n, "directory", "directorymatch", "files", "filesmatch", "location", "locationmatch", "proxy", "proxymatch")
	pl.Dir = b.lineDir(pl, n, vh, sec)
	b.markWrap(pl)
	where := "outside every virtual host and directory"
	if sec != nil {
		where = "under <" + sec.Name + ">"
	}
	if pl.Dir == "" {
		pl.Target, pl.Note = TargetShim, where+": no directory to place it in; only the shim applies it per request"
		return
	}
	s := b.scopeFor(vh, pl.Dir)
	if pl.Target != TargetDeny && (pl.admin || !pl.inFiles && (b.systemOnly(pl.Key) || b.refusesReset(pl) || b.scriptBelow(s, pl.Dir) != "")) {
		s = b.dirScope(vh, pl.Dir, secPos(sec, n))
		s.own = true
	}
	if s != nil {
		pl.Scope = s.ID
	}
	if pl.inFiles && pl.Target != TargetDeny {
		pl.Target, pl.Note = TargetShim, where+": neither a pool nor .user.ini can be limited to some files; only the shim applies it per request"
	}
}

// lineDir returns the directory a server-config line applies to: its
// <Directory>, else its virtual host's DocumentRoot (the main server's
// outside them); under <Files>, <Location> and regex sections it marks
// the line inFiles and returns the enclosing <Directory>, if any. A
// <Directory> naming a file reaches that script alone, when httpd's
// walk ends on it (parser.DirSections): inFiles too, in the file's
// directory.
func (b *builder) lineDir(pl *Placement, n *parser.Node, vh *parser.VHost, sec *parser.Node) string {
	switch {
	case sec == nil && vh != nil:
		return clean(vh.DocumentRoot)
	case sec == nil:
		pl.Note = "set outside any virtual host: applies to every site"
		return clean(b.in.Today.DocumentRoot)
	case strings.EqualFold(sec.Name, "directory") && len(sec.Args) == 1 && !strings.ContainsAny(sec.Args[0], "*?[~"):
		dir := clean(sec.Args[0])
		if !b.namesFile(dir) {
			return dir
		}
		pl.inFiles = true
		return parentDir(dir)
	}
	pl.inFiles = true
	if d := parser.Enclosing(n, "directory"); d != nil && len(d.Args) == 1 {
		if dir := clean(d.Args[0]); b.namesFile(dir) {
			return parentDir(dir)
		}
		return clean(d.Args[0])
	}
	return ""
}

// namesFile reports whether the server path p is a regular file (through
// links, as httpd's first stat of a request's file sees it).
func (b *builder) namesFile(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	fi, err := os.Stat(b.host(p))
	return err == nil && fi.Mode().IsRegular()
}

func secPos(sec, n *parser.Node) parser.Pos {
	if sec != nil {
		return sec.Pos
	}
	return n.Pos
}

func (b *builder) systemOnly(key string) bool {
	m, ok := phpini.Lookup(key)
	return ok && m.SystemOnly()
}

// collectAccess places the php_* lines of .htaccess files.
func (b *builder) collectAccess() {
	for _, acc := range b.in.Today.Access {
		if acc == nil || acc.File == nil {
			continue
		}
		var lines []*Placement
		parser.Walk(acc.File.Nodes, true, func(n *parser.Node) bool {
			d, key, value, ok := b.phpLine(n)
			if !ok {
				return true
			}
			pl := &Placement{Source: b.pos(n.Pos), Directive: n.Name, Key: key, Value: value, flag: d.Flag, admin: d.Admin,
				access: true, node: n, Dir: clean(acc.Dir)}
			pl.inFiles = parser.Enclosing(n, "files", "filesmatch") != nil
			if s := b.scopeFor(nil, pl.Dir); s != nil {
				pl.Scope = s.ID
			}
			b.plan.Placements = append(b.plan.Placements, pl)
			if b.classify(pl, n) {
				if pl.Target != TargetUnchanged {
					b.markWrap(pl)
				}
				return true
			}
			lines = append(lines, pl)
			b.markWrap(pl)
			return true
		})
		b.placeAccess(acc, lines)
		b.ownForShim(lines)
	}
	b.accessScopes()
}

// ownForShim gives the directory of a .htaccess line left to the shim a
// scope (pool and handler) of its own when PHP cannot set the line's
// directive back to the pool's value (refusesReset): the shim refuses to
// send such a value to a pool that serves any other directory, and
// answers the request 500 (docs/shim.md), so the plan routes that
// directory to a pool of its own (--pool-for).
func (b *builder) ownForShim(lines []*Placement) {
	for _, pl := range lines {
		if pl.Target == TargetShim && b.refusesReset(pl) {
			s := b.dirScope(nil, pl.Dir, pl.node.Pos)
			s.own = true
			pl.Scope = s.ID
		}
	}
}

// accessScopes sets the scope of every .htaccess line again, now that
// ownForShim may have added scopes below the ones they were given.
func (b *builder) accessScopes() {
	for _, pl := range b.plan.Placements {
		if !pl.access {
			continue
		}
		if s := b.scopeFor(nil, pl.Dir); s != nil {
			pl.Scope = s.ID
		}
	}
}

// refusesReset reports whether a line sets a directive PHP refuses to set
// back to an empty value, to a value other than empty, where the pools'
// value is empty: php.ini's (Input.INI) or, without one, the stock
// php-fpm's (phpini.UnresettableByDefault). A php-fpm worker that once
// had it set by a request keeps it for every later request, so the
// directory needs a pool of its own (MPM1007 says so).
func (b *builder) refusesReset(pl *Placement) bool {
	if pl.Value == "" || !phpini.RefusesEmpty(pl.Key) {
		return false
	}
	if b.in.INI != nil {
		if v, ok := b.in.INI.Get(pl.Key); ok {
			return v == ""
		}
	}
	return phpini.UnresettableByDefault(pl.Key)
}

// NeedsShim begins the note of a .htaccess setting only the shim can
// apply, whatever --htaccess says (a setting under <Files> in that file).
const NeedsShim = "this directory needs the shim"

// placeAccess decides between the shim and .user.ini for the settings
// of one .htaccess file.
func (b *builder) placeAccess(acc *parser.AccessFile, lines []*Placement) {
	why := ""
	for _, pl := range lines {
		if pl.inFiles {
			why = "a setting under <Files> at " + b.rel(pl.node.Pos) + " applies to some files only"
			break
		}
	}
	if why == "" && len(lines) > 0 && b.in.HTAccess == HTAccessUserINI {
		if sub := b.scriptBelow(b.scope(lines[0].Scope), lines[0].Dir); sub != "" {
			why = "outside the DocumentRoot php-fpm reads only the .user.ini of a script's own directory, and " + sub + " has scripts"
		}
	}
	for _, pl := range lines {
		if b.in.HTAccess == HTAccessUserINI && why == "" {
			pl.Target, pl.File = TargetUserINI, path.Join(pl.Dir, ".user.ini")
			continue
		}
		pl.Target = TargetShim
		switch {
		case why != "":
			pl.Note = NeedsShim + ": " + why
		case b.in.HTAccess == HTAccessShim:
			pl.Note = "applied per request by the shim (--htaccess=shim)"
		}
	}
}

// scriptBelow returns a directory under dir that holds a script mod_php
// ran, when dir is served through an Alias scope (outside the
// DocumentRoot); "" otherwise. php-fpm reads the .user.ini files from
// DOCUMENT_ROOT down to a script's directory, but for a script outside
// DOCUMENT_ROOT only the one in its own directory (sapi_cgi_activate,
// sapi/fpm/fpm/fpm_main.c): a .user.ini in dir would not reach that
// script, which dir's .htaccess or <Directory> reached under mod_php.
func (b *builder) scriptBelow(s *Scope, dir string) string {
	if !b.viaAlias(s) {
		return ""
	}
	if found, ok := b.scripts[dir]; ok {
		return found
	}
	top, found, n := b.host(dir), "", 0
	_ = b.fs.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil || found != "" || n > maxPermissionEntries {
			return filepath.SkipDir
		}
		n++
		if d.Type().IsRegular() && isRun(d.Name()) && filepath.Dir(p) != top {
			found = b.server(filepath.Dir(p))
		}
		return nil
	})
	if b.scripts == nil {
		b.scripts = map[string]string{}
	}
	b.scripts[dir] = found
	return found
}

// viaAlias reports whether s is an Alias scope or lies inside one.
func (b *builder) viaAlias(s *Scope) bool {
	for ; s != nil; s = b.scope(s.Parent) {
		if s.Kind == "alias" {
			return true
		}
	}
	return false
}

// finishPlacements sends the server-config settings to their pool or
// .user.ini, now that pools are known.
func (b *builder) finishPlacements() {
	for _, pl := range b.plan.Placements {
		s := b.scope(pl.Scope)
		if s != nil && pl.Target != TargetDropped && pl.Target != TargetUnchanged {
			pl.Pool = s.Pool
		}
		if pl.Target != "" || pl.access {
			continue
		}
		switch {
		case s == nil:
			pl.Target, pl.File = TargetUserINI, path.Join(pl.Dir, ".user.ini")
		case pl.admin || b.systemOnly(pl.Key):
			pl.Target = TargetPoolAdmin
		case s.own && s.Dir == pl.Dir && b.poolServesOnly(s):
			pl.Target = TargetPool
		default:
			pl.Target, pl.File = TargetUserINI, path.Join(pl.Dir, ".user.ini")
		}
		if p := b.pool(s); p != nil && (pl.Target == TargetPool || pl.Target == TargetPoolAdmin) {
			pl.File = p.File
			addValue(p, Setting{Key: pl.Key, Value: pl.Value, Admin: pl.Target == TargetPoolAdmin, Flag: pl.flag, Source: pl.Source})
		}
	}
}

// deadNotes words the notes of settings under dead guards, citing the
// guard where it will be after the plan's wraps.
func (b *builder) deadNotes() {
	for _, pl := range b.plan.Placements {
		if pl.dead != nil {
			pl.Note = "under <IfModule " + pl.dead.Args[0] + "> at " + b.cite(b.pos(pl.dead.Pos)) + ", which PHP 8's mod_php never matches: it never applied"
		}
	}
}

// addValue adds a setting to a pool, once: scopes sharing the pool (a
// site's :80 and :443) set the same keys.
func addValue(p *Pool, v Setting) {
	for _, o := range p.Values {
		if o.Key == v.Key && o.Admin == v.Admin {
			return
		}
	}
	p.Values = append(p.Values, v)
}
