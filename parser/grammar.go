package parser

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The grammar: a file is a sequence of logical lines, each a comment, a
// section opening or closing tag, or a directive. The lexer already cut the
// input into logical lines (one token each); nesting is built afterwards
// (build.go) so that mismatched tags get httpd's messages with both
// positions instead of a generic parse error. Each line is kept as its
// text; its kind (comment, opening tag, closing tag, directive) is its first
// bytes (lineKind), and positions come from the lexer's side table in token
// order. Measured on a 10,000-vhost tree: a struct per line with one
// alternative per kind cost twice as much to parse, four token types in a
// disjunction 20 % more than one, and "@Line*" 11 % more of lint's CPU time
// than lineList.
type grammarFile struct {
	Lines lineList `parser:"@@"`
}

// lineList is the body of a file, <line>*: every Line token up to EOF, in
// order. It parses itself (participle.Parseable) instead of through a
// "@Line*" capture, which cost a branch of the parse context, a deferred
// capture and a reflect append per line: with one repetition of one token
// the loop is all there is to match. Parsing stops at the first token that
// is not a Line, and participle then requires EOF.
type lineList struct{ texts []string }

// Parse implements participle.Parseable.
func (ll *lineList) Parse(lex *lexer.PeekingLexer) error {
	for t := lex.Peek(); t.Type == tokLine; t = lex.Peek() {
		ll.texts = append(ll.texts, lex.Next().Value)
	}
	return nil
}

// Line-length limits of httpd: VARBUF_MAX_LEN for server configuration,
// HUGE_STRING_LEN for .htaccess (config.c, configuring.xml).
const (
	maxServerLine = 16 << 20
	maxAccessLine = 8190
)

var lineGrammar = participle.MustBuild[grammarFile](participle.Lexer(lineDefinition{}))

// parseLines runs the grammar over data and returns the lines with their
// positions (kept by the lexer in token order).
func parseLines(path string, data []byte) (*grammarFile, []linePos, error) {
	lx := &lineLexer{file: path, data: data, src: string(data)}
	peek, err := lexer.Upgrade(lx)
	if err != nil {
		return nil, nil, err
	}
	g, err := lineGrammar.ParseFromLexer(peek)
	return g, lx.pos, err
}

// Grammar returns the EBNF of the line grammar (kept in a golden test so
// that changes are deliberate).
func Grammar() string { return lineGrammar.String() }
