package parser

import (
	"bytes"
	"io"

	"github.com/alecthomas/participle/v2/lexer"
)

// Token types of the line lexer. Apache configuration is line-oriented: the
// lexer joins continued physical lines and emits one Line token per logical
// line; it records the position of each on the side. Arguments are split
// afterwards by splitWords (httpd's ap_getword_conf), because ${VAR}
// substitution happens on the whole line before tokenizing.
const (
	tokEOF  lexer.TokenType = lexer.EOF
	tokLine lexer.TokenType = -2
)

// The kinds of logical lines (lineKind).
const (
	tokComment lexer.TokenType = -(iota + 10)
	tokOpen
	tokClose
	tokDirective
)

// lineDefinition is the participle lexer definition for Apache files.
type lineDefinition struct{}

// lineSymbols is a function, not a variable: the grammar is built during
// package initialisation, before package-level maps would be.
func lineSymbols() map[string]lexer.TokenType {
	return map[string]lexer.TokenType{
		"EOF":  tokEOF,
		"Line": tokLine,
	}
}

// Symbols implements lexer.Definition.
func (d lineDefinition) Symbols() map[string]lexer.TokenType { return lineSymbols() }

// Lex implements lexer.Definition.
func (d lineDefinition) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return d.LexBytes(filename, data)
}

// LexString implements lexer.StringDefinition.
func (d lineDefinition) LexString(filename string, s string) (lexer.Lexer, error) {
	return d.LexBytes(filename, []byte(s))
}

// LexBytes implements lexer.BytesDefinition.
func (d lineDefinition) LexBytes(filename string, data []byte) (lexer.Lexer, error) {
	// One string for the whole file: tokens of lines without continuation
	// are substrings of it, which saves an allocation per line.
	return &lineLexer{file: filename, data: data, src: string(data)}, nil // see parseLines
}

// lineLexer walks the physical lines of one file.
type lineLexer struct {
	file string
	data []byte
	src  string // data as a string
	// lineOff is where the physical line physical() returned last starts.
	lineOff int
	off     int       // next unread byte
	line    int       // physical lines consumed so far
	pos     []linePos // where each logical line is, in token order
	buf     []byte
}

// linePos locates a logical line: its first physical line, the column of
// its first non-blank byte, and its last physical line.
type linePos struct{ line, col, end int }

// isSpace is apr_isspace: the C locale's isspace.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// physical returns the next physical line without its LF, and whether one was read.
func (l *lineLexer) physical() ([]byte, bool) {
	if l.off >= len(l.data) {
		return nil, false
	}
	l.lineOff = l.off
	rest := l.data[l.off:]
	i := bytes.IndexByte(rest, '\n')
	var ln []byte
	if i < 0 {
		ln = rest
		l.off = len(l.data)
	} else {
		ln = rest[:i]
		l.off += i + 1
	}
	l.line++
	return ln, true
}

// Next implements lexer.Lexer: the next logical line as one token.
func (l *lineLexer) Next() (lexer.Token, error) {
	for {
		ln, ok := l.physical()
		if !ok {
			return lexer.Token{Type: tokEOF, Pos: lexer.Position{Filename: l.file, Line: l.line + 1, Column: 1}}, nil
		}
		first, firstOff := l.line, l.lineOff
		logical, joined := l.join(ln)
		start := 0
		for start < len(logical) && isSpace(logical[start]) {
			start++
		}
		end := len(logical)
		for end > start && isSpace(logical[end-1]) {
			end--
		}
		if start == end {
			continue
		}
		col := start + 1 // leading blanks are on the first physical line
		var text string
		if joined {
			text = string(logical[start:end])
		} else {
			text = l.src[firstOff+start : firstOff+end]
		}
		pos := lexer.Position{Filename: l.file, Offset: firstOff + start, Line: first, Column: col}
		l.pos = append(l.pos, linePos{line: first, col: col, end: l.line})
		return lexer.Token{Type: tokLine, Value: text, Pos: pos}, nil
	}
}

// join appends the physical lines that continue ln (ap_cfg_getline_core:
// a backslash right before LF or CR LF continues the line; the backslash
// goes, the next line is appended as is; this happens before comment
// detection). It reports whether anything was joined.
func (l *lineLexer) join(ln []byte) ([]byte, bool) {
	cont := continued(ln)
	if cont < 0 {
		return ln, false
	}
	l.buf = append(l.buf[:0], ln[:cont]...)
	for cont >= 0 {
		next, ok := l.physical()
		if !ok {
			break
		}
		cont = continued(next)
		if cont >= 0 {
			l.buf = append(l.buf, next[:cont]...)
		} else {
			l.buf = append(l.buf, next...)
		}
	}
	return l.buf, true
}

// continued reports where the continuation backslash of a physical line is
// (the line goes on after it), or -1.
func continued(ln []byte) int {
	n := len(ln)
	if n > 0 && ln[n-1] == '\r' {
		n--
	}
	if n > 0 && ln[n-1] == '\\' {
		return n - 1
	}
	return -1
}

// lineKind classifies a trimmed, non-empty logical line as httpd does:
// '#' first is a comment, "</" a closing tag, '<' an opening tag.
func lineKind(text string) lexer.TokenType {
	switch {
	case text[0] == '#':
		return tokComment
	case len(text) > 1 && text[0] == '<' && text[1] == '/':
		return tokClose
	case text[0] == '<':
		return tokOpen
	}
	return tokDirective
}
