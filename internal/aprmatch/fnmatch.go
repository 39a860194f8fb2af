package aprmatch

import "strings"

// Flags select apr_fnmatch's options (apr_fnmatch.h); APR_FNM_NOESCAPE,
// which httpd never passes, is not offered: '\' always quotes.
type Flags uint8

const (
	// PathName is APR_FNM_PATHNAME: a '/' in the name is matched only by
	// a '/' (or "\/") in the pattern, never by '*', '?' or a class.
	PathName Flags = 1 << iota
	// Period is APR_FNM_PERIOD: a '.' that starts the name (with
	// PathName, that starts any segment) is matched only by a literal
	// '.' or "\.".
	Period
	// CaseBlind is APR_FNM_CASE_BLIND: ASCII letters match either case.
	CaseBlind
)

// Match reports whether name matches pattern as apr_fnmatch(pattern, name,
// flags) decides it. Every pattern is valid: '*' matches any run of
// characters, '?' one character, "[...]" one character of a class
// (ranges "a-z", negated by a leading '!' or '^', a ']' first in the
// class is a member, '\' quotes inside it), '\' quotes the next character
// (a trailing '\' is itself), and a '[' that does not start a complete
// class (no ']', or with PathName a '/' before it) is an ordinary
// character. With PathName the pattern and name are compared segment by
// segment, so both need the same number of slashes.
func Match(pattern, name string, flags Flags) bool {
	pattern, name = cString(pattern), cString(name)
	if flags&PathName == 0 {
		return matchSegment(pattern, name, flags)
	}
	for {
		pseg, prest, pmore := cutSegment(pattern)
		sseg, srest, smore := strings.Cut(name, "/")
		if !matchSegment(pseg, sseg, flags) || pmore != smore {
			return false
		}
		if !pmore {
			return true
		}
		pattern, name = prest, srest
	}
}

// IsPattern reports whether httpd treats s as a wildcard pattern rather
// than a literal name: apr_fnmatch_test, true for a '*' or '?' not quoted
// by '\', or a '[' followed later by a ']'. httpd compares other names
// exactly, with no unquoting.
func IsPattern(s string) bool {
	s = cString(s)
	open := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?':
			return true
		case '\\':
			i++
		case '[':
			open = true
		case ']':
			if open {
				return true
			}
		}
	}
	return false
}

// cString cuts s at its first NUL, where C stops reading it.
func cString(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// cutSegment splits a pathname-mode pattern at its first separator: a '/'
// or "\/" that is not itself quoted. A class cannot hide a separator: in
// pathname mode a class containing '/' is not a class.
func cutSegment(p string) (seg, rest string, found bool) {
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '/':
			return p[:i], p[i+1:], true
		case p[i] == '\\' && i+1 < len(p):
			if p[i+1] == '/' {
				return p[:i], p[i+2:], true
			}
			i++
		}
	}
	return p, "", false
}

// matchSegment matches one segment (the whole strings without PathName).
// It backtracks only to the last '*': every other element matches exactly
// one character, so the leftmost fit of each piece between stars is as
// good as any, and the time is bounded by len(p)*len(s) steps.
func matchSegment(p, s string, flags Flags) bool {
	if flags&Period != 0 && s != "" && s[0] == '.' {
		switch {
		case strings.HasPrefix(p, "."):
			p = p[1:]
		case strings.HasPrefix(p, `\.`):
			p = p[2:]
		default:
			return false
		}
		s = s[1:]
	}
	px, sx := 0, 0
	star, starS := -1, 0
	for {
		if px < len(p) {
			if p[px] == '*' {
				star, starS = px, sx
				px++
				continue
			}
			if sx < len(s) {
				if n, ok := matchOne(p[px:], s[sx], flags); ok {
					px, sx = px+n, sx+1
					continue
				}
			}
		} else if sx == len(s) {
			return true
		}
		if star < 0 || starS >= len(s) {
			return false
		}
		starS++
		px, sx = star+1, starS
	}
}

// matchOne matches the pattern element at the start of p (not '*')
// against c, returning the element's length.
func matchOne(p string, c byte, flags Flags) (n int, ok bool) {
	switch p[0] {
	case '?':
		return 1, true
	case '[':
		if n, ok, valid := matchClass(p, c, flags); valid {
			return n, ok
		}
	case '\\':
		if len(p) > 1 {
			return 2, sameChar(p[1], c, flags)
		}
	}
	return 1, sameChar(p[0], c, flags)
}

// matchClass matches the class that starts p ("[...]") against c. valid
// is false when p does not start a complete class; then '[' is an
// ordinary character.
func matchClass(p string, c byte, flags Flags) (n int, ok, valid bool) {
	i, neg := 1, false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		neg = true
		i++
	}
	for first := true; i < len(p); first = false {
		lo := p[i]
		if lo == ']' && !first {
			return i + 1, ok != neg, true
		}
		if lo != ']' {
			if lo == '\\' {
				if i++; i == len(p) {
					return 0, false, false
				}
				lo = p[i]
			}
			if lo == '/' && flags&PathName != 0 {
				return 0, false, false
			}
		}
		// A range: "lo-hi", but "x-]" is x, then '-' and the end.
		if i+1 < len(p) && p[i+1] == '-' && (i+2 == len(p) || p[i+2] != ']') {
			i += 2
			if i < len(p) && p[i] == '\\' {
				i++
			}
			if i == len(p) || (p[i] == '/' && flags&PathName != 0) {
				return 0, false, false
			}
			ok = ok || inRange(c, lo, p[i], flags)
			i++
			continue
		}
		ok = ok || sameChar(lo, c, flags)
		i++
	}
	return 0, false, false
}

// sameChar compares a pattern character with a name character.
func sameChar(p, c byte, flags Flags) bool {
	return p == c || flags&CaseBlind != 0 && lower(p) == lower(c)
}

// inRange reports whether c lies in lo..hi. APR compares C chars, which
// are signed on amd64 (where the differential test runs), so bytes from
// 0x80 sort before ASCII; with CaseBlind it also compares the lower-case
// forms when any of the three is an upper-case letter; glibc's tolower
// gives those bytes back as 0x80..0xfe, after ASCII, but 0xff as EOF (-1).
func inRange(c, lo, hi byte, flags Flags) bool {
	if int8(c) >= int8(lo) && int8(c) <= int8(hi) {
		return true
	}
	if flags&CaseBlind == 0 || !(isUpper(c) || isUpper(lo) || isUpper(hi)) {
		return false
	}
	return lower(c) >= lower(lo) && lower(c) <= lower(hi)
}

func isUpper(b byte) bool { return 'A' <= b && b <= 'Z' }

// lower is glibc's tolower in the "C" locale, on a char.
func lower(b byte) int {
	switch {
	case isUpper(b):
		return int(b) + 'a' - 'A'
	case b == 0xff:
		return -1
	}
	return int(b)
}
