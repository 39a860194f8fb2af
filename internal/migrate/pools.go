package migrate

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
	"sort"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
)

// defaultFPMDir is Debian's php-fpm configuration directory, used when
// the tree comes without php-fpm's configuration.
const defaultFPMDir = "/etc/php/8.2/fpm"

// socketDir is where the planned pools listen (Debian's php-fpm run
// directory).
const socketDir = "/run/php"

// pools gives every scope a pool: scopes that need their own (PHP
// settings only a pool can hold) get one each — virtual hosts serving the
// same directory with the same settings (a site's :80 and :443) share
// it —, the others share one per user and group.
func (b *builder) pools() {
	byName := map[string]*Pool{}
	own := map[string]string{} // directory, identity and settings → pool name
	sigs := b.settingSigs()
	for _, s := range b.plan.Scopes {
		name := s.User
		if s.own {
			key := s.Dir + "\x00" + s.User + "\x00" + s.Group + "\x00" + sigs[s.ID]
			if name = own[key]; name == "" {
				name = poolName(s.ID)
				own[key] = name
			}
		} else if s.Group != s.User {
			name = s.User + "-" + s.Group
		}
		p := byName[name]
		if p == nil {
			p = &Pool{Name: name, User: s.User, Group: s.Group}
			byName[name] = p
			b.plan.Pools = append(b.plan.Pools, p)
		}
		p.Scopes = append(p.Scopes, s.ID)
		s.Pool = name
	}
	b.byPool = byName
	b.sharedDirNotes()
	for _, p := range b.plan.Pools {
		p.File = path.Join(b.fpmDir(), "pool.d", "modphp-migrate-"+p.Name+".conf")
		p.Listen = path.Join(socketDir, "modphp-migrate-"+p.Name+".sock")
	}
}

// fpmDir is the server path of php-fpm's configuration directory.
func (b *builder) fpmDir() string {
	if b.in.FPMPath != "" {
		return path.Dir(b.server(b.in.FPMPath))
	}
	return defaultFPMDir
}

func (b *builder) pool(s *Scope) *Pool {
	if s == nil {
		return nil
	}
	return b.byPool[s.Pool]
}

// poolServesOnly reports whether the scope's pool serves that scope's
// directory and no other.
func (b *builder) poolServesOnly(s *Scope) bool {
	p := b.pool(s)
	if p == nil {
		return false
	}
	for _, id := range p.Scopes {
		if o := b.byID[id]; o == nil || o.Dir != s.Dir {
			return false
		}
	}
	return true
}

// settingSigs describes, per scope, the server-config settings a pool of
// its own would hold (directive, key, value and directory; not where they
// are written), so that scopes needing the same can share the pool.
func (b *builder) settingSigs() map[string]string {
	parts := map[string][]string{}
	for _, pl := range b.plan.Placements {
		if pl.access || pl.Scope == "" || pl.Target != "" {
			continue
		}
		parts[pl.Scope] = append(parts[pl.Scope], strings.ToLower(pl.Directive)+" "+pl.Key+"="+pl.Value+" @"+pl.Dir)
	}
	sigs := make(map[string]string, len(parts))
	for id, ps := range parts {
		sort.Strings(ps)
		sigs[id] = strings.Join(ps, "\n")
	}
	return sigs
}

// sharedDirNotes notes directories two scopes serve from different pools:
// the handler is chosen per directory, so one of them wins for both.
func (b *builder) sharedDirNotes() {
	for dir, ss := range b.byDir {
		for _, s := range ss[1:] {
			if s.Pool != ss[0].Pool {
				b.note(dir + " is served by " + ss[0].ID + " and " + s.ID + " with different PHP settings or users: Apache picks one handler per directory, so split them by hand")
				break
			}
		}
	}
	sort.Strings(b.plan.Notes)
}

