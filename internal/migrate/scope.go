package migrate

import (
	"fmt"
	"path"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

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
	if b.byID[s.ID] != nil {
		s.ID = fmt.Sprintf("%s#%d", s.ID, len(b.plan.Scopes))
	}
	b.plan.Scopes = append(b.plan.Scopes, s)
	b.index(s)
}

// index adds s to the builder's lookups.
func (b *builder) index(s *Scope) {
	b.byID[s.ID] = s
	b.byDir[s.Dir] = append(b.byDir[s.Dir], s)
	if s.Kind == "vhost" && b.byVHost[s.vhost] == nil {
		b.byVHost[s.vhost] = s
	}
}

// reindex rebuilds the lookups after scopes were dropped.
func (b *builder) reindex() {
	n := len(b.plan.Scopes)
	b.byID, b.byDir, b.byVHost = make(map[string]*Scope, n), make(map[string][]*Scope, n), make(map[*parser.VHost]*Scope, n)
	for _, s := range b.plan.Scopes {
		b.index(s)
	}
}

// scopeFor returns the scope of vh (nil: the main server) whose directory
// contains dir most closely; for the main server any scope may match. It
// looks up dir and its parents, not every scope.
func (b *builder) scopeFor(vh *parser.VHost, dir string) *Scope {
	for d := dir; d != ""; d = parentDir(d) {
		var main *Scope
		for _, s := range b.byDir[d] {
			if vh != nil && s.vhost != vh && s.Kind != "main" && !(s.Kind == "alias" && s.vhost == nil) {
				continue
			}
			if s.Kind != "main" {
				return s
			}
			main = s
		}
		if main != nil {
			return main
		}
	}
	if vh != nil {
		return b.byVHost[vh]
	}
	return nil
}

// parentDir returns the parent of a clean absolute path, "" above "/"
// (and for a relative path, which has no scope).
func parentDir(d string) string {
	if d == "/" || d == "" || !strings.HasPrefix(d, "/") {
		return ""
	}
	return path.Dir(d)
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
	if s := b.byID[id]; s != nil {
		return s
	}
	s := &Scope{ID: id, Kind: "directory", Dir: dir, Pos: b.pos(pos), vhost: vh}
	if parent != nil {
		s.Parent, s.vhost = parent.ID, parent.vhost
	}
	b.addScope(s)
	return s
}

// ownerScopes adds a directory scope for each directory right under a
// document root that a regular user other than the root's owner owns
// (/var/www/hosting/alice beside /var/www/hosting/bob): its PHP runs as
// that user. A virtual host with an identity directive runs everything
// as that user and gets none.
func (b *builder) ownerScopes() {
	for _, s := range append([]*Scope(nil), b.plan.Scopes...) {
		if s.Kind != "vhost" && s.Kind != "main" {
			continue
		}
		if u, _, _ := b.identityDirective(s); u != "" {
			continue
		}
		b.otherOwners(s)
	}
}

// otherOwners adds the directory scopes of s's subdirectories that a
// regular user other than the owner of s's directory owns. The owner of
// s's directory is looked up only when it has a subdirectory.
func (b *builder) otherOwners(s *Scope) {
	var rootUID uint32
	rootKnown := false
	for _, name := range b.subdirs(s.Dir) {
		if !rootKnown {
			uid, _, ok := b.ownerOf(b.host(s.Dir))
			if !ok {
				return
			}
			rootUID, rootKnown = uid, true
		}
		dir := path.Join(s.Dir, name)
		if uid, _, ok := b.ownerOf(b.host(dir)); ok && regularUser(uid) && uid != rootUID {
			d := b.dirScope(s.vhost, dir, s.Pos)
			d.byOwner = true
		}
	}
}

// subdirs returns the names of dir's subdirectories (as lstat says: a
// symbolic link to a directory is none), sorted. The load has listed most
// document roots already, looking for .htaccess files.
func (b *builder) subdirs(dir string) []string {
	host := b.host(dir)
	if real, err := b.fs.Real(host); err == nil {
		if subs, ok := b.in.Today.ListedSubdirs(real); ok {
			return subs
		}
	}
	ents, _ := b.fs.ReadDir(host)
	var subs []string
	for _, e := range ents {
		if e.IsDir() {
			subs = append(subs, e.Name())
		}
	}
	return subs
}

// identities sets each scope's user and group.
func (b *builder) identities() {
	for _, s := range b.plan.Scopes {
		if u, g, n := b.identityDirective(s); u != "" {
			s.User, s.Group, s.userNode = u, g, n
			continue
		}
		if s.byOwner {
			if u, g, ok := b.regularOwner(s.Dir); ok {
				s.User, s.Group, s.UserFrom = u, g, "owner of "+s.Dir
				continue
			}
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

func (b *builder) scope(id string) *Scope { return b.byID[id] }

// identityDirective finds SuexecUserGroup, AssignUserID, suPHP_UserGroup
// or RUidGid in effect in the scope's virtual host.
func (b *builder) identityDirective(s *Scope) (user, group string, from *parser.Node) {
	if s.vhost == nil || s.vhost.Node == nil {
		return "", "", nil
	}
	for _, n := range b.lines.identity[s.vhost.Node] {
		if len(n.Args) < 2 || !parser.InEffect(n) {
			continue
		}
		if sec := parser.Enclosing(n, "directory"); sec != nil && len(sec.Args) == 1 && !under(s.Dir, clean(sec.Args[0])) {
			continue
		}
		return strings.TrimPrefix(n.Args[0], "#"), strings.TrimPrefix(n.Args[1], "#"), n
	}
	return "", "", nil
}

// clean is parser.CleanPath.
func clean(p string) string { return parser.CleanPath(p) }

// under is parser.PathUnder.
func under(p, dir string) bool { return parser.PathUnder(p, dir) }

// pruneAliases drops Alias scopes that need nothing of their own: the
// fallback handler serves them with Apache's user. One whose scripts
// read the Authorization header stays, for its CGIPassAuth.
func (b *builder) pruneAliases() {
	keep := b.plan.Scopes[:0]
	for _, s := range b.plan.Scopes {
		if s.Kind == "alias" && !s.own && s.userNode == nil && s.UserFrom == "Apache's User" {
			if s.authFrom = b.scanAuth(s); s.authFrom == "" {
				continue
			}
			s.CGIPassAuth = true
		}
		keep = append(keep, s)
	}
	b.plan.Scopes = keep
	b.reindex()
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
