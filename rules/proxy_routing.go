package rules

import (
	"fmt"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/text"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/migrate"
	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
)

// proxyRouting is MPM1001: PHP routed to php-fpm by URL rather than by
// existing file.
var proxyRouting = register(&Rule{
	Code:     "MPM1001",
	Title:    "PHP routed to php-fpm by URL",
	Severity: Error,
	Plan:     true,
	Doc: Doc{
		Text: `Finds ProxyPassMatch, ProxyPass and ` + "`RewriteRule … [P]`" + ` lines that send requests to ` + "`fcgi://`" + ` by URL, and reports what that breaks.

- **The pattern lets path info through, or is not anchored** (` + "`^/(.*\\.php(/.*)?)$`, `\\.php`" + `): php-fpm gets a SCRIPT_FILENAME that need not exist, and with ` + "`cgi.fix_pathinfo=1`" + ` (the default) it walks back to the longest existing file. ` + "`/uploads/evil.jpg/x.php`" + ` then runs the uploaded image as PHP as soon as ` + "`security.limit_extensions`" + ` is relaxed (observed: ` + "`EVIL-EXECUTED`" + `, docs/behaviour.md#b-path-info).
- **Access rules under the proxied path are bypassed**: for a URL the proxy takes, Apache reads no .htaccess and applies no ` + "`<Directory>`" + ` or ` + "`<Files>`" + ` section — the Proxy container takes their place (docs/behaviour.md#b-ppm-no-htaccess). A ` + "`Require all denied`" + `, an authentication block or a ` + "`php_flag engine off`" + ` there no longer protects the PHP files (observed: PHP under ` + "`Require all denied`" + ` answered 200).
- **The destination is not the DocumentRoot** of the virtual host: php-fpm runs files from a tree Apache does not serve, so nothing Apache knows about that directory applies.

Route by existing file instead: a ` + "`<FilesMatch \\.php$>`" + ` with ` + "`<If \"-f %{REQUEST_FILENAME}\">`" + ` and ` + "`SetHandler \"proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost\"`" + `. Apache then maps the URL to a file, reads every .htaccess on the way, applies every section, and splits PATH_INFO itself. The fix's handler is the migration plan's for the route's directory (` + "`modphp-migrate plan`" + `, computed once per run on the same tree): the route's backend when it is the pool the plan reuses there, else the plan's pool (or the shim, where the directory's .htaccess settings need it), and the message says whether the plan keeps the route or replaces it.`,
		Before: "<VirtualHost *:80>\n    DocumentRoot /var/www/site\n    ProxyPassMatch ^/(.*\\.php(/.*)?)$ fcgi://127.0.0.1:9000/var/www/site/$1\n</VirtualHost>\n",
		After:  "<VirtualHost *:80>\n    DocumentRoot /var/www/site\n" + text.IndentLines(text.FileRoutedHandler("proxy:fcgi://127.0.0.1:9000"), "    ") + "</VirtualHost>\n",
		Since:  "0.1.0",
	},
	Run: runProxyRouting,
})

// patternProblem says what is wrong with the route's pattern, or "".
func patternProblem(r *facts.Route) string {
	if r.Prefix {
		return fmt.Sprintf("sends every URL under %s to php-fpm, static files, uploads and path info included", r.Pattern)
	}
	php, known := r.Matches("/dir/x.php")
	if !known {
		if !strings.HasSuffix(r.Pattern, "$") {
			return fmt.Sprintf("pattern %s is not anchored at the end", r.Pattern)
		}
		return ""
	}
	if !php {
		return ""
	}
	if static, _ := r.Matches("/dir/style.css"); static {
		return fmt.Sprintf("pattern %s sends every URL to php-fpm, static files and uploads included", r.Pattern)
	}
	pathInfo, _ := r.Matches("/dir/x.php/extra/path")
	loose, _ := r.Matches("/dir/x.php.jpg")
	loose2, _ := r.Matches("/dir/x.phpjpg")
	switch {
	case pathInfo && (loose || loose2):
		return fmt.Sprintf("pattern %s lets path info through after .php and is not anchored at the end", r.Pattern)
	case pathInfo:
		return fmt.Sprintf("pattern %s lets path info through after .php", r.Pattern)
	case loose || loose2:
		return fmt.Sprintf("pattern %s is not anchored at the end (x.php.jpg matches)", r.Pattern)
	}
	return ""
}

