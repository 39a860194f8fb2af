package rules

import (
	"fmt"
	"path"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
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
// enclosing n, as httpd applies it to a script's base name
// (modphp.CompileFiles; everything when there is no section, not known
// for a section that cannot be evaluated).
func filesMatcher(n *parser.Node) func(string) (bool, bool) {
	sec := parser.Enclosing(n, "Files", "FilesMatch")
	if sec == nil {
		return func(string) (bool, bool) { return true, true }
	}
	m, err := modphp.CompileFiles(sec.Name, sec.Args)
	if err != nil {
		return func(string) (bool, bool) { return false, false }
	}
	return func(base string) (bool, bool) { return m.Match(base), true }
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
		if modphp.IsModule(m.ID, m.Path) && m.Pos.Line > 0 {
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

// backendAddr extracts what a handler connects to: ("unix", socket path)
// for "proxy:unix:/run/x.sock|fcgi://localhost", ("tcp", "host:port") for
// "proxy:fcgi://127.0.0.1:9000" and "fcgi://127.0.0.1:9000/path".
func backendAddr(backend string) (network, addr string) {
	b := backend
	if len(b) >= 6 && strings.EqualFold(b[:6], "proxy:") {
		b = b[6:]
	}
	if len(b) >= 5 && strings.EqualFold(b[:5], "unix:") {
		sock, _, _ := strings.Cut(b[5:], "|")
		return "unix", sock
	}
	if i := strings.Index(strings.ToLower(b), "fcgi://"); i >= 0 {
		hp := b[i+len("fcgi://"):]
		if j := strings.IndexByte(hp, '/'); j >= 0 {
			hp = hp[:j]
		}
		if !strings.Contains(hp, ":") {
			hp += ":8000" // mod_proxy_fcgi's default port
		}
		return "tcp", strings.ToLower(hp)
	}
	return "", ""
}

// poolsFor returns the php-fpm pools listening where backend connects,
// nil when none does (or there is no php-fpm configuration).
func poolsFor(pools []*fpmconf.Pool, backend string) []*fpmconf.Pool {
	network, addr := backendAddr(backend)
	var out []*fpmconf.Pool
	for _, pl := range pools {
		l := pl.Listen
		switch {
		case network == "unix" && strings.HasPrefix(l, "/"):
			if path.Clean(l) == path.Clean(addr) {
				out = append(out, pl)
			}
		case network == "tcp" && !strings.HasPrefix(l, "/"):
			lh, lp := "", l // "9000": every address
			if i := strings.LastIndex(l, ":"); i >= 0 {
				lh, lp = l[:i], l[i+1:]
			}
			ah, ap := addr, ""
			if i := strings.LastIndex(addr, ":"); i >= 0 {
				ah, ap = addr[:i], addr[i+1:]
			}
			if lp != ap {
				continue
			}
			if lh == "" || lh == "*" || lh == "0.0.0.0" || lh == "[::]" || strings.EqualFold(lh, ah) ||
				(ah == "localhost" && (lh == "127.0.0.1" || lh == "[::1]")) || (lh == "localhost" && ah == "127.0.0.1") {
				out = append(out, pl)
			}
		}
	}
	return out
}
