package rules

import (
	"bufio"
	"io/fs"
	"strconv"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/fileowner"
	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/text"
)

// fpmPoolIdentity is MPM2009: who PHP runs as, per site, before and after.
var fpmPoolIdentity = register(&Rule{
	Code:       "MPM2009",
	Title:      "php-fpm pool identity",
	Severity:   Warning,
	Directives: []string{"SuexecUserGroup", "suPHP_UserGroup", "AssignUserID"},
	Plan:       true,
	Doc: Doc{
		Text: `Checks who PHP runs as once php-fpm runs it, against who it ran as before and who must reach it. Needs php-fpm's configuration (` + "`--fpm-config`" + `).

- **Per-site identity**: ` + "`SuexecUserGroup`" + ` (suEXEC, mod_fcgid), ` + "`suPHP_UserGroup`" + ` and ` + "`AssignUserID`" + ` (mpm-itk) ran a site's PHP as its own user; the pool its php-fpm handler reaches must run as that user, or the site loses write access to its files (uploads, caches) and gains access to its neighbours'. Warning.
- **Pools running as Apache's user** (` + "`User`" + `/` + "`Group`" + `, www-data on Debian): every site on the pool, and Apache itself, can read and change each other's files and sessions. Warning.
- **One pool serving virtual hosts of different owners** (by the identity lines above, else by the owner of the DocumentRoot): the sites share a user, so one compromised site reads the others' configuration files. Warning.
- **The socket**: ` + "`listen.owner`, `listen.group`, `listen.mode`" + ` (default: the pool's user and group, 0660) that Apache's user cannot read and write — every PHP request answers 503 (` + "`AH02454`" + ` permission denied) — is an error; a mode every local user can write (0666) lets anyone on the machine run PHP as the pool user, and set ` + "`PHP_VALUE`" + ` for it, a warning.
- **DocumentRoot files owned by Apache's user** that the site's pool user (not Apache's) will not be able to change: under mod_php PHP wrote them as www-data; under its own pool it cannot update them any more. Warning, with counts and examples; skipped with ` + "`--no-permissions`" + `.

Where a site needs another pool, the finding names the pool the migration plan gives it (` + "`modphp-migrate plan`" + `, computed once per run on the same tree and php-fpm configuration) and the user it runs as, rather than advising to change a pool other sites share.`,
		Before: "; pool.d/site.conf\n[site]\nuser = www-data\nlisten = /run/php/site.sock\nlisten.mode = 0600\n",
		After:  "; pool.d/site.conf\n[site]\nuser = site\ngroup = site\nlisten = /run/php/site.sock\nlisten.owner = www-data\nlisten.group = www-data\nlisten.mode = 0660\n",
		Since:  "0.1.0",
	},
	Run: runFPMPoolIdentity,
})

// accounts is /etc/passwd and /etc/group of the tree's root.
type accounts struct {
	uid     map[string]int
	name    map[int]string
	gid     map[string]int
	members map[string][]string // group → users (secondary)
	primary map[string]int      // user → primary gid
}

func loadAccounts(fsys facts.FS, cfg *parser.Config) *accounts {
	a := &accounts{uid: map[string]int{}, name: map[int]string{}, gid: map[string]int{}, members: map[string][]string{}, primary: map[string]int{}}
	readColon(fsys, cfg.HostPath("/etc/passwd"), func(f []string) {
		if len(f) < 4 {
			return
		}
		u, err1 := strconv.Atoi(f[2])
		g, err2 := strconv.Atoi(f[3])
		if err1 == nil && err2 == nil {
			a.uid[f[0]], a.primary[f[0]] = u, g
			if _, ok := a.name[u]; !ok {
				a.name[u] = f[0]
			}
		}
	})
	readColon(fsys, cfg.HostPath("/etc/group"), func(f []string) {
		if len(f) < 4 {
			return
		}
		if g, err := strconv.Atoi(f[2]); err == nil {
			a.gid[f[0]] = g
		}
		if f[3] != "" {
			a.members[f[0]] = strings.Split(f[3], ",")
		}
	})
	return a
}