// reuse looks for an existing pool that already fits p: one with p's name
// (or Debian's www for Apache's user), the same user and group, and
// exactly the PHP settings p needs. The pool is then used as it is.
func (b *builder) reuse(p *Pool) {
	if b.in.FPM == nil {
		return
	}
	names := []string{p.Name}
	if p.User == b.apacheUser && len(p.Values) == 0 {
		names = append(names, "www")
	}
	for _, name := range names {
		ex := b.in.FPM.Pool(name)
		if ex == nil || ex.User != p.User || (ex.Group != "" && ex.Group != p.Group) || ex.Listen == "" || !sameValues(ex, p.Values) {
			continue
		}
		if strings.HasPrefix(path.Base(b.server(ex.Pos.File)), "modphp-migrate-") {
			return // plan's own file: rewritten (unchanged when it fits)
		}
		p.Name, p.Listen, p.File, p.Reused = ex.Name, ex.Listen, "", true
		b.byPool[p.Name] = p
		for _, id := range p.Scopes {
			if s := b.byID[id]; s != nil {
				s.Pool = p.Name
			}
		}
		return
	}
}

// sameValues reports whether an existing pool sets exactly these values.
func sameValues(ex *fpmconf.Pool, want []Setting) bool {
	have := ex.Values()
	if len(have) != len(want) {
		return false
	}
	for _, w := range want {
		h, ok := have[w.Key]
		if !ok || h.Admin != w.Admin || h.Value != w.Value {
			return false
		}
	}
	return true
}

// maxPoolName bounds a pool name, which the pool's socket path
// (/run/php/modphp-migrate-NAME.sock) carries: a Unix socket path has at
// most 107 bytes (sun_path), and a directory scope's ID holds whole paths.
const maxPoolName = 40

// poolName is the name of a scope's pool of its own: its ID as a slug,
// cut to maxPoolName with a hash of the ID at the end when longer, so
// that names stay apart.
func poolName(id string) string {
	name := slug(id)
	if len(name) <= maxPoolName {
		return name
	}
	sum := sha256.Sum256([]byte(id))
	return strings.TrimSuffix(name[:maxPoolName-9], "-") + "-" + hex.EncodeToString(sum[:4])
}

// slug turns a scope ID into a pool name: lower-case letters, digits and
// dashes.
func slug(id string) string {
	var sb strings.Builder
	dash := false
	for _, r := range strings.ToLower(id) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			sb.WriteRune(r)
			dash = false
		} else if !dash && sb.Len() > 0 {
			sb.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(sb.String(), "-")
}

// poolFile renders a planned pool.
func (b *builder) poolFile(p *Pool, exts []string) string {
	var sb strings.Builder
	scopes := strings.Join(p.Scopes, ", ")
	if scopes == "" {
		scopes = "none (PHP outside every scope)"
	}
	sb.WriteString("; Generated by modphp-migrate plan. Scopes: " + scopes + "\n")
	sb.WriteString("[" + p.Name + "]\n")
	sb.WriteString("user = " + p.User + "\ngroup = " + p.Group + "\n")
	sb.WriteString("listen = " + p.Listen + "\n")
	sb.WriteString("listen.owner = " + b.apacheUser + "\nlisten.group = " + b.apacheGroup + "\nlisten.mode = 0660\n")
	sb.WriteString("pm = ondemand\npm.max_children = 10\npm.process_idle_timeout = 10s\n")
	if len(exts) > 0 {
		sb.WriteString("security.limit_extensions = " + strings.Join(exts, " ") + "\n")
	}
	vals := append([]Setting(nil), p.Values...)
	sort.SliceStable(vals, func(i, j int) bool { return posLess(vals[i].Source, vals[j].Source) })
	for _, v := range vals {
		kind := "php_"
		if v.Admin {
			kind = "php_admin_"
		}
		if v.Flag {
			kind += "flag"
		} else {
			kind += "value"
		}
		sb.WriteString("; " + b.cite(v.Source) + "\n")
		sb.WriteString(kind + "[" + v.Key + "] = " + iniValue(v.Value) + "\n")
	}
	return sb.String()
}

// iniValue quotes a value for php-fpm.conf and .user.ini when INI syntax
// would otherwise read it differently.
func iniValue(v string) string {
	if v == "" {
		return `""`
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_./:-,@+", r)) {
			return `"` + strings.ReplaceAll(v, `"`, `\"`) + `"`
		}
	}
	switch strings.ToLower(v) {
	case "on", "off", "yes", "no", "true", "false", "null", "none":
		return `"` + v + `"`
	}
	return v
}
