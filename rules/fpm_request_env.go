package rules

import (
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
)

// fpmRequestEnv is MPM2008: request variables and the Authorization header
// that scripts stop seeing behind php-fpm.
var fpmRequestEnv = register(&Rule{
	Code:       "MPM2008",
	Title:      "request variables php-fpm scripts will not see",
	Severity:   Info,
	Directives: []string{"SetEnv", "SetEnvIf", "SetEnvIfNoCase", "RewriteRule", "CGIPassAuth"},
	Doc: Doc{
		Text: `Reports the request variables PHP scripts see differently once php-fpm runs them.

- **` + "`SetEnv X`" + ` or ` + "`RewriteRule … [E=X:…]`" + ` in a .htaccess under a directory that ProxyPassMatch routes by URL**: Apache does not read .htaccess files for URLs the proxy takes, so a direct request for a .php file sees no X at all, and a front-controller rewrite (` + "`RewriteRule ^ index.php`" + `) hands the script only ` + "`REDIRECT_X`" + ` (observed: ` + "`REDIRECT_FOO`, `REDIRECT_HTTP_AUTHORIZATION`" + `, no ` + "`FOO`" + `; docs/behaviour.md#b-ppm-no-htaccess, #b-redirect-env). Under mod_php (and under ` + "`SetHandler \"proxy:…\"`" + `) the script saw X. Read ` + "`REDIRECT_X`" + ` as a fallback, set X in the virtual host, or route PHP by file with SetHandler (MPM1001); the modphp-migrate shim can un-prefix an allow-list of them.
- **The Authorization header is not forwarded to php-fpm**: mod_proxy_fcgi, like every CGI-style gateway, leaves ` + "`Authorization`" + ` out of the request variables unless ` + "`CGIPassAuth On`" + ` (httpd 2.4.13+) or a ` + "`SetEnvIfNoCase ^Authorization$ \"(.+)\" HTTP_AUTHORIZATION=$1`" + ` line (Debian's php8.2-fpm.conf has one) puts it back. Under mod_php PHP read the header itself, so ` + "`PHP_AUTH_USER`" + ` and Bearer tokens worked without either (docs/behaviour.md#b-redirect-env). Reported once per virtual host that hands PHP to php-fpm without either line.`,
		Before: "<VirtualHost *:80>\n    <FilesMatch \"\\.php$\">\n        SetHandler \"proxy:unix:/run/php/site.sock|fcgi://localhost\"\n    </FilesMatch>\n</VirtualHost>\n",
		After:  "<VirtualHost *:80>\n    <Directory /var/www/site>\n        CGIPassAuth On\n    </Directory>\n    <FilesMatch \"\\.php$\">\n        SetHandler \"proxy:unix:/run/php/site.sock|fcgi://localhost\"\n    </FilesMatch>\n</VirtualHost>\n",
		Since:  "0.1.0",
	},
	Run: runFPMRequestEnv,
})

// authHeader matches a SetEnvIf attribute naming the Authorization header.
var authHeader = regexp.MustCompile(`(?i)^\^?authorization\$?$`)

func runFPMRequestEnv(p *Pass) {
	rs := p.facts.Routes()
	// Destinations of the URL routes, each with its first route in order.
	first := map[string]int{}
	for i, r := range rs {
		if r.Dest == "" || r.InFiles || r.Access || !(r.Entry.Today || r.Entry.After) {
			continue
		}
		if _, ok := first[facts.Clean(r.Dest)]; !ok {
			first[facts.Clean(r.Dest)] = i
		}
	}
	// 1. Variables set in .htaccess under URL routing.
	for _, e := range p.facts.Index().Named("SetEnv", "SetEnvIf", "SetEnvIfNoCase", "RewriteRule") {
		n := e.Node
		if n.Kind != parser.KindDirective || e.Access == nil || !(e.Today || e.After) {
			continue
		}
		var vars []string
		for _, v := range facts.SetVars(n) {
			if _, injection := facts.FPMParams[v]; !injection && v != "" {
				vars = append(vars, v)
			}
		}
		if len(vars) == 0 {
			continue
		}
		i := firstRouteOver(first, e.Access.Dir)
		if i < 0 {
			continue
		}
		r := rs[i]
		pref := make([]string, len(vars))
		for i, v := range vars {
			pref[i] = "REDIRECT_" + v
		}
		p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine,
			Related: []Related{{Pos: r.Node.Pos, Message: "PHP in this directory is routed to php-fpm by URL here"}},
			Message: strings.Join(vars, ", ") + " set in .htaccess: with " + r.Node.Name + " (" + facts.ShortPos(r.Node.Pos) + ") Apache skips this file for .php URLs, so scripts see nothing on direct requests and only " + strings.Join(pref, ", ") + " after a rewrite; read the REDIRECT_ name as a fallback, set it in the virtual host, or route PHP by file with SetHandler"})
	}
	// 2. Authorization not forwarded.
	lines := authLines(p) // once: per-vhost calls below must not re-walk the tree
	if authForwardedEverywhere(lines) {
		return
	}
	fwd := newAuthForwarding(lines)
	done := map[string]bool{}
	for _, h := range p.facts.Handlers() {
		if !h.Entry.After || h.Entry.Access != nil {
			continue
		}
		vh := p.facts.VHostOf(h.Node)
		key := "main"
		if vh != nil {
			key = vh.Pos.String()
		}
		if done[key] || fwd.authForwarded(vh) {
			continue
		}
		done[key] = true
		p.Report(Diagnostic{Pos: h.Node.Pos, EndLine: h.Node.EndLine, Related: includeChain(h.Node), Fix: "CGIPassAuth On\n",
			Message: "php-fpm will not see the Authorization header here (mod_php read it itself): HTTP Basic (PHP_AUTH_USER) and Bearer tokens stop reaching PHP; add CGIPassAuth On (httpd 2.4.13+) in the site's <Directory>, or SetEnvIfNoCase ^Authorization$ \"(.+)\" HTTP_AUTHORIZATION=$1"})
	}
}

