package parser

import (
	"bytes"
	"fmt"
	"strings"
)

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// Parse reads one file's bytes into nodes. access selects .htaccess limits
// (8190-byte logical lines instead of 16 MiB). Syntax problems are returned
// as diagnostics; the nodes hold everything that could be read.
func Parse(path string, data []byte, access bool) (*File, []Diagnostic) {
	return parse(path, data, access, nil)
}

// parse is Parse with the nodes taken from arena.
func parse(path string, data []byte, access bool, arena *nodeArena) (*File, []Diagnostic) {
	f := &File{Path: path, size: int64(len(data))}
	var diags []Diagnostic
	if bytes.HasPrefix(data, utf8BOM) {
		f.BOM = true
		data = data[len(utf8BOM):]
		diags = append(diags, Diagnostic{Pos: Pos{File: path, Line: 1, Col: 1}, Severity: SevError, Kind: "bom",
			Message: `file starts with a UTF-8 byte-order mark; httpd on Unix reads it as part of the first directive name ("Invalid command '\xef\xbb\xbf…'"): save the file without BOM`})
	}
	g, lines, err := parseLines(path, data)
	if err != nil {
		// The line grammar accepts every token sequence; this is a bug guard.
		diags = append(diags, Diagnostic{Pos: Pos{File: path}, Severity: SevError, Kind: "syntax", Message: err.Error()})
		return f, diags
	}
	limit := maxServerLine
	if access {
		limit = maxAccessLine
	}
	b := builder{file: f, limit: limit, diags: diags, slab: arena.alloc(countNodes(g.Lines.texts))}
	for i, text := range g.Lines.texts {
		b.line(text, lines[i])
	}
	return f, b.diags
}

// countNodes is the number of nodes lines make: one per line but the
// closing tags. (The slab is a file's biggest allocation; a large tree
// holds it twice, once per view.)
func countNodes(lines []string) int {
	n := 0
	for _, text := range lines {
		if lineKind(text) != tokClose {
			n++
		}
	}
	return n
}

type builder struct {
	file  *File
	stack []*Node
	limit int
	diags []Diagnostic
	slab  []Node // every node of the file, allocated at once (one per logical line)
}

// node returns a new node from the builder's slab.
func (b *builder) node() *Node {
	n := &b.slab[0]
	b.slab = b.slab[1:]
	return n
}

func (b *builder) errorf(pos Pos, related []Pos, format string, args ...any) {
	b.diags = append(b.diags, Diagnostic{Pos: pos, Severity: SevError, Kind: "syntax", Message: fmt.Sprintf(format, args...), Related: related})
}

func (b *builder) add(n *Node) {
	if len(b.stack) > 0 {
		top := b.stack[len(b.stack)-1]
		n.Parent = top
		top.Children = append(top.Children, n)
	} else {
		b.file.Nodes = append(b.file.Nodes, n)
	}
}

func (b *builder) line(text string, lp linePos) {
	pos := Pos{File: b.file.Path, Line: lp.line, Col: lp.col}
	end := lp.end
	if len(text) > b.limit {
		b.diags = append(b.diags, Diagnostic{Pos: pos, Severity: SevError, Kind: "limit",
			Message: fmt.Sprintf("line too long: %d bytes, httpd reads at most %d here", len(text), b.limit)})
	}
	switch lineKind(text) {
	case tokComment:
		n := b.node()
		*n = Node{Kind: KindComment, Pos: pos, EndLine: end, Name: text[1:], Active: true}
		b.add(n)
	case tokDirective:
		name, rest, _ := nextWord(text)
		n := b.node()
		*n = Node{Kind: KindDirective, Pos: pos, EndLine: end, Name: name, Raw: rest, Args: splitWords(rest), Active: true}
		b.add(n)
	case tokOpen:
		b.open(pos, end, text)
	case tokClose:
		b.close(pos, text)
	}
}

// open handles "<Name args>" like ap_build_config_sub and the section
// handlers: a '>' glued to the name means no arguments; the arguments end
// at the last '>'.
func (b *builder) open(pos Pos, end int, text string) {
	word, rest, _ := nextWord(text)
	name := word[1:]
	raw := rest
	if strings.HasSuffix(name, ">") {
		name = name[:len(name)-1]
		raw = ">"
	}
	n := b.node()
	*n = Node{Kind: KindSection, Pos: pos, EndLine: end, Name: name, Active: true}
	if i := strings.LastIndexByte(raw, '>'); i >= 0 {
		raw = raw[:i]
	} else {
		b.errorf(pos, nil, "<%s> directive missing closing '>'", name)
	}
	n.Raw = strings.TrimRight(raw, " \t")
	n.Args = splitWords(n.Raw)
	if len(n.Args) == 0 && needsArgs(name) {
		b.errorf(pos, nil, "<%s> directive requires additional arguments", name)
	}
	b.add(n)
	b.stack = append(b.stack, n)
}

// needsArgs reports whether a section requires arguments: all standard
// ones but <Else> and mod_authz_core's <RequireAll|Any|None>.
func needsArgs(name string) bool {
	switch lower(name) {
	case "else", "requireall", "requireany", "requirenone":
		return false
	}
	return true
}

// close handles "</Name>": names compare case-insensitively; text after the
// tag is ignored, as httpd does for tree sections.
func (b *builder) close(pos Pos, text string) {
	word, junk, _ := nextWord(text)
	if !strings.HasSuffix(word, ">") {
		b.errorf(pos, nil, "%s> directive missing closing '>'", word)
		return
	}
	name := word[2 : len(word)-1]
	if len(b.stack) == 0 {
		b.errorf(pos, nil, "</%s> without matching <%s section", name, name)
		return
	}
	top := b.stack[len(b.stack)-1]
	if !strings.EqualFold(top.Name, name) {
		b.errorf(pos, []Pos{top.Pos}, "Expected </%s> but saw </%s> (<%s> opened at %s)", top.Name, name, top.Name, top.Pos)
		// Recover: close up to a matching ancestor, else ignore the line.
		for i := len(b.stack) - 2; i >= 0; i-- {
			if strings.EqualFold(b.stack[i].Name, name) {
				b.stack = b.stack[:i+1]
				b.closeTop(pos, junk)
				return
			}
		}
		return
	}
	b.closeTop(pos, junk)
}

func (b *builder) closeTop(pos Pos, junk string) {
	top := b.stack[len(b.stack)-1]
	top.tail = &nodeTail{close: pos, closeJunk: junk}
	b.stack = b.stack[:len(b.stack)-1]
}
