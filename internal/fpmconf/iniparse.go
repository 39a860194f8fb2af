package fpmconf

import (
	"strconv"
	"strings"
)

// This file is the grammar half of PHP's INI reader (php-src
// Zend/zend_ini_parser.y) over the tokens of scan.go: statements, values,
// ${NAME} references, constants and the | & ^ ~ ! ( ) operators.

// errorConstants are the constants a php.ini can use: Zend's E_* error
// levels (Zend/zend_errors.h, PHP 8), registered before php.ini is read.
var errorConstants = map[string]string{
	"E_ERROR": "1", "E_WARNING": "2", "E_PARSE": "4", "E_NOTICE": "8",
	"E_CORE_ERROR": "16", "E_CORE_WARNING": "32", "E_COMPILE_ERROR": "64",
	"E_COMPILE_WARNING": "128", "E_USER_ERROR": "256", "E_USER_WARNING": "512",
	"E_USER_NOTICE": "1024", "E_STRICT": "2048", "E_RECOVERABLE_ERROR": "4096",
	"E_DEPRECATED": "8192", "E_USER_DEPRECATED": "16384", "E_ALL": "32767",
}

// atoi is C's atoi as zend_ini_do_op uses it: leading blanks, a sign, digits,
// the result truncated to a C int.
func atoi(v string) int32 {
	i := 0
	for i < len(v) && (v[i] == ' ' || v[i] >= '\t' && v[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(v) && (v[i] == '+' || v[i] == '-') {
		neg = v[i] == '-'
		i++
	}
	var n int64
	for i < len(v) && isDigit(v[i]) {
		if n < 1<<62 {
			n = n*10 + int64(v[i]-'0')
		}
		i++
	}
	if neg {
		n = -n
	}
	return int32(n)
}

// iniEventKind is what the parser reports, like zend_ini_parser_cb_t's
// callback types.
type iniEventKind int

const (
	evEntry   iniEventKind = iota // key = value (ZEND_INI_PARSER_ENTRY)
	evBare                        // a key without '=' (ENTRY with a NULL value)
	evSection                     // [name] (ZEND_INI_PARSER_SECTION)
	evArray                       // name[offset] = value (ZEND_INI_PARSER_POP_ENTRY)
)

// iniEvent is one parsed statement.
type iniEvent struct {
	kind   iniEventKind
	key    string // entry or array name, section name
	offset string // array offset
	value  string
	off    int      // byte offset of the statement
	unset  []string // ${VAR} references that expanded to nothing
}

// iniSyntaxError is a bison syntax error, reported like PHP's
// "syntax error, unexpected X".
type iniSyntaxError struct {
	off int
	msg string
}

// iniParser parses a token stream into events.
type iniParser struct {
	sc     scanner
	tok    token
	lookup func(name string) (string, bool)
	unset  []string
}

// parseINI parses src with PHP's INI grammar and hands each statement to
// emit as soon as it is complete, as PHP's parser calls its callback, up to
// the first syntax error. lookup resolves ${NAME}: PHP looks in the
// configuration read so far (what emit has stored), then in the
// environment.
func parseINI(src string, lookup func(string) (string, bool), emit func(iniEvent)) *iniSyntaxError {
	// zend_ini_prepare_string_for_scanning skips a UTF-8 byte-order mark.
	bom := 0
	if strings.HasPrefix(src, "\xEF\xBB\xBF") {
		bom = 3
	}
	// PHP scans a NUL-terminated buffer: nothing after a NUL byte is seen.
	if i := strings.IndexByte(src, 0); i >= 0 {
		src = src[:i]
	}
	p := &iniParser{sc: scanner{src: src, pos: bom}, lookup: lookup}
	p.advance()
	for {
		start := p.tok
		switch start.kind {
		case tEnd:
			return nil
		case tEOL:
			p.advance()
		case tSection:
			p.advance()
			name, err := p.stringList(true, false)
			if err != nil {
				return err
			}
			if p.tok.kind != tCloseBracket {
				return p.unexpected("']'")
			}
			p.advance()
			emit(iniEvent{kind: evSection, key: name, off: start.off, unset: p.takeUnset()})
		case tLabel:
			p.advance()
			if p.tok.kind != tEquals {
				emit(iniEvent{kind: evBare, key: start.val, off: start.off})
				continue
			}
			p.advance()
			v, err := p.value()
			if err != nil {
				return err
			}
			emit(iniEvent{kind: evEntry, key: start.val, value: v, off: start.off, unset: p.takeUnset()})
		case tOffset:
			p.advance()
			off, err := p.stringList(true, true)
			if err != nil {
				return err
			}
			if p.tok.kind != tCloseBracket {
				return p.unexpected("']'")
			}
			p.advance()
			if p.tok.kind != tEquals {
				return p.unexpected("'='")
			}
			p.advance()
			v, err := p.value()
			if err != nil {
				return err
			}
			emit(iniEvent{kind: evArray, key: start.val, offset: off, value: v, off: start.off, unset: p.takeUnset()})
		default:
			return p.unexpected("")
		}
	}
}

func (p *iniParser) takeUnset() []string {
	u := p.unset
	p.unset = nil
	return u
}

func (p *iniParser) advance() { p.tok = p.sc.next() }

func (p *iniParser) unexpected(expecting string) *iniSyntaxError {
	name := ""
	switch p.tok.kind {
	case tOp, tChar:
		name = "'" + string(p.tok.ch) + "'"
	default:
		name = tokNames[p.tok.kind]
	}
	msg := "syntax error, unexpected " + name
	if expecting != "" {
		msg += ", expecting " + expecting
	}
	return &iniSyntaxError{off: p.tok.off, msg: msg}
}

// value parses string_or_value.
func (p *iniParser) value() (string, *iniSyntaxError) {
	switch p.tok.kind {
	case tBoolTrue, tBoolFalse, tNull:
		v := p.tok.val
		p.advance()
		return v, nil
	case tEOL:
		p.advance()
		return "", nil
	}
	return p.expr()
}

// expr parses expr: '|' '&' '^' are left-associative at one level, '~' and
// '!' bind tighter; an operation yields the decimal C int result.
func (p *iniParser) expr() (string, *iniSyntaxError) {
	left, err := p.unary()
	if err != nil {
		return "", err
	}
	for p.tok.kind == tOp && (p.tok.ch == '|' || p.tok.ch == '&' || p.tok.ch == '^') {
		op := p.tok.ch
		p.advance()
		right, err := p.unary()
		if err != nil {
			return "", err
		}
		a, b := atoi(left), atoi(right)
		var r int32
		switch op {
		case '|':
			r = a | b
		case '&':
			r = a & b
		case '^':
			r = a ^ b
		}
		left = strconv.Itoa(int(r))
	}
	return left, nil
}

func (p *iniParser) unary() (string, *iniSyntaxError) {
	if p.tok.kind == tOp {
		switch p.tok.ch {
		case '~', '!':
			op := p.tok.ch
			p.advance()
			v, err := p.unary()
			if err != nil {
				return "", err
			}
			a := atoi(v)
			if op == '~' {
				return strconv.Itoa(int(^a)), nil
			}
			if a == 0 {
				return "1", nil
			}
			return "0", nil
		case '(':
			p.advance()
			v, err := p.expr()
			if err != nil {
				return "", err
			}
			if p.tok.kind != tOp || p.tok.ch != ')' {
				return "", p.unexpected("")
			}
			p.advance()
			return v, nil
		}
	}
	v, err := p.stringList(false, true)
	if err != nil {
		return "", err
	}
	return v, nil
}

// stringList parses var_string_list (values) or var_string_list_section
// (sections and offsets; empty allowed). Constants are evaluated where PHP
// evaluates them: in values and offsets, not in section names.
func (p *iniParser) stringList(emptyOK, evalConst bool) (string, *iniSyntaxError) {
	var b strings.Builder
	n := 0
	for {
		switch p.tok.kind {
		case tConstant:
			v := p.tok.val
			if evalConst {
				if c, ok := errorConstants[v]; ok {
					v = c
				}
			}
			b.WriteString(v)
		case tRaw, tNumber, tString, tWhitespace:
			b.WriteString(p.tok.val)
		case tDollarCurly:
			v, err := p.varRef()
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			n++
			continue
		case tQuote:
			p.advance()
			for p.tok.kind != tQuote {
				switch p.tok.kind {
				case tQuoted:
					b.WriteString(p.tok.val)
					p.advance()
				case tDollarCurly:
					v, err := p.varRef()
					if err != nil {
						return "", err
					}
					b.WriteString(v)
				default:
					return "", p.unexpected(`TC_DOLLAR_CURLY or TC_QUOTED_STRING or '"'`)
				}
			}
		default:
			if n == 0 && !emptyOK {
				return "", p.unexpected("")
			}
			return b.String(), nil
		}
		n++
		p.advance()
	}
}

// varRef parses cfg_var_ref: ${NAME}.
func (p *iniParser) varRef() (string, *iniSyntaxError) {
	p.advance()
	if p.tok.kind != tVarname {
		return "", p.unexpected("TC_VARNAME")
	}
	name := p.tok.val
	p.advance()
	if p.tok.kind != tCloseCurly {
		return "", p.unexpected("'}'")
	}
	p.advance()
	if p.lookup != nil {
		if v, ok := p.lookup(name); ok {
			return v, nil
		}
	}
	p.unset = append(p.unset, name)
	return "", nil
}
