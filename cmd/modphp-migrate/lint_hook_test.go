package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestPreCommitHook checks ../../.pre-commit-hooks.yaml: the hook id, that
// it runs lint, and which file names its files/exclude patterns select
// (pre-commit matches them with Python's re.search; these patterns use only
// syntax RE2 shares).
func TestPreCommitHook(t *testing.T) {
	data, err := os.ReadFile("../../.pre-commit-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^[ -]*` + name + `:\s*(.*)$`).FindStringSubmatch(string(data))
		if m == nil {
			t.Fatalf("no %s in .pre-commit-hooks.yaml", name)
		}
		return strings.Trim(strings.TrimSpace(m[1]), "'")
	}
	if got := field("id"); got != "modphp-migrate" {
		t.Errorf("id = %q", got)
	}
	if got := field("language"); got != "golang" {
		t.Errorf("language = %q", got)
	}
	if got := field("entry"); !strings.HasPrefix(got, "modphp-migrate lint") {
		t.Errorf("entry = %q", got)
	}
	files := regexp.MustCompile(field("files"))
	exclude := regexp.MustCompile(field("exclude"))
	selected := func(p string) bool { return files.MatchString(p) && !exclude.MatchString(p) }
	for _, p := range []string{".htaccess", "var/www/site/.htaccess", "apache2.conf", "etc/apache2/sites-available/shop.conf",
		"etc/apache2/sites-enabled/000-default", "conf.d/vhost.conf", "httpd.conf"} {
		if !selected(p) {
			t.Errorf("%s is not linted", p)
		}
	}
	for _, p := range []string{"README.md", "index.php", "etc/php/8.2/fpm/pool.d/www.conf", "etc/php/8.2/fpm/php-fpm.conf",
		"php-fpm.d/site.conf", ".htaccess.bak", "site/.user.ini"} {
		if selected(p) {
			t.Errorf("%s is linted", p)
		}
	}
}
