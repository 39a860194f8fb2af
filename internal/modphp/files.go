package modphp

import (
	"fmt"
	"regexp"
	"strings"
)

// Files is the test a <Files> or <FilesMatch> section applies to a
// request, as httpd's file walk (server/request.c ap_file_walk) applies it
// to the base name of the file the request maps to (path info removed):
// a regular expression for <FilesMatch re> and <Files ~ re>, apr_fnmatch
// for a name with wildcards, an exact, case-sensitive comparison
// otherwise. The zero Files matches every name (no section).
type Files struct {
	pat  string
	re   *regexp.Regexp
	test filesTest
	lb   *lookbehind // testLookbehind
}

// filesTest is how a Files compares names.
type filesTest uint8

const (
	testAny filesTest = iota
	testExact
	testGlob
	testRegex
	testLookbehind
)

// CompileFiles builds the test of a section named name ("Files" or
// "FilesMatch", any case) with arguments args. An error means the shim or
// lint cannot evaluate the section: wrong arity, or a regular expression
// Go's RE2 cannot read (PCRE back-references, look-around) other than a
// literal look-behind before a literal end, such as (?<!\.min)\.js$
// (parseLookbehind).
func CompileFiles(name string, args []string) (Files, error) {
	regex := strings.EqualFold(name, "FilesMatch")
	if !regex && !strings.EqualFold(name, "Files") {
		return Files{}, fmt.Errorf("<%s> is not a <Files> section", name)
	}
	if !regex && len(args) == 2 && args[0] == "~" {
		regex, args = true, args[1:]
	}
	if len(args) != 1 {
		return Files{}, fmt.Errorf("<%s> takes one argument", name)
	}
	if regex {
		re, err := regexp.Compile(args[0])
		if err != nil {
			if lb, ok := parseLookbehind(args[0]); ok {
				return Files{pat: args[0], test: testLookbehind, lb: lb}, nil
			}
			return Files{}, fmt.Errorf("regular expression %q: %w", args[0], err)
		}
		return Files{pat: args[0], re: re, test: testRegex}, nil
	}
	if isGlob(args[0]) {
		return Files{pat: args[0], test: testGlob}, nil
	}
	return Files{pat: args[0], test: testExact}, nil
}

// Match reports whether the section applies to a file with base name
// base.
func (f Files) Match(base string) bool {
	switch f.test {
	case testRegex:
		return f.re.MatchString(base)
	case testGlob:
		return fnmatch(f.pat, base)
	case testExact:
		return f.pat == base
	case testLookbehind:
		return f.lb.match(base)
	}
	return true
}

// String returns the pattern as written.
func (f Files) String() string { return f.pat }

// Regexp returns the compiled expression of a <FilesMatch> or <Files ~>
// section, nil for other tests.
func (f Files) Regexp() *regexp.Regexp { return f.re }

// Same reports whether f and o apply the same test to every name: the
// same pattern, compared the same way. Callers use it to share the test
// of nested sections that repeat their parent's.
func (f Files) Same(o Files) bool { return f.test == o.test && f.pat == o.pat }

// isGlob is apr_fnmatch_test: the pattern has a '*' or '?' not quoted by
// '\', or a '[' with its ']'. Other names are compared exactly.
func isGlob(pat string) bool {
	for i := 0; i < len(pat); i++ {
		switch pat[i] {
		case '*', '?':
			return true
		case '\\':
			i++
		case '[':
			if _, ok := classLen(pat[i+1:]); ok {
				return true
			}
		}
	}
	return false
}

// fnmatch is apr_fnmatch with APR_FNM_PATHNAME on a base name: '*' and '?'
// match any characters but '/', "[…]" a class with ranges, negated by a
// leading '!' or '^', and '\' quotes the next character; a leading '.' is
// matched by wildcards like any other character, and a '[' without its
// ']' is an ordinary character. It backtracks only to the last '*', so it
// runs in time linear in len(pat)*len(s).
func fnmatch(pat, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) || px < len(pat) {
		if px < len(pat) && step(pat, s, &px, &sx, &starP, &starS) {
			continue
		}
		// Mismatch: let the last '*' swallow one more character.
		if starP < 0 || starS >= len(s) || s[starS] == '/' {
			return false
		}
		starS++
		px, sx = starP+1, starS
	}
	return true
}

// step matches one pattern element at px against s at sx and advances
// both; it reports false on a mismatch.
func step(pat, s string, px, sx, starP, starS *int) bool {
	more := *sx < len(s)
	switch pat[*px] {
	case '*':
		*starP, *starS = *px, *sx
		*px++
		return true
	case '?':
		if more && s[*sx] != '/' {
			*px, *sx = *px+1, *sx+1
			return true
		}
		return false
	case '[':
		if n, ok := classLen(pat[*px+1:]); ok {
			if more && s[*sx] != '/' && inClass(pat[*px+1:*px+n], s[*sx]) {
				*px, *sx = *px+1+n, *sx+1
				return true
			}
			return false
		}
	}
	c, n := pat[*px], 1
	if c == '\\' && *px+1 < len(pat) {
		c, n = pat[*px+1], 2
	}
	if more && s[*sx] == c {
		*px, *sx = *px+n, *sx+1
		return true
	}
	return false
}

// classLen returns the length of a class body after its '[', up to and
// including the closing ']'; a ']' right after the opening (or after its
// negation) is part of the class. ok is false when there is no ']'.
func classLen(pat string) (n int, ok bool) {
	i := 0
	if i < len(pat) && (pat[i] == '!' || pat[i] == '^') {
		i++
	}
	if i < len(pat) && pat[i] == ']' {
		i++
	}
	for ; i < len(pat); i++ {
		switch pat[i] {
		case '\\':
			i++
		case ']':
			return i + 1, true
		}
	}
	return 0, false
}

// inClass reports whether c is in the class body (without the brackets).
func inClass(body string, c byte) bool {
	neg := false
	if body != "" && (body[0] == '!' || body[0] == '^') {
		neg, body = true, body[1:]
	}
	in := false
	for i := 0; i < len(body); i++ {
		lo := body[i]
		if lo == '\\' && i+1 < len(body) {
			i++
			lo = body[i]
		}
		hi := lo
		if i+2 < len(body) && body[i+1] == '-' {
			i += 2
			hi = body[i]
			if hi == '\\' && i+1 < len(body) {
				i++
				hi = body[i]
			}
		}
		if lo <= c && c <= hi {
			in = true
		}
	}
	return in != neg
}
