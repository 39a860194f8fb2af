// Package conf indexes the nodes rules look at in both views of a loaded
// httpd tree (the same node seen today and after the switch). The
// configuration's own answers — virtual host, DocumentRoot, aliases, in
// effect — are the parser model's.
package conf

import (
	"cmp"
	"path"
	"slices"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
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

	seq int // position in Index.All
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
// comments that may be suppressions (isMarkerComment).
type Index struct {
	All    []*Entry
	byName map[string][]*Entry
	names  map[string]bool
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
// names, compared case-insensitively, in tree order.
//
// Asking for a name Build was not told to index is a bug in the caller and
// panics (the engine turns that into an error).
func (x *Index) Named(names ...string) []*Entry {
	for _, n := range names {
		if !x.names[strings.ToLower(n)] {
			panic("conf: directive " + n + " is not indexed; add it to the names given to Build")
		}
	}
	if len(names) == 1 {
		return x.byName[strings.ToLower(names[0])]
	}
	var out []*Entry
	for _, n := range names {
		out = append(out, x.byName[strings.ToLower(n)]...)
	}
	// Back to tree order.
	slices.SortFunc(out, func(a, b *Entry) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

// Comments returns every comment entry.
func (x *Index) Comments() []*Entry { return x.byName["#"] }

// Build walks both views and returns the index of the nodes named in names
// (lower-case) and of the suppression comments. Either config may be nil.
// Indexing only what rules ask for keeps a 200,000-line tree cheap.
func Build(today, after *parser.Config, names map[string]bool) *Index {
	x := &Index{byName: map[string][]*Entry{}, names: names}
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
	add := func(inToday bool) func(n *parser.Node, f *parser.File, acc *parser.AccessFile) {
		return func(n *parser.Node, f *parser.File, acc *parser.AccessFile) {
			name := "#"
			if n.Kind == parser.KindComment {
				if !isMarkerComment(n.Name) {
					return
				}
			} else {
				if len(n.Name) >= len(lengths) || !lengths[len(n.Name)] {
					return
				}
				var ok bool
				if name, ok = lower[n.Name]; !ok {
					name = strings.ToLower(n.Name)
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
				e = &Entry{Node: n, File: f, Access: acc, seq: len(x.All)}
				seen[k] = e
				x.All = append(x.All, e)
				x.byName[name] = append(x.byName[name], e)
			}
			if inToday {
				e.InToday, e.Today = true, e.Today || eff
			} else {
				e.InAfter, e.After = true, e.After || eff
			}
		}
	}
	if today != nil {
		Walk(today, add(true))
	}
	if after != nil {
		Walk(after, add(false))
	}
	return x
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
			for _, inc := range n.Included {
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

// Clean returns p cleaned, with no trailing slash (except "/").
func Clean(p string) string {
	if p == "" {
		return ""
	}
	return path.Clean(p)
}

// Under reports whether p is dir or inside it (both cleaned, absolute).
func Under(p, dir string) bool {
	p, dir = Clean(p), Clean(dir)
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// Arg returns the i-th argument of n, or "".
func Arg(n *parser.Node, i int) string {
	if i < len(n.Args) {
		return n.Args[i]
	}
	return ""
}

// PHPNames returns the <IfModule> names that match the mod_php the
// configuration loads (modphp.GuardNames): mod_php.c and php_module for
// PHP 8, also when no PHP module is loaded (docs/behaviour.md#b-guard).
func PHPNames(cfg *parser.Config) map[string]bool {
	if cfg != nil {
		for _, m := range cfg.Modules {
			if modphp.IsModule(m.ID, m.Path) {
				return modphp.GuardNames(m.ID)
			}
		}
	}
	return modphp.GuardNames("")
}

// DirectoryPath returns the path a <Directory> section names, and false for
// the regex forms (<Directory ~ …>, <DirectoryMatch>) and wildcards.
func DirectoryPath(n *parser.Node) (string, bool) {
	if n.Kind != parser.KindSection || !strings.EqualFold(n.Name, "Directory") || len(n.Args) != 1 {
		return "", false
	}
	p := n.Args[0]
	if strings.ContainsAny(p, "*?[") || !strings.HasPrefix(p, "/") {
		return "", false
	}
	return Clean(p), true
}

// PHPDirective reads n as one of mod_php's directives: its kind, the INI
// key and the raw value argument (modphp.Stored gives what mod_php made of
// it). ok is false for other nodes.
func PHPDirective(n *parser.Node) (k modphp.Kind, key, arg string, ok bool) {
	if n.Kind != parser.KindDirective {
		return 0, "", "", false
	}
	if k, ok = modphp.Directive(n.Name); !ok {
		return 0, "", "", false
	}
	return k, Arg(n, 0), Arg(n, 1), true
}

// PHPGuards returns the enclosing <IfModule> sections that name the PHP
// module in any spelling (modphp.IsGuardName), innermost first.
func PHPGuards(n *parser.Node) []*parser.Node {
	var out []*parser.Node
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Kind == parser.KindSection && strings.EqualFold(p.Name, "IfModule") {
			if modphp.IsGuardName(Arg(p, 0)) {
				out = append(out, p)
			}
		}
	}
	return out
}
