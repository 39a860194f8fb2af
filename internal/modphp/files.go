package modphp

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/aprmatch"
)

// Files is the test a <Files> or <FilesMatch> section applies to a
// request, as httpd's file walk (server/request.c ap_file_walk) applies it
// to the base name of the file the request maps to (path info removed):
// a regular expression for <FilesMatch re> and <Files ~ re>, apr_fnmatch
// with APR_FNM_PATHNAME for a name apr_fnmatch_test calls a pattern
// (package aprmatch), an exact, case-sensitive comparison otherwise. The zero Files matches every name (no section).
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
	if aprmatch.IsPattern(args[0]) {
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
		return aprmatch.Match(f.pat, base, aprmatch.PathName)
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
