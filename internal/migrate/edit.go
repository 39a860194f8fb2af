package migrate

import (
	"io/fs"
	"sort"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/rootfs"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// edit wraps lines first..last of a file in <IfModule mod_php.c>.
type edit struct {
	first, last int
	node        *parser.Node
	route       bool // a route to php-fpm the plan's handler replaces
}

// markWrap records that an unguarded php_* line must be put under
// <IfModule mod_php.c>: php-fpm's Apache refuses it otherwise ("Invalid
// command 'php_value'"; 500 in .htaccess), and mod_php and the shim
// still read it there.
func (b *builder) markWrap(pl *Placement) {
	n := pl.node
	if n == nil || guardedForModPHP(n) {
		return
	}
	if ok, _ := appliedByModPHP(n); !ok {
		return
	}
	pl.Wrapped = true
	end := n.EndLine
	if end < n.Pos.Line {
		end = n.Pos.Line
	}
	b.edits[n.Pos.File] = append(b.edits[n.Pos.File], edit{first: n.Pos.Line, last: end, node: n})
}

// span is a run of wrapped lines; route when they are a route to
// php-fpm (routes are wrapped alone, with a comment of their own).
type span struct {
	first, last int
	route       bool
}

// planEdits reads every file with wraps and groups its edited lines into
// runs, so that positions can be cited as they will be after the plan.
func (b *builder) planEdits() error {
	b.runs = map[string][]span{}
	b.srcs = map[string]string{}
	for opened, eds := range b.edits {
		data, err := b.fs.ReadFile(opened)
		if err != nil {
			return err
		}
		src := string(data)
		b.srcs[opened] = src
		b.runs[b.server(opened)] = runsOf(splitLines(src), eds)
	}
	return nil
}

// applyEdits records the after-state of every file with wraps. A file
// read through a symbolic link (DokuWiki's .htaccess, a sites-enabled
// link) is changed where the link leads, the file httpd reads, so that
// the plan names the file that changes: cp -a writes through a link at
// its destination, and through an absolute one out of a copy.
func (b *builder) applyEdits() {
	names := make([]string, 0, len(b.edits))
	for f := range b.edits {
		names = append(names, f)
	}
	sort.Strings(names)
	done := map[string]bool{}
	for _, opened := range names {
		src, p := b.srcs[opened], b.server(opened)
		path, via := p, ""
		if target := b.linkTarget(opened); target != "" {
			path, via = target, p
		}
		if done[path] {
			continue // the same file, included by another name: the same wraps
		}
		done[path] = true
		b.change(path, src, wrapLines(src, b.runs[p]))
		b.files[path].Via = via
	}
}

// linkTarget returns the server path a file as opened leads to when its
// last component is a symbolic link (followed inside --root, on this
// machine without), "" otherwise.
func (b *builder) linkTarget(opened string) string {
	fsys := b.fs
	if fsys == nil {
		fsys = rootfs.New("/")
	}
	if fi, err := fsys.Lstat(opened); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return ""
	}
	real, err := fsys.Real(opened)
	if err != nil {
		return ""
	}
	p, ok := fsys.Server(real)
	if !ok {
		return ""
	}
	return p
}

// cite formats a source position (a server path) as it will be once the
// plan's wraps are made: each run above adds its two opening lines, each
// run that ended above its closing line. Planning the applied tree then
// cites the same lines.
func (b *builder) cite(p parser.Pos) string {
	line := p.Line
	for _, r := range b.runs[p.File] {
		if r.first <= p.Line {
			line += 2
		}
		if r.last < p.Line {
			line++
		}
	}
	return p.File + ":" + itoa(line)
}

// runsOf groups edited lines: adjacent siblings, with nothing but blank
// lines and comments between them, share one <IfModule mod_php.c>.
func runsOf(lines []string, eds []edit) []span {
	sort.Slice(eds, func(i, j int) bool { return eds[i].first < eds[j].first })
	var runs []span
	for i, e := range eds {
		if i > 0 && !e.route && !eds[i-1].route && eds[i-1].node.Parent == e.node.Parent && onlyBlank(lines, runs[len(runs)-1].last, e.first) {
			runs[len(runs)-1].last = e.last
			continue
		}
		runs = append(runs, span{e.first, e.last, e.route})
	}
	return runs
}

// wrapLines puts each run under one <IfModule mod_php.c>.
func wrapLines(src string, runs []span) string {
	lines := splitLines(src)
	noEOL := len(lines) > 0 && !strings.HasSuffix(lines[len(lines)-1], "\n")
	if noEOL {
		lines[len(lines)-1] += "\n"
	}
	var sb strings.Builder
	ri := 0
	for i := 1; i <= len(lines); i++ {
		line := lines[i-1]
		if ri < len(runs) && i == runs[ri].first {
			why := "php-fpm gets these from the plan's pools, .user.ini or the shim"
			if runs[ri].route {
				why = "after the switch the plan's handler serves this directory"
			}
			sb.WriteString(indentOf(line) + "# modphp-migrate plan: mod_php only; " + why + "\n")
			sb.WriteString(indentOf(line) + "<IfModule mod_php.c>\n")
		}
		sb.WriteString(line)
		if ri < len(runs) && i == runs[ri].last {
			sb.WriteString(indentOf(lines[runs[ri].first-1]) + "</IfModule>\n")
			ri++
		}
	}
	out := sb.String()
	if noEOL {
		out = strings.TrimSuffix(out, "\n") // keep the file's missing final newline
	}
	return out
}

func indentOf(line string) string { return line[:len(line)-len(strings.TrimLeft(line, " \t"))] }

// onlyBlank reports whether lines after..before (exclusive, 1-based) are
// blank or comments.
func onlyBlank(lines []string, after, before int) bool {
	for i := after + 1; i < before; i++ {
		if i-1 >= len(lines) {
			return false
		}
		t := strings.TrimSpace(lines[i-1])
		if t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}
