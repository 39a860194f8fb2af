package rules

import (
	"regexp"
	"slices"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/text"
)

// fpmFileCheck is MPM2012: a handler to php-fpm that also takes requests
// for scripts that do not exist.
var fpmFileCheck = register(&Rule{
	Code:       "MPM2012",
	Title:      "php-fpm handler without a file check",
	Severity:   Warning,
	Directives: []string{"SetHandler", "AddHandler", "ProxyErrorOverride"},
	Doc: Doc{
		Text: `Finds a ` + "`SetHandler`" + ` or ` + "`AddHandler`" + ` to php-fpm (` + "`\"proxy:…fcgi://…\"`" + `) that is not inside ` + "`<If \"-f %{REQUEST_FILENAME}\">`" + `, so that requests for scripts that do not exist still go to php-fpm.

Under mod_php a missing ` + "`.php`" + ` gets Apache's own 404: its error page, or the site's ` + "`ErrorDocument 404`" + `. php-fpm answers it itself, with 404 and the body ` + "`File not found.`" + ` (Apache logs AH01071 "Primary script unknown"), for ` + "`/missing.php`" + ` and ` + "`/missing.php/x`" + ` alike, so the site's error page is gone (observed with Debian's php8.2-fpm.conf; docs/behaviour.md#b-fpm-file-not-found). Warning: nothing breaks, but what visitors see changes.

Put the handler inside ` + "`<If \"-f %{REQUEST_FILENAME}\">`" + ` within its ` + "`<FilesMatch>`" + `, as Debian's php8.2-fpm.conf suggests in a comment. Observed on the real server: missing scripts then get Apache's 404 and the ` + "`ErrorDocument`" + `, PATH_INFO URLs (` + "`/doku.php/wiki:syntax`" + `) keep working, because Apache's REQUEST_FILENAME is the script once the path info is split off, and a script's own 404 page is left alone. ` + "`-f %{SCRIPT_FILENAME}`" + `, the quoted ` + "`-f '%{REQUEST_FILENAME}'`" + ` and a test joined with ` + "`&&`" + ` count as the same check.

- Also accepted: ` + "`ProxyErrorOverride On`" + ` (without status codes, or with 404 among them) in effect where the handler is: the same section, an enclosing one, the virtual host or the server. It gives Apache's 404 too, but it also replaces the error pages the application sends itself (a PHP 404 page becomes the ` + "`ErrorDocument`" + `), which mod_php never did, so it is not the fix this rule prints.
- ` + "`<If \"-F …\">`" + ` gives Apache's 404 too, but its sub-request meets the same ` + "`<If>`" + ` again, so every PHP request recurses ten levels deep and Apache logs AH00125: reported at the ` + "`<If>`" + `, test with ` + "`-f`" + `.
- An ` + "`<If>`" + ` around the ` + "`<FilesMatch>`" + ` is an error: httpd never applies a ` + "`<Files>`" + ` section nested in ` + "`<If>`" + `, so the handler never runs and Apache serves the PHP source.
- Not a file check: ` + "`RewriteCond %{REQUEST_FILENAME} !-f`" + ` with a ` + "`[R=404]`" + ` rule. In server context REQUEST_FILENAME is still the URL, so existing scripts answer 404 too (observed: ` + "`/doku.php`" + `); in a ` + "`<Directory>`" + `, ` + "`/missing.php/x`" + ` still reaches php-fpm.

Handlers by URL (` + "`ProxyPassMatch`" + `, ` + "`RewriteRule [P]`" + `) check no file at all; MPM1001 and MPM1002 say how to route by file instead.`,
		Before: "<FilesMatch \".+\\.ph(?:ar|p|tml)$\">\n    SetHandler \"proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost\"\n</FilesMatch>\n",
		After:  "<FilesMatch \".+\\.ph(?:ar|p|tml)$\">\n    <If \"-f %{REQUEST_FILENAME}\">\n        SetHandler \"proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost\"\n    </If>\n</FilesMatch>\n",
		Since:  "unreleased",
	},
	Run: runFPMFileCheck,
})

// fileTestRE finds an ap_expr file test on the request's file:
// "-f %{REQUEST_FILENAME}" (or SCRIPT_FILENAME, the same r->filename),
// the variable alone or in a quoted string ("-f '%{REQUEST_FILENAME}'",
// ISPConfig's form).
var fileTestRE = regexp.MustCompile(`-([fF])\s+(?:'|\\?")?%\{(?i:REQUEST_FILENAME|SCRIPT_FILENAME)\}`)

// fileTest returns "f" or "F" when expr is a file test on the request's
// file, "" otherwise. An expression with a negation or an "or" could
// hold without the file existing, and does not count.
func fileTest(expr string) string {
	m := fileTestRE.FindStringSubmatch(expr)
	if m == nil || strings.Contains(expr, "!") || strings.Contains(expr, "||") || strings.Contains(strings.ToLower(expr), " or ") {
		return ""
	}
	return m[1]
}