func readColon(fsys facts.FS, file string, fn func([]string)) {
	f, err := fsys.Open(file)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			fn(strings.Split(l, ":"))
		}
	}
}

// inGroup reports whether user belongs to group (primary or secondary);
// unknown accounts count as not.
func (a *accounts) inGroup(user, group string) bool {
	if user == "" || group == "" {
		return false
	}
	if g, ok := a.gid[group]; ok && a.primary[user] == g {
		return true
	}
	for _, m := range a.members[group] {
		if m == user {
			return true
		}
	}
	return false
}

// siteIdentity is a vhost's own PHP user from SuexecUserGroup,
// suPHP_UserGroup or AssignUserID.
type siteIdentity struct {
	user string
	node *parser.Node
}

func runFPMPoolIdentity(p *Pass) {
	pools := p.facts.Pools()
	if len(pools) == 0 {
		return
	}
	apacheUser, apacheGroup := p.After.User, p.After.Group
	acc := loadAccounts(p.facts.FS, p.After)

	// Who serves which vhost.
	ids := map[string]siteIdentity{} // vhost key → identity
	for _, e := range p.facts.Index().Named("SuexecUserGroup", "suPHP_UserGroup", "AssignUserID") {
		n := e.Node
		if n.Kind != parser.KindDirective || !(e.Today || e.After) || len(n.Args) == 0 || e.Access != nil {
			continue
		}
		ids[vhostKey(p.facts.VHostOf(n))] = siteIdentity{user: strings.TrimPrefix(n.Args[0], "#"), node: n}
	}
	type served struct {
		vh    *parser.VHost
		h     *facts.Handler
		owner string
		why   parser.Pos
	}
	byPool := map[*fpmconf.Pool][]served{}
	for _, h := range p.facts.Handlers() {
		if !h.Entry.After || h.Entry.Access != nil {
			continue
		}
		vh := p.facts.VHostOf(h.Node)
		for _, pl := range facts.PoolsFor(pools, h.Backend) {
			s := served{vh: vh, h: h}
			if id, ok := ids[vhostKey(vh)]; ok {
				s.owner, s.why = id.user, id.node.Pos
				if pl.User != "" && pl.User != id.user {
					p.Report(Diagnostic{Pos: id.node.Pos, EndLine: id.node.EndLine,
						Related: append([]Related{{Pos: poolPos(pl, "user"), Message: "pool " + pl.Name + " runs as " + pl.User}, {Pos: h.Node.Pos, Message: "PHP of this site goes to pool " + pl.Name}}, includeChain(id.node)...),
						Message: "this site's PHP ran as " + id.user + " (" + id.node.Name + "), but its php-fpm pool " + pl.Name + " runs as " + pl.User + ": the site loses write access to its own files; " + planSitePool(p, vh, id.user)})
				}
			} else if dr := docRootOwner(p, vh, acc); dr != "" {
				s.owner = dr
			}
			byPool[pl] = append(byPool[pl], s)
		}
	}

	for _, pl := range pools {
		// Pools running as Apache's user.
		if apacheUser != "" && pl.User == apacheUser {
			p.Report(Diagnostic{Pos: poolPos(pl, "user"),
				Message: "pool " + pl.Name + " runs as " + apacheUser + ", Apache's own user: every site on it, and Apache, can read and change each other's files and sessions; run each site's pool as the site's user"})
		}
		// One pool, several owners.
		owners := map[string]served{}
		for _, s := range byPool[pl] {
			if s.owner != "" {
				if _, ok := owners[s.owner]; !ok {
					owners[s.owner] = s
				}
			}
		}
		if len(owners) > 1 {
			names := sortedKeysOf(owners)
			sites := map[string]*parser.VHost{}
			for o, s := range owners {
				sites[o] = s.vh
			}
			var rel []Related
			for _, o := range names {
				s := owners[o]
				rel = append(rel, Related{Pos: s.h.Node.Pos, Message: "a site of " + o + " uses pool " + pl.Name + " here"})
			}
			p.Report(Diagnostic{Pos: pl.Pos, Related: rel,
				Message: "pool " + pl.Name + " serves sites of different owners (" + strings.Join(names, ", ") + "): they all run as " + orDefault(pl.User, "the same user") + " and can read each other's files; " + planOwnerPools(p, names, sites)})
		}
		// The socket.
		checkSocket(p, pl, apacheUser, apacheGroup, acc)
	}

	if !p.Options.NoPermissions {
		apacheOwned(p, pools, apacheUser, acc)
	}
}

