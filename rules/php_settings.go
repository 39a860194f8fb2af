package rules

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/migrate"
	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
	"github.com/modphp-migrate/modphp-migrate/internal/phpini"
	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
)

// phpSettings is MPM1004: php_value, php_flag and php_admin_* directives
// and what becomes of them without mod_php.
var phpSettings = register(&Rule{
	Code:       "MPM1004",
	Title:      "php_value and php_flag without mod_php",
	Severity:   Error,
	Directives: []string{"php_value", "php_flag", "php_admin_value", "php_admin_flag"},
	Plan:       true,
	Doc: Doc{
		Text: `Finds php_value, php_flag, php_admin_value and php_admin_flag, the directives mod_php adds to Apache, and says what each one turns into once mod_php is gone.

- **Unguarded** (not inside ` + "`<IfModule mod_php.c>`" + `), error: without mod_php, httpd does not know the directive. In server configuration it refuses to start (` + "`Invalid command 'php_value'`" + `); in a .htaccess every request that reads the file answers 500 — PHP scripts, static files and subdirectories alike (docs/behaviour.md#b-conf-invalid, #b-htaccess-500).
- **Guarded by a name that matches**: ` + "`<IfModule mod_php.c>`" + ` and ` + "`<IfModule php_module>`" + ` keep httpd happy, but the settings silently stop applying. A security setting (` + "`open_basedir`, `disable_functions`, `disable_classes`, `upload_tmp_dir`, `sys_temp_dir`, `session.save_path`, `auto_prepend_file`" + `, and ` + "`allow_url_include`, `allow_url_fopen`, `file_uploads`, `enable_dl`" + ` when off) in server configuration is an error at its own line: a protection is lost. The other settings are one warning at the guard, listing them. On a tree that has already switched (mod_php no longer loaded), the same settings are reported the same way: mod_php applied them, nothing applies them now.
- **Where they go** comes from the migration plan (` + "`modphp-migrate plan`" + `, computed once per run on the same tree and php-fpm configuration): the fix is the plan's line, headed by the file and line it goes to — the pool of the setting's own scope (never a pool that serves other sites too) or ` + "`.user.ini`" + ` (never for a PHP_INI_SYSTEM key such as ` + "`upload_tmp_dir`" + `, which PHP ignores there). In a .htaccess, move them to a ` + "`.user.ini`" + ` next to it or let the modphp-migrate shim apply them.
- **Guarded by a name that never matches**, warning (origin today): PHP 8's module is ` + "`mod_php.c`/`php_module`" + `; ` + "`mod_php7.c`, `php7_module`, `mod_php8.c`, `php8_module`, `mod_php5.c`" + `… never match it (docs/behaviour.md#b-guard), so the block is already ignored today.
- **php_admin_value or php_admin_flag in .htaccess**, warning (origin today): mod_php refuses them there, so the directory already answers 500 today (docs/behaviour.md#b-modphp-admin); an error only where the line becomes active at the switch.
- **A PHP_INI_SYSTEM setting** set with php_value or php_flag (` + "`expose_php`, `allow_url_fopen`" + `…), info (origin today): mod_php ignores it even today (docs/behaviour.md#b-modphp-system); it belongs in php.ini or the pool. The table of access levels is generated from a real PHP build (internal/phpini).

` + "`engine`" + ` is left to MPM1005.`,
		Before: "# /var/www/site/.htaccess\nphp_value upload_max_filesize 64M\nphp_flag display_errors on\n",
		After:  "# /var/www/site/.user.ini\nupload_max_filesize = 64M\ndisplay_errors = 1\n",
		Since:  "0.1.0",
	},
	Run: runPHPSettings,
})

// phpSetting is one php_* directive in a group.
type phpSetting struct {
	node  *parser.Node
	kind  modphp.Kind
	name  string // the INI key
	value string // the argument as written
}

// iniValue renders the setting for .user.ini or a php-fpm pool as the
// value mod_php stored (modphp.Stored: php_flag gives 1 or 0, "none" the
// empty string), written so that PHP's INI scanner reads it back
// unchanged (modphp.INILiteral: a bare Off would read as "", a bare E_ALL
// as a number; docs/behaviour.md#b-fpm-ini-syntax).
func (s phpSetting) iniValue() string {
	v := modphp.Stored(s.kind, s.value)
	lit, err := modphp.INILiteral(v)
	if err != nil {
		return "'" + v + "'" // a NUL byte from the configuration: cannot be written exactly
	}
	return lit
}

