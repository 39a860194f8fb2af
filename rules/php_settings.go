package rules

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

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
	Doc: Doc{
		Text: `Finds php_value, php_flag, php_admin_value and php_admin_flag, the directives mod_php adds to Apache, and says what each one turns into once mod_php is gone.

- **Unguarded** (not inside ` + "`<IfModule mod_php.c>`" + `), error: without mod_php, httpd does not know the directive. In server configuration it refuses to start (` + "`Invalid command 'php_value'`" + `); in a .htaccess every request that reads the file answers 500 — PHP scripts, static files and subdirectories alike (docs/behaviour.md#b-conf-invalid, #b-htaccess-500).
- **Guarded by a name that matches**, warning: ` + "`<IfModule mod_php.c>`" + ` and ` + "`<IfModule php_module>`" + ` keep httpd happy, but the settings silently stop applying. The finding lists them; move them to a ` + "`.user.ini`" + ` next to the .htaccess, to the php-fpm pool (` + "`php_value[name] = value`" + `), or let the modphp-migrate shim apply them.
- **Guarded by a name that never matches**, warning: PHP 8's module is ` + "`mod_php.c`/`php_module`" + `; ` + "`mod_php7.c`, `php7_module`, `mod_php8.c`, `php8_module`, `mod_php5.c`" + `… never match it (docs/behaviour.md#b-guard), so the block is already ignored today.
- **php_admin_value or php_admin_flag in .htaccess**, error: mod_php refuses them there, so the directory already answers 500 today (docs/behaviour.md#b-modphp-admin).
- **A PHP_INI_SYSTEM setting** set with php_value or php_flag (` + "`expose_php`, `allow_url_fopen`" + `…), info: mod_php ignores it even today (docs/behaviour.md#b-modphp-system); it belongs in php.ini or the pool. The table of access levels is generated from a real PHP build (internal/phpini).

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
	dead     bool // the guard never matches (or mod_php is not loaded)
	settings []phpSetting
}

func runPHPSettings(p *Pass) {
	idx := p.facts.Index()
	names := facts.PHPNames(p.Today)
	var groups []*phpGroup
	byGuard := map[*parser.Node]*phpGroup{}
	addToGroup := func(guard *parser.Node, e *facts.Entry, s phpSetting, dead bool) {
		g := byGuard[guard]
		if g == nil {
			g = &phpGroup{guard: guard, access: e.Access != nil, dead: dead}
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
			when := "already answers 500 today"
			if !e.Today {
				when = "will answer 500 after the switch"
			}
			p.Reportf(n, nil, "%s is never allowed in .htaccess: every request under %s %s; set %s in the php-fpm pool instead (%s)",
				n.Name, facts.AccessDir(e), when, s.name, s.poolLine())
		case e.After:
			if ignored(s) {
				breaks := "httpd will refuse to start"
				if inAccess {
					breaks = "every request that reads this .htaccess will answer 500"
				}
				p.Reportf(n, nil, "%s is an unknown directive without mod_php: %s; %s is PHP_INI_SYSTEM, which mod_php ignores here even today, so remove the line (or set it in php.ini or the php-fpm pool if it is wanted)",
					n.Name, breaks, s.name)
			} else if inAccess {
				p.Reportf(n, nil, "%s is an unknown directive without mod_php: every request that reads this .htaccess (PHP, static files, subdirectories) will answer 500; move %s to .user.ini (%s = %s) or wrap it in <IfModule mod_php.c>",
					n.Name, s.name, s.name, s.iniValue())
			} else if dir := facts.DirectoryOf(n); dir != "" && !s.kind.Admin() {
				p.Reportf(n, nil, "%s is an unknown directive without mod_php: httpd will refuse to start; move %s to %s/.user.ini (%s = %s), or to the php-fpm pool if it is meant for the whole site, or wrap it in <IfModule mod_php.c>",
					n.Name, s.name, dir, s.name, s.iniValue())
			} else {
				p.Reportf(n, nil, "%s is an unknown directive without mod_php: httpd will refuse to start; move %s to the php-fpm pool (%s) or wrap it in <IfModule mod_php.c>",
					n.Name, s.name, s.poolLine())
			}
		case e.Today:
			if ignored(s) {
				reportSystemOnly(p, e, s)
				continue
			}
			guards := facts.PHPGuards(n)
			if len(guards) == 0 {
				continue // inactive after for another reason
			}
			addToGroup(guards[0], e, s, false)
		default:
			// Inactive in both views: report only when a PHP guard that
			// never matches is the reason.
			for _, g := range facts.PHPGuards(n) {
				name, neg, _ := modphp.Guard(facts.Arg(g, 0))
				if !neg && !names[name] {
					addToGroup(g, e, s, true)
					break
				}
			}
		}
	}
	for _, g := range groups {
		reportGroup(p, g, names)
	}
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
		Pos: s.node.Pos, EndLine: s.node.EndLine, Severity: Info,
		Message: fmt.Sprintf("%s is PHP_INI_SYSTEM: mod_php ignores %s for it in %s, so it has no effect even today; set it in php.ini or the php-fpm pool (php_admin_value[%s] = %s) if it is wanted",
			s.name, s.node.Name, where, s.name, s.iniValue()),
		Related: includeChain(s.node),
	})
}

func reportGroup(p *Pass, g *phpGroup, names map[string]bool) {
	var list []string
	var rel []Related
	var fix strings.Builder
	for _, s := range g.settings {
		list = append(list, s.name)
		rel = append(rel, Related{Pos: s.node.Pos, Message: s.node.Name + " " + s.name})
		if g.access {
			fmt.Fprintf(&fix, "%s = %s\n", s.name, s.iniValue())
		} else {
			fmt.Fprintln(&fix, s.poolLine())
		}
	}
	rel = append(rel, includeChain(g.guard)...)
	arg := facts.Arg(g.guard, 0)
	where := "move them to .user.ini in this directory or let the modphp-migrate shim apply them"
	if !g.access {
		where = "move them to the php-fpm pool of this site (see fix) or to .user.ini"
	}
	var msg string
	if g.dead {
		name, _, _ := modphp.Guard(arg)
		reason := fmt.Sprintf("<IfModule %s> never matches the PHP module (it answers to %s)", name, strings.Join(sortedKeys(names), " and "))
		if names[name] {
			reason = fmt.Sprintf("<IfModule %s> is false today (mod_php is not loaded)", name)
		}
		msg = fmt.Sprintf("%s, so %s %s already ignored today: remove the block, or if the settings are wanted, %s",
			reason, strings.Join(list, ", "), isAre(len(list)), where)
	} else {
		verb := "stop"
		if len(list) == 1 {
			verb = "stops"
		}
		msg = fmt.Sprintf("%s %s set under <IfModule %s> and silently %s applying once mod_php is gone: %s",
			strings.Join(list, ", "), isAre(len(list)), arg, verb, where)
	}
	p.Report(Diagnostic{Pos: g.guard.Pos, EndLine: g.guard.EndLine, Severity: Warning, Message: msg, Related: rel, Fix: fix.String()})
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func sortedKeys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }
