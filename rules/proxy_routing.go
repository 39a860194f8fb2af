package rules

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/conf"
)

// proxyRouting is MPM1001: PHP routed to php-fpm by URL rather than by
// existing file.
var proxyRouting = register(&Rule{
	Code:     "MPM1001",
	Title:    "PHP routed to php-fpm by URL",
	Severity: Error,
	Doc: Doc{
		Text: `Finds ProxyPassMatch, ProxyPass and ` + "`RewriteRule … [P]`" + ` lines that send requests to ` + "`fcgi://`" + ` by URL, and reports what that breaks.

- **The pattern lets path info through, or is not anchored** (` + "`^/(.*\\.php(/.*)?)$`, `\\.php`" + `): php-fpm gets a SCRIPT_FILENAME that need not exist, and with ` + "`cgi.fix_pathinfo=1`" + ` (the default) it walks back to the longest existing file. ` + "`/uploads/evil.jpg/x.php`" + ` then runs the uploaded image as PHP as soon as ` + "`security.limit_extensions`" + ` is relaxed (observed: ` + "`EVIL-EXECUTED`" + `, docs/behaviour.md#b-path-info).
- **Access rules under the proxied path are bypassed**: for a URL the proxy takes, Apache reads no .htaccess and applies no ` + "`<Directory>`" + ` or ` + "`<Files>`" + ` section — the Proxy container takes their place (docs/behaviour.md#b-ppm-no-htaccess). A ` + "`Require all denied`" + `, an authentication block or a ` + "`php_flag engine off`" + ` there no longer protects the PHP files (observed: PHP under ` + "`Require all denied`" + ` answered 200).
- **The destination is not the DocumentRoot** of the virtual host: php-fpm runs files from a tree Apache does not serve, so nothing Apache knows about that directory applies.

Route by existing file instead: a ` + "`<FilesMatch \\.php$>`" + ` with ` + "`<If \"-f %{REQUEST_FILENAME}\">`" + ` and ` + "`SetHandler \"proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost\"`" + `. Apache then maps the URL to a file, reads every .htaccess on the way, applies every section, and splits PATH_INFO itself.`,
		Before: "<VirtualHost *:80>\n    DocumentRoot /var/www/site\n    ProxyPassMatch ^/(.*\\.php(/.*)?)$ fcgi://127.0.0.1:9000/var/www/site/$1\n</VirtualHost>\n",
		After:  "<VirtualHost *:80>\n    DocumentRoot /var/www/site\n" + indentLines(fileRoutedHandler("proxy:fcgi://127.0.0.1:9000"), "    ") + "</VirtualHost>\n",
		Since:  "0.1.0",
	},
	Run: runProxyRouting,
})

// fileRoutedHandler is the recommended replacement for URL routing.
func fileRoutedHandler(handler string) string {
	return "<FilesMatch \"\\.php$\">\n    <If \"-f %{REQUEST_FILENAME}\">\n        SetHandler \"" + handler + "\"\n    </If>\n</FilesMatch>\n"
}

func indentLines(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}

// urlRoute is one directive that sends requests to php-fpm by URL.
type urlRoute struct {
	entry   *conf.Entry
	node    *parser.Node
	pattern string         // regex (ProxyPassMatch, RewriteRule) or URL prefix (ProxyPass)
	prefix  bool           // pattern is a URL-path prefix
	re      *regexp.Regexp // compiled pattern, nil when RE2 cannot read it
	access  bool           // in an access file: paths have no leading slash
	dest    string         // destination directory as httpd sees it ("" = unknown)
	backref bool           // destination uses $N: the URL picks the script
	handler string         // "proxy:unix:…|fcgi://localhost" or "proxy:fcgi://host:port"
	vhost   *parser.VHost
	inFiles bool // inside <Files>/<FilesMatch>: the file name is checked, not the URL
}

// routes returns the URL routings to fcgi:// in effect in either view,
// found once per run.
func routes(p *Pass) []*urlRoute {
	if !p.state.routesDone {
		p.state.routes, p.state.routesDone = findRoutes(p), true
	}
	return p.state.routes
}

func findRoutes(p *Pass) []*urlRoute {
	var out []*urlRoute
	for _, e := range p.index().Named("ProxyPassMatch", "ProxyPass", "RewriteRule") {
		n := e.Node
		if n.Kind != parser.KindDirective || !(e.Today || e.After) {
			continue
		}
		r := &urlRoute{entry: e, node: n, access: e.Access != nil}
		var target string
		switch strings.ToLower(n.Name) {
		case "proxypassmatch", "proxypass":
			r.prefix = strings.EqualFold(n.Name, "ProxyPass")
			loc := "Location"
			if !r.prefix {
				loc = "LocationMatch"
			}
			args := n.Args
			if sec := parser.Enclosing(n, loc); sec != nil && len(args) >= 1 && isFCGI(args[0]) {
				args = append([]string{conf.Arg(sec, 0)}, args...)
			}
			if len(args) < 2 {
				continue
			}
			r.pattern, target = args[0], args[1]
		case "rewriterule":
			if len(n.Args) < 3 || !hasFlag(n.Args[2], "P", "proxy") {
				continue
			}
			r.pattern, target = n.Args[0], n.Args[1]
			r.pattern = strings.TrimPrefix(r.pattern, "!")
		}
		if !isFCGI(target) {
			continue
		}
		// ProxyPass and ProxyPassMatch append the URL when the target
		// has no backreference (mod_proxy docs); RewriteRule does not.
		r.dest, r.backref, r.handler = fcgiDest(target, !strings.EqualFold(n.Name, "RewriteRule"))
		r.inFiles = parser.Enclosing(n, "Files") != nil || parser.Enclosing(n, "FilesMatch") != nil
		if !r.prefix {
			r.re, _ = regexp.Compile(r.pattern)
		}
		r.vhost = p.vhostOf(n)
		out = append(out, r)
	}
	return out
}

// isFCGI reports whether a proxy target speaks FastCGI.
func isFCGI(target string) bool {
	t := strings.ToLower(target)
	return strings.HasPrefix(t, "fcgi://") || strings.HasPrefix(t, "unix:") && strings.Contains(t, "|fcgi://")
}

// hasFlag reports whether a RewriteRule flag list "[P,L]" holds one of names.
func hasFlag(flags string, names ...string) bool {
	for _, f := range strings.Split(strings.Trim(flags, "[]"), ",") {
		f = strings.TrimSpace(f)
		for _, n := range names {
			if strings.EqualFold(f, n) {
				return true
			}
		}
	}
	return false
}

// fcgiDest splits a FastCGI proxy target into the directory the scripts
// come from, whether the URL chooses the script ($N, or the URL appended),
// and the SetHandler value that reaches the same backend.
func fcgiDest(target string, appends bool) (dir string, backref bool, handler string) {
	sock := ""
	if strings.HasPrefix(strings.ToLower(target), "unix:") {
		i := strings.Index(strings.ToLower(target), "|fcgi://")
		sock, target = target[:i], target[i+1:]
	}
	rest := target[len("fcgi://"):]
	host, p, _ := strings.Cut(rest, "/")
	if i := strings.IndexByte(host, '$'); i >= 0 {
		host, p = host[:i], host[i:]
	}
	handler = "proxy:fcgi://" + host
	if sock != "" {
		handler = "proxy:" + sock + "|fcgi://localhost"
	}
	p = "/" + strings.TrimPrefix(p, "/")
	if i := strings.IndexByte(p, '$'); i >= 0 {
		// "/var/www/site/$1" and "/var/www/site$1" (the capture starts
		// with a slash) both come from /var/www/site.
		return conf.Clean(p[:i]), true, handler
	}
	if appends {
		return conf.Clean(p), true, handler
	}
	return conf.Clean(path.Dir(p)), false, handler
}

// matches reports whether the route takes the URL path u (which starts
// with "/"); unknown when the pattern cannot be compiled (ok false).
func (r *urlRoute) matches(u string) (match, ok bool) {
	if r.prefix {
		return strings.HasPrefix(u, r.pattern), true
	}
	if r.re == nil {
		return false, false
	}
	if r.access {
		u = strings.TrimPrefix(u, "/")
	}
	return r.re.MatchString(u), true
}

// patternProblem says what is wrong with the route's pattern, or "".
func (r *urlRoute) patternProblem() string {
	if r.prefix {
		return fmt.Sprintf("sends every URL under %s to php-fpm, static files, uploads and path info included", r.pattern)
	}
	php, known := r.matches("/dir/x.php")
	if !known {
		if !strings.HasSuffix(r.pattern, "$") {
			return fmt.Sprintf("pattern %s is not anchored at the end", r.pattern)
		}
		return ""
	}
	if !php {
		return ""
	}
	if static, _ := r.matches("/dir/style.css"); static {
		return fmt.Sprintf("pattern %s sends every URL to php-fpm, static files and uploads included", r.pattern)
	}
	pathInfo, _ := r.matches("/dir/x.php/extra/path")
	loose, _ := r.matches("/dir/x.php.jpg")
	loose2, _ := r.matches("/dir/x.phpjpg")
	switch {
	case pathInfo && (loose || loose2):
		return fmt.Sprintf("pattern %s lets path info through after .php and is not anchored at the end", r.pattern)
	case pathInfo:
		return fmt.Sprintf("pattern %s lets path info through after .php", r.pattern)
	case loose || loose2:
		return fmt.Sprintf("pattern %s is not anchored at the end (x.php.jpg matches)", r.pattern)
	}
	return ""
}

// where names the routing line in messages.
func (r *urlRoute) where() string {
	return fmt.Sprintf("%s at %s", r.node.Name, r.node.Pos)
}

func runProxyRouting(p *Pass) {
	for _, r := range routes(p) {
		fix := fileRoutedHandler(r.handler)
		n := r.node
		// 1. The pattern.
		if r.backref && !r.inFiles {
			if what := r.patternProblem(); what != "" {
				p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Fix: fix, FixReplaces: true, Related: includeChain(n),
					Message: fmt.Sprintf("%s %s: php-fpm is handed paths that need not exist, and with cgi.fix_pathinfo=1 and a relaxed security.limit_extensions /uploads/evil.jpg/x.php runs the upload as PHP; route PHP by existing file with <FilesMatch> and <If \"-f %%{REQUEST_FILENAME}\"> instead (see fix)", n.Name, what)})
			}
		}
		// 2. Access rules the proxy bypasses.
		if r.dest != "" && r.dest != "/" {
			if rel := bypassed(p, r); len(rel) > 0 {
				rel = append(rel, includeChain(n)...)
				p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Fix: fix, FixReplaces: true, Related: rel,
					Message: fmt.Sprintf("%s bypasses %d access %s under %s: for the URLs it proxies Apache reads no .htaccess and applies no <Directory> or <Files>, so those PHP files answer 200 where they were denied; route PHP by existing file with SetHandler instead (see fix)",
						n.Name, countRules(rel), plural(countRules(rel), "rule", "rules"), r.dest)})
			}
		}
		// 3. Destination outside the DocumentRoot.
		if !r.access && r.dest != "" && r.dest != "/" {
			cfg := p.Today
			if !r.entry.InToday {
				cfg = p.After
			}
			root, _ := cfg.DocumentRootOf(r.vhost)
			// Template placeholders ({docroot}, {ehcpdir}) make the
			// comparison meaningless.
			templated := strings.ContainsAny(root+r.dest+r.handler, "{}")
			if root != "" && root != "/" && !templated && !conf.Under(r.dest, root) && !underAlias(cfg.Aliases, r.dest) {
				p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Fix: fix, FixReplaces: true, Related: includeChain(n),
					Message: fmt.Sprintf("%s sends PHP to %s but the DocumentRoot is %s: php-fpm runs files Apache does not serve, and no .htaccess or <Directory> of the served tree applies; point it at the DocumentRoot, or better route by existing file with SetHandler (see fix)", n.Name, r.dest, root)})
			}
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func countRules(rel []Related) int {
	n := 0
	for _, r := range rel {
		if r.Message != "included from here" {
			n++
		}
	}
	return n
}

func underAlias(aliases []parser.Alias, dir string) bool {
	for _, a := range aliases {
		if a.Path != "/" && conf.Under(dir, a.Path) {
			return true
		}
	}
	return false
}

// restrictive reports whether a directive limits who may reach a file: a
// Require other than "all granted", Deny, authentication, a [F] rewrite.
func restrictive(n *parser.Node) bool {
	if n.Kind != parser.KindDirective {
		return false
	}
	switch strings.ToLower(n.Name) {
	case "require":
		return !(len(n.Args) == 2 && strings.EqualFold(n.Args[0], "all") && strings.EqualFold(n.Args[1], "granted"))
	case "deny", "authtype", "authuserfile", "authbasicprovider":
		return true
	case "rewriterule":
		return len(n.Args) >= 3 && hasFlag(n.Args[2], "F", "forbidden")
	case "php_flag", "php_admin_flag", "php_value", "php_admin_value":
		k, key, arg, _ := conf.PHPDirective(n)
		return modphp.EngineOff(k, key, arg)
	}
	return false
}

// bypassed lists the restrictive directives, in <Directory> sections and
// access files at or under the route's destination, that the route skips.
func bypassed(p *Pass, r *urlRoute) []Related {
	var out []Related
	for _, e := range restrictiveEntries(p) {
		n := e.Node
		if n == r.node {
			continue
		}
		var dir string
		var what string
		if e.Access != nil {
			dir = e.Access.Dir
			what = "in .htaccess"
		} else {
			d := parser.Enclosing(n, "Directory")
			if d == nil {
				// A <Files> section of the same virtual host: file
				// sections are skipped for proxied requests too.
				f := parser.Enclosing(n, "Files")
				if f == nil {
					f = parser.Enclosing(n, "FilesMatch")
				}
				if f == nil || r.vhost == nil || p.vhostOf(n) != r.vhost {
					continue
				}
				out = append(out, Related{Pos: n.Pos, Message: fmt.Sprintf("%s in <%s %s> not applied to proxied PHP", n.Name, f.Name, strings.Join(f.Args, " "))})
				continue
			}
			var ok bool
			if dir, ok = conf.DirectoryPath(d); !ok {
				continue
			}
			if vh := p.vhostOf(n); vh != nil && r.vhost != nil && vh != r.vhost {
				continue
			}
			what = "in <Directory " + dir + ">"
		}
		if !conf.Under(dir, r.dest) {
			continue
		}
		out = append(out, Related{Pos: n.Pos, Message: fmt.Sprintf("%s %s not applied to proxied PHP", n.Name, what)})
	}
	return out
}

// restrictiveEntries returns the restrictive directives in effect in either
// view, found once per run.
func restrictiveEntries(p *Pass) []*conf.Entry {
	st := p.state
	if !st.restrictDone {
		idx := p.index()
		for _, e := range idx.Named("Require", "Deny", "AuthType", "AuthUserFile", "AuthBasicProvider", "RewriteRule",
			"php_flag", "php_admin_flag", "php_value", "php_admin_value") {
			if (e.Today || e.After) && restrictive(e.Node) {
				st.restrict = append(st.restrict, e)
			}
		}
		st.restrictDone = true
	}
	return st.restrict
}
