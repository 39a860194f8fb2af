package facts

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// Entry is one node of the tree seen in both views.
type Entry struct {
	Node   *parser.Node       // the node (from the Today tree when it is there)
	File   *parser.File       // the file holding it
	Access *parser.AccessFile // the access file, nil in server configuration
	// InToday and InAfter tell whether the view read the node at all (an
	// Include inside a false guard is not followed).
	InToday, InAfter bool
	// Today and After tell whether the node is in effect in the view: every
	// enclosing conditional section held.
	Today, After bool

	seq int // position in the walk of both views
}

// Key identifies a node across the two views.
type Key struct {
	File      string
	Line, Col int
}

// KeyOf returns the key of n.
func KeyOf(n *parser.Node) Key { return Key{n.Pos.File, n.Pos.Line, n.Pos.Col} }

// nodeKey is Key with the file interned, cheaper to hash.
type nodeKey struct {
	file      int32
	line, col int32
}

// Index holds the nodes of both views that rules look at, grouped by
// lower-case name: directives and sections with an indexed name, and
// comments that may be suppressions (isMarkerComment). It is safe for
// concurrent use.
type Index struct {
	today, after *parser.Config
	mu           sync.RWMutex
	byName       map[string][]*Entry
	names        map[string]bool // the names indexed so far
}

// CommentMarker selects the comments Build indexes (suppressions).
const CommentMarker = "modphp-migrate:"

// isMarkerComment reports whether a comment is indexed: one that mentions
// CommentMarker, or the tool's name in another spelling or case, which
// may be a misspelled suppression ("modphp-migrate: ignore",
// "Modphp-Migrate:ignore"). It does not allocate: most comments of a big
// tree are neither.
func isMarkerComment(text string) bool {
	return strings.Contains(text, "igrate") || strings.Contains(text, "IGRATE")
}

// Named returns the entries whose (directive or section) name is one of
// names, compared case-insensitively, in tree order. A name Build was not
// given is indexed on first use (one more walk of both views).
func (x *Index) Named(names ...string) []*Entry {
	lower := make([]string, len(names))
	for i, n := range names {
		lower[i] = strings.ToLower(n)
	}
	x.mu.RLock()
	missing := slices.ContainsFunc(lower, func(n string) bool { return !x.names[n] })
	x.mu.RUnlock()
	if missing {
		x.mu.Lock()
		add := map[string]bool{}
		for _, n := range lower {
			if !x.names[n] {
				add[n] = true
			}
		}
		if len(add) > 0 {
			x.index(add, false)
		}
		x.mu.Unlock()
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if len(lower) == 1 {
		return x.byName[lower[0]]
	}
	var out []*Entry
	for _, n := range slices.Compact(slices.Sorted(slices.Values(lower))) {
		out = append(out, x.byName[n]...)
	}
	// Back to tree order.
	slices.SortFunc(out, func(a, b *Entry) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

// Comments returns every comment entry.
func (x *Index) Comments() []*Entry {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.byName["#"]
}

// Build walks both views and returns the index of the nodes named in names
// (lower-case) and of the suppression comments. Either config may be nil.
// Indexing only what rules ask for keeps a 200,000-line tree cheap: give
// Build every name the run will ask for, so that both views are walked once.
func Build(today, after *parser.Config, names map[string]bool) *Index {
	x := &Index{today: today, after: after, byName: map[string][]*Entry{}, names: map[string]bool{}}
	x.index(names, true)
	return x
}

// index walks both views adding the nodes named in names (and the
// marker comments when comments is set). Entries are numbered by their
// place in the walk, so that entries indexed by later calls sort among
// the earlier ones.
func (x *Index) index(names map[string]bool, comments bool) {
	for n := range names {
		x.names[n] = true
	}
	// A cheap prefilter before hashing the name: the lengths of the
	// indexed names.
	var lengths [64]bool
	for n := range names {
		if len(n) < len(lengths) {
			lengths[len(n)] = true
		}
	}
	seen := map[nodeKey]*Entry{}
	lower := map[string]string{} // directive names repeat: lower-case each once
	fileIDs := map[string]int32{}
	var lastFile *parser.File
	var lastID int32
	seq := 0
	add := func(inToday bool) func(n *parser.Node, f *parser.File, acc *parser.AccessFile) {
		return func(n *parser.Node, f *parser.File, acc *parser.AccessFile) {
			seq++
			name := "#"
			if n.Kind == parser.KindComment {
				if !comments || !isMarkerComment(n.Name) {
					return
				}
			} else {
				if len(n.Name) >= len(lengths) || !lengths[len(n.Name)] {
					return
				}
				var ok bool
				if name, ok = lower[n.Name]; !ok {
					name = parser.LowerName(n.Name)
					lower[n.Name] = name
				}
				if !names[name] {
					return
				}
			}
			if f != lastFile {
				id, ok := fileIDs[f.Path]
				if !ok {
					id = int32(len(fileIDs))
					fileIDs[f.Path] = id
				}
				lastFile, lastID = f, id
			}
			id := lastID
			if n.Pos.File != f.Path { // a node filed under another file (defensive)
				var ok bool
				if id, ok = fileIDs[n.Pos.File]; !ok {
					id = int32(len(fileIDs))
					fileIDs[n.Pos.File] = id
				}
			}
			k := nodeKey{id, int32(n.Pos.Line), int32(n.Pos.Col)}
			eff := parser.InEffect(n)
			e := seen[k]
			if e == nil {
				e = &Entry{Node: n, File: f, Access: acc, seq: seq}
				seen[k] = e
				x.byName[name] = append(x.byName[name], e)
			}
			if inToday {
				e.InToday, e.Today = true, e.Today || eff
			} else {
				e.InAfter, e.After = true, e.After || eff
			}
		}
	}
	if x.today != nil {
		Walk(x.today, add(true))
	}
	if x.after != nil {
		Walk(x.after, add(false))
	}
}

// Walk calls fn for every node of cfg in file order: the server
// configuration from the main file through its Includes (and any read file
// not reached that way), then every access file. Bodies of inactive sections
// are visited too; use parser.InEffect to skip them.
func Walk(cfg *parser.Config, fn func(n *parser.Node, f *parser.File, acc *parser.AccessFile)) {
	visited := map[*parser.File]bool{}
	var walkFile func(f *parser.File, acc *parser.AccessFile)
	var walkNodes func(nodes []*parser.Node, f *parser.File, acc *parser.AccessFile)
	walkNodes = func(nodes []*parser.Node, f *parser.File, acc *parser.AccessFile) {
		for _, n := range nodes {
			if n == nil {
				continue
			}
			fn(n, f, acc)
			walkNodes(n.Children, f, acc)
			for _, inc := range n.Included() {
				walkFile(inc, acc)
			}
		}
	}
	walkFile = func(f *parser.File, acc *parser.AccessFile) {
		if f == nil {
			return
		}
		visited[f] = true
		walkNodes(f.Nodes, f, acc)
	}
	isAccess := map[*parser.File]bool{}
	for _, a := range cfg.Access {
		if a != nil {
			isAccess[a.File] = true
		}
	}
	walkFile(cfg.Main, nil)
	for _, f := range cfg.Files {
		if !visited[f] && !isAccess[f] {
			walkFile(f, nil)
		}
	}
	for _, a := range cfg.Access {
		if a != nil && a.File != nil && !visited[a.File] {
			walkFile(a.File, a)
		}
	}
}
