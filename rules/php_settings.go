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
- **Where they go** comes from the migration plan (` + "`modphp-migrate plan`" + `, computed once per run on the same tree and php-fpm configuration): the fix is the plan's line, headed by the file and line it goes to — the pool of the setting's own scope (never a pool that serves other sites too) or ` + "`.user.ini`" + ` (never for a PHP_INI_SYSTEM key such as ` + "`upload_tmp_dir`" + `, which PHP ignores there). In a .htaccess, the plan keeps them for the modphp-migrate shim, which applies them per request, with an unguarded line wrapped in ` + "`<IfModule mod_php.c>`" + ` (the fix); ` + "`plan --htaccess=user-ini`" + ` moves them to a ` + "`.user.ini`" + ` beside it where PHP allows it. Where the plan puts a setting in no file (left to the shim under ` + "`<Files>`" + ` or ` + "`<Location>`" + `, dropped because it never applied), the message says so in the plan's words and the fix, if any, is the wrapped line: no rule guesses a pool or file of its own.
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

// iniName is what a PHP INI directive name looks like.
var iniName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

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
				p.Reportf(n, nil, "%s is an unknown directive without mod_php: httpd will refuse to start (or a .htaccess answers 500); wrap it in <IfModule mod_php.c>, and plan the server once the template is filled in: modphp-migrate plan places the setting", n.Name)
			}
			continue
		}
		inAccess := e.Access != nil
		switch {
		case s.kind.Admin() && inAccess && (e.Today || e.After):
			d := Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Related: includeChain(n), Origin: Today,
				Message: fmt.Sprintf("%s is never allowed in .htaccess: every request under %s already answers 500 today; %s",
					n.Name, facts.AccessDir(e), adminElsewhere(s.name))}
			if !e.Today {
				d.Origin = Switch
				d.Message = fmt.Sprintf("%s is never allowed in .htaccess: every request under %s will answer 500 after the switch; %s",
					n.Name, facts.AccessDir(e), adminElsewhere(s.name))
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
// no longer knows the directive. What to do is the plan's: it wraps the
// line in <IfModule mod_php.c> (the fix, replacing the line) and puts the
// setting in a pool or .user.ini, leaves it to the shim, or drops it.
func reportUnguarded(p *Pass, e *facts.Entry, s phpSetting) {
	n := s.node
	pl := p.facts.Placement(n)
	d := Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Related: includeChain(n)}
	breaks := "httpd will refuse to start"
	if e.Access != nil {
		breaks = "every request that reads this .htaccess (PHP, static files, subdirectories) will answer 500"
	}
	if pl != nil && pl.Wrapped {
		d.Fix, d.FixReplaces = wrapInModPHP(n), true
	}
	wrap := "wrap it in <IfModule mod_php.c> as the plan does (see fix)"
	if d.Fix == "" {
		wrap = "wrap it in <IfModule mod_php.c>"
	}
	switch {
	case ignored(s):
		d.Fix, d.FixReplaces = "", false // removing the line is the fix
		d.Message = fmt.Sprintf("%s is an unknown directive without mod_php: %s; %s is PHP_INI_SYSTEM, which mod_php ignores here even today, so remove the line (if it is wanted: %s)",
			n.Name, breaks, s.name, systemElsewhere(e))
	case pl.InFile():
		d.Message = fmt.Sprintf("%s is an unknown directive without mod_php: %s; move %s to %s (see fix), or wrap it in <IfModule mod_php.c>",
			n.Name, breaks, s.name, pl.Where())
		d.Fix, d.FixReplaces = pl.FixText(), false
	case pl != nil && pl.Target == migrate.TargetShim && e.Access != nil:
		d.Message = fmt.Sprintf("%s is an unknown directive without mod_php: %s; %s, so that the modphp-migrate shim still applies it per request (%s)",
			n.Name, breaks, wrap, userINIOrWhy(pl))
	case pl != nil:
		d.Message = fmt.Sprintf("%s is an unknown directive without mod_php: %s; %s (%s)", n.Name, breaks, wrap, pl.Describe())
	default:
		d.Message = fmt.Sprintf("%s is an unknown directive without mod_php: %s; %s, and see modphp-migrate plan for where %s goes", n.Name, breaks, wrap, s.name)
	}
	p.Report(d)
}

// wrapInModPHP is the line n inside <IfModule mod_php.c>, as the plan
// wraps it: both worlds accept it, and the shim still reads it.
func wrapInModPHP(n *parser.Node) string {
	line := n.Name
	if n.Raw != "" {
		line += " " + n.Raw
	}
	return "<IfModule mod_php.c>\n    " + line + "\n</IfModule>\n"
}

