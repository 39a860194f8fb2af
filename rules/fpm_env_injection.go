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

Set the values in the php-fpm pool (` + "`php_value[name] = value`" + `, ` + "`php_admin_value[…]`" + `) or in .user.ini, remove the line, and unset the three variables at virtual host level with ` + "`ProxyFCGISetEnvIf \"true\" !PHP_VALUE`" + ` (httpd 2.4.44 or later; keep FileInfo out of AllowOverride, or a .htaccess can set them again).`,
		Before: "# /var/www/site/.htaccess\nSetEnv PHP_VALUE \"auto_prepend_file=/var/www/site/prepend.php\"\n",
		After: "# /etc/php/8.2/fpm/pool.d/site.conf\nphp_value[auto_prepend_file] = /var/www/site/prepend.php\n\n" +
			"# <VirtualHost> of the site\nProxyFCGISetEnvIf \"true\" !PHP_VALUE\nProxyFCGISetEnvIf \"true\" !PHP_ADMIN_VALUE\nProxyFCGISetEnvIf \"true\" !REQUEST_BODY_FILE\n",
		Since: "0.1.0",
	},
	Run: runFPMEnvInjection,
})

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
				Message: fmt.Sprintf("%s sets %s, which mod_proxy_fcgi passes to php-fpm: %s; set the value in the php-fpm pool instead, remove this line and add %s at virtual host level",
					n.Name, v, why, strings.TrimSpace(fix))})
		}
	}
}