// planSitePool says which pool the plan gives a site, and as whom it
// runs; without the plan, that the site needs a pool of its own running
// as user.
func planSitePool(p *Pass, vh *parser.VHost, user string) string {
	dir := p.Today.DocumentRoot
	if vh != nil {
		dir = vh.DocumentRoot
	}
	if _, pool, _ := p.facts.PlanSite(dir); pool != nil {
		where := pool.File
		if pool.Reused {
			where = "an existing pool"
		}
		return "the plan gives the site php-fpm pool " + pool.Name + ", running as " + pool.User + " (" + where + ")"
	}
	return "give the site a php-fpm pool of its own running as " + user + " (modphp-migrate plan does)"
}

// planOwnerPools says which pools the plan gives the sites of each owner
// (names sorted, site one site of each); without the plan, that each
// owner needs a pool of its own.
func planOwnerPools(p *Pass, names []string, site map[string]*parser.VHost) string {
	var parts []string
	for _, o := range names {
		dir := p.Today.DocumentRoot
		if vh := site[o]; vh != nil {
			dir = vh.DocumentRoot
		}
		_, pool, _ := p.facts.PlanSite(dir)
		if pool == nil {
			return "give each owner a php-fpm pool of its own (modphp-migrate plan does)"
		}
		parts = append(parts, pool.Name+" for "+o+" (running as "+pool.User+")")
	}
	return "the plan gives them php-fpm pools " + strings.Join(parts, ", ")
}

