package aprmatch

import (
	"math/rand/v2"
	"path"
	"testing"
)

// goDiffers lists patterns where Go's path.Match (which the parser, the
// shim and lint used before this package) and httpd's matchers disagree.
// Each row gives apr_fnmatch's answer with the flags httpd uses there, and
// path.Match's answer and error.
var goDiffers = []struct {
	why            string
	pattern, name  string
	flags          Flags
	apr            bool
	goMatch, goErr bool
}{
	{"'!' negates a class", "/srv/www/[!x]*", "/srv/www/abc", PathName, true, false, false},
	{"'!' negates a class (negative case)", "/srv/www/[!x]*", "/srv/www/xyz", PathName, false, true, false},
	{"a '[' without ']' is an ordinary character", "a[b", "a[b", PathName, true, false, true},
	{"a trailing '\\' is an ordinary character", `a\`, `a\`, PathName, true, false, true},
	{"an empty class is not a class", "a[]", "a[]", PathName, true, false, true},
	{"']' first in a class is a member", "[]a]", "]", PathName, true, false, true},
	{"a class with '/' is not a class in pathname mode", "a[/]b", "a[/]b", PathName, true, false, false},
	{"a class never matches '/' in pathname mode", "a[^x]b", "a/b", PathName, false, true, false},
	{"\"x-]\" is x, '-' and the end of the class", "[a-]", "-", PathName, true, false, true},
	{"a range after a range: \"[a-m-z]\" has '-' and 'z'", "[a-m-z]", "-", 0, true, false, true},
	{"the leading period needs a literal '.' (Include)", "*.conf", ".hidden.conf", Period, false, true, false},
	{"the leading period needs a literal '.', per segment", "/etc/*/x", "/etc/.git/x", PathName | Period, false, true, false},
	{"case-blind letters", "/SRV/*", "/srv/www", PathName | CaseBlind, true, false, false},
	{"case-blind ranges", "[A-C]x", "bx", CaseBlind, true, false, false},
}

func TestDiffersFromGo(t *testing.T) {
	for _, c := range goDiffers {
		if got := Match(c.pattern, c.name, c.flags); got != c.apr {
			t.Errorf("%s: Match(%q, %q, %d) = %v, want %v", c.why, c.pattern, c.name, c.flags, got, c.apr)
		}
		ok, err := path.Match(c.pattern, c.name)
		if ok != c.goMatch || (err != nil) != c.goErr {
			t.Errorf("%s: path.Match(%q, %q) = %v, %v; the table says %v, error %v", c.why, c.pattern, c.name, ok, err, c.goMatch, c.goErr)
		}
		if ok == c.apr && err == nil && c.flags&(Period|CaseBlind) == 0 {
			t.Errorf("%s: path.Match agrees with apr_fnmatch; the row shows no difference", c.why)
		}
	}
}

// caseDiffers lists where ap_strcasecmp_match (ServerAlias) and the
// shim's former lower-cased path.Match disagree.
var caseDiffers = []struct {
	pattern, host string
	want          bool
}{
	{"*.example.com", "a/b.example.com", true},
	{"*", "a/b", true},
	{"www.[ab].com", "www.[ab].com", true},
	{"www.[ab].com", "www.a.com", false},
	{`www\.x.com`, `www\.x.com`, true},
	{"ex?mple.*", "EX/MPLE.org", true},
}

func TestCaseMatchDiffersFromGo(t *testing.T) {
	for _, c := range caseDiffers {
		if got := CaseMatch(c.pattern, c.host); got != c.want {
			t.Errorf("CaseMatch(%q, %q) = %v, want %v", c.pattern, c.host, got, c.want)
		}
		if ok, err := path.Match(lowerASCII(c.pattern), lowerASCII(c.host)); ok == c.want && err == nil {
			t.Errorf("path.Match(%q, %q) agrees; the row shows no difference", c.pattern, c.host)
		}
	}
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if isUpper(c) {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func TestCaseMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, host string
		want          bool
	}{
		{"*.example.com", "www.example.com", true},
		{"*.example.com", "example.com", false},
		{"*.Example.COM", "WWW.example.com", true},
		{"www.example.???", "www.example.com", true},
		{"www.example.???", "www.example.co", false},
		{"**", "", true},
		{"?", "", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"", "", true},
		{"", "a", false},
		{"a\x00b", "a", true},
	} {
		if got := CaseMatch(c.pattern, c.host); got != c.want {
			t.Errorf("CaseMatch(%q, %q) = %v, want %v", c.pattern, c.host, got, c.want)
		}
		if got := caseMatchRef(c.pattern, c.host); got != c.want {
			t.Errorf("caseMatchRef(%q, %q) = %v, want %v", c.pattern, c.host, got, c.want)
		}
	}
}

// caseMatchRef follows ap_strcasecmp_match's recursion, its -1 "abort"
// included, as a reference for the fuzz target.
func caseMatchRef(pattern, s string) bool {
	return strcasecmpMatch(cString(s), cString(pattern)) == 0
}

func strcasecmpMatch(s, p string) int {
	x := 0
	for y := 0; y < len(p); y, x = y+1, x+1 {
		if x == len(s) && p[y] != '*' {
			return -1
		}
		if p[y] == '*' {
			for y < len(p) && p[y] == '*' {
				y++
			}
			if y == len(p) {
				return 0
			}
			for x < len(s) {
				if r := strcasecmpMatch(s[x:], p[y:]); r != 1 {
					return r
				}
				x++
			}
			return -1
		}
		if p[y] != '?' && lower(s[x]) != lower(p[y]) {
			return 1
		}
	}
	if x < len(s) {
		return 1
	}
	return 0
}

// TestAgainstLibapr asks the system's libapr about the tables, the fuzz
// seeds and random patterns over an alphabet of the characters that
// matter, with every combination of flags.
func TestAgainstLibapr(t *testing.T) {
	o := aprOracle(t)
	check := func(p, s string, f Flags) {
		t.Helper()
		if got, want := Match(p, s, f), o.match(t, p, s, f); got != want {
			t.Errorf("Match(%q, %q, %d) = %v, libapr says %v", p, s, f, got, want)
		}
	}
	for _, c := range goDiffers {
		check(c.pattern, c.name, c.flags)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ab.A/-]*?[!^\\"
	gen := func(n int) string {
		b := make([]byte, rng.IntN(n+1))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	for i := 0; i < 40000; i++ {
		p, s := gen(8), gen(6)
		if rng.IntN(3) == 0 {
			s = p // patterns against themselves reach the literal paths
		}
		check(p, s, Flags(rng.IntN(8)))
		if got, want := IsPattern(p), o.isPattern(t, p); got != want {
			t.Errorf("IsPattern(%q) = %v, libapr says %v", p, got, want)
		}
	}
}
