package migrate

import (
	"bufio"
	"strconv"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/fileowner"
	"github.com/modphp-migrate/modphp-migrate/internal/rootfs"
)

// accounts maps user and group ids to names, read from etc/passwd and
// etc/group under the root (the server's own), else this machine's.
type accounts struct {
	users, groups map[uint32]string
	uids, gids    map[string]uint32
}

func loadAccounts(root *rootfs.Root) *accounts {
	a := &accounts{users: map[uint32]string{}, groups: map[uint32]string{}, uids: map[string]uint32{}, gids: map[string]uint32{}}
	roots := []*rootfs.Root{nil} // this machine's
	if root != nil {
		roots = []*rootfs.Root{root, nil} // the copy's first
	}
	for _, r := range roots {
		readIDs(r, r.Opened("/etc/passwd"), a.users, a.uids)
		readIDs(r, r.Opened("/etc/group"), a.groups, a.gids)
	}
	return a
}

// readIDs reads name:x:id: lines; names already known are kept.
func readIDs(r *rootfs.Root, path string, byID map[uint32]string, byName map[string]uint32) {
	f, err := r.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 3 {
			continue
		}
		id, err := strconv.ParseUint(fields[2], 10, 32)
		if err != nil {
			continue
		}
		if _, ok := byName[fields[0]]; ok {
			continue
		}
		byName[fields[0]] = uint32(id)
		if _, ok := byID[uint32(id)]; !ok {
			byID[uint32(id)] = fields[0]
		}
	}
}

func (a *accounts) user(uid uint32) string {
	if n, ok := a.users[uid]; ok {
		return n
	}
	return strconv.FormatUint(uint64(uid), 10)
}

func (a *accounts) group(gid uint32) string {
	if n, ok := a.groups[gid]; ok {
		return n
	}
	return strconv.FormatUint(uint64(gid), 10)
}

// statOwner returns the owner of a path on disk.
func (b *builder) statOwner(hostPath string) (uid, gid uint32, ok bool) {
	st, err := b.fs.Stat(hostPath)
	if err != nil {
		return 0, 0, false
	}
	return fileowner.Of(st)
}

// regularUser reports whether uid is a login user's (Debian's UID_MIN
// 1000, below nobody's 65534), not a system account.
func regularUser(uid uint32) bool { return uid >= 1000 && uid < 65534 }

// regularOwner returns the owner of dir when it is a regular user.
func (b *builder) regularOwner(dir string) (user, group string, ok bool) {
	uid, gid, ok := b.ownerOf(b.host(dir))
	if !ok || !regularUser(uid) {
		return "", "", false
	}
	return b.acct.user(uid), b.acct.group(gid), true
}

// ownerIDs is what owner says of a path.
type ownerIDs struct {
	uid, gid uint32
	ok       bool
}

// lookAheadOwners starts looking up the owners of the scopes'
// directories, which ownerScopes and identities ask for (with some of
// their subdirectories).
func (b *builder) lookAheadOwners() *ahead[ownerIDs] {
	dirs := make([]string, 0, len(b.plan.Scopes))
	for _, s := range b.plan.Scopes {
		dirs = append(dirs, b.host(s.Dir))
	}
	b.owners = lookAhead(dirs, func(p string) ownerIDs {
		uid, gid, ok := b.owner(p)
		return ownerIDs{uid, gid, ok}
	})
	return b.owners
}

// ownerOf returns the owner of a path as opened, looked up once.
func (b *builder) ownerOf(hostPath string) (uid, gid uint32, ok bool) {
	id := b.owners.lookup(hostPath)
	return id.uid, id.gid, id.ok
}