// userINIOrWhy says what else the plan can do with a .htaccess setting it
// leaves to the shim: move it to .user.ini with --htaccess=user-ini, or
// the plan's reason why the directory needs the shim.
func userINIOrWhy(pl *facts.Placed) string {
	if strings.HasPrefix(pl.Note, migrate.NeedsShim) {
		return "plan: " + pl.Note
	}
	return "or, with modphp-migrate plan --htaccess=user-ini, in a .user.ini beside it"
}

// adminElsewhere says where a php_admin_* setting refused in a .htaccess
// can go: php_admin_value in the server configuration's <Directory> for
// that directory, which the plan places in a pool of the directory's own.
func adminElsewhere(key string) string {
	return fmt.Sprintf("the plan leaves the line as it is: remove it, or if %s is wanted there, set it with php_admin_value in a <Directory> for this directory in the server configuration, which modphp-migrate plan places in a php-fpm pool of the directory's own",
		key)
}

// systemElsewhere says where a PHP_INI_SYSTEM setting mod_php ignored can
// go, if it is wanted: php.ini, or php_admin_value in the server
// configuration, which the plan places in a pool of that scope's own.
func systemElsewhere(e *facts.Entry) string {
	if e.Access != nil {
		return "php.ini, or php_admin_value in a <Directory> for this directory in the server configuration, which modphp-migrate plan places in a php-fpm pool of the directory's own"
	}
	return "php.ini, or php_admin_value instead of php_value, which modphp-migrate plan places in a php-fpm pool of that scope's own"
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
	if pl := p.facts.Placement(s.node); pl.InFile() {
		d.Message = fmt.Sprintf("%s %s under <IfModule %s> %s: a protection is lost (%s); set it in %s as the plan does (see fix)",
			s.node.Name, s.name, facts.Arg(guard, 0), lost, why, pl.Where())
		d.Fix = pl.FixText()
	} else {
		d.Message = fmt.Sprintf("%s %s under <IfModule %s> %s: a protection is lost (%s); %s",
			s.node.Name, s.name, facts.Arg(guard, 0), lost, why, pl.Describe())
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
		Message: fmt.Sprintf("%s is PHP_INI_SYSTEM: mod_php ignores %s for it in %s, so it has no effect even today (the plan drops it); if it is wanted, set it in %s",
			s.name, s.node.Name, where, systemElsewhere(e)),
		Related: includeChain(s.node),
	})
}

func reportGroup(p *Pass, g *phpGroup, names map[string]bool) {
	var list, others []string
	var rel []Related
	var fix strings.Builder
	var shim *facts.Placed // a .htaccess setting the plan leaves to the shim
	shimN := 0
	for _, s := range g.settings {
		list = append(list, s.name)
		rel = append(rel, Related{Pos: s.node.Pos, Message: s.node.Name + " " + s.name})
		if g.state == guardDead {
			continue // the plan drops them: they never applied
		}
		switch pl := p.facts.Placement(s.node); {
		case pl.InFile():
			fix.WriteString(pl.FixText())
		case g.access && pl != nil && pl.Target == migrate.TargetShim:
			shim, shimN = pl, shimN+1
		default:
			others = append(others, "for "+s.name+", "+pl.Describe())
		}
	}
	rel = append(rel, includeChain(g.guard)...)
	arg := facts.Arg(g.guard, 0)
	where := groupWhere(len(list), shimN, fix.Len() > 0, shim, others)
	d := Diagnostic{Pos: g.guard.Pos, EndLine: g.guard.EndLine, Severity: Warning, Related: rel, Fix: fix.String()}
	switch g.state {
	case guardDead:
		name, _, _ := modphp.Guard(arg)
		reason := fmt.Sprintf("<IfModule %s> never matches the PHP module (it answers to %s)", name, strings.Join(sortedKeys(names), " and "))
		d.Origin = Today
		d.Message = fmt.Sprintf("%s, so %s %s already ignored today (the plan drops %s): remove the block, or if the settings are wanted, put %s under <IfModule mod_php.c>, and modphp-migrate plan places %s",
			reason, strings.Join(list, ", "), isAre(len(list)), itThem(len(list)), itThem(len(list)), itThem(len(list)))
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

// groupWhere says what the plan does with the settings of a group: n
// settings, some placed in files (the fix), shimN left to the shim (shim
// is one of them), and the others in the plan's words.
func groupWhere(n, shimN int, inFiles bool, shim *facts.Placed, others []string) string {
	parts := others
	rest := func(k int) string { // the settings of a part after the others
		switch {
		case len(parts) == 0:
			return itThem(k)
		case k == 1:
			return "the other"
		}
		return "the others"
	}
	if shim != nil {
		parts = append(parts, "the plan leaves "+rest(shimN)+" to the modphp-migrate shim, which applies "+itThem(shimN)+" per request ("+userINIOrWhy(shim)+")")
	}
	if inFiles {
		k := n - shimN - len(others)
		parts = append(parts, "set "+rest(k)+" where the plan puts "+itThem(k)+" (see fix)")
	}
	return strings.Join(parts, "; ")
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
