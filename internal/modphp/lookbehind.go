package modphp

import "strings"

// lookbehind is a <FilesMatch> expression of the form (?<!L)S$ or
// (?<=L)S$, L and S literal: the one PCRE look-around Go's RE2 lacks that
// the shim evaluates, because it is exactly a pair of suffix tests. httpd
// compiles expressions with DOLLAR_ENDONLY (RegexDefaultOptions' default),
// so $ is the end of the name and S$ can only match its last len(S)
// characters; the search succeeds iff the name ends with S and what comes
// before that S ends (=) or does not end (!) with L.
type lookbehind struct {
	before, suffix string
	negated        bool
}

func (l *lookbehind) match(base string) bool {
	rest, ok := strings.CutSuffix(base, l.suffix)
	return ok && strings.HasSuffix(rest, l.before) != l.negated
}

// parseLookbehind recognises (?<!L)S$ and (?<=L)S$ with L non-empty and L
// and S literal: characters other than PCRE's metacharacters, or a
// backslash before punctuation. Anything else is left to the caller's
// error.
func parseLookbehind(re string) (*lookbehind, bool) {
	var l lookbehind
	switch {
	case strings.HasPrefix(re, "(?<!"):
		l.negated = true
	case strings.HasPrefix(re, "(?<="):
	default:
		return nil, false
	}
	body, ok := strings.CutSuffix(re[4:], "$")
	if !ok {
		return nil, false
	}
	before, n, ok := pcreLiteral(body)
	if !ok || before == "" || n == len(body) || body[n] != ')' {
		return nil, false
	}
	suffix, m, ok := pcreLiteral(body[n+1:])
	if !ok || m != len(body)-n-1 {
		return nil, false
	}
	l.before, l.suffix = before, suffix
	return &l, true
}

// pcreLiteral reads the literal characters at the start of s, returning
// them and how many bytes of s they took; it stops at the first
// metacharacter and fails on an escape that is not a quoted punctuation
// character (\d, \x41, \1… mean more than one character).
func pcreLiteral(s string) (lit string, n int, ok bool) {
	var b strings.Builder
	for n < len(s) {
		c := s[n]
		switch {
		case c == '\\':
			if n+1 == len(s) || !isPunct(s[n+1]) {
				return "", 0, false
			}
			b.WriteByte(s[n+1])
			n += 2
		case strings.IndexByte(".^$|()[]{}*+?#", c) >= 0:
			return b.String(), n, true
		case c < 0x20 || c >= 0x7f:
			// Control characters and non-ASCII bytes: PCRE's
			// reading of them depends on its UTF mode; not taken.
			return "", 0, false
		default:
			b.WriteByte(c)
			n++
		}
	}
	return b.String(), n, true
}

func isPunct(c byte) bool {
	return c > 0x20 && c < 0x7f && !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z')
}
