package fpmconf

import "strings"

// This file is PHP's INI scanner (php-src Zend/zend_ini_scanner.l,
// ZEND_INI_SCANNER_NORMAL), written out by hand; iniparse.go is the grammar.
// Both php.ini and php-fpm.conf are read with it, so both get the same value
// semantics: unquoted On/yes/true become "1", Off/no/false/none/null become
// "", ';' starts a comment, "…" and '…' quote, ${VAR} expands, E_* constants
// and the operators | & ^ ~ ! ( ) are evaluated
// (docs/behaviour.md#b-fpm-ini-syntax). The rules below follow the
// scanner's states and its longest-match,
// first-rule-wins choice; the differential test against php's
// parse_ini_string() keeps them honest.

// tokKind is a scanner token.
type tokKind int

const (
	tEnd          tokKind = iota // end of input (also: a rule ran past the end)
	tEOL                         // END_OF_LINE
	tSection                     // TC_SECTION "["
	tLabel                       // TC_LABEL
	tOffset                      // TC_OFFSET "name["
	tEquals                      // '='
	tCloseBracket                // ']'
	tBoolTrue                    // BOOL_TRUE
	tBoolFalse                   // BOOL_FALSE
	tNull                        // NULL_NULL
	tConstant                    // TC_CONSTANT
	tNumber                      // TC_NUMBER
	tString                      // TC_STRING
	tRaw                         // TC_RAW
	tWhitespace                  // TC_WHITESPACE
	tQuote                       // '"'
	tQuoted                      // TC_QUOTED_STRING
	tDollarCurly                 // TC_DOLLAR_CURLY "${"
	tVarname                     // TC_VARNAME
	tCloseCurly                  // '}'
	tOp                          // one of | & ^ ~ ! ( ) in a value
	tChar                        // any other character token in INITIAL
)

var tokNames = [...]string{
	tEnd: "end of file", tEOL: "END_OF_LINE", tSection: "TC_SECTION", tLabel: "TC_LABEL",
	tOffset: "TC_OFFSET", tEquals: "'='", tCloseBracket: "']'", tBoolTrue: "BOOL_TRUE",
	tBoolFalse: "BOOL_FALSE", tNull: "NULL_NULL", tConstant: "TC_CONSTANT", tNumber: "TC_NUMBER",
	tString: "TC_STRING", tRaw: "TC_RAW", tWhitespace: "TC_WHITESPACE", tQuote: `'"'`,
	tQuoted: "TC_QUOTED_STRING", tDollarCurly: "TC_DOLLAR_CURLY", tVarname: "TC_VARNAME",
	tCloseCurly: "'}'",
}

// scanner states (the %x start conditions of zend_ini_scanner.l).
type scanState int

const (
	stInitial scanState = iota
	stValue
	stOffset
	stSectionValue
	stDoubleQuotes
	stVarname
)

type token struct {
	kind tokKind
	val  string
	ch   byte // the character for tOp and tChar
	off  int  // byte offset where the token starts
}

type scanner struct {
	src   string
	pos   int
	state scanState
	stack []scanState
}

func (s *scanner) push(st scanState) {
	s.stack = append(s.stack, s.state)
	s.state = st
}

func (s *scanner) pop() {
	if n := len(s.stack); n > 0 {
		s.state = s.stack[n-1]
		s.stack = s.stack[:n-1]
	} else {
		s.state = stInitial
	}
}

// at returns the byte at i, or 0 past the end: the scanner reads PHP's
// NUL-terminated buffer, and a NUL stops every rule that does not accept it.
func (s *scanner) at(i int) byte {
	if i < len(s.src) {
		return s.src[i]
	}
	return 0
}

func isTabSpace(c byte) bool { return c == ' ' || c == '\t' }

// isLabelChar is LABEL_CHAR: [^=\n\r\t;&|^$~(){}!"\[\x00].
func isLabelChar(c byte) bool {
	switch c {
	case '=', '\n', '\r', '\t', ';', '&', '|', '^', '$', '~', '(', ')', '{', '}', '!', '"', '[', 0:
		return false
	}
	return true
}

// isToken is TOKENS, the characters INITIAL returns as themselves.
func isToken(c byte) bool {
	return strings.IndexByte(`:,.[]"'()&|^+-/*=%$!~<>?@{}`, c) >= 0
}