// iniName is what a PHP INI directive name looks like.
var iniName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// poolLine renders the setting as a php-fpm pool line. A pool's
// php_flag[] and php_admin_flag[] take a boolean word, and php-fpm
// stores 1 or 0 for it as mod_php does.
func (s phpSetting) poolLine() string {
	if s.kind.IsFlag() {
		v := "Off"
		if modphp.Stored(s.kind, s.value) == "1" {
			v = "On"
		}
		return fmt.Sprintf("%s[%s] = %s", s.kind, s.name, v)
	}
	return fmt.Sprintf("%s[%s] = %s", s.kind, s.name, s.iniValue())
}

// phpGroup is the settings under one PHP-module guard.
type phpGroup struct {
	guard    *parser.Node
	access   bool
	state    guardState
	settings []phpSetting
}

// guardState is why a group's guard matters.
type guardState int

const (
	guardLive     guardState = iota // true today, false after the switch
	guardDead                       // never matches PHP 8's module: ignored today
	guardUnloaded                   // names mod_php, which the tree no longer loads
)

func runPHPSettings(p *Pass) {
	idx := p.facts.Index()
	names := facts.PHPNames(p.Today)
	var groups []*phpGroup
	byGuard := map[*parser.Node]*phpGroup{}
	addToGroup := func(guard *parser.Node, e *facts.Entry, s phpSetting, state guardState) {
		if state != guardDead && e.Access == nil && reportProtection(p, guard, s, state) {
			return // a protection lost at the switch: an error at its own line
		}
		g := byGuard[guard]
		if g == nil {
			g = &phpGroup{guard: guard, access: e.Access != nil, state: state}
			byGuard[guard] = g
			groups = append(groups, g)
		}
		g.settings = append(g.settings, s)
	}
	for _, e := range idx.Named("php_value", "php_flag", "php_admin_value", "php_admin_flag") {
		n := e.Node
		kind, key, arg, ok := facts.PHPDirective(n)
		if !ok {
			continue
		}
		s := phpSetting{node: n, kind: kind, name: key, value: arg}
		if s.name == modphp.EngineKey {
			continue // MPM1005
		}
		if !iniName.MatchString(s.name) {
			// A template placeholder (<%= key %>, {tmpl_var}): say what
			// breaks, without a fix built from garbage.
			if e.After {
				p.Reportf(n, nil, "%s is an unknown directive without mod_php: httpd will refuse to start (or a .htaccess answers 500); move the setting to the php-fpm pool or .user.ini, or wrap it in <IfModule mod_php.c>", n.Name)
			}
			continue
		}
		inAccess := e.Access != nil
		switch {
		case s.kind.Admin() && inAccess && (e.Today || e.After):
			d := Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Related: includeChain(n), Origin: Today,
				Message: fmt.Sprintf("%s is never allowed in .htaccess: every request under %s already answers 500 today; set %s in the php-fpm pool instead (%s)",
					n.Name, facts.AccessDir(e), s.name, s.poolLine())}
			if !e.Today {
				d.Origin = Switch
				d.Message = fmt.Sprintf("%s is never allowed in .htaccess: every request under %s will answer 500 after the switch; set %s in the php-fpm pool instead (%s)",
					n.Name, facts.AccessDir(e), s.name, s.poolLine())
			}
			p.Report(d)
		case e.After:
			reportUnguarded(p, e, s)
		case e.Today:
			if ignored(s) {
				reportSystemOnly(p, e, s)
				continue
			}
			guards := facts.PHPGuards(n)
			if len(guards) == 0 {
				continue // inactive after for another reason
			}
			addToGroup(guards[0], e, s, guardLive)
		default:
			// Inactive in both views: a PHP guard that never matches (so
			// ignored today), or one that names mod_php on a tree that has
			// already switched (so lost).
			if g := facts.UnloadedGuard(p.Today, n); g != nil {
				if !ignored(s) && !(s.kind.Admin() && inAccess) {
					addToGroup(g, e, s, guardUnloaded)
				}
				continue
			}
			for _, g := range facts.PHPGuards(n) {
				name, neg, _ := modphp.Guard(facts.Arg(g, 0))
				if !neg && !names[name] {
					addToGroup(g, e, s, guardDead)
					break
				}
			}
		}
	}
	for _, g := range groups {
		reportGroup(p, g, names)
	}
}

