package migrate

import (
	"strings"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// The actions of a Route.
const (
	RouteKeep    = "keep"    // it goes to the pool the plan uses for its directory
	RouteReplace = "replace" // put under <IfModule mod_php.c>: the plan's handler serves the directory
)

// Route is a URL route to php-fpm already in the configuration
// (ProxyPassMatch, ProxyPass, RewriteRule [P] to fcgi://) and what the
// plan does with it. Apache applies such a route before any handler, so
// the route and the plan's handler for the directory must agree: a route
// to the pool the plan reuses for the directory is kept, any other is
// replaced by the plan's handler (put under <IfModule mod_php.c>, so that
// it applies while mod_php is loaded, as today, and not after the switch).
type Route struct {
	Source    parser.Pos `json:"source"`
	Directive string     `json:"directive"`
	// Backend is the route's php-fpm address: host:port or a socket path.
	Backend string `json:"backend"`
	Scope   string `json:"scope"`
	Dir     string `json:"dir"`
	Action  string `json:"action"`
	// Handler is the SetHandler argument of the plan's handler for the
	// scope's directory (the shim's socket when the scope needs the shim).
	Handler string `json:"handler"`
	Note    string `json:"note"`
}

// RouteAt returns what the plan does with the route at pos (as the parser
// reports it, under --root or not), or nil.
func (p *Plan) RouteAt(pos parser.Pos) *Route {
	file := pos.File
	if p.fs != nil {
		file, _ = p.fs.Server(file)
	}
	for _, r := range p.Routes {
		if r.Source.File == file && r.Source.Line == pos.Line {
			return r
		}
	}
	return nil
}

// routes finds the server configuration's routes to php-fpm and decides
// each: kept when it reaches the pool the plan uses for its scope and the
// scope needs no shim, else replaced (wrapped in <IfModule mod_php.c>).
// A route already under such a guard applies only with mod_php: it is
// replaced as it is, so that planning the applied tree changes nothing.
func (b *builder) routes() {
	if b.in.Today.Main == nil {
		return
	}
	for _, n := range b.lines.routes {
		b.route(n)
	}
}

// route decides what becomes of one ProxyPass, ProxyPassMatch or
// RewriteRule: nothing unless it sends requests to php-fpm.
func (b *builder) route(n *parser.Node) {
	guarded := guardedForModPHP(n)
	if !guarded && !parser.InEffect(n) {
		return
	}
	target, ok := routeTarget(n)
	if !ok {
		return
	}
	backend, dest := fcgiBackend(target)
	if backend == "" {
		return
	}
	vh := b.in.Today.VHostOf(n)
	dir := dest
	if dir == "" || strings.Contains(dir, "$") {
		if vh != nil {
			dir = clean(vh.DocumentRoot)
		} else {
			dir = clean(b.in.Today.DocumentRoot)
		}
	}
	s := b.scopeFor(vh, dir)
	p := b.pool(s)
	if s == nil || p == nil {
		return
	}
	r := &Route{Source: b.pos(n.Pos), Directive: n.Name, Backend: backend, Scope: s.ID, Dir: s.Dir, Handler: b.handlerURL(s, p)}
	switch {
	case !guarded && p.Reused && sameAddress(p.Listen, backend) && !b.shimScopes[s.ID]:
		r.Action, r.Note = RouteKeep, "it reaches php-fpm pool "+p.Name+", which serves "+s.Dir+" after the switch"
	default:
		r.Action = RouteReplace
		r.Note = s.Dir + " is served by " + b.servedBy(s, p) + ", not " + backend + ", and the route applies only while mod_php is loaded"
		if guarded {
			break
		}
		end := n.EndLine
		if end < n.Pos.Line {
			end = n.Pos.Line
		}
		b.edits[n.Pos.File] = append(b.edits[n.Pos.File], edit{first: n.Pos.Line, last: end, node: n, route: true})
	}
	b.plan.Routes = append(b.plan.Routes, r)
}

// servedBy words the backend of a scope's handler.
func (b *builder) servedBy(s *Scope, p *Pool) string {
	if b.shimScopes[s.ID] {
		return "php-fpm pool " + p.Name + " through the shim"
	}
	return "php-fpm pool " + p.Name
}

// routeTarget returns the proxy target of a ProxyPassMatch, ProxyPass or
// RewriteRule with the P flag; ok is false for other lines.
func routeTarget(n *parser.Node) (target string, ok bool) {
	switch parser.LowerName(n.Name) {
	case "proxypassmatch", "proxypass":
		if len(n.Args) == 1 && parser.Enclosing(n, "location", "locationmatch") != nil {
			return n.Args[0], true
		}
		if len(n.Args) >= 2 {
			return n.Args[1], true
		}
	case "rewriterule":
		if len(n.Args) >= 3 && rewriteProxies(n.Args[2]) {
			return n.Args[1], true
		}
	}
	return "", false
}

// rewriteProxies reports whether RewriteRule flags hold P (proxy).
func rewriteProxies(flags string) bool {
	for _, f := range strings.Split(strings.Trim(flags, "[]"), ",") {
		if f = strings.ToLower(strings.TrimSpace(f)); f == "p" || f == "proxy" {
			return true
		}
	}
	return false
}

// fcgiBackend reads a proxy target to php-fpm: "fcgi://HOST:PORT/PATH"
// or "unix:SOCKET|fcgi://HOST/PATH". It returns the backend (host:port or
// the socket path) and the path part ("" when none); "" for a target that
// is not FastCGI.
func fcgiBackend(target string) (backend, dest string) {
	sock, rest, unix := strings.Cut(target, "|")
	if !unix {
		rest = target
	}
	if len(rest) < len("fcgi://") || !strings.EqualFold(rest[:len("fcgi://")], "fcgi://") {
		return "", ""
	}
	rest = rest[len("fcgi://"):]
	host, path, _ := strings.Cut(rest, "/")
	if unix {
		if !strings.HasPrefix(strings.ToLower(sock), "unix:") {
			return "", ""
		}
		return clean(sock[len("unix:"):]), "/" + path
	}
	if path != "" {
		dest = "/" + path
		if i := strings.Index(dest, "$"); i >= 0 {
			dest = dest[:strings.LastIndex(dest[:i], "/")+1]
		}
		dest = clean(dest)
	}
	return host, dest
}

// sameAddress reports whether a pool's listen address is a route's
// backend: the same socket path, or the same port on the loopback
// address (php-fpm's bare port listens on every address).
func sameAddress(listen, backend string) bool {
	if strings.HasPrefix(listen, "/") || strings.HasPrefix(backend, "/") {
		return clean(listen) == clean(backend)
	}
	norm := func(a string) string {
		if !strings.Contains(a, ":") {
			return "127.0.0.1:" + a
		}
		return strings.Replace(a, "localhost:", "127.0.0.1:", 1)
	}
	lh, lp, _ := strings.Cut(norm(listen), ":")
	bh, bp, _ := strings.Cut(norm(backend), ":")
	return lp == bp && (lh == bh || lh == "0.0.0.0" || lh == "*")
}

// handlerURL is the SetHandler argument of a scope's handler: the shim's
// socket when the scope needs it, else its pool's address.
func (b *builder) handlerURL(s *Scope, p *Pool) string {
	if b.shimScopes[s.ID] {
		return proxyURL(ShimSocket)
	}
	return proxyURL(p.Listen)
}

// proxyURL is mod_proxy_fcgi's handler for a php-fpm listen address: a
// Unix socket path, or host:port (a bare port is the loopback's).
func proxyURL(listen string) string {
	if strings.HasPrefix(listen, "/") {
		return "proxy:unix:" + listen + "|fcgi://localhost"
	}
	if !strings.Contains(listen, ":") {
		listen = "127.0.0.1:" + listen
	}
	return "proxy:fcgi://" + listen
}
