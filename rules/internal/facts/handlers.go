package facts

import (
	"fmt"
	"path"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// IsFPMHandler reports whether a SetHandler/AddHandler value hands the
// request to a FastCGI backend through mod_proxy_fcgi
// ("proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost",
// "proxy:fcgi://127.0.0.1:9000").
func IsFPMHandler(v string) bool {
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

// IsPHPHandlerName reports whether v names mod_php's handler or type
// (also the cPanel/EasyApache "application/x-httpd-ea-php82" style).
func IsPHPHandlerName(v string) bool {
	v = strings.ToLower(v)
	if phpHandlerNames[v] {
		return true
	}
	return strings.HasPrefix(v, "application/x-httpd-ea-php") || strings.HasPrefix(v, "application/x-httpd-php") && !strings.HasSuffix(v, "-source")
}

// Handler is one place that sends PHP to php-fpm.
type Handler struct {
	Entry   *Entry
	Node    *parser.Node
	Backend string // the SetHandler/AddHandler value, or the proxy target
	// Matches reports whether the handler takes a file of that base name
	// (ok false: cannot tell, e.g. a regex RE2 cannot read).
	Matches func(base string) (match, ok bool)
	Route   *Route // for ProxyPassMatch, ProxyPass, RewriteRule [P]
}

// Handlers returns the handlers to php-fpm in the tree (SetHandler and
// AddHandler "proxy:…fcgi://…", then the URL routes), with whether each is
// in effect in either view (Entry).
func (f *Facts) Handlers() []*Handler { return f.handlers() }

func (f *Facts) findHandlers() []*Handler {
	var out []*Handler
	for _, e := range f.Index().Named("SetHandler", "AddHandler") {
		n := e.Node
		if n.Kind != parser.KindDirective || len(n.Args) == 0 || !IsFPMHandler(n.Args[0]) {
			continue
		}
		h := &Handler{Entry: e, Node: n, Backend: n.Args[0]}
		if strings.EqualFold(n.Name, "AddHandler") {
			exts := LowerExts(n.Args[1:])
			h.Matches = func(base string) (bool, bool) { return HasExt(base, exts), true }
		} else {
			h.Matches = FilesMatcher(n)
		}
		out = append(out, h)
	}
	for _, r := range f.Routes() {
		out = append(out, &Handler{Entry: r.Entry, Node: r.Node, Backend: r.Handler, Route: r,
			Matches: func(base string) (bool, bool) {
				if r.Prefix {
					return true, true
				}
				return r.Matches("/dir/" + base)
			}})
	}
	return out
}

// FilesMatcher returns the file-name test of the <Files>/<FilesMatch>
// enclosing n, as httpd applies it to a script's base name
// (modphp.CompileFiles; everything when there is no section, not known
// for a section that cannot be evaluated).
func FilesMatcher(n *parser.Node) func(string) (bool, bool) {
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

// LowerExts normalises mod_mime extension arguments to ".ext" lower case.
func LowerExts(args []string) []string {
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

// HasExt reports whether base carries one of exts as its last extension.
func HasExt(base string, exts []string) bool {
	ext := strings.ToLower(path.Ext(base))
	for _, e := range exts {
		if e == ext {
			return true
		}
	}
	return false
}

// PHPModule returns the LoadModule line of mod_php in cfg, if the
// configuration really loads it (not the implicit module of a single file).
func PHPModule(cfg *parser.Config) (parser.Module, bool) {
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

// MPMModule returns the LoadModule line of the MPM cfg runs.
func MPMModule(cfg *parser.Config) (parser.Module, bool) {
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

// PHPModName is the a2dismod name of a mod_php shared object
// (libphp8.2.so → php8.2).
func PHPModName(so string) string {
	b := so
	if i := strings.LastIndex(b, "/"); i >= 0 {
		b = b[i+1:]
	}
	b = strings.TrimSuffix(strings.TrimPrefix(b, "lib"), ".so")
	if b == "" {
		return "php"
	}
	return b
}

// Where describes a handler for messages: "SetHandler at php8.2-fpm.conf:9"
// (the full position belongs in Related).
func (h *Handler) Where() string {
	return h.Node.Name + " at " + ShortPos(h.Node.Pos)
}

// ShortPos is a position for messages: base name and line.
func ShortPos(p parser.Pos) string {
	return fmt.Sprintf("%s:%d", path.Base(p.File), p.Line)
}

// BackendAddr extracts what a handler connects to: ("unix", socket path)
// for "proxy:unix:/run/x.sock|fcgi://localhost", ("tcp", "host:port") for
// "proxy:fcgi://127.0.0.1:9000" and "fcgi://127.0.0.1:9000/path".
func BackendAddr(backend string) (network, addr string) {
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