func vhostKey(vh *parser.VHost) string {
	if vh == nil {
		return ""
	}
	return vh.Pos.String()
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func sortedKeysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// poolPos is where a pool setting is, else the pool's header.
func poolPos(pl *fpmconf.Pool, key string) parser.Pos {
	if s, ok := pl.Settings[key]; ok {
		return s.Pos
	}
	return pl.Pos
}

// docRootOwner returns the user owning the DocumentRoot of vh on disk, or
// "" when it cannot be told.
func docRootOwner(p *Pass, vh *parser.VHost, acc *accounts) string {
	dr, _ := p.After.DocumentRootOf(vh)
	if dr == "" {
		return ""
	}
	st, err := p.facts.FS.Stat(p.After.HostPath(dr))
	if err != nil {
		return ""
	}
	u, _, ok := fileowner.Of(st)
	uid := int(u)
	if !ok {
		return ""
	}
	if n, ok := acc.name[uid]; ok {
		return n
	}
	return "uid " + strconv.Itoa(uid)
}

// checkSocket reports a Unix socket Apache's user cannot use, or that
// every local user can.
func checkSocket(p *Pass, pl *fpmconf.Pool, apacheUser, apacheGroup string, acc *accounts) {
	if !strings.HasPrefix(pl.Listen, "/") || apacheUser == "" {
		return
	}
	if _, ok := pl.Settings["listen.acl_users"]; ok {
		return
	}
	if _, ok := pl.Settings["listen.acl_groups"]; ok {
		return
	}
	mode := 0o660
	if pl.ListenMode != "" {
		m, err := strconv.ParseUint(pl.ListenMode, 8, 32)
		if err != nil {
			return
		}
		mode = int(m)
	}
	// php-fpm's defaults (fpm_unix.c, www.conf): the owner is the user
	// running the master process (root as a service), the group that
	// owner's group, mode 0660.
	owner := orDefault(pl.ListenOwner, "root")
	group := pl.ListenGroup
	if group == "" {
		group = owner
		if g, ok := acc.primary[owner]; ok {
			group = groupName(acc, g)
		}
	}
	pos := poolPos(pl, "listen.mode")
	if pl.ListenMode == "" {
		pos = poolPos(pl, "listen")
	}
	if mode&0o006 == 0o006 {
		p.Report(Diagnostic{Pos: pos,
			Message: "the socket of pool " + pl.Name + " (" + pl.Listen + ") has mode " + strconv.FormatInt(int64(mode), 8) + ": every local user can connect, run PHP as " + orDefault(pl.User, "the pool user") + " and set PHP_VALUE for it; use listen.mode = 0660 with listen.group = " + orDefault(apacheGroup, "Apache's group")})
		return
	}
	can := owner == apacheUser && mode&0o600 == 0o600 ||
		(group == apacheGroup || acc.inGroup(apacheUser, group)) && mode&0o060 == 0o060
	if can {
		return
	}
	p.Report(Diagnostic{Pos: pos, Severity: Error,
		Message: "Apache runs as " + apacheUser + ":" + apacheGroup + " but the socket of pool " + pl.Name + " (" + pl.Listen + ") is " + owner + ":" + orDefault(group, "?") + " mode " + strconv.FormatInt(int64(mode), 8) + ": Apache cannot connect and every PHP request answers 503; set listen.owner/listen.group to " + apacheUser + " (mode 0660)"})
}

// apacheOwned reports document roots whose files belong to Apache's user
// while the pool serving them runs as another user that cannot write them.
func apacheOwned(p *Pass, pools []*fpmconf.Pool, apacheUser string, acc *accounts) {
	auid, ok := acc.uid[apacheUser]
	if !ok {
		return
	}
	for _, sr := range p.facts.ServedRoots() {
		dr, pl := sr.Root, sr.Pool
		if pl == nil || pl.User == "" || pl.User == apacheUser {
			continue
		}
		puid, ok := acc.uid[pl.User]
		if !ok || puid == auid {
			continue
		}
		count, examples := p.facts.WalkRoot(dr.Path, p.Options.maxExamples(), func(d fs.DirEntry) bool {
			if d.Type()&fs.ModeSymlink != 0 {
				return false
			}
			info, err := d.Info()
			if err != nil {
				return false
			}
			u, g, ok := fileowner.Of(info)
			uid, gid := int(u), int(g)
			if !ok || uid != auid || info.Mode().Perm()&0o002 != 0 {
				return false
			}
			return info.Mode().Perm()&0o020 == 0 || !acc.inGroup(pl.User, groupName(acc, gid))
		})
		if count == 0 {
			continue
		}
		msg := strconv.Itoa(count) + " " + text.Plural(count, "file or directory", "files and directories") + " under " + dr.Path + " belong to " + apacheUser + " (written by PHP under mod_php), but pool " + pl.Name + " runs as " + pl.User + " and will not be able to change them; chown them to " + pl.User
		if len(examples) > 0 {
			msg += " (e.g. " + strings.Join(examples, ", ") + ")"
		}
		p.Report(Diagnostic{Pos: dr.Node.Pos, EndLine: dr.Node.EndLine,
			Related: append([]Related{{Pos: poolPos(pl, "user"), Message: "pool " + pl.Name + " runs as " + pl.User}}, includeChain(dr.Node)...), Message: msg})
	}
}

func groupName(acc *accounts, gid int) string {
	for n, g := range acc.gid {
		if g == gid {
			return n
		}
	}
	return ""
}
