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
	Plan:       true,
	Doc: Doc{
		Text: `Finds php_value and php_admin_value lines (in use today under mod_php) for directives PHP refuses to set back to an empty value, where the php-fpm pool's value is empty: ` + "`upload_tmp_dir`, `sys_temp_dir`, `doc_root`" + ` and a few more (internal/phpini, generated from a real php-fpm).

mod_php restores every setting after each request. php-fpm keeps what a request's ` + "`PHP_VALUE`" + ` set in the worker, and resetting means setting the pool's value again, which PHP refuses when that value is empty. Debian's phpMyAdmin sets ` + "`php_admin_value upload_tmp_dir`" + ` in its ` + "`<Directory>`" + `: under php-fpm, after one phpMyAdmin request every other site on that worker uploads into phpMyAdmin's directory, and ` + "`tempnam()`" + ` follows ` + "`sys_temp_dir`" + ` there, until php-fpm restarts (issue #14).

The directory needs a php-fpm pool of its own, with the setting in the pool, and only that directory sent to it (with the modphp-migrate shim: ` + "`--pool-for DIR=ADDR`" + `); without that, the shim answers the directory's requests 500 rather than leak the setting. The advice is the migration plan's (` + "`modphp-migrate plan`" + `, computed once per run on the same tree): the pool the plan gives the directory, the line it writes in that pool's file (the fix, headed by the file and line), and the shim's ` + "`--pool-for`" + ` with that pool's socket. The plan gives such a directory a pool of its own for a server-config line (the value goes in the pool) and for a .htaccess line the shim applies (the shim's ` + "`--pool-for`" + ` routes the directory there). Where it cannot (a line under ` + "`<Files>`" + ` or ` + "`<Location>`" + `, which neither a pool nor ` + "`.user.ini`" + ` can be limited to), the finding says where the plan puts the setting, and has no fix. A pool (or php.ini) that gives the directive a value of its own can reset it, and is not reported.`,
		Before: "# /etc/apache2/conf-enabled/phpmyadmin.conf\n<Directory /usr/share/phpmyadmin>\n    <IfModule mod_php.c>\n        php_admin_value upload_tmp_dir /var/lib/phpmyadmin/tmp\n    </IfModule>\n</Directory>\n",
		After:  "; /etc/php/8.2/fpm/pool.d/modphp-migrate-usr-share-phpmyadmin.conf (as modphp-migrate plan writes it)\n[usr-share-phpmyadmin]\nlisten = /run/php/modphp-migrate-usr-share-phpmyadmin.sock\nphp_admin_value[upload_tmp_dir] = /var/lib/phpmyadmin/tmp\n; and: modphp-migrate shim --pool-for /usr/share/phpmyadmin=unix:/run/php/modphp-migrate-usr-share-phpmyadmin.sock\n",
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
		d := Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Related: includeChain(n)}
		d.Message, d.Fix = unresettableAdvice(p.facts.Placement(n), name, fallbackScope(e))
		d.Message = fmt.Sprintf("%s %s: PHP cannot set %s back to the pool's empty value, so under php-fpm it stays in the worker for every later site; %s",
			n.Name, name, name, d.Message)
		p.Report(d)
	}
}

// unresettableAdvice says what the plan does with a setting PHP cannot
// reset, and its fix: the pool of its own the plan gives the setting's
// directory, with the line the plan writes there and the shim's
// --pool-for for it. Where the plan gives the directory no pool of its
// own, it says so and where the plan puts the setting, without a fix:
// requests there go through a shared pool, where the shim refuses them.
func unresettableAdvice(pl *facts.Placed, key, scope string) (msg, fix string) {
	if pl.OwnPool() {
		dir, pool := pl.Dir, pl.PlanPool
		route := "; with the modphp-migrate shim, --pool-for " + dir + "=unix:" + pool.Listen
		switch {
		case pl.InFile() && pl.File == pool.File:
			return fmt.Sprintf("the plan serves %s from php-fpm pool %s of its own and sets %s there (%s:%d, see fix)%s",
				dir, pool.Name, key, pl.File, pl.Line, route), pl.FixText()
		case pl.InFile():
			return fmt.Sprintf("the plan serves %s from php-fpm pool %s of its own and sets %s in %s:%d (see fix)%s",
				dir, pool.Name, key, pl.File, pl.Line, route), pl.FixText()
		case pool.Reused:
			return fmt.Sprintf("the plan serves %s from the existing php-fpm pool %s of its own, which sets %s already%s",
				dir, pool.Name, key, route), ""
		default:
			return fmt.Sprintf("the plan serves %s from php-fpm pool %s of its own (%s)%s",
				dir, pool.Name, pl.Describe(), route), ""
		}
	}
	if pl != nil && pl.Dir != "" {
		scope = pl.Dir
	}
	return fmt.Sprintf("the plan gives %s no php-fpm pool of its own (%s), so requests there reach a pool other sites share, and the modphp-migrate shim answers them 500 rather than leak %s",
		scope, pl.Describe(), key), ""
}

// fallbackScope names where a line applies, for messages when the plan
// has no scope for it.
func fallbackScope(e *facts.Entry) string {
	n := e.Node
	switch {
	case e.Access != nil:
		return facts.AccessDir(e)
	case facts.DirectoryOf(n) != "":
		return facts.DirectoryOf(n)
	case parser.Enclosing(n, "Files", "FilesMatch", "Location", "LocationMatch", "DirectoryMatch") != nil:
		return "the requests of this section"
	case parser.Enclosing(n, "VirtualHost") != nil:
		return "this virtual host"
	}
	return "the whole server"
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
