package shim

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/phpini"
)

// TestExclusiveFor: a pool serves nothing but a scope when each of its
// roots lies at or under the scope's directory.
func TestExclusiveFor(t *testing.T) {
	for _, tc := range []struct {
		roots []string
		scope string
		want  bool
	}{
		{[]string{"/"}, "/", true},
		{[]string{"/"}, "/usr/share/phpmyadmin", false}, // the default pool serves everything
		{[]string{"/usr/share/phpmyadmin"}, "/usr/share/phpmyadmin", true},
		{[]string{"/usr/share/phpmyadmin/sub"}, "/usr/share/phpmyadmin", true},
		{[]string{"/usr/share/phpmyadmin2"}, "/usr/share/phpmyadmin", false},
		{[]string{"/usr/share"}, "/usr/share/phpmyadmin", false},
		{[]string{"/usr/share/phpmyadmin", "/srv/other"}, "/usr/share/phpmyadmin", false},
		{[]string{"/usr/share/phpmyadmin"}, "", false}, // <Files>, <Location>: narrower than any pool
		{nil, "/", false},
	} {
		if got := exclusiveFor(tc.roots, tc.scope); got != tc.want {
			t.Errorf("exclusiveFor(%v, %q) = %v, want %v", tc.roots, tc.scope, got, tc.want)
		}
	}
}

// TestDocsListUnresettable: docs/shim.md names every directive of the
// generated lists, in both of its lists, and no other.
func TestDocsListUnresettable(t *testing.T) {
	b, err := os.ReadFile("../docs/shim.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "### Settings PHP cannot reset")
	end := strings.Index(doc[start:], "The shim applies such a setting")
	if start < 0 || end < 0 {
		t.Fatal("docs/shim.md lacks the section")
	}
	sec := doc[start : start+end]
	all, empty, _ := strings.Cut(sec[strings.Index(sec, "checked by"):], "Only those")
	for _, c := range []struct {
		text  string
		names []string
	}{{all, phpini.RefusesEmptyNames()}, {empty, phpini.UnresettableByDefaultNames()}} {
		var got []string
		for _, m := range regexp.MustCompile("`([a-z_.]+)`").FindAllStringSubmatch(c.text, -1) {
			if m[1] != "reset_gen.go" {
				got = append(got, m[1])
			}
		}
		if strings.Join(got, " ") != strings.Join(c.names, " ") {
			t.Errorf("docs/shim.md lists\n%v\nthe generated list is\n%v", got, c.names)
		}
	}
}