func (s *scanner) spaces(i int) int {
	for isTabSpace(s.at(i)) {
		i++
	}
	return i
}

// newline returns the end of a NEWLINE ("\r", "\n" or "\r\n") at i, or -1.
func (s *scanner) newline(i int) int {
	switch s.at(i) {
	case '\n':
		return i + 1
	case '\r':
		if s.at(i+1) == '\n' {
			return i + 2
		}
		return i + 1
	}
	return -1
}

// boolWord matches ("true"|"on"|"yes"), ("false"|"off"|"no"|"none") or
// "null", case-insensitively (re2c --case-inverted), plus trailing blanks.
func (s *scanner) boolWord(i int) (tokKind, int) {
	best, kind := -1, tEnd
	for _, w := range [...]struct {
		word string
		kind tokKind
	}{{"true", tBoolTrue}, {"on", tBoolTrue}, {"yes", tBoolTrue}, {"false", tBoolFalse},
		{"off", tBoolFalse}, {"no", tBoolFalse}, {"none", tBoolFalse}, {"null", tNull}} {
		if i+len(w.word) <= len(s.src) && strings.EqualFold(s.src[i:i+len(w.word)], w.word) {
			if e := s.spaces(i + len(w.word)); e > best {
				best, kind = e, w.kind
			}
		}
	}
	return kind, best
}

// rawString matches '…' ("'"[^']+"'"); overrun reports that the rule ran
// past the end of the input looking for the closing quote, which makes
// PHP's scanner stop (YYFILL returns 0).
func (s *scanner) rawString(i int) (end int, overrun bool) {
	if s.at(i) != '\'' || s.at(i+1) == '\'' {
		return -1, false
	}
	j := strings.IndexByte(s.src[i+1:], '\'')
	if j < 0 {
		return -1, true
	}
	return i + 1 + j + 1, false
}

// constant matches CONSTANT: [a-zA-Z][a-zA-Z0-9_]*.
func (s *scanner) constant(i int) int {
	c := s.at(i)
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return -1
	}
	i++
	for {
		c = s.at(i)
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' {
			i++
			continue
		}
		return i
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number matches NUMBER: [-]?[0-9]+ | [0-9]*[.][0-9]+ | [0-9]+[.][0-9]*.
func (s *scanner) number(i int) int {
	best := -1
	j := i
	if s.at(j) == '-' {
		j++
	}
	k := j
	for isDigit(s.at(k)) {
		k++
	}
	if k > j {
		best = k
	}
	k = i
	for isDigit(s.at(k)) {
		k++
	}
	if s.at(k) == '.' {
		m := k + 1
		for isDigit(s.at(m)) {
			m++
		}
		if m > k+1 || k > i {
			best = max(best, m)
		}
	}
	return best
}

// charRun matches {VALUE_CHARS}+ (section false) or
// {SECTION_VALUE_CHARS}+ (section true), where
//
//	LITERAL_DOLLAR      ("$"([^{\x00]|("\\"{ANY_CHAR})))
//	VALUE_CHARS         ([^$= \t\n\r;&|^~()!"'\x00]|{LITERAL_DOLLAR})
//	SECTION_VALUE_CHARS ([^$\n\r;"'\]\\]|("\\"{ANY_CHAR})|{LITERAL_DOLLAR})
//
// "$\" can be read two ways, so like re2c's DFA it follows every reading
// and returns the longest. A reading that needs the character after the
// end of the input (the terminating NUL, which ANY_CHAR and the section
// class accept) overruns: PHP's scanner then stops (YYFILL returns 0).
func (s *scanner) charRun(i int, section bool) (end int, overrun bool) {
	n := len(s.src)
	plain := func(c byte) bool {
		if section {
			return strings.IndexByte("$\n\r;\"'\\]", c) < 0
		}
		return c != 0 && strings.IndexByte("$= \t\n\r;&|^~()!\"'", c) < 0
	}
	// win holds which of the positions p, p+1, p+2, p+3 a reading of
	// s.src[i:] reaches; every step moves one to three bytes on.
	var win uint8 = 1
	end = -1
	for p := i; win != 0; p, win = p+1, win>>1 {
		if win&1 == 0 {
			continue
		}
		if p > i {
			end = p
		}
		if p == n {
			// The section class accepts the terminating NUL.
			if section && p > i {
				return -1, true
			}
			continue
		}
		c := s.src[p]
		step := func(k int) {
			if p+k > n {
				overrun = true
			}
			win |= 1 << k
		}
		switch {
		case c == '$':
			next := s.at(p + 1)
			if p+1 < n && next != '{' {
				step(2)
			}
			if next == '\\' {
				step(3)
			}
		case c == '\\' && section:
			step(2)
		case plain(c):
			step(1)
		}
		if overrun {
			return -1, true
		}
	}
	return end, false
}

