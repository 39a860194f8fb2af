package migrate

import (
	"errors"
	"sort"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/rootfs"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// builder holds the state of one Build.
type builder struct {
	in          Input
	fs          *rootfs.Root // reads the tree under in.Root (nil: as is)
	plan        *Plan
	acct        *accounts
	owner       func(string) (uint32, uint32, bool) // Input.Owner or statOwner
	owners      *ahead[ownerIDs]                    // owner's answers
	userINIs    *ahead[fileData]                    // the .user.ini files placements go to
	lines       *treeLines                          // the lines the plan reads
	apacheUser  string
	apacheGroup string
	files       map[string]*File
	edits       map[string][]edit // wraps to make, by file as opened
	modConf     *parser.File      // mod_php's own configuration file
	runs        map[string][]span // wrapped runs by server path
	exts        []string          // security.limit_extensions of the planned pools
	shimScopes  map[string]bool   // scopes whose handler is the shim
	byID        map[string]*Scope
	byDir       map[string][]*Scope
	byVHost     map[*parser.VHost]*Scope
	byPool      map[string]*Pool
	below       map[string]int    // scopes at or under each directory (perms.go)
	srcs        map[string]string // contents of files with wraps, by file as opened
	scripts     map[string]string // scriptBelow's answers, by directory
}

// Build computes the migration plan of in.Today.
func Build(in Input) (*Plan, error) {
	if in.Today == nil {
		return nil, errors.New("migrate: no configuration")
	}
	if in.HTAccess == "" {
		in.HTAccess = HTAccessShim
	}
	if in.HTAccess != HTAccessShim && in.HTAccess != HTAccessUserINI {
		return nil, errors.New("migrate: --htaccess must be shim or user-ini")
	}
	fsys := rootfs.New(in.Root)
	if in.Today.Root == in.Root {
		fsys = in.Today.FS() // the load's resolver, links already looked at
	}
	b := &builder{in: in, fs: fsys, plan: &Plan{fs: fsys}, acct: loadAccounts(fsys), owner: in.Owner,
		files: map[string]*File{}, edits: map[string][]edit{}, byPool: map[string]*Pool{}}
	b.reindex()
	b.lines = findLines(in.Today)
	if b.owner == nil {
		b.owner = b.statOwner
	}
	b.apacheUser, b.apacheGroup = in.Today.User, in.Today.Group
	if b.apacheUser == "" || strings.Contains(b.apacheUser, "${") {
		b.apacheUser = "www-data"
	}
	if b.apacheGroup == "" || strings.Contains(b.apacheGroup, "${") {
		b.apacheGroup = b.apacheUser
	}
	b.scopes()
	owners := b.lookAheadOwners()
	defer owners.wait()
	b.ownerScopes()
	b.collectServer()
	b.collectAccess()
	b.identities()
	b.pruneAliases()
	b.pools()
	b.finishPlacements()
	render := b.renderPlacements
	if !in.PlacementsOnly {
		b.permissions() // also finds the scripts that read Authorization
		render = b.render
	}
	if err := render(); err != nil {
		return nil, err
	}
	sort.SliceStable(b.plan.Placements, func(i, j int) bool {
		return posLess(b.plan.Placements[i].Source, b.plan.Placements[j].Source)
	})
	return b.plan, nil
}

func posLess(a, c parser.Pos) bool {
	if a.File != c.File {
		return a.File < c.File
	}
	return a.Line < c.Line
}

// server returns the server path of a file as opened (the --root prefix
// removed).
func (b *builder) server(opened string) string {
	p, _ := b.fs.Server(opened)
	return p
}

// host returns the path a server path is opened at (under --root; b.fs
// resolves its links when reading it).
func (b *builder) host(p string) string { return b.fs.Opened(p) }

// pos returns p with its file as a server path.
func (b *builder) pos(p parser.Pos) parser.Pos {
	p.File = b.server(p.File)
	return p
}

// rel formats a position for comments and notes: server path:line.
func (b *builder) rel(p parser.Pos) string {
	p = b.pos(p)
	return p.File + ":" + itoa(p.Line)
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var buf [20]byte
	n := len(buf)
	neg := i < 0
	if neg {
		i = -i
	}
	for i > 0 {
		n--
		buf[n] = byte('0' + i%10)
		i /= 10
	}
	if neg {
		n--
		buf[n] = '-'
	}
	return string(buf[n:])
}

func (b *builder) note(s string) { b.plan.Notes = append(b.plan.Notes, s) }
