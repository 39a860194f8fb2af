package rules

import (
	"strings"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// modFastCGI is MPM2003: mod_fastcgi directives, to be replaced by
// mod_proxy_fcgi.
var modFastCGI = register(&Rule{
	Code:       "MPM2003",
	Title:      "mod_fastcgi instead of mod_proxy_fcgi",
	Severity:   Warning,
	Directives: []string{"FastCgiExternalServer", "FastCgiServer", "FastCgiConfig"},
	Doc: Doc{
		Text: `Finds ` + "`FastCgiExternalServer`, `FastCgiServer` and `FastCgiConfig`" + `, the directives of mod_fastcgi, the old way of running php-fpm (or php-cgi) behind Apache.

mod_fastcgi has been unmaintained for a decade (its last release, 2.4.6, predates Apache 2.4; distributions dropped it) and waits on its sockets with ` + "`select()`" + `, which fails for any descriptor number above 1024 (FD_SETSIZE) — a busy Apache with many vhost log files reaches that, and requests then fail at random. mod_proxy_fcgi, part of httpd since 2.4, does the same job.

The finding carries the equivalent configuration: ` + "`FastCgiExternalServer … -socket PATH`" + ` becomes ` + "`SetHandler \"proxy:unix:PATH|fcgi://localhost\"`" + ` in a ` + "`<FilesMatch \\.php$>`" + `, ` + "`-host H:P`" + ` becomes ` + "`proxy:fcgi://H:P`" + `, ` + "`-pass-header Authorization`" + ` becomes ` + "`CGIPassAuth On`" + ` and ` + "`-idle-timeout N`" + ` becomes ` + "`ProxyTimeout N`" + `. Processes Apache started itself (` + "`FastCgiServer`, `FastCgiConfig`" + `) become a php-fpm pool: for ` + "`FastCgiServer`" + `, the pool the migration plan gives the site (` + "`modphp-migrate plan`" + `, computed once per run), whose file is the fix, and the handler that points at its socket. Drop the ` + "`AddHandler`/`Action`/`Alias`" + ` lines that routed .php to the fake ` + "`/php-fcgi`" + ` path with it.`,
		Before: "<IfModule mod_fastcgi.c>\n    AddHandler php-fcgi .php\n    Action php-fcgi /php-fcgi\n    Alias /php-fcgi /usr/lib/cgi-bin/php-fcgi\n    FastCgiExternalServer /usr/lib/cgi-bin/php-fcgi -socket /run/php/php8.2-fpm.sock -pass-header Authorization -idle-timeout 300\n</IfModule>\n",
		After:  "<FilesMatch \"\\.php$\">\n    SetHandler \"proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost\"\n</FilesMatch>\nCGIPassAuth On\nProxyTimeout 300\n",
		Since:  "0.1.0",
	},
	Plan: true,
	Run:  runModFastCGI,
})

const fastcgiWhy = "mod_fastcgi is unmaintained and select()-based (requests fail once Apache has more than 1024 descriptors open)"

func runModFastCGI(p *Pass) {
	for _, e := range p.facts.Index().Named("FastCgiExternalServer", "FastCgiServer", "FastCgiConfig") {
		n := e.Node
		if n.Kind != parser.KindDirective || !(e.Today || e.After) {
			continue
		}
		switch parser.LowerName(n.Name) {
		case "fastcgiexternalserver":
			fix := fastcgiEquivalent(n.Args)
			msg := fastcgiWhy + ": use mod_proxy_fcgi instead: " + oneLine(fix)
			p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Related: includeChain(n), Fix: fix, FixReplaces: true, Message: msg})
		case "fastcgiserver":
			d := Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Related: includeChain(n)}
			d.Message, d.Fix = planPoolFor(p, n)
			d.Message = fastcgiWhy + ", and here Apache starts the PHP processes itself: " + d.Message
			p.Report(d)
		default:
			p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Related: includeChain(n),
				Message: fastcgiWhy + ": the process limits of FastCgiConfig become pm.* settings of a php-fpm pool, and the handler SetHandler \"proxy:…|fcgi://localhost\" (mod_proxy_fcgi)"})
		}
	}
}

// planPoolFor words where the PHP of n's site runs after the switch: the
// php-fpm pool the plan gives the site, with the plan's pool file as the
// fix and the handler the plan's Apache configuration points at it.
func planPoolFor(p *Pass, n *parser.Node) (msg, fix string) {
	dir := p.Today.DocumentRoot
	if vh := p.Today.VHostOf(n); vh != nil {
		dir = vh.DocumentRoot
	}
	_, pool, content := p.facts.PlanSite(dir)
	if pool == nil {
		return "run them as a php-fpm pool and hand PHP to it with SetHandler \"proxy:unix:SOCKET|fcgi://localhost\" (mod_proxy_fcgi); modphp-migrate plan gives each site its pool", ""
	}
	handler := "SetHandler \"proxy:unix:" + pool.Listen + "|fcgi://localhost\""
	if content == "" {
		return "run them as the existing php-fpm pool " + pool.Name + ", which the plan gives this site, and hand PHP to it with " + handler + " (mod_proxy_fcgi), as the plan's Apache configuration does", ""
	}
	return "run them as php-fpm pool " + pool.Name + ", which the plan gives this site (" + pool.File + ", see fix), and hand PHP to it with " + handler + " (mod_proxy_fcgi), as the plan's Apache configuration does",
		"; " + pool.File + "\n" + content
}

// fastcgiEquivalent turns FastCgiExternalServer's arguments into the
// mod_proxy_fcgi configuration that reaches the same backend.
func fastcgiEquivalent(args []string) string {
	handler := "proxy:unix:/run/php/php-fpm.sock|fcgi://localhost"
	var extra []string
	for i := 1; i < len(args); i++ {
		opt := strings.ToLower(args[i])
		val := ""
		if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			val = args[i+1]
		}
		switch opt {
		case "-host":
			if val != "" {
				handler = "proxy:fcgi://" + val
			}
		case "-socket":
			if val != "" {
				handler = "proxy:unix:" + val + "|fcgi://localhost"
			}
		case "-pass-header":
			if strings.EqualFold(val, "Authorization") {
				extra = append(extra, "CGIPassAuth On")
			}
		case "-idle-timeout":
			if val != "" {
				extra = append(extra, "ProxyTimeout "+val)
			}
		}
	}
	out := "<FilesMatch \"\\.php$\">\n    SetHandler \"" + handler + "\"\n</FilesMatch>\n"
	for _, x := range extra {
		out += x + "\n"
	}
	return out
}

// oneLine shows a configuration snippet on one line for a message.
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}