// reportUnguarded reports a php_* line in effect after the switch: httpd
// no longer knows the directive.
func reportUnguarded(p *Pass, e *facts.Entry, s phpSetting) {
	n := s.node
	switch {
	case ignored(s):
		breaks := "httpd will refuse to start"
		if e.Access != nil {
			breaks = "every request that reads this .htaccess will answer 500"
		}
		p.Reportf(n, nil, "%s is an unknown directive without mod_php: %s; %s is PHP_INI_SYSTEM, which mod_php ignores here even today, so remove the line (or set it in php.ini or the php-fpm pool if it is wanted)",
			n.Name, breaks, s.name)
	case e.Access != nil:
		p.Reportf(n, nil, "%s is an unknown directive without mod_php: every request that reads this .htaccess (PHP, static files, subdirectories) will answer 500; move %s to .user.ini (%s = %s) or wrap it in <IfModule mod_php.c>",
			n.Name, s.name, s.name, s.iniValue())
	default:
		d := Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Related: includeChain(n)}
		if pl := p.facts.Placement(n); placedInFile(pl) {
			d.Message = fmt.Sprintf("%s is an unknown directive without mod_php: httpd will refuse to start; move %s to %s (see fix), or wrap it in <IfModule mod_php.c>",
				n.Name, s.name, placeWhere(pl))
			d.Fix = placeFix(pl)
		} else if dir := facts.DirectoryOf(n); dir != "" && !s.kind.Admin() {
			d.Message = fmt.Sprintf("%s is an unknown directive without mod_php: httpd will refuse to start; move %s to %s/.user.ini (%s = %s), or to the php-fpm pool if it is meant for the whole site, or wrap it in <IfModule mod_php.c>",
				n.Name, s.name, dir, s.name, s.iniValue())
		} else {
			d.Message = fmt.Sprintf("%s is an unknown directive without mod_php: httpd will refuse to start; move %s to the php-fpm pool (%s) or wrap it in <IfModule mod_php.c>",
				n.Name, s.name, s.poolLine())
		}
		p.Report(d)
	}
}

// placedInFile reports whether the plan puts a setting in a file (a pool
// or .user.ini) whose line it knows.
func placedInFile(pl *facts.Placed) bool {
	return pl != nil && pl.LineText != "" &&
		(pl.Target == migrate.TargetPool || pl.Target == migrate.TargetPoolAdmin || pl.Target == migrate.TargetUserINI)
}

// placeWhere names where the plan puts a setting: the pool with its file
// and line, or the .user.ini file and line.
func placeWhere(pl *facts.Placed) string {
	at := fmt.Sprintf("%s:%d", pl.File, pl.Line)
	if pl.Target == migrate.TargetUserINI {
		return at
	}
	return fmt.Sprintf("php-fpm pool %s (%s)", pl.Pool, at)
}

// placeFix is the plan's line for a setting, with a comment naming the
// file and line it goes to.
func placeFix(pl *facts.Placed) string {
	return fmt.Sprintf("; %s:%d\n%s\n", pl.File, pl.Line, pl.LineText)
}

// reportProtection reports s, a setting under guard that mod_php applied
// and php-fpm will not (or, on a tree that has switched, no longer does),
// as an error at its own line when it is a protection (modphp.Protection).
// It returns false for other settings.
func reportProtection(p *Pass, guard *parser.Node, s phpSetting, state guardState) bool {
	why, ok := modphp.Protection(s.name, modphp.Stored(s.kind, s.value))
	if !ok {
		return false
	}
	lost := "silently stops applying once mod_php is gone"
	if state == guardUnloaded {
		lost = "applied under mod_php, and nothing applies it now that mod_php is not loaded"
	}
	d := Diagnostic{Pos: s.node.Pos, EndLine: s.node.EndLine, Severity: Error,
		Related: append([]Related{{Pos: guard.Pos, Message: "<IfModule " + facts.Arg(guard, 0) + ">"}}, includeChain(s.node)...)}
	if pl := p.facts.Placement(s.node); placedInFile(pl) {
		d.Message = fmt.Sprintf("%s %s under <IfModule %s> %s: a protection is lost (%s); set it in %s as the plan does (see fix)",
			s.node.Name, s.name, facts.Arg(guard, 0), lost, why, placeWhere(pl))
		d.Fix = placeFix(pl)
	} else {
		d.Message = fmt.Sprintf("%s %s under <IfModule %s> %s: a protection is lost (%s); set it in a php-fpm pool that serves only this directory (%s)",
			s.node.Name, s.name, facts.Arg(guard, 0), lost, why, s.poolLine())
	}
	p.Report(d)
	return true
}

