package conf

import (
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
