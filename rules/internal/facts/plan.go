package facts

import (
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
		in.FPM, in.FPMPath = f.FPM.Config, f.FPM.Path
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
type Placed struct {
	*migrate.Placement
	Line     int
	LineText string
}

// planIndex is the plan's placements by source line and its files' lines
// by path, so that each lookup is a map access.
type planIndex struct {
	root  *rootfs.Root                        // the tree's --root
	at    map[parser.Pos][]*migrate.Placement // by File and Line only
	lines map[string][]string
}

func (f *Facts) buildPlanIndex() *planIndex {
	p := f.Plan()
	if p == nil {
		return nil
	}
	ix := &planIndex{root: f.Today.FS(), at: map[parser.Pos][]*migrate.Placement{}, lines: map[string][]string{}}
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
	out := &Placed{Placement: pls[0]}
	if lines, ok := ix.lines[pls[0].File]; ok && pls[0].File != "" {
		out.Line, out.LineText = findSetting(lines, pls[0])
	}
	return out
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
