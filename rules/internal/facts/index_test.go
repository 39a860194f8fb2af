package facts

import (
	"fmt"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

func TestUnder(t *testing.T) {
	for _, tc := range []struct {
		p, dir string
		want   bool
	}{
		{"/var/www/site", "/var/www/site", true},
		{"/var/www/site/up", "/var/www/site/", true},
		{"/var/www/sites", "/var/www/site", false},
		{"/var/www", "/var/www/site", false},
		{"/anything", "/", true},
	} {
		if got := Under(tc.p, tc.dir); got != tc.want {
			t.Errorf("Under(%q, %q) = %v, want %v", tc.p, tc.dir, got, tc.want)
		}
	}
}

func TestPHPNames(t *testing.T) {
	php8 := PHPNames(nil)
	if !php8["mod_php.c"] || !php8["php_module"] || php8["mod_php8.c"] || len(php8) != 2 {
		t.Errorf("PHP 8 names = %v", php8)
	}
	php7 := PHPNames(&parser.Config{Modules: []parser.Module{{ID: "rewrite_module"}, {ID: "php7_module"}}})
	if !php7["mod_php7.c"] || !php7["php7_module"] || len(php7) != 2 {
		t.Errorf("PHP 7 names = %v", php7)
	}
}

// TestNamedUnindexed: a name Build was not given is indexed on first use,
// in tree order among the names indexed before, instead of panicking.
func TestNamedUnindexed(t *testing.T) {
	dir := func(name string, line int) *parser.Node {
		return &parser.Node{Kind: parser.KindDirective, Name: name, Pos: parser.Pos{File: "a.conf", Line: line, Col: 1}, Active: true}
	}
	cfg := &parser.Config{Main: &parser.File{Path: "a.conf", Nodes: []*parser.Node{
		dir("Timeout", 1), dir("SetHandler", 2), dir("ProxyTimeout", 3), dir("timeout", 4),
	}}}
	x := Build(cfg, cfg, map[string]bool{"sethandler": true})
	var got []int
	for _, e := range x.Named("TIMEOUT", "SetHandler") {
		got = append(got, e.Node.Pos.Line)
		if !e.Today || !e.After {
			t.Errorf("line %d not in effect in both views", e.Node.Pos.Line)
		}
	}
	if fmt.Sprint(got) != "[1 2 4]" {
		t.Errorf("Named = lines %v, want [1 2 4]", got)
	}
	if n := len(x.Named("NoSuchDirective")); n != 0 {
		t.Errorf("unknown directive: %d entries", n)
	}
}
