package rules

import (
	"fmt"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// fpmEnvInjection is MPM1006: environment variables php-fpm obeys.
var fpmEnvInjection = register(&Rule{
	Code:       "MPM1006",
	Title:      "environment variable php-fpm obeys",
	Severity:   Error,
	Directives: []string{"SetEnv", "PassEnv", "SetEnvIf", "SetEnvIfNoCase", "SetEnvIfExpr", "BrowserMatch", "BrowserMatchNoCase", "ProxyFCGISetEnvIf", "RewriteRule"},
	Doc: Doc{
		Text: `Finds SetEnv, SetEnvIf, SetEnvIfNoCase, SetEnvIfExpr, BrowserMatch, PassEnv, ` + "`RewriteRule … [E=…]`" + ` and ProxyFCGISetEnvIf lines that set PHP_VALUE, PHP_ADMIN_VALUE or REQUEST_BODY_FILE, anywhere in the tree or in a .htaccess.

mod_proxy_fcgi sends every request environment variable to php-fpm as a FastCGI parameter, and php-fpm obeys these three: PHP_VALUE and PHP_ADMIN_VALUE change INI settings — even PHP_INI_SYSTEM ones, even loosening open_basedir — and the change stays in the worker for every later request it serves, whatever the directory or virtual host (docs/behaviour.md#b-env-to-fpm, #b-fpm-php-value). REQUEST_BODY_FILE makes php-fpm read the request body from a file of the attacker's choice (docs/behaviour.md#b-env-to-fpm). Under mod_php the same lines only set harmless variables, so nobody noticed.

Remove the line, and unset the three variables at virtual host level with ` + "`ProxyFCGISetEnvIf \"true\" !PHP_VALUE`" + ` (httpd 2.4.44 or later; keep FileInfo out of AllowOverride, or a .htaccess can set them again). mod_php never read PHP_VALUE or PHP_ADMIN_VALUE, so the settings they carry never applied; if one is wanted, write it as ` + "`php_value`" + ` or ` + "`php_admin_value`" + `, and ` + "`modphp-migrate plan`" + ` places it (a pool of the directory's own, or .user.ini) as it places every other PHP setting: the rule names no pool of its own.`,
		Before: "# /var/www/site/.htaccess\nSetEnv PHP_VALUE \"auto_prepend_file=/var/www/site/prepend.php\"\n",
		After: "# /var/www/site/.htaccess (the setting, if it is wanted; modphp-migrate plan places it)\n<IfModule mod_php.c>\n    php_value auto_prepend_file /var/www/site/prepend.php\n</IfModule>\n\n" +
			"# <VirtualHost> of the site\nProxyFCGISetEnvIf \"true\" !PHP_VALUE\nProxyFCGISetEnvIf \"true\" !PHP_ADMIN_VALUE\nProxyFCGISetEnvIf \"true\" !REQUEST_BODY_FILE\n",
		Since: "0.1.0",
	},
	Run: runFPMEnvInjection,
})

// wantedSetting says where a setting meant by PHP_VALUE or
// PHP_ADMIN_VALUE goes, if it is wanted: mod_php never read these
// variables, so the setting never applied; written as php_value or
// php_admin_value, modphp-migrate plan places it.
func wantedSetting(v string) string {
	if v != "PHP_VALUE" && v != "PHP_ADMIN_VALUE" {
		return ""
	}
	return " (mod_php never applied " + v + "; if the setting is wanted, write it as php_value or php_admin_value, which modphp-migrate plan places in a pool or .user.ini)"
}

func runFPMEnvInjection(p *Pass) {
	for _, e := range p.facts.Index().Named("SetEnv", "PassEnv", "SetEnvIf", "SetEnvIfNoCase", "SetEnvIfExpr",
		"BrowserMatch", "BrowserMatchNoCase", "ProxyFCGISetEnvIf", "RewriteRule") {
		n := e.Node
		if n.Kind != parser.KindDirective || !(e.Today || e.After) {
			continue
		}
		for _, v := range facts.SetVars(n) {
			why, ok := facts.FPMParams[v]
			if !ok {
				continue
			}
			fix := "ProxyFCGISetEnvIf \"true\" !" + v + "\n"
			p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Fix: fix, Related: includeChain(n),
				Message: fmt.Sprintf("%s sets %s, which mod_proxy_fcgi passes to php-fpm: %s; remove this line and add %s at virtual host level%s",
					n.Name, v, why, strings.TrimSpace(fix), wantedSetting(v))})
		}
	}
}
