package rules

import (
	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
)

// modphpAndFPMHandler is MPM2002: mod_php loaded and a handler to php-fpm
// in effect at the same time.
var modphpAndFPMHandler = register(&Rule{
	Code:     "MPM2002",
	Title:    "mod_php and a php-fpm handler both enabled",
	Severity: Warning,
	Origin:   Today,
	Doc: Doc{
		Text: `Finds a handler to php-fpm (` + "`SetHandler \"proxy:…fcgi://…\"`" + `, ` + "`AddHandler`" + `, ProxyPassMatch, ` + "`RewriteRule [P]`" + ` to ` + "`fcgi://`" + `) in effect while mod_php is still loaded.

php-fpm then takes every request the handler matches: mod_php is loaded but runs nothing there, and the ` + "`php_value`" + `/` + "`php_flag`" + ` lines of .htaccess files are still accepted by Apache (so no 500 warns anyone) but silently stop applying (observed with Debian's packages: ` + "`sapi=fpm-fcgi`" + `, ` + "`memory_limit=128M`" + ` instead of the .htaccess value; docs/behaviour.md#b-fpm-conf-guard). The usual cause is ` + "`a2enconf php8.2-fpm`" + ` without ` + "`a2dismod php8.2`" + `: Debian's php8.2-fpm.conf is wrapped in ` + "`<IfModule !mod_php8.c>`" + `, and PHP 8's module answers only to ` + "`mod_php.c`" + ` and ` + "`php_module`" + `, so the guard is always true (docs/behaviour.md#b-guard).

Finish the migration (unload mod_php once the .htaccess settings have moved to the pool or .user.ini, see MPM1004), or, to keep mod_php for now, guard the handler with a name that matches: ` + "`<IfModule !mod_php.c>`" + `.`,
		Before: "LoadModule php_module /usr/lib/apache2/modules/libphp8.2.so\n<IfModule !mod_php8.c>\n    <FilesMatch \".+\\.ph(?:ar|p|tml)$\">\n        SetHandler \"proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost\"\n    </FilesMatch>\n</IfModule>\n",
		After:  "LoadModule php_module /usr/lib/apache2/modules/libphp8.2.so\n<IfModule !mod_php.c>\n    <FilesMatch \".+\\.ph(?:ar|p|tml)$\">\n        SetHandler \"proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost\"\n    </FilesMatch>\n</IfModule>\n",
		Since:  "0.1.0",
	},
	Run: runModphpAndFPMHandler,
})

func runModphpAndFPMHandler(p *Pass) {
	php, ok := facts.PHPModule(p.Today)
	if !ok {
		return
	}
	names := facts.PHPNames(p.Today)
	for _, h := range p.facts.Handlers() {
		if !h.Entry.Today {
			continue
		}
		rel := []Related{{Pos: php.Pos, Message: "mod_php is loaded here"}}
		why := ""
		for _, g := range facts.PHPGuards(h.Node) {
			name, neg, _ := modphp.Guard(facts.Arg(g, 0))
			if neg && !names[name] {
				rel = append(rel, Related{Pos: g.Pos, Message: "<IfModule !" + name + "> is always true: the PHP module answers only to mod_php.c and php_module"})
				why = " (<IfModule !" + name + "> at " + facts.ShortPos(g.Pos) + " never matches PHP 8's module, so it does not keep the handler out)"
				break
			}
		}
		p.Report(Diagnostic{Pos: h.Node.Pos, EndLine: h.Node.EndLine, Related: append(rel, includeChain(h.Node)...),
			Message: "php-fpm takes these PHP requests although mod_php is loaded" + why + ": mod_php runs nothing here and .htaccess php_value/php_flag silently stop applying; unload mod_php (a2dismod " + facts.PHPModName(php.Path) + ") once the settings have moved, or guard this handler with <IfModule !mod_php.c>"})
	}
}
