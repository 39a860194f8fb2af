package rules

import (
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
	"slices"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// phpHandlerExtensions is MPM2007: extensions mapped to PHP that php-fpm
// will not run.
var phpHandlerExtensions = register(&Rule{
	Code:       "MPM2007",
	Title:      "PHP extensions php-fpm will not run",
	Severity:   Error,
	Directives: []string{"AddHandler", "AddType", "SetHandler"},
	Doc: Doc{
		Text: `Finds ` + "`AddHandler`, `AddType` and `SetHandler`" + ` lines that make files run as PHP under mod_php (` + "`application/x-httpd-php`, `php5-script`, `x-httpd-php5`" + `…) for extensions other than ` + "`.php`" + `, and checks them against what php-fpm will run.

- **No php-fpm handler matches the extension** (the ` + "`<FilesMatch \\.php$>`" + ` of the new SetHandler, the ProxyPassMatch pattern): without mod_php nothing runs these files, and Apache serves them as they are — the PHP source, with its database passwords, goes to the browser (an ` + "`AddType application/x-httpd-php .html`" + ` even makes browsers download it). Error for extensions listed by ` + "`AddType`/`AddHandler`" + `; a warning for those a ` + "`<FilesMatch>`" + ` pattern merely covers (Debian's ` + "`.+\\.ph(?:ar|p|tml)$`" + ` names ` + "`.phtml`" + ` whether or not a site has such files), and a pattern's extension is reported only where files with it exist under the DocumentRoots and Alias targets it serves (on a whole tree; a file linted alone, or ` + "`--no-permissions`" + `, keeps the warning).
- **php-fpm's ` + "`security.limit_extensions`" + ` refuses the extension** (default ` + "`.php .phar`" + `): the request reaches php-fpm, which answers 403 ` + "`Access denied.`" + ` and logs ` + "`has been denied (see security.limit_extensions)`" + ` (docs/behaviour.md#b-path-info). Warning; the pool read from ` + "`--fpm-config`" + ` is the one whose listen address the handler uses.

Extend both the handler pattern and ` + "`security.limit_extensions`" + ` of that pool, or rename the files to .php. Keep the list short: every extension there can be executed by the path-info trick of MPM2010.`,
		Before: "AddType application/x-httpd-php .php .html\n<FilesMatch \"\\.php$\">\n    SetHandler \"proxy:unix:/run/php/site.sock|fcgi://localhost\"\n</FilesMatch>\n",
		After:  "<FilesMatch \"\\.(php|html)$\">\n    SetHandler \"proxy:unix:/run/php/site.sock|fcgi://localhost\"\n</FilesMatch>\n# pool: security.limit_extensions = .php .html\n",
		Since:  "0.1.0",
	},
	Run: runPHPHandlerExtensions,
})

// candidateExts are the extensions tried against regex and glob mappings.
var candidateExts = facts.PHPExts

// defaultLimitExtensions is php-fpm's security.limit_extensions when unset.
var defaultLimitExtensions = []string{".php", ".phar"}

func runPHPHandlerExtensions(p *Pass) {
	var handlers []*facts.Handler
	for _, h := range p.facts.Handlers() {
		if h.Entry.After {
			handlers = append(handlers, h)
		}
	}
	for _, e := range p.facts.Index().Named("AddHandler", "AddType", "SetHandler") {
		n := e.Node
		if n.Kind != parser.KindDirective || !(e.Today || e.After) || len(n.Args) == 0 || !facts.IsPHPHandlerName(n.Args[0]) {
			continue
		}
		var exts []string
		// A <FilesMatch> pattern covers extensions nobody may use (Debian's
		// ".+\.ph(?:ar|p|tml)$"); an explicit list names ones in use.
		unhandledSev := Error
		if strings.EqualFold(n.Name, "SetHandler") {
			unhandledSev = Warning
			if parser.Enclosing(n, "Files", "FilesMatch") == nil {
				continue // a whole directory as PHP: nothing to compare
			}
			m := facts.FilesMatcher(n)
			for _, x := range candidateExts {
				if ok, known := m("index" + x); ok && known {
					exts = append(exts, x)
				}
			}
		} else {
			exts = facts.LowerExts(n.Args[1:])
		}
		var unhandled, refused []string
		var refusedBy []*fpmconf.Pool
		for _, x := range exts {
			if x == ".php" {
				continue
			}
			var match []*facts.Handler
			for _, h := range handlers {
				if ok, known := h.Matches("index" + x); ok || !known {
					match = append(match, h)
				}
			}
			if len(handlers) > 0 && len(match) == 0 {
				unhandled = append(unhandled, x)
				continue
			}
			if pools := refusingPools(p, match, x); pools != nil {
				refused = append(refused, x)
				refusedBy = pools
			}
		}
		mapped := n.Name + " " + n.Args[0]
		if unhandledSev == Warning && !p.Options.NoPermissions && facts.WholeTree(p.Today) {
			// A pattern merely covers these: only files that exist lose.
			vh := p.facts.VHostOf(n)
			absent := func(x string) bool { return !p.facts.ServesExt(vh, x) }
			unhandled = slices.DeleteFunc(unhandled, absent)
			refused = slices.DeleteFunc(refused, absent)
		}
		if len(unhandled) > 0 {
			rel := []Related{{Pos: handlers[0].Node.Pos, Message: "the php-fpm handler, which does not match " + strings.Join(unhandled, " ")}}
			p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Severity: unhandledSev, Related: append(rel, includeChain(n)...),
				Message: mapped + " runs " + strings.Join(unhandled, " ") + " files as PHP today, but no php-fpm handler matches them (" + handlers[0].Where() + "): after the switch Apache serves their PHP source; add the extensions to the handler's pattern and to security.limit_extensions, or rename the files to .php"})
		}
		if len(refused) > 0 {
			limit, where := strings.Join(defaultLimitExtensions, " ")+" (the default)", "of the pool"
			var rel []Related
			if len(refusedBy) > 0 && refusedBy[0] != nil {
				pl := refusedBy[0]
				where = "of pool " + pl.Name
				limit = strings.Join(pl.LimitExtensions, " ")
				if s, ok := pl.Settings["security.limit_extensions"]; ok {
					rel = append(rel, Related{Pos: s.Pos, Message: "security.limit_extensions of pool " + pl.Name})
				} else {
					limit += " (the default)"
					rel = append(rel, Related{Pos: pl.Pos, Message: "pool " + pl.Name + " (security.limit_extensions unset)"})
				}
			}
			p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Severity: Warning, Related: append(rel, includeChain(n)...),
				Message: mapped + " runs " + strings.Join(refused, " ") + " files as PHP today, but php-fpm's security.limit_extensions " + limit + " refuses them (403 Access denied): list them in security.limit_extensions " + where + ", or rename the files to .php"})
		}
	}
}

// refusingPools returns the pools (a nil element: php-fpm's defaults, no
// configuration known) whose security.limit_extensions refuse ext, among
// those the handlers reach; nil when ext is allowed.
func refusingPools(p *Pass, handlers []*facts.Handler, ext string) []*fpmconf.Pool {
	all := p.facts.Pools()
	var pools []*fpmconf.Pool
	for _, h := range handlers {
		pools = append(pools, facts.PoolsFor(all, h.Backend)...)
	}
	if len(pools) == 0 {
		pools = all
	}
	if len(pools) == 0 {
		if slices.Contains(defaultLimitExtensions, ext) {
			return nil
		}
		return []*fpmconf.Pool{nil}
	}
	var out []*fpmconf.Pool
	for _, pl := range pools {
		if len(pl.LimitExtensions) > 0 && !slices.Contains(pl.LimitExtensions, ext) {
			out = append(out, pl)
		}
	}
	return out
}
