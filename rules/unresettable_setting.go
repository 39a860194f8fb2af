package rules

import (
	"fmt"

	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
	"github.com/modphp-migrate/modphp-migrate/internal/phpini"
	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
)

// unresettableSetting is MPM1007: a php_value or php_admin_value that
// php-fpm could never take back.
var unresettableSetting = register(&Rule{
	Code:       "MPM1007",
	Title:      "setting php-fpm cannot reset",
	Severity:   Error,
	Directives: []string{"php_value", "php_admin_value"},
	Doc: Doc{
		Text: `Finds php_value and php_admin_value lines (in use today under mod_php) for directives PHP refuses to set back to an empty value, where the php-fpm pool's value is empty: ` + "`upload_tmp_dir`, `sys_temp_dir`, `doc_root`" + ` and a few more (internal/phpini, generated from a real php-fpm).

mod_php restores every setting after each request. php-fpm keeps what a request's ` + "`PHP_VALUE`" + ` set in the worker, and resetting means setting the pool's value again, which PHP refuses when that value is empty. Debian's phpMyAdmin sets ` + "`php_admin_value upload_tmp_dir`" + ` in its ` + "`<Directory>`" + `: under php-fpm, after one phpMyAdmin request every other site on that worker uploads into phpMyAdmin's directory, and ` + "`tempnam()`" + ` follows ` + "`sys_temp_dir`" + ` there, until php-fpm restarts (issue #14).

Give the directory a php-fpm pool of its own, with the setting in the pool (` + "`php_admin_value[upload_tmp_dir] = …`" + `), and send only that directory to it (with the modphp-migrate shim: ` + "`--pool-for DIR=ADDR`" + `). Without that, the shim answers the directory's requests 500 rather than leak the setting. A pool (or php.ini) that gives the directive a value of its own can reset it, and is not reported.`,
		Before: "# /etc/apache2/conf-enabled/phpmyadmin.conf\n<Directory /usr/share/phpmyadmin>\n    <IfModule mod_php.c>\n        php_admin_value upload_tmp_dir /var/lib/phpmyadmin/tmp\n    </IfModule>\n</Directory>\n",
		After:  "; /etc/php/8.2/fpm/pool.d/phpmyadmin.conf\n[phpmyadmin]\nlisten = /run/php/phpmyadmin.sock\nphp_admin_value[upload_tmp_dir] = /var/lib/phpmyadmin/tmp\n; and: modphp-migrate shim --pool-for /usr/share/phpmyadmin=unix:/run/php/phpmyadmin.sock\n",
		Since:  "unreleased",
	},
	Run: runUnresettableSetting,
})

func runUnresettableSetting(p *Pass) {
	for _, e := range p.facts.Index().Named("php_value", "php_admin_value") {
		n := e.Node
		if n.Kind != parser.KindDirective || !e.Today {
			continue
		}
		k, name, arg, _ := facts.PHPDirective(n)
		value := modphp.Stored(k, arg)
		if !phpini.RefusesEmpty(name) || value == "" || (k.Admin() && e.Access != nil) {
			continue // an empty value resets nothing; php_admin_* in .htaccess is MPM1004's
		}
		if mode, known := phpini.Lookup(name); !modphp.Applies(k, mode, known) {
			continue // mod_php ignores the line
		}
		if !poolValueEmpty(p, name) {
			continue
		}
		scope := "this directory"
		switch {
		case e.Access != nil:
			scope = facts.AccessDir(e)
		case facts.DirectoryOf(n) != "":
			scope = facts.DirectoryOf(n)
		case parser.Enclosing(n, "Files", "FilesMatch", "Location", "LocationMatch", "DirectoryMatch") != nil:
			scope = "the requests of this section"
		case parser.Enclosing(n, "VirtualHost") != nil:
			scope = "this virtual host"
		default:
			scope = "the whole server"
		}
		p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Related: includeChain(n),
			Fix: fmt.Sprintf("php_admin_value[%s] = %s\n", name, value),
			Message: fmt.Sprintf("%s %s: PHP cannot set %s back to the pool's empty value, so under php-fpm it stays in the worker for every later site; serve %s from a php-fpm pool of its own with %s set there (see fix; with the modphp-migrate shim, --pool-for), or the shim answers its requests 500",
				n.Name, name, name, scope, name)})
	}
}

// poolValueEmpty reports whether a php-fpm worker starts with the
// directive empty: some pool (or, without a php-fpm configuration, PHP's
// stock configuration) gives it no value.
func poolValueEmpty(p *Pass, name string) bool {
	pools := p.facts.Pools()
	if len(pools) == 0 {
		if ini := p.facts.INI(); ini != nil {
			if s, ok := ini.Settings[name]; ok {
				return s.Value == ""
			}
		}
		return phpini.UnresettableByDefault(name)
	}
	for _, pool := range pools {
		v, ok := fpmconf.Baseline(p.facts.INI(), pool)[name]
		if !ok && phpini.UnresettableByDefault(name) || ok && v == "" {
			return true
		}
	}
	return false
}
