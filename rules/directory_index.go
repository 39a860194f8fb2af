package rules

import (
	"fmt"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/text"
	"regexp"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
)

// directoryIndexOrder is MPM1002: a PHP index before a static one where PHP
// is routed by URL.
var directoryIndexOrder = register(&Rule{
	Code:       "MPM1002",
	Title:      "PHP index before static index under URL routing",
	Severity:   Warning,
	Directives: []string{"DirectoryIndex"},
	Plan:       true,
	Doc: Doc{
		Text: `Finds a DirectoryIndex that lists a PHP file before a static one (` + "`DirectoryIndex index.php index.html`" + `) in a scope where PHP is routed to php-fpm by URL (ProxyPassMatch, ProxyPass, ` + "`RewriteRule … [P]`" + `, see MPM1001).

mod_dir tries the names in order with a sub-request. Under mod_php, or with SetHandler, the sub-request for a missing index.php fails and mod_dir moves on to index.html. When a proxy takes the URL, the sub-request for index.php succeeds without any file check, so a directory holding only index.html answers 404 with php-fpm's body ` + "`File not found.`" + ` (observed: docs/behaviour.md#b-directory-index). The finding points at the DirectoryIndex and at the routing line.

Route PHP by existing file with SetHandler (the fix of MPM1001), or put the static names first.`,
		Before: "DirectoryIndex index.php index.html\nProxyPassMatch ^/(.*\\.php)$ fcgi://127.0.0.1:9000/var/www/site/$1\n",
		After:  "DirectoryIndex index.php index.html\n" + text.FileRoutedHandler("proxy:fcgi://127.0.0.1:9000"),
		Since:  "0.1.0",
	},
	Run: runDirectoryIndex,
})

var phpIndex = regexp.MustCompile(`(?i)\.(php[0-9]?|phtml|phar)$`)

func runDirectoryIndex(p *Pass) {
	rs := p.facts.Routes()
	if len(rs) == 0 {
		return
	}
	byVH := routesByVHost(p)
	entries := p.facts.Index().Named("DirectoryIndex")
	// Virtual hosts with a DirectoryIndex of their own do not inherit the
	// main server's.
	own := map[*parser.VHost]bool{}
	for _, e := range entries {
		if vh := p.facts.VHostOf(e.Node); vh != nil && (e.Today || e.After) {
			own[vh] = true
		}
	}
	for _, e := range entries {
		n := e.Node
		if n.Kind != parser.KindDirective || !(e.Today || e.After) {
			continue
		}
		first, static := "", ""
		for _, a := range n.Args {
			if strings.EqualFold(a, "disabled") {
				first, static = "", ""
				continue
			}
			if phpIndex.MatchString(a) {
				if first == "" {
					first = a
				}
			} else if first != "" && static == "" {
				static = a
			}
		}
		if static == "" {
			continue
		}
		r := routeFor(p, e, rs, byVH, first, own)
		if r == nil {
			continue
		}
		rel := append([]Related{{Pos: r.Node.Pos, Message: "PHP routed to php-fpm by URL here"}}, includeChain(n)...)
		handler, _ := p.facts.RouteHandler(r)
		p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Related: rel, Fix: text.FileRoutedHandler(handler),
			Message: fmt.Sprintf("DirectoryIndex lists %s before %s while %s routes PHP by URL: the proxied %s is accepted without a file check, so a directory holding only %s answers 404 \"File not found.\"; route PHP with SetHandler by existing file (see fix) or list %s first",
				first, static, r.Where(), first, static, static)})
	}
}

// routesByVHost groups the routes by virtual host; routes of the main
// server (vhost nil) are in every group, as every virtual host inherits them.
func routesByVHost(p *Pass) map[*parser.VHost][]*facts.Route {
	byVH := map[*parser.VHost][]*facts.Route{}
	var global []*facts.Route
	for _, r := range p.facts.Routes() {
		if r.Access {
			continue
		}
		if r.VHost == nil {
			global = append(global, r)
		} else {
			byVH[r.VHost] = append(byVH[r.VHost], r)
		}
	}
	for _, cfg := range []*parser.Config{p.Today, p.After} {
		for _, vh := range cfg.VHosts {
			byVH[vh] = append(byVH[vh], global...)
		}
	}
	return byVH
}

// routeFor returns a route that takes index requests in the scope of the
// DirectoryIndex entry: the same virtual host, the main server (whose
// settings every virtual host inherits), or the directory of an access file.
func routeFor(p *Pass, e *facts.Entry, rs []*facts.Route, byVH map[*parser.VHost][]*facts.Route, index string, own map[*parser.VHost]bool) *facts.Route {
	var vh *parser.VHost
	var dir string
	if e.Access != nil {
		dir = e.Access.Dir
	} else {
		vh = p.facts.VHostOf(e.Node)
	}
	candidates := rs
	if vh != nil {
		candidates = byVH[vh]
	}
	for _, r := range candidates {
		switch {
		case e.Access != nil:
			if r.Access {
				if r.Entry.Access.Dir != dir && !facts.Under(dir, r.Entry.Access.Dir) {
					continue
				}
			} else if root, _ := p.Today.DocumentRootOf(r.VHost); r.VHost != nil && !facts.Under(dir, root) {
				continue
			}
		case vh != nil:
			if r.Access || (r.VHost != nil && r.VHost != vh) {
				continue
			}
		default: // main server: inherited by virtual hosts without their own
			if r.Access || (r.VHost != nil && own[r.VHost]) {
				continue
			}
		}
		if m, ok := r.Matches("/dir/" + index); m || !ok {
			return r
		}
	}
	return nil
}
