package facts

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// Route is one directive that sends requests to php-fpm by URL:
// ProxyPassMatch, ProxyPass or RewriteRule … [P] to fcgi://.
type Route struct {
	Entry   *Entry
	Node    *parser.Node
	Pattern string         // regex (ProxyPassMatch, RewriteRule) or URL prefix (ProxyPass)
	Prefix  bool           // Pattern is a URL-path prefix
	Re      *regexp.Regexp // compiled Pattern, nil when RE2 cannot read it
	Access  bool           // in an access file: paths have no leading slash
	Dest    string         // destination directory as httpd sees it ("" = unknown)
	Backref bool           // destination uses $N: the URL picks the script
	Handler string         // "proxy:unix:…|fcgi://localhost" or "proxy:fcgi://host:port"
	VHost   *parser.VHost
	InFiles bool // inside <Files>/<FilesMatch>: the file name is checked, not the URL
}

// Routes returns the URL routings to fcgi:// in effect in either view, in
// tree order.
func (f *Facts) Routes() []*Route { return f.routes() }

func (f *Facts) findRoutes() []*Route {
	var out []*Route
	for _, e := range f.Index().Named("ProxyPassMatch", "ProxyPass", "RewriteRule") {
		n := e.Node
		if n.Kind != parser.KindDirective || !(e.Today || e.After) {
			continue
		}
		r := &Route{Entry: e, Node: n, Access: e.Access != nil}
		target, ok := r.readPattern(n)
		if !ok || !isFCGI(target) {
			continue
		}
		// ProxyPass and ProxyPassMatch append the URL when the target
		// has no backreference (mod_proxy docs); RewriteRule does not.
		r.Dest, r.Backref, r.Handler = fcgiDest(target, !strings.EqualFold(n.Name, "RewriteRule"))
		r.InFiles = parser.Enclosing(n, "Files") != nil || parser.Enclosing(n, "FilesMatch") != nil
		if !r.Prefix {
			r.Re, _ = regexp.Compile(r.Pattern)
		}
		r.VHost = f.VHostOf(n)
		out = append(out, r)
	}
	return out
}

// readPattern fills the route's pattern from its directive and returns
// the proxy target; ok is false for a line that proxies nothing.
func (r *Route) readPattern(n *parser.Node) (target string, ok bool) {
	switch parser.LowerName(n.Name) {
	case "proxypassmatch", "proxypass":
		r.Prefix = strings.EqualFold(n.Name, "ProxyPass")
		loc := "Location"
		if !r.Prefix {
			loc = "LocationMatch"
		}
		args := n.Args
		if sec := parser.Enclosing(n, loc); sec != nil && len(args) >= 1 && isFCGI(args[0]) {
			args = append([]string{Arg(sec, 0)}, args...)
		}
		if len(args) < 2 {
			return "", false
		}
		r.Pattern = args[0]
		return args[1], true
	case "rewriterule":
		if len(n.Args) < 3 || !HasFlag(n.Args[2], "P", "proxy") {
			return "", false
		}
		r.Pattern = strings.TrimPrefix(n.Args[0], "!")
		return n.Args[1], true
	}
	return "", false
}

// isFCGI reports whether a proxy target speaks FastCGI.
func isFCGI(target string) bool {
	t := strings.ToLower(target)
	return strings.HasPrefix(t, "fcgi://") || strings.HasPrefix(t, "unix:") && strings.Contains(t, "|fcgi://")
}

// HasFlag reports whether a RewriteRule flag list "[P,L]" holds one of names.
func HasFlag(flags string, names ...string) bool {
	for rest, more := strings.Trim(flags, "[]"), true; more; {
		var f string
		f, rest, more = strings.Cut(rest, ",")
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
		return Clean(p[:i]), true, handler
	}
	if appends {
		return Clean(p), true, handler
	}
	return Clean(path.Dir(p)), false, handler
}

// Matches reports whether the route takes the URL path u (which starts
// with "/"); unknown when the pattern cannot be compiled (ok false).
func (r *Route) Matches(u string) (match, ok bool) {
	if r.Prefix {
		return strings.HasPrefix(u, r.Pattern), true
	}
	if r.Re == nil {
		return false, false
	}
	if r.Access {
		u = strings.TrimPrefix(u, "/")
	}
	return r.Re.MatchString(u), true
}

// Where names the routing line in messages.
func (r *Route) Where() string {
	return fmt.Sprintf("%s at %s", r.Node.Name, r.Node.Pos)
}

// Restrictive returns the lines in effect in either view that limit who
// may reach a file (IsRestrictive), in tree order.
func (f *Facts) Restrictive() []*Entry { return f.restrictive() }

func (f *Facts) findRestrictive() []*Entry {
	var out []*Entry
	for _, e := range f.Index().Named("Require", "Deny", "AuthType", "AuthUserFile", "AuthBasicProvider", "RewriteRule",
		"php_flag", "php_admin_flag", "php_value", "php_admin_value") {
		if (e.Today || e.After) && IsRestrictive(e.Node) {
			out = append(out, e)
		}
	}
	return out
}

// IsRestrictive reports whether a directive limits who may reach a file:
// a Require other than "all granted", Deny, authentication, a [F]
// rewrite, PHP's engine turned off.
func IsRestrictive(n *parser.Node) bool {
	if n.Kind != parser.KindDirective {
		return false
	}
	switch parser.LowerName(n.Name) {
	case "require":
		return !(len(n.Args) == 2 && strings.EqualFold(n.Args[0], "all") && strings.EqualFold(n.Args[1], "granted"))
	case "deny", "authtype", "authuserfile", "authbasicprovider":
		return true
	case "rewriterule":
		return len(n.Args) >= 3 && HasFlag(n.Args[2], "F", "forbidden")
	case "php_flag", "php_admin_flag", "php_value", "php_admin_value":
		k, key, arg, _ := PHPDirective(n)
		return modphp.EngineOff(k, key, arg)
	}
	return false
}