// planClause says what the plan does with a route, for messages.
func planClause(pr *migrate.Route) string {
	switch {
	case pr == nil:
		return ""
	case pr.Action == migrate.RouteKeep:
		return "; the plan keeps this route: " + pr.Note
	}
	return "; the plan replaces this route with the handler in the fix: " + pr.Note
}

func runProxyRouting(p *Pass) {
	for _, r := range p.facts.Routes() {
		handler, pr := p.facts.RouteHandler(r)
		fix, plan := text.FileRoutedHandler(handler), planClause(pr)
		n := r.Node
		// 1. The pattern.
		if r.Backref && !r.InFiles {
			if what := patternProblem(r); what != "" {
				p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Fix: fix, FixReplaces: true, Related: includeChain(n),
					Message: fmt.Sprintf("%s %s: php-fpm is handed paths that need not exist, and with cgi.fix_pathinfo=1 and a relaxed security.limit_extensions /uploads/evil.jpg/x.php runs the upload as PHP; route PHP by existing file with <FilesMatch> and <If \"-f %%{REQUEST_FILENAME}\"> instead (see fix)%s", n.Name, what, plan)})
			}
		}
		// 2. Access rules the proxy bypasses.
		if r.Dest != "" && r.Dest != "/" {
			if rel := bypassed(p, r); len(rel) > 0 {
				rel = append(rel, includeChain(n)...)
				p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Fix: fix, FixReplaces: true, Related: rel,
					Message: fmt.Sprintf("%s bypasses %d access %s under %s: for the URLs it proxies Apache reads no .htaccess and applies no <Directory> or <Files>, so those PHP files answer 200 where they were denied; route PHP by existing file with SetHandler instead (see fix)%s",
						n.Name, countRules(rel), text.Plural(countRules(rel), "rule", "rules"), r.Dest, plan)})
			}
		}
		// 3. Destination outside the DocumentRoot.
		if !r.Access && r.Dest != "" && r.Dest != "/" {
			cfg := p.Today
			if !r.Entry.InToday {
				cfg = p.After
			}
			root, _ := cfg.DocumentRootOf(r.VHost)
			// Template placeholders ({docroot}, {ehcpdir}) make the
			// comparison meaningless.
			templated := strings.ContainsAny(root+r.Dest+r.Handler, "{}")
			if root != "" && root != "/" && !templated && !facts.Under(r.Dest, root) && !underAlias(cfg.Aliases, r.Dest) {
				p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Fix: fix, FixReplaces: true, Related: includeChain(n),
					Message: fmt.Sprintf("%s sends PHP to %s but the DocumentRoot is %s: php-fpm runs files Apache does not serve, and no .htaccess or <Directory> of the served tree applies; point it at the DocumentRoot, or better route by existing file with SetHandler (see fix)%s", n.Name, r.Dest, root, plan)})
			}
		}
	}
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
		if a.Path != "/" && facts.Under(dir, a.Path) {
			return true
		}
	}
	return false
}

// bypassed lists the restrictive directives, in <Directory> sections and
// access files at or under the route's destination, that the route skips.
func bypassed(p *Pass, r *facts.Route) []Related {
	var out []Related
	for _, e := range p.facts.Restrictive() {
		n := e.Node
		if n == r.Node {
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
				if f == nil || r.VHost == nil || p.facts.VHostOf(n) != r.VHost {
					continue
				}
				out = append(out, Related{Pos: n.Pos, Message: fmt.Sprintf("%s in <%s %s> not applied to proxied PHP", n.Name, f.Name, strings.Join(f.Args, " "))})
				continue
			}
			var ok bool
			if dir, ok = facts.DirectoryPath(d); !ok {
				continue
			}
			if vh := p.facts.VHostOf(n); vh != nil && r.VHost != nil && vh != r.VHost {
				continue
			}
			what = "in <Directory " + dir + ">"
		}
		if !facts.Under(dir, r.Dest) {
			continue
		}
		out = append(out, Related{Pos: n.Pos, Message: fmt.Sprintf("%s %s not applied to proxied PHP", n.Name, what)})
	}
	return out
}
