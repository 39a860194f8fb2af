package rules

import (
	"errors"
	"io/fs"

	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
)

// lostEngineOff is MPM1005: php_flag engine off protects a directory only
// under mod_php.
var lostEngineOff = register(&Rule{
	Code:       "MPM1005",
	Title:      "PHP engine off stops protecting",
	Severity:   Error,
	Directives: []string{"php_flag", "php_admin_flag", "php_value", "php_admin_value"},
	Doc: Doc{
		Text: `Finds ` + "`php_flag engine off`" + ` and ` + "`php_admin_flag engine off`" + ` (and their php_value forms), the usual way to stop uploaded scripts from running in an uploads or cache directory.

Under mod_php the setting makes Apache return the source instead of running it. The ` + "`engine`" + ` setting exists only in mod_php (apache2handler): php-fpm has no such switch, and ` + "`PHP_ADMIN_VALUE engine=0`" + ` is refused by php-fpm. After the switch the script runs (observed: ` + "`PHP-RAN sapi=fpm-fcgi`" + `, docs/behaviour.md#b-modphp-engine) — or, when the line is unguarded in a .htaccess, every request in the directory answers 500 instead. An error: a protection is lost at the switch — also on a tree that has already switched (mod_php no longer loaded), where ` + "`<IfModule mod_php.c>`" + ` is false and the scripts already run. A guard that never matches PHP 8 (` + "`<IfModule mod_php7.c>`" + `), or a ` + "`<Directory>`" + ` that does not exist, means the protection is already gone today: a warning of origin today.

Replace it with an access rule that holds whatever runs PHP: deny requests for PHP files in that directory (or give it no PHP handler at all). The fix is the migration plan's (` + "`modphp-migrate plan`" + `, computed once per run on the same tree): the ` + "`<Directory>`" + ` block with ` + "`Require all denied`" + ` for the PHP file patterns that the plan writes in its Apache configuration file, headed by that file; the plan also wraps the line in ` + "`<IfModule mod_php.c>`" + `. A line under a guard that never matches is dropped by the plan (it never applied), and has no fix.`,
		Before: "# /var/www/site/uploads/.htaccess\nphp_flag engine off\n",
		After:  "# /etc/apache2/conf-available/modphp-migrate-fpm.conf (as modphp-migrate plan writes it)\n# php_flag engine off (/var/www/site/uploads/.htaccess:2)\n<Directory /var/www/site/uploads>\n\t<FilesMatch \".+\\.ph(?:ar|p|tml)$\">\n\t\tRequire all denied\n\t</FilesMatch>\n</Directory>\n",
		Since:  "0.1.0",
	},
	Run: runEngineOff,
})

func runEngineOff(p *Pass) {
	names := facts.PHPNames(p.Today)
	for _, e := range p.facts.Index().Named("php_flag", "php_admin_flag", "php_value", "php_admin_value") {
		n := e.Node
		if k, key, arg, ok := facts.PHPDirective(n); !ok || !modphp.EngineOff(k, key, arg) {
			continue
		}
		where := "in this directory"
		if e.Access == nil {
			if d := parser.Enclosing(n, "Directory"); d != nil {
				where = "in " + facts.Arg(d, 0)
			} else if parser.Enclosing(n, "VirtualHost") != nil {
				where = "in this virtual host"
			}
		}
		deny, fix := planDenial(p.facts.Placement(n))
		switch {
		case e.Today && missingDirectory(p, n):
			p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Fix: fix, Related: includeChain(n), Origin: Today,
				Message: n.Name + " engine off is in <Directory " + facts.DirectoryOf(n) + ">, which does not exist: it protects nothing today; point it at the directory meant, " + deny})
		case e.Today:
			p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Fix: fix, Related: includeChain(n),
				Message: n.Name + " engine off stops PHP only under mod_php: php-fpm will run the scripts " + where + "; " + deny})
		case facts.UnloadedGuard(p.Today, n) != nil:
			g := facts.UnloadedGuard(p.Today, n)
			p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Fix: fix,
				Related: append([]Related{{Pos: g.Pos, Message: "<IfModule " + facts.Arg(g, 0) + "> is false now that mod_php is not loaded"}}, includeChain(n)...),
				Message: n.Name + " engine off stopped PHP under mod_php, which is no longer loaded: php-fpm runs the scripts " + where + " now; " + deny})
		default:
			for _, g := range facts.PHPGuards(n) {
				name, neg, _ := modphp.Guard(facts.Arg(g, 0))
				if !neg && !names[name] {
					p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Origin: Today,
						Related: append([]Related{{Pos: g.Pos, Message: "<IfModule " + name + "> never matches the PHP module"}}, includeChain(n)...),
						Message: n.Name + " engine off is already not in effect today because <IfModule " + name + "> never matches: PHP runs " + where + " now, and the plan drops the line (it never applied); if PHP must not run there, put it under <IfModule mod_php.c>, and modphp-migrate plan turns it into Require all denied for the PHP files"})
					break
				}
			}
		}
	}
}

// planDenial words the advice for an engine-off line the plan denies,
// and its fix: the block the plan writes in its Apache configuration,
// headed by that file. Without the plan's denial, it says what to write
// and has no fix.
func planDenial(pl *facts.Placed) (advice, fix string) {
	if pl == nil || pl.DenyBlock == "" {
		return "deny PHP files with Require all denied in a <FilesMatch> instead (modphp-migrate plan writes it)", ""
	}
	return "deny PHP files with Require all denied in a <FilesMatch> instead, as the plan does in its Apache configuration (see fix)",
		"# " + pl.DenyFile + "\n" + pl.DenyBlock
}

// missingDirectory reports whether n is in a <Directory> section naming a
// directory that does not exist (read through the run's FS, under the
// tree's root). A file linted alone (no LoadModule line: the server it
// belongs to is elsewhere) is never judged against this machine.
func missingDirectory(p *Pass, n *parser.Node) bool {
	dir := facts.DirectoryOf(n)
	if _, loaded := facts.PHPModule(p.Today); dir == "" || !loaded {
		return false
	}
	_, err := p.facts.FS.Stat(p.Today.HostPath(dir))
	return errors.Is(err, fs.ErrNotExist)
}
