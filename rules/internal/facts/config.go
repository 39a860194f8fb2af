package facts

import (
	"path"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/aprmatch"
	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// Clean is parser.CleanPath.
func Clean(p string) string { return parser.CleanPath(p) }

// Under is parser.PathUnder.
func Under(p, dir string) bool { return parser.PathUnder(p, dir) }

// Arg returns the i-th argument of n, or "".
func Arg(n *parser.Node, i int) string {
	if i < len(n.Args) {
		return n.Args[i]
	}
	return ""
}

// PHPNames returns the <IfModule> names that match the mod_php the
// configuration loads (modphp.GuardNames): mod_php.c and php_module for
// PHP 8, also when no PHP module is loaded (docs/behaviour.md#b-guard).
func PHPNames(cfg *parser.Config) map[string]bool {
	if cfg != nil {
		for _, m := range cfg.Modules {
			if modphp.IsModule(m.ID, m.Path) {
				return modphp.GuardNames(m.ID)
			}
		}
	}
	return modphp.GuardNames("")
}

// DirectoryPath returns the path a <Directory> section names, and false for
// the regex forms (<Directory ~ …>, <DirectoryMatch>) and wildcards (what
// httpd's apr_fnmatch_test calls a pattern).
func DirectoryPath(n *parser.Node) (string, bool) {
	if n.Kind != parser.KindSection || !strings.EqualFold(n.Name, "Directory") || len(n.Args) != 1 {
		return "", false
	}
	p := n.Args[0]
	if aprmatch.IsPattern(p) || !strings.HasPrefix(p, "/") {
		return "", false
	}
	return Clean(p), true
}

// PHPDirective reads n as one of mod_php's directives: its kind, the INI
// key and the raw value argument (modphp.Stored gives what mod_php made of
// it). ok is false for other nodes.
func PHPDirective(n *parser.Node) (k modphp.Kind, key, arg string, ok bool) {
	if n.Kind != parser.KindDirective {
		return 0, "", "", false
	}
	if k, ok = modphp.Directive(n.Name); !ok {
		return 0, "", "", false
	}
	return k, Arg(n, 0), Arg(n, 1), true
}

// PHPGuards returns the enclosing <IfModule> sections that name the PHP
// module in any spelling (modphp.IsGuardName), innermost first.
func PHPGuards(n *parser.Node) []*parser.Node {
	var out []*parser.Node
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Kind == parser.KindSection && strings.EqualFold(p.Name, "IfModule") {
			if modphp.IsGuardName(Arg(p, 0)) {
				out = append(out, p)
			}
		}
	}
	return out
}

// DirectoryOf returns the path of the <Directory> section n is in, or "".
func DirectoryOf(n *parser.Node) string {
	if d := parser.Enclosing(n, "Directory"); d != nil {
		if p, ok := DirectoryPath(d); ok {
			return p
		}
	}
	return ""
}

// AccessDir names the directory an access-file entry governs.
func AccessDir(e *Entry) string {
	if e.Access != nil && e.Access.Dir != "" {
		return e.Access.Dir + "/"
	}
	if e.File != nil {
		return path.Dir(e.File.Path) + "/"
	}
	return "this directory"
}

// FPMParams are the FastCGI params php-fpm acts on, with what it does: the
// list the migration plan unsets (fpmconf.RequestParams).
var FPMParams = fpmconf.RequestParams

// SetVars returns the environment variables a directive sets (not the ones
// it unsets with "!").
func SetVars(n *parser.Node) []string {
	var specs []string
	switch parser.LowerName(n.Name) {
	case "setenv":
		specs = n.Args[:min(1, len(n.Args))]
	case "passenv":
		specs = n.Args
	case "setenvif", "setenvifnocase":
		if len(n.Args) > 2 {
			specs = n.Args[2:]
		}
	case "setenvifexpr", "browsermatch", "browsermatchnocase":
		if len(n.Args) > 1 {
			specs = n.Args[1:]
		}
	case "proxyfcgisetenvif":
		if len(n.Args) > 1 {
			specs = n.Args[1:2]
		}
	case "rewriterule":
		if len(n.Args) > 2 {
			flags := strings.Trim(n.Args[2], "[]")
			for _, f := range strings.Split(flags, ",") {
				k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
				if ok && (strings.EqualFold(k, "E") || strings.EqualFold(k, "env")) {
					name, _, _ := strings.Cut(v, ":")
					specs = append(specs, name)
				}
			}
		}
	}
	var out []string
	for _, s := range specs {
		if strings.HasPrefix(s, "!") {
			continue
		}
		name, _, _ := strings.Cut(s, "=")
		out = append(out, name)
	}
	return out
}

// UnloadedGuard returns the PHP guard (<IfModule mod_php.c>, <IfModule
// php_module>) that keeps n out of effect only because cfg loads no
// mod_php: the tree has already switched, and what mod_php applied there
// applies no more. It returns nil when mod_php is loaded, when n is in
// effect, or when another condition (a guard PHP 8 never matches, an
// <IfDefine>) would keep n out anyway.
func UnloadedGuard(cfg *parser.Config, n *parser.Node) *parser.Node {
	if cfg == nil {
		return nil
	}
	var guard *parser.Node
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Kind != parser.KindSection || p.Active || !parser.IsConditional(p) {
			continue
		}
		name, neg, isPHP := modphp.Guard(Arg(p, 0))
		if !strings.EqualFold(p.Name, "IfModule") || !isPHP || neg || !php8Guards[name] {
			return nil
		}
		if guard == nil {
			guard = p
		}
	}
	if guard == nil {
		return nil
	}
	for _, m := range cfg.Modules {
		if modphp.IsModule(m.ID, m.Path) {
			return nil
		}
	}
	return guard
}

// php8Guards are the <IfModule> names of PHP 8's module.
var php8Guards = modphp.GuardNames("")

// WholeTree reports whether cfg is a server's whole tree (some LoadModule
// line read from it), not a file linted alone, whose server is elsewhere:
// only a whole tree is judged against the files on this machine.
func WholeTree(cfg *parser.Config) bool {
	for _, m := range cfg.Modules {
		if m.Pos.Line > 0 {
			return true
		}
	}
	return false
}
