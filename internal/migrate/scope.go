package migrate

import (
	"fmt"
	"path"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// identityDirectives give a virtual host's PHP user and group: suEXEC,
// mpm-itk, suPHP and mod_ruid2.
var identityDirectives = map[string]bool{"suexecusergroup": true, "assignuserid": true, "suphp_usergroup": true, "ruidgid": true}

// scopes creates a scope per virtual host and for the main server, and
// one per Alias whose target lies outside its server's document root.
func (b *builder) scopes() {
	cfg := b.in.Today
	if cfg.DocumentRoot != "" {
		b.addScope(&Scope{ID: "main", Kind: "main", Dir: clean(cfg.DocumentRoot)})
	}
	for _, vh := range cfg.VHosts {
		if vh.DocumentRoot == "" {
			continue
		}
		id := vh.ServerName
		if id == "" {
			id = clean(vh.DocumentRoot) // a vhost without a name is known by its root
		}
		s := &Scope{ID: id, Kind: "vhost", ServerName: vh.ServerName, Dir: clean(vh.DocumentRoot), Pos: b.pos(vh.Pos), vhost: vh}
		b.addScope(s)
	}
	for _, a := range cfg.Aliases {
		if a.Node == nil || !strings.EqualFold(a.Node.Name, "Alias") || a.Path == "" {
			continue
		}
		if ok, _ := appliedByModPHP(a.Node); !ok || !parser.InEffect(a.Node) {
			continue
		}
		parent := b.scopeFor(a.VHost, a.Path)
		if parent != nil && under(a.Path, parent.Dir) {
			continue
		}
		id := "alias:" + a.URL
		if a.VHost != nil && a.VHost.ServerName != "" {
			id = a.VHost.ServerName + id[len("alias"):]
		}
		s := &Scope{ID: id, Kind: "alias", Dir: clean(a.Path), Pos: b.pos(a.Node.Pos), vhost: a.VHost}
		if parent != nil {
			s.Parent = parent.ID
		}
		b.addScope(s)
	}
}

func (b *builder) addScope(s *Scope) {
	for _, o := range b.plan.Scopes {
		if o.ID == s.ID {
			s.ID = fmt.Sprintf("%s#%d", s.ID, len(b.plan.Scopes))
		}
	}
	b.plan.Scopes = append(b.plan.Scopes, s)
}

// scopeFor returns the scope of vh (nil: the main server) whose directory
// contains dir most closely; for the main server any scope may match.
func (b *builder) scopeFor(vh *parser.VHost, dir string) *Scope {
	var best *Scope
	for _, s := range b.plan.Scopes {
		if vh != nil && s.vhost != vh && s.Kind != "main" && !(s.Kind == "alias" && s.vhost == nil) {
			continue
		}
		if !under(dir, s.Dir) {
			continue
		}
		if best == nil || len(s.Dir) > len(best.Dir) || (len(s.Dir) == len(best.Dir) && best.Kind == "main") {
			best = s
		}
	}
	if best == nil && vh != nil {
		for _, s := range b.plan.Scopes {
			if s.vhost == vh && s.Kind == "vhost" {
				return s
			}
		}
	}
	return best
}

// dirScope returns the scope for <Directory dir>, creating a directory
// scope inside the closest one when none has exactly that directory.
func (b *builder) dirScope(vh *parser.VHost, dir string, pos parser.Pos) *Scope {
	parent := b.scopeFor(vh, dir)
	if parent != nil && parent.Dir == dir {
		return parent
	}
	id := dir
	if parent != nil {
		id = parent.ID + ":" + dir
	}
	for _, s := range b.plan.Scopes {
		if s.ID == id {
			return s
		}
	}
	s := &Scope{ID: id, Kind: "directory", Dir: dir, Pos: b.pos(pos), vhost: vh}
	if parent != nil {
		s.Parent, s.vhost = parent.ID, parent.vhost
	}
	b.addScope(s)
	return s
}

// identities sets each scope's user and group.
func (b *builder) identities() {
	for _, s := range b.plan.Scopes {
		if u, g, n := b.identityDirective(s); u != "" {
			s.User, s.Group, s.userNode = u, g, n
			continue
		}
		if s.Parent != "" && s.Kind == "directory" {
			if p := b.scope(s.Parent); p != nil && p.User != "" {
				s.User, s.Group, s.UserFrom, s.userNode = p.User, p.Group, p.UserFrom, p.userNode
				continue
			}
		}
		if u, g, ok := b.regularOwner(s.Dir); ok {
			s.User, s.Group, s.UserFrom = u, g, "owner of "+s.Dir
			continue
		}
		s.User, s.Group, s.UserFrom = b.apacheUser, b.apacheGroup, "Apache's User"
	}
}

func (b *builder) scope(id string) *Scope {
	for _, s := range b.plan.Scopes {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// identityDirective finds SuexecUserGroup, AssignUserID, suPHP_UserGroup
// or RUidGid in effect in the scope's virtual host.
func (b *builder) identityDirective(s *Scope) (user, group string, from *parser.Node) {
	if s.vhost == nil || s.vhost.Node == nil {
		return "", "", nil
	}
	parser.Walk(s.vhost.Node.Children, false, func(n *parser.Node) bool {
		if user != "" || n.Kind != parser.KindDirective || !identityDirectives[strings.ToLower(n.Name)] || len(n.Args) < 2 {
			return true
		}
		if sec := parser.Enclosing(n, "directory"); sec != nil && len(sec.Args) == 1 && !under(s.Dir, clean(sec.Args[0])) {
			return true
		}
		user, group = strings.TrimPrefix(n.Args[0], "#"), strings.TrimPrefix(n.Args[1], "#")
		from = n
		return true
	})
	return user, group, from
}

func clean(p string) string {
	if p == "" {
		return ""
	}
	return path.Clean(p)
}

// under reports whether p is dir or inside it.
func under(p, dir string) bool {
	p, dir = clean(p), clean(dir)
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// pruneAliases drops Alias scopes that need nothing of their own: the
// fallback handler serves them with Apache's user.
func (b *builder) pruneAliases() {
	keep := b.plan.Scopes[:0]
	for _, s := range b.plan.Scopes {
		if s.Kind == "alias" && !s.own && s.userNode == nil && s.UserFrom == "Apache's User" {
			continue
		}
		keep = append(keep, s)
	}
	b.plan.Scopes = keep
}

// identityNotes words UserFrom for identities from a directive, citing it
// where it will be after the plan's wraps.
func (b *builder) identityNotes() {
	for _, s := range b.plan.Scopes {
		if s.userNode != nil {
			s.UserFrom = s.userNode.Name + " at " + b.cite(b.pos(s.userNode.Pos))
		}
	}
}