// authForwardedEverywhere reports whether a main-server line outside any
// section puts Authorization back for every request.
func authForwardedEverywhere(lines []authLine) bool {
	for _, l := range lines {
		if !l.access && l.vhost == nil && parser.Enclosing(l.node, "Directory", "DirectoryMatch", "Location", "LocationMatch", "Files", "FilesMatch") == nil {
			return true
		}
	}
	return false
}

// authForwarding answers authForwarded for every virtual host at once:
// a scan of every line per virtual host made this rule quadratic in the
// size of a tree with a forwarding line per virtual host.
type authForwarding struct {
	main   bool                // a line of the main server's own sections
	noHost bool                // a line of no virtual host (main server or access file outside every DocumentRoot)
	vhosts map[parser.Pos]bool // virtual hosts (by position: both views) with a line of their own
}

func newAuthForwarding(lines []authLine) authForwarding {
	a := authForwarding{vhosts: map[parser.Pos]bool{}}
	for _, l := range lines {
		if l.vhost == nil {
			a.noHost = true
			a.main = a.main || !l.access
			continue
		}
		a.vhosts[l.vhost.Pos] = true
	}
	return a
}

// authForwarded reports whether a line of vh (its sections, the access
// files under its DocumentRoot) or of the main server puts Authorization
// back.
func (a authForwarding) authForwarded(vh *parser.VHost) bool {
	if vh == nil {
		return a.noHost
	}
	return a.main || a.vhosts[vh.Pos]
}

// authLine is a line that forwards Authorization, with the virtual host it
// belongs to (for an access file: the one whose DocumentRoot holds it).
type authLine struct {
	node   *parser.Node
	vhost  *parser.VHost
	access bool
}

// authLines returns the lines in effect after the switch that forward
// Authorization: CGIPassAuth On, SetEnvIf(NoCase) Authorization …
// HTTP_AUTHORIZATION, RewriteRule … [E=HTTP_AUTHORIZATION:…].
func authLines(p *Pass) []authLine {
	var out []authLine
	var roots map[string]*parser.VHost // DocumentRoot → its vhost, built on the first access-file line
	for _, e := range p.facts.Index().Named("CGIPassAuth", "SetEnvIf", "SetEnvIfNoCase", "RewriteRule") {
		n := e.Node
		if n.Kind != parser.KindDirective || !e.After {
			continue
		}
		ok := false
		switch parser.LowerName(n.Name) {
		case "cgipassauth":
			ok = strings.EqualFold(facts.Arg(n, 0), "on")
		case "setenvif", "setenvifnocase":
			ok = authHeader.MatchString(facts.Arg(n, 0)) && slices.Contains(facts.SetVars(n), "HTTP_AUTHORIZATION")
		default:
			ok = slices.Contains(facts.SetVars(n), "HTTP_AUTHORIZATION")
		}
		if !ok {
			continue
		}
		l := authLine{node: n, vhost: p.facts.VHostOf(n), access: e.Access != nil}
		if l.access {
			if roots == nil {
				roots = documentRootIndex(p.After)
			}
			// The deepest DocumentRoot holding the access file.
			for dir := facts.Clean(e.Access.Dir); ; dir = path.Dir(dir) {
				if vh, ok := roots[dir]; ok {
					l.vhost = vh
					break
				}
				if dir == "/" || dir == "." {
					break
				}
			}
		}
		out = append(out, l)
	}
	return out
}

// documentRootIndex maps each DocumentRoot to its virtual host (nil for the
// main server); the first one listed wins, as in a scan in order.
func documentRootIndex(cfg *parser.Config) map[string]*parser.VHost {
	idx := map[string]*parser.VHost{}
	for _, dr := range facts.DocumentRoots(cfg) {
		if _, ok := idx[dr.Path]; !ok {
			idx[dr.Path] = dr.VHost
		}
	}
	return idx
}

// firstRouteOver returns the index of the first route (in route order)
// whose destination holds dir, or -1: dir's ancestors are looked up rather
// than every route compared.
func firstRouteOver(first map[string]int, dir string) int {
	best := -1
	for d := facts.Clean(dir); ; d = path.Dir(d) {
		if i, ok := first[d]; ok && (best < 0 || i < best) {
			best = i
		}
		if d == "/" || d == "." || d == "" {
			return best
		}
	}
}
