package facts

import (
	"strconv"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/fileowner"
	"github.com/modphp-migrate/modphp-migrate/internal/migrate"
	"github.com/modphp-migrate/modphp-migrate/internal/rootfs"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// buildPlan computes the migration plan of the run's tree and php-fpm
// configuration, as modphp-migrate plan does with its defaults (the shim
// keeps .htaccess settings), but only its placements and the files that
// receive them (migrate.Input.PlacementsOnly); nil when the plan cannot
// be built.
func (f *Facts) buildPlan() (plan *migrate.Plan) {
	defer func() {
		if recover() != nil {
			plan = nil // a plan that cannot be built leaves rules their own wording
		}
	}()
	in := migrate.Input{Today: f.Today, After: f.After, Root: f.Today.Root, HTAccess: migrate.HTAccessShim, PlacementsOnly: true,
		Owner: func(hostPath string) (uint32, uint32, bool) {
			fi, err := f.FS.Stat(hostPath)
			if err != nil {
				return 0, 0, false
			}
			return fileowner.Of(fi)
		}}
	if f.FPM != nil && f.FPM.Config != nil {
		in.FPM, in.FPMPath, in.INI = f.FPM.Config, f.FPM.Path, f.FPM.INI
	}
	p, err := migrate.Build(in)
	if err != nil {
		return nil
	}
	return p
}

// Plan returns the migration plan of the run, built on first use: the
// placements rules take their fixes from, so that no fix contradicts
// another, and the pool and .user.ini files they go to. Nil when it
// cannot be built.
func (f *Facts) Plan() *migrate.Plan { return f.plan() }

// StartPlan builds the plan and its index, as the first Placement
// would; the engine calls it beside the rules so that the rules that
// take fixes from the plan find it built.
func (f *Facts) StartPlan() { f.planIndex() }

// Placed is where the plan puts one PHP setting: the placement, and the
// line the plan writes for it in its target file with that line's number
// (0 and "" when the target is no file: the shim, a denial, dropped).
// PlanScope and PlanPool are the placement's scope and that scope's pool
// in the plan (nil when it has none).
type Placed struct {
	*migrate.Placement
	Line      int
	LineText  string
	PlanScope *migrate.Scope
	PlanPool  *migrate.Pool
	// DenyFile and DenyBlock are the Apache configuration file and the
	// block the plan writes there in place of an engine-off line it
	// denies ("" otherwise).
	DenyFile, DenyBlock string
	ix                  *planIndex
}

// OwnPool reports whether the plan serves the directory the setting
// applies to from a pool of its own: one whose every scope lies in that
// directory, so that what a request there leaves in a worker meets only
// requests of the same directory.
func (pl *Placed) OwnPool() bool { return pl != nil && pl.ix.exclusive(pl.PlanPool, pl.Dir) }

// planIndex is the plan's placements by source line and its files' lines
// by path, so that each lookup is a map access.
type planIndex struct {
	plan   *migrate.Plan
	root   *rootfs.Root                        // the tree's --root
	at     map[parser.Pos][]*migrate.Placement // by File and Line only
	lines  map[string][]string
	scopes map[string]*migrate.Scope // by ID
	pools  map[string]*migrate.Pool  // by name
}

func (f *Facts) buildPlanIndex() *planIndex {
	p := f.Plan()
	if p == nil {
		return nil
	}
	ix := &planIndex{plan: p, root: f.Today.FS(), at: map[parser.Pos][]*migrate.Placement{}, lines: map[string][]string{},
		scopes: make(map[string]*migrate.Scope, len(p.Scopes)), pools: make(map[string]*migrate.Pool, len(p.Pools))}
	for _, s := range p.Scopes {
		ix.scopes[s.ID] = s
	}
	for _, pool := range p.Pools {
		ix.pools[pool.Name] = pool
	}
	p.ScopeOf("/") // builds ScopeOf's index now: rules ask it at the same time
	for _, pl := range p.Placements {
		k := parser.Pos{File: pl.Source.File, Line: pl.Source.Line}
		ix.at[k] = append(ix.at[k], pl)
	}
	for _, file := range p.Files {
		ix.lines[file.Path] = strings.Split(file.After, "\n")
	}
	return ix
}

// Placement returns what the plan does with the php_* line n, or nil.
func (f *Facts) Placement(n *parser.Node) *Placed {
	ix := f.planIndex()
	if ix == nil {
		return nil
	}
	file, _ := ix.root.Server(n.Pos.File)
	pls := ix.at[parser.Pos{File: file, Line: n.Pos.Line}]
	if len(pls) == 0 {
		return nil
	}
	out := &Placed{Placement: pls[0], PlanScope: ix.scopes[pls[0].Scope], PlanPool: ix.pools[pls[0].Pool]}
	if lines, ok := ix.lines[pls[0].File]; ok && pls[0].File != "" {
		out.Line, out.LineText = findSetting(lines, pls[0])
	}
	out.ix = ix
	out.DenyFile, out.DenyBlock = ix.plan.Denial(pls[0])
	return out
}

// exclusive reports whether pool serves only scopes in dir.
func (ix *planIndex) exclusive(pool *migrate.Pool, dir string) bool {
	if pool == nil || dir == "" || len(pool.Scopes) == 0 {
		return false
	}
	for _, id := range pool.Scopes {
		if s := ix.scopes[id]; s == nil || !parser.PathUnder(s.Dir, dir) {
			return false
		}
	}
	return true
}

// findSetting returns the line (1-based) and text of pl's setting in the
// plan's file content: the line setting pl.Key right after the comment
// citing pl's source file, else the last line setting the key. lines are
// the file's content split at newlines.
func findSetting(lines []string, pl *migrate.Placement) (int, string) {
	last, lastText := 0, ""
	for i, l := range lines {
		if !setsKey(l, pl.Key) {
			continue
		}
		if i > 0 && strings.HasPrefix(lines[i-1], ";") && strings.Contains(lines[i-1], pl.Source.File+":") {
			return i + 1, l
		}
		last, lastText = i+1, l
	}
	return last, lastText
}

// setsKey reports whether an INI or pool line sets key (key = …, or
// php_*[key] = …).
func setsKey(line, key string) bool {
	name, _, ok := strings.Cut(line, "=")
	if !ok {
		return false
	}
	name = strings.TrimSpace(name)
	if i := strings.IndexByte(name, '['); i >= 0 && strings.HasSuffix(name, "]") {
		name = name[i+1 : len(name)-1]
	}
	return strings.EqualFold(name, key)
}

// PlanSite returns the scope the plan serves the server path dir in, its
// pool, and the content of the pool file the plan writes ("" for a pool
// it reuses as it is); nils when there is no plan or no such scope.
func (f *Facts) PlanSite(dir string) (*migrate.Scope, *migrate.Pool, string) {
	ix := f.planIndex()
	if ix == nil || dir == "" {
		return nil, nil, ""
	}
	s := ix.plan.ScopeOf(dir)
	if s == nil || ix.pools[s.Pool] == nil {
		return nil, nil, ""
	}
	pool := ix.pools[s.Pool]
	content := ""
	if lines, ok := ix.lines[pool.File]; ok && pool.File != "" {
		content = strings.Join(lines, "\n")
	}
	return s, pool, content
}

// InFile reports whether the plan puts the setting in a file (a pool or
// .user.ini) whose line it knows.
func (pl *Placed) InFile() bool {
	return pl != nil && pl.LineText != "" &&
		(pl.Target == migrate.TargetPool || pl.Target == migrate.TargetPoolAdmin || pl.Target == migrate.TargetUserINI)
}

// Where names where the plan puts a setting placed in a file: the pool
// with its file and line, or the .user.ini file and line.
func (pl *Placed) Where() string {
	at := pl.File + ":" + strconv.Itoa(pl.Line)
	if pl.Target == migrate.TargetUserINI {
		return at
	}
	return "php-fpm pool " + pl.Pool + " (" + at + ")"
}

// FixText is the plan's line for a setting placed in a file, headed by a
// comment naming the file and line it goes to.
func (pl *Placed) FixText() string {
	return "; " + pl.File + ":" + strconv.Itoa(pl.Line) + "\n" + pl.LineText + "\n"
}

// Describe says in words where the plan puts a setting, for messages
// whose fix the plan cannot give: a pool or .user.ini with the file, the
// shim or a denial with the plan's reason, or dropped. pl may be nil.
func (pl *Placed) Describe() string {
	switch {
	case pl == nil:
		return "modphp-migrate plan has no place for it"
	case pl.InFile():
		return "the plan puts it in " + pl.Where()
	case pl.Target == migrate.TargetShim && pl.Note != "":
		return "the plan leaves it to the modphp-migrate shim: " + pl.Note
	case pl.Target == migrate.TargetShim:
		return "the plan leaves it to the modphp-migrate shim"
	}
	what := "the plan: " + pl.Target
	switch pl.Target {
	case migrate.TargetDropped:
		what = "the plan drops it"
	case migrate.TargetDeny:
		what = "the plan denies PHP scripts there instead"
	case migrate.TargetUnchanged:
		what = "the plan leaves it as it is"
	}
	if pl.Note != "" {
		what += ": " + pl.Note
	}
	return what
}

// RouteHandler returns the handler a fix that routes r's PHP by existing
// file sets: the plan's handler for the route's directory, so that the
// fix and the plan agree, else the route's own backend. pr is what the
// plan does with the route, nil when it has no word on it.
func (f *Facts) RouteHandler(r *Route) (handler string, pr *migrate.Route) {
	if p := f.Plan(); p != nil && r.Node != nil {
		if pr = p.RouteAt(r.Node.Pos); pr != nil {
			return pr.Handler, pr
		}
	}
	return r.Handler, nil
}