func runFPMFileCheck(p *Pass) {
	overrides := p.facts.Index().Named("ProxyErrorOverride")
	recursing := map[*parser.Node]bool{} // the <If "-F …"> already reported
	for _, h := range p.facts.Handlers() {
		if h.Route != nil || !h.Entry.After {
			continue
		}
		n := h.Node
		check, outer := fileCheckOf(n)
		chain := includeChain(n)
		switch {
		case outer != nil:
			files := parser.Enclosing(n, "Files", "FilesMatch")
			fix := "<" + files.Name + " " + strings.TrimSuffix(files.Raw, ">") + ">\n" + text.IndentLines(wrapInFileCheck(n), "    ") + "</" + files.Name + ">\n"
			p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Severity: Error, Fix: fix,
				Related: append([]Related{{Pos: outer.Pos, Message: "this <" + outer.Name + "> encloses the <" + files.Name + ">"}}, chain...),
				Message: n.Name + " to php-fpm in a <" + files.Name + "> inside <" + outer.Name + ">: httpd never applies a <Files> section nested in <If>, so this handler never runs and the PHP source is served; move the <" + files.Name + "> out of the <" + outer.Name + "> and put <If \"-f %{REQUEST_FILENAME}\"> inside it (see fix)"})
		case check != nil && fileTest(check.Raw) == "F":
			if recursing[check] {
				continue
			}
			recursing[check] = true
			p.Report(Diagnostic{Pos: check.Pos, EndLine: check.EndLine,
				Related: append([]Related{{Pos: n.Pos, Message: "the handler to php-fpm"}}, includeChain(check)...),
				Message: "<If \"-F …\"> around a php-fpm handler: -F runs a sub-request, which meets the same <If> again, so every PHP request recurses ten levels deep and Apache logs AH00125; test with -f %{REQUEST_FILENAME} instead"})
		case check != nil, errorOverride(overrides, n):
		default:
			p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Related: chain, Fix: wrapInFileCheck(n), FixReplaces: true,
				Message: n.Name + " to php-fpm without a file check: a request for a missing script reaches php-fpm, which answers 404 \"File not found.\" instead of Apache's 404 page and ErrorDocument (as under mod_php); put the handler inside <If \"-f %{REQUEST_FILENAME}\"> (see fix), which keeps PATH_INFO URLs working"})
		}
	}
}

// fileCheckOf looks at the <If>/<ElseIf> sections between n and its
// <Files>/<FilesMatch> (or the top, when there is none) and returns the
// one that tests -f (or, failing that, -F) on the request's file. outer
// is an <If>, <ElseIf> or <Else> that encloses the <Files> section itself.
func fileCheckOf(n *parser.Node) (check, outer *parser.Node) {
	files := false
	for s := n.Parent; s != nil; s = s.Parent {
		if s.Kind != parser.KindSection {
			continue
		}
		switch parser.LowerName(s.Name) {
		case "files", "filesmatch":
			files = true
		case "if", "elseif", "else":
			if files {
				if outer == nil {
					outer = s
				}
				continue
			}
			if t := fileTest(s.Raw); t != "" && (check == nil || t == "f") {
				check = s
			}
		}
	}
	return check, outer
}

// errorOverride reports whether ProxyErrorOverride On is in effect for a
// handler at n: the last such directive of the innermost enclosing
// section (or the virtual host, or the server) that has one decides.
// ProxyErrorOverride is not allowed in access files.
func errorOverride(overrides []*facts.Entry, n *parser.Node) bool {
	for c := container(n); ; c = container(c) {
		decided, on := false, false
		for _, e := range overrides {
			if e.After && e.Node.Kind == parser.KindDirective && len(e.Node.Args) > 0 && e.Access == nil && container(e.Node) == c {
				decided, on = true, overrides404(e.Node.Args)
			}
		}
		if decided {
			return on
		}
		if c == nil {
			return false
		}
	}
}

// overrides404 reports whether "ProxyErrorOverride ARGS" replaces a 404
// from the backend: On with no status codes listed, or with 404 among
// them (httpd 2.4.47 and later take a list).
func overrides404(args []string) bool {
	if !strings.EqualFold(args[0], "on") {
		return false
	}
	return len(args) == 1 || slices.Contains(args[1:], "404")
}

// container returns the section whose configuration n belongs to,
// skipping conditional sections (<IfModule>…) and Include lines; nil at
// the top of the server configuration.
func container(n *parser.Node) *parser.Node {
	if n == nil {
		return nil
	}
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Kind == parser.KindSection && !parser.IsConditional(p) {
			return p
		}
	}
	return nil
}

// wrapInFileCheck returns the handler line inside <If "-f
// %{REQUEST_FILENAME}">, Debian's recommended form.
func wrapInFileCheck(n *parser.Node) string {
	line := n.Name
	if n.Raw != "" {
		line += " " + n.Raw
	}
	return "<If \"-f %{REQUEST_FILENAME}\">\n    " + line + "\n</If>\n"
}