// ignored reports whether mod_php drops the setting although PHP knows
// the key: php_value or php_flag of a PHP_INI_SYSTEM directive
// (modphp.Applies).
func ignored(s phpSetting) bool {
	m, ok := phpini.Lookup(s.name)
	return ok && !modphp.Applies(s.kind, m, ok)
}

func reportSystemOnly(p *Pass, e *facts.Entry, s phpSetting) {
	where := "httpd.conf"
	if e.Access != nil {
		where = ".htaccess"
	}
	p.Report(Diagnostic{
		Pos: s.node.Pos, EndLine: s.node.EndLine, Severity: Info, Origin: Today,
		Message: fmt.Sprintf("%s is PHP_INI_SYSTEM: mod_php ignores %s for it in %s, so it has no effect even today; set it in php.ini or the php-fpm pool (php_admin_value[%s] = %s) if it is wanted",
			s.name, s.node.Name, where, s.name, s.iniValue()),
		Related: includeChain(s.node),
	})
}

func reportGroup(p *Pass, g *phpGroup, names map[string]bool) {
	var list []string
	var rel []Related
	var fix strings.Builder
	fromPlan := !g.access && g.state != guardDead
	for _, s := range g.settings {
		list = append(list, s.name)
		rel = append(rel, Related{Pos: s.node.Pos, Message: s.node.Name + " " + s.name})
		switch pl := p.facts.Placement(s.node); {
		case g.access:
			fmt.Fprintf(&fix, "%s = %s\n", s.name, s.iniValue())
		case fromPlan && placedInFile(pl):
			fix.WriteString(placeFix(pl))
		default:
			fromPlan = false
			fmt.Fprintln(&fix, s.poolLine())
		}
	}
	if !g.access && !fromPlan && g.state != guardDead {
		// Some setting has no place in the plan: the pool lines alone.
		fix.Reset()
		for _, s := range g.settings {
			fmt.Fprintln(&fix, s.poolLine())
		}
	}
	rel = append(rel, includeChain(g.guard)...)
	arg := facts.Arg(g.guard, 0)
	where := "move them to .user.ini in this directory or let the modphp-migrate shim apply them"
	switch {
	case g.access:
	case fromPlan:
		where = "set " + itThem(len(list)) + " where the plan puts " + itThem(len(list)) + " (see fix)"
	case anySystem(g.settings):
		where = "move them to a php-fpm pool that serves only this site (see fix)"
	default:
		where = "move them to a php-fpm pool that serves only this site (see fix) or to .user.ini"
	}
	d := Diagnostic{Pos: g.guard.Pos, EndLine: g.guard.EndLine, Severity: Warning, Related: rel, Fix: fix.String()}
	switch g.state {
	case guardDead:
		name, _, _ := modphp.Guard(arg)
		reason := fmt.Sprintf("<IfModule %s> never matches the PHP module (it answers to %s)", name, strings.Join(sortedKeys(names), " and "))
		d.Origin = Today
		d.Message = fmt.Sprintf("%s, so %s %s already ignored today: remove the block, or if the settings are wanted, %s",
			reason, strings.Join(list, ", "), isAre(len(list)), where)
	case guardUnloaded:
		d.Message = fmt.Sprintf("%s %s set under <IfModule %s>: mod_php applied %s, and nothing applies %s now that mod_php is not loaded; %s",
			strings.Join(list, ", "), isAre(len(list)), arg, itThem(len(list)), itThem(len(list)), where)
	default:
		verb := "stop"
		if len(list) == 1 {
			verb = "stops"
		}
		d.Message = fmt.Sprintf("%s %s set under <IfModule %s> and silently %s applying once mod_php is gone: %s",
			strings.Join(list, ", "), isAre(len(list)), arg, verb, where)
	}
	p.Report(d)
}

// anySystem reports whether one of the settings is PHP_INI_SYSTEM, which
// .user.ini cannot set.
func anySystem(ss []phpSetting) bool {
	for _, s := range ss {
		if m, ok := phpini.Lookup(s.name); ok && m.SystemOnly() {
			return true
		}
	}
	return false
}

func itThem(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func sortedKeys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }
