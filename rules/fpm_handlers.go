package rules

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/conf"
)

// Shared by the second wave of rules (MPM20xx): where PHP goes to php-fpm,
// where mod_php is loaded, which MPM runs.

func init() {
	// The directives the MPM20xx rules look up in the index.
	for _, n := range []string{
		"sethandler", "addhandler", "addtype", "removehandler", "action",
		"fastcgiserver", "fastcgiexternalserver", "fastcgiconfig",
		"fcgidinitialenv", "defaultinitenv", "fcgidwrapper",
		"cgipassauth", "proxyset", "proxytimeout", "timeout", "fcgidiotimeout", "iotimeout",
		"suexecusergroup", "suphp_usergroup", "assignuserid", "documentroot",
	} {
		indexedNames[n] = true
	}
}

// isFPMHandler reports whether a SetHandler/AddHandler value hands the
// request to a FastCGI backend through mod_proxy_fcgi
// ("proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost",
// "proxy:fcgi://127.0.0.1:9000").
func isFPMHandler(v string) bool {
	v = strings.ToLower(v)
	return strings.HasPrefix(v, "proxy:") && strings.Contains(v, "fcgi://")
}

// phpHandlerNames are the handler and MIME type names mod_php (and the
// CGI/suPHP setups before it) answer to: SetHandler, AddHandler and AddType
// with one of them mean "run this as PHP".
var phpHandlerNames = map[string]bool{
	"application/x-httpd-php": true, "application/x-httpd-php5": true, "application/x-httpd-php7": true,
	"application/x-httpd-php4": true, "application/x-httpd-php3": true, "application/x-httpd-php8": true,
	"php5-script": true, "php7-script": true, "php-script": true, "php8-script": true,
	"x-httpd-php": true, "x-httpd-php5": true, "x-httpd-php7": true, "x-httpd-php4": true,
	"application/x-httpd-ea-php": true, "x-mapp-php5": true, "x-mapp-php4": true, "x-mapp-php": true,
}

// isPHPHandlerName reports whether v names mod_php's handler or type
// (also the cPanel/EasyApache "application/x-httpd-ea-php82" style).
func isPHPHandlerName(v string) bool {
	v = strings.ToLower(v)
	if phpHandlerNames[v] {
		return true
	}
	return strings.HasPrefix(v, "application/x-httpd-ea-php") || strings.HasPrefix(v, "application/x-httpd-php") && !strings.HasSuffix(v, "-source")
}

// fpmHandler is one place that sends PHP to php-fpm.
type fpmHandler struct {
	entry   *conf.Entry
	node    *parser.Node
	backend string // the SetHandler/AddHandler value, or the proxy target
	// matches reports whether the handler takes a file of that base name
	// (ok false: cannot tell, e.g. a regex RE2 cannot read).
	matches func(base string) (match, ok bool)
	route   *urlRoute // for ProxyPassMatch, ProxyPass, RewriteRule [P]
}

// fpmHandlers returns the handlers to php-fpm in the tree (SetHandler and
// AddHandler "proxy:…fcgi://…", and the URL routes of MPM1001), with
// whether each is in effect in either view.
func fpmHandlers(p *Pass) []*fpmHandler {
	var out []*fpmHandler
	for _, e := range p.index().Named("SetHandler", "AddHandler") {
		n := e.Node
		if n.Kind != parser.KindDirective || len(n.Args) == 0 || !isFPMHandler(n.Args[0]) {
			continue
		}
		h := &fpmHandler{entry: e, node: n, backend: n.Args[0]}
		if strings.EqualFold(n.Name, "AddHandler") {
			exts := lowerExts(n.Args[1:])
			h.matches = func(base string) (bool, bool) { return hasExt(base, exts), true }
		} else {
			h.matches = filesMatcher(n)
		}
		out = append(out, h)
	}
	for _, r := range routes(p) {
		r := r
		out = append(out, &fpmHandler{entry: r.entry, node: r.node, backend: r.handler, route: r,
			matches: func(base string) (bool, bool) {
				if r.prefix {
					return true, true
				}
				return r.matches("/dir/" + base)
			}})
	}
	return out
}

// filesMatcher returns the file-name test of the <Files>/<FilesMatch>
// enclosing n (everything when there is none).
func filesMatcher(n *parser.Node) func(string) (bool, bool) {
	sec := parser.Enclosing(n, "Files", "FilesMatch")
	if sec == nil {
		return func(string) (bool, bool) { return true, true }
	}
	args := sec.Args
	isRe := strings.EqualFold(sec.Name, "FilesMatch")
	if len(args) == 2 && args[0] == "~" {
		isRe, args = true, args[1:]
	}
	if len(args) != 1 {
		return func(string) (bool, bool) { return false, false }
	}
	if isRe {
		re, err := regexp.Compile(args[0])
		if err != nil {
			return func(string) (bool, bool) { return false, false }
		}
		return func(base string) (bool, bool) { return re.MatchString(base), true }
	}
	pat := args[0]
	return func(base string) (bool, bool) {
		ok, err := path.Match(pat, base)
		return ok, err == nil
	}
}

// lowerExts normalises mod_mime extension arguments to ".ext" lower case.
func lowerExts(args []string) []string {
	var out []string
	for _, a := range args {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "" {
			continue
		}
		if !strings.HasPrefix(a, ".") {
			a = "." + a
		}
		out = append(out, a)
	}
	return out
}

// hasExt reports whether base carries one of exts as its last extension.
func hasExt(base string, exts []string) bool {
	ext := strings.ToLower(path.Ext(base))
	for _, e := range exts {
		if e == ext {
			return true
		}
	}
	return false
}

// phpModule returns the LoadModule line of mod_php in cfg, if the
// configuration really loads it (not the implicit module of a single file).
func phpModule(cfg *parser.Config) (parser.Module, bool) {
	if cfg == nil {
		return parser.Module{}, false
	}
	for _, m := range cfg.Modules {
		if parser.IsPHPModule(m) && m.Pos.Line > 0 {
			return m, true
		}
	}
	return parser.Module{}, false
}

// mpmModule returns the LoadModule line of the MPM cfg runs.
func mpmModule(cfg *parser.Config) (parser.Module, bool) {
	if cfg == nil || cfg.MPM == "" {
		return parser.Module{}, false
	}
	for _, m := range cfg.Modules {
		if m.ID == "mpm_"+cfg.MPM+"_module" {
			return m, true
		}
	}
	return parser.Module{}, false
}

// where describes a handler for messages: "SetHandler at php8.2-fpm.conf:9"
// (the full position is in Related).
func (h *fpmHandler) where() string {
	return h.node.Name + " at " + shortPos(h.node.Pos)
}

// shortPos is a position for messages: base name and line.
func shortPos(p parser.Pos) string {
	return fmt.Sprintf("%s:%d", path.Base(p.File), p.Line)
}