// comment matches {TABS_AND_SPACES}*[;][^\r\n]*{NEWLINE}; without the
// newline the rule runs past the end.
func (s *scanner) comment(i int) (end int, overrun bool) {
	j := s.spaces(i)
	if s.at(j) != ';' {
		return -1, false
	}
	k := strings.IndexAny(s.src[j:], "\r\n")
	if k < 0 {
		return -1, true
	}
	return s.newline(j + k), false
}

// cand is one rule's match: its end offset; rules are tried in the
// scanner's order and the longest match wins, the earlier rule on a tie.
type cand struct {
	end  int
	kind tokKind
	id   int
}

func longest(cs ...cand) (cand, bool) {
	best := cand{end: -1}
	for _, c := range cs {
		if c.end > best.end {
			best = c
		}
	}
	return best, best.end >= 0
}

// next returns the next token.
func (s *scanner) next() token {
	start := s.pos
	if start >= len(s.src) {
		// In ST_VALUE the catch-all rule matches the terminating NUL and
		// ends the value (so "key=" at the very end is an empty value);
		// every other state just ends.
		if s.state == stValue && start == len(s.src) {
			s.pos++
			s.state = stInitial
			return token{kind: tEOL, off: start}
		}
		return token{kind: tEnd, off: min(start, len(s.src))}
	}
	switch s.state {
	case stInitial:
		return s.nextInitial()
	case stValue:
		return s.nextValue()
	case stOffset, stSectionValue:
		return s.nextSection()
	case stDoubleQuotes:
		return s.nextDoubleQuotes()
	case stVarname:
		return s.nextVarname()
	}
	return token{kind: tEnd, off: start}
}

func trimBlanks(v string) string { return strings.Trim(v, " \t\r\n") }

func (s *scanner) nextInitial() token {
	i := s.pos
	const (
		rSection = iota
		rOffset
		rBool
		rLabel
		rEquals
		rToken
		rSkip
		rEOL
		rComment
	)
	var cs []cand
	if s.at(i) == '[' {
		cs = append(cs, cand{i + 1, tSection, rSection})
	}
	l := i
	for isLabelChar(s.at(l)) {
		l++
	}
	if l > i && l == len(s.src) {
		// LABEL's class does not exclude the terminating NUL: a label
		// that runs to the end of the input runs past it, and the
		// scanner stops (YYFILL returns 0).
		s.pos = len(s.src)
		return token{kind: tEnd, off: i}
	}
	if l > i && s.at(l) == '[' {
		cs = append(cs, cand{s.spaces(l + 1), tOffset, rOffset})
	}
	if k, e := s.boolWord(i); e >= 0 {
		cs = append(cs, cand{e, k, rBool})
	}
	if l > i {
		cs = append(cs, cand{l, tLabel, rLabel})
	}
	if j := s.spaces(i); s.at(j) == '=' {
		cs = append(cs, cand{s.spaces(j + 1), tEquals, rEquals})
	}
	if isToken(s.at(i)) {
		cs = append(cs, cand{i + 1, tChar, rToken})
	}
	if j := s.spaces(i); j > i {
		cs = append(cs, cand{j, tEnd, rSkip})
	}
	if e := s.newline(s.spaces(i)); e >= 0 {
		cs = append(cs, cand{e, tEOL, rEOL})
	}
	e, overrun := s.comment(i)
	if overrun {
		s.pos = len(s.src)
		return token{kind: tEnd, off: i}
	}
	if e >= 0 {
		cs = append(cs, cand{e, tEOL, rComment})
	}
	c, ok := longest(cs...)
	if !ok {
		s.pos = len(s.src)
		return token{kind: tEnd, off: i}
	}
	s.pos = c.end
	text := s.src[i:c.end]
	switch c.id {
	case rSection:
		s.push(stSectionValue)
		return token{kind: tSection, off: i}
	case rOffset:
		s.push(stOffset)
		name := strings.TrimRight(text, " \t")
		name = strings.TrimSuffix(name, "[")
		return token{kind: tOffset, val: strings.Trim(name, " \t"), off: i}
	case rBool:
		return token{kind: c.kind, val: boolValue(c.kind), off: i}
	case rLabel:
		return token{kind: tLabel, val: trimBlanks(text), off: i}
	case rEquals:
		s.push(stValue)
		return token{kind: tEquals, off: i}
	case rToken:
		return token{kind: tChar, ch: text[0], off: i}
	case rSkip:
		return s.next()
	}
	return token{kind: tEOL, off: i}
}

