package parser

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The grammar: a file is a sequence of logical lines, each a comment, a
// section opening or closing tag, or a directive, ended by EOL. Nesting is
// built afterwards (build.go) so that mismatched tags get httpd's messages
// with both positions instead of a generic parse error.
type grammarFile struct {
	Lines []*grammarLine `parser:"@@*"`
}

type grammarLine struct {
	Tokens []lexer.Token

	Comment   *string `parser:"(  @Comment"`
	Open      *string `parser:" | @Open"`
	Close     *string `parser:" | @Close"`
	Directive *string `parser:" | @Directive ) EOL"`
}

// Line-length limits of httpd: VARBUF_MAX_LEN for server configuration,
// HUGE_STRING_LEN for .htaccess (config.c, configuring.xml).
const (
	maxServerLine = 16 << 20
	maxAccessLine = 8190
)

var lineGrammar = participle.MustBuild[grammarFile](participle.Lexer(lineDefinition{}))

// Grammar returns the EBNF of the line grammar (kept in a golden test so
// that changes are deliberate).
func Grammar() string { return lineGrammar.String() }
