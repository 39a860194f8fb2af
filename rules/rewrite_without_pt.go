package rules

import (
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
	"regexp"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// rewriteWithoutPT is MPM2006: a server-context RewriteRule to a .php URL
// that the ProxyPassMatch routing PHP never sees.
var rewriteWithoutPT = register(&Rule{
	Code:       "MPM2006",
	Title:      "rewrite to PHP without [PT] under URL routing",
	Severity:   Error,
	Directives: []string{"RewriteRule"},
	Doc: Doc{
		Text: `Finds ` + "`RewriteRule`" + ` lines in server or virtual host context whose target is a ` + "`.php`" + ` path, without the ` + "`[PT]`" + ` (passthrough) flag, where PHP is sent to php-fpm by URL (ProxyPassMatch, ProxyPass; see MPM1001).

In server context mod_rewrite turns the target into a file name itself and ends URL translation, so the proxy's URL mapping never sees the rewritten URL: the front controller ` + "`/index.php`" + ` is not sent to php-fpm but served by the default handler, as its PHP source (or 404 when the target is not a file). Under mod_php the handler was chosen by file name, so the same rule worked. ` + "`[PT]`" + ` hands the rewritten URL back to URL mapping, where ProxyPassMatch takes it (httpd mod_rewrite docs, "PT|passthrough": "needed when mixing with Alias, ScriptAlias or ProxyPass").

Add ` + "`PT`" + ` to the flags — or, better, route PHP by file with ` + "`SetHandler \"proxy:…\"`" + ` in a ` + "`<FilesMatch \\.php$>`" + ` (MPM1001), which does not care how the file was reached.`,
		Before: "<VirtualHost *:80>\n    DocumentRoot /var/www/app\n    ProxyPassMatch ^/(.*\\.php)$ fcgi://127.0.0.1:9000/var/www/app/$1\n    RewriteEngine On\n    RewriteRule ^/api/(.*)$ /index.php?route=$1 [L,QSA]\n</VirtualHost>\n",
		After:  "<VirtualHost *:80>\n    DocumentRoot /var/www/app\n    ProxyPassMatch ^/(.*\\.php)$ fcgi://127.0.0.1:9000/var/www/app/$1\n    RewriteEngine On\n    RewriteRule ^/api/(.*)$ /index.php?route=$1 [L,QSA,PT]\n</VirtualHost>\n",
		Since:  "0.1.0",
	},
	Run: runRewriteWithoutPT,
})

// phpTarget matches a rewrite target that names a .php script.
var phpTarget = regexp.MustCompile(`(?i)\.php([/?]|$)`)

func runRewriteWithoutPT(p *Pass) {
	rs := p.facts.Routes()
	if len(rs) == 0 {
		return
	}
	for _, e := range p.facts.Index().Named("RewriteRule") {
		n := e.Node
		if n.Kind != parser.KindDirective || e.Access != nil || !(e.Today || e.After) || len(n.Args) < 2 {
			continue
		}
		if parser.Enclosing(n, "Directory", "DirectoryMatch", "Location", "LocationMatch", "Files", "FilesMatch", "Proxy", "ProxyMatch") != nil {
			continue // per-directory context: rewrites are internal redirects
		}
		target := n.Args[1]
		if target == "-" || strings.Contains(target, "://") || !phpTarget.MatchString(target) {
			continue
		}
		if len(n.Args) > 2 && facts.HasFlag(n.Args[2], "PT", "passthrough", "P", "proxy", "R", "redirect", "F", "forbidden", "G", "gone") {
			continue
		}
		u, _, _ := strings.Cut(target, "?")
		if !strings.HasPrefix(u, "/") {
			u = "/" + u
		}
		vh := p.facts.VHostOf(n)
		for _, r := range rs {
			if r.Access || r.InFiles || !(r.Entry.Today || r.Entry.After) {
				continue
			}
			if r.VHost != nil && !facts.SameVHost(r.VHost, vh) {
				continue
			}
			if !r.Prefix {
				if m, ok := r.Matches(u); ok && !m {
					continue
				}
			} else if !strings.HasPrefix(u, r.Pattern) {
				continue
			}
			p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine,
				Related: append([]Related{{Pos: r.Node.Pos, Message: "PHP is routed to php-fpm by URL here"}}, includeChain(n)...),
				Message: "RewriteRule to " + target + " in server context without [PT]: " + r.Node.Name + " (" + facts.ShortPos(r.Node.Pos) + ") never sees the rewritten URL, so the script is served as a file (its PHP source) instead of running; add PT to the flags, or route PHP by file with SetHandler"})
			break
		}
	}
}