func boolValue(k tokKind) string {
	if k == tBoolTrue {
		return "1"
	}
	return ""
}

func (s *scanner) nextValue() token {
	i := s.pos
	const (
		rRaw = iota
		rDollar
		rBool
		rEOL
		rConst
		rNum
		rOp
		rEquals
		rValue
		rQuote
		rWhite
		rComment
		rAny
	)
	var cs []cand
	e, overrun := s.rawString(i)
	if overrun {
		s.pos = len(s.src)
		return token{kind: tEnd, off: i}
	}
	if e >= 0 {
		cs = append(cs, cand{e, tRaw, rRaw})
	}
	if s.at(i) == '$' && s.at(i+1) == '{' {
		cs = append(cs, cand{i + 2, tDollarCurly, rDollar})
	}
	if k, e := s.boolWord(i); e >= 0 {
		cs = append(cs, cand{e, k, rBool})
	}
	if e := s.newline(s.spaces(i)); e >= 0 {
		cs = append(cs, cand{e, tEOL, rEOL})
	}
	if e := s.constant(i); e >= 0 {
		cs = append(cs, cand{e, tConstant, rConst})
	}
	if e := s.number(i); e >= 0 {
		cs = append(cs, cand{e, tNumber, rNum})
	}
	if strings.IndexByte("&|^~()!", s.at(i)) >= 0 && s.at(i) != 0 {
		cs = append(cs, cand{s.spaces(i + 1), tOp, rOp})
	}
	if s.at(i) == '=' {
		cs = append(cs, cand{i + 1, tEOL, rEquals})
	}
	e, overrun = s.charRun(i, false)
	if overrun {
		s.pos = len(s.src)
		return token{kind: tEnd, off: i}
	}
	if e >= 0 {
		cs = append(cs, cand{e, tString, rValue})
	}
	if j := s.spaces(i); s.at(j) == '"' {
		cs = append(cs, cand{j + 1, tQuote, rQuote})
	}
	if j := s.spaces(i); j > i {
		cs = append(cs, cand{j, tWhitespace, rWhite})
	}
	e, overrun = s.comment(i)
	if overrun {
		s.pos = len(s.src)
		return token{kind: tEnd, off: i}
	}
	if e >= 0 {
		cs = append(cs, cand{e, tEOL, rComment})
	}
	cs = append(cs, cand{i + 1, tEOL, rAny})
	c, _ := longest(cs...)
	s.pos = c.end
	text := s.src[i:c.end]
	switch c.id {
	case rRaw:
		return token{kind: tRaw, val: text[1 : len(text)-1], off: i}
	case rDollar:
		s.push(stVarname)
		return token{kind: tDollarCurly, off: i}
	case rBool:
		return token{kind: c.kind, val: boolValue(c.kind), off: i}
	case rEOL, rComment, rAny:
		s.state = stInitial
		return token{kind: tEOL, off: i}
	case rEquals:
		// "Make = used in option value to trigger error": yyless(0).
		s.pos = i
		s.state = stInitial
		return token{kind: tEOL, off: i}
	case rOp:
		return token{kind: tOp, ch: text[0], off: i}
	case rQuote:
		s.push(stDoubleQuotes)
		return token{kind: tQuote, off: i}
	}
	return token{kind: c.kind, val: text, off: i}
}

// nextSection scans ST_SECTION_VALUE (after "[") and ST_OFFSET (after
// "name["); they differ only in how ']' ends them.
func (s *scanner) nextSection() token {
	i := s.pos
	const (
		rRaw = iota
		rClose
		rDollar
		rConst
		rNum
		rChars
		rQuote
		rWhite
	)
	var cs []cand
	e, overrun := s.rawString(i)
	if overrun {
		s.pos = len(s.src)
		return token{kind: tEnd, off: i}
	}
	if e >= 0 {
		cs = append(cs, cand{e, tRaw, rRaw})
	}
	if j := s.spaces(i); s.at(j) == ']' {
		end := j + 1
		if s.state == stSectionValue {
			end = s.spaces(end)
			if n := s.newline(end); n >= 0 {
				end = n
			}
		}
		cs = append(cs, cand{end, tCloseBracket, rClose})
	}
	if s.at(i) == '$' && s.at(i+1) == '{' {
		cs = append(cs, cand{i + 2, tDollarCurly, rDollar})
	}
	if e := s.constant(i); e >= 0 {
		cs = append(cs, cand{e, tConstant, rConst})
	}
	if e := s.number(i); e >= 0 {
		cs = append(cs, cand{e, tNumber, rNum})
	}
	e, overrun = s.charRun(i, true)
	if overrun {
		s.pos = len(s.src)
		return token{kind: tEnd, off: i}
	}
	if e >= 0 {
		cs = append(cs, cand{e, tString, rChars})
	}
	if j := s.spaces(i); s.at(j) == '"' {
		cs = append(cs, cand{j + 1, tQuote, rQuote})
	}
	if j := s.spaces(i); j > i {
		cs = append(cs, cand{j, tWhitespace, rWhite})
	}
	c, ok := longest(cs...)
	if !ok {
		s.pos = len(s.src)
		return token{kind: tEnd, off: i}
	}
	s.pos = c.end
	text := s.src[i:c.end]
	switch c.id {
	case rRaw:
		return token{kind: tRaw, val: text[1 : len(text)-1], off: i}
	case rClose:
		s.state = stInitial
		return token{kind: tCloseBracket, off: i}
	case rDollar:
		s.push(stVarname)
		return token{kind: tDollarCurly, off: i}
	case rQuote:
		s.push(stDoubleQuotes)
		return token{kind: tQuote, off: i}
	}
	return token{kind: c.kind, val: text, off: i}
}

func (s *scanner) nextDoubleQuotes() token {
	i := s.pos
	if s.at(i) == '$' && s.at(i+1) == '{' {
		s.pos = i + 2
		s.push(stVarname)
		return token{kind: tDollarCurly, off: i}
	}
	if s.at(i) == '"' {
		s.pos = s.spaces(i + 1)
		s.pop()
		return token{kind: tQuote, off: i}
	}
	// The hand-written rule: up to an unescaped '"' or "${"; a '\"' that
	// ends the line closes the string (key="C:\path\").
	j := i
	n := len(s.src)
loop:
	for j < n && s.src[j] != 0 {
		switch s.src[j] {
		case '"':
			break loop
		case '$':
			if j+1 < n && s.src[j+1] == '{' {
				break loop
			}
			j++
		case '\\':
			j++
			if j < n {
				esc := s.src[j]
				j++
				if esc == '"' && (j >= n || s.src[j] == '\n' || s.src[j] == '\r') {
					j--
					break loop
				}
			}
		default:
			j++
		}
	}
	s.pos = j
	return token{kind: tQuoted, val: unescapeDouble(s.src[i:j]), off: i}
}

// unescapeDouble is zend_ini_escape_string for '"': \" \\ and \$ lose the
// backslash, every other backslash stays.
func unescapeDouble(v string) string {
	if strings.IndexByte(v, '\\') < 0 {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' && i+1 < len(v) {
			switch v[i+1] {
			case '"', '\\', '$':
				b.WriteByte(v[i+1])
				i++
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

func (s *scanner) nextVarname() token {
	i := s.pos
	if s.at(i) == '}' {
		s.pos = i + 1
		s.pop()
		return token{kind: tCloseCurly, off: i}
	}
	j := i
	for isLabelChar(s.at(j)) {
		j++
	}
	if j == i {
		s.pos = len(s.src)
		return token{kind: tEnd, off: i}
	}
	s.pos = j
	return token{kind: tVarname, val: trimBlanks(s.src[i:j]), off: i}
}
