package migrate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// dokuwikiTree writes Debian's DokuWiki layout under dir, with every
// absolute path of the configuration and of the links prefixed by abs
// ("" for a tree read under --root): the Alias directory's .htaccess is
// an absolute link to /etc/dokuwiki/htaccess, the site's vhost a relative
// sites-enabled link.
func dokuwikiTree(t *testing.T, dir, abs string) {
	t.Helper()
	files := map[string]string{
		"etc/apache2/apache2.conf": "ServerRoot " + abs + "/etc/apache2\nUser www-data\nGroup www-data\n" +
			"LoadModule php_module /usr/lib/apache2/modules/libphp8.2.so\n" +
			"IncludeOptional sites-enabled/*.conf\n" +
			"Alias /dokuwiki " + abs + "/usr/share/dokuwiki\n<Directory " + abs + "/usr/share/dokuwiki>\n\tAllowOverride All\n</Directory>\n",
		"etc/apache2/sites-available/site.conf": "<VirtualHost *:80>\n\tServerName site.test\n\tDocumentRoot " + abs + "/var/www/site\n\tphp_value memory_limit 256M\n</VirtualHost>\n",
		"etc/dokuwiki/htaccess":                 "Options -Indexes\nphp_flag display_errors off\n",
		"usr/share/dokuwiki/doku.php":           "<?php\n",
		"var/www/site/index.php":                "<?php\n",
	}
	writeFiles(t, dir, files)
	if err := os.MkdirAll(filepath.Join(dir, "etc/apache2/sites-enabled"), 0o755); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"usr/share/dokuwiki/.htaccess":        abs + "/etc/dokuwiki/htaccess",
		"etc/apache2/sites-enabled/site.conf": "../sites-available/site.conf",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
}

// wrapComment is the line plan puts above a wrap.
const wrapComment = "# modphp-migrate plan: mod_php only; php-fpm gets these from the plan's pools, .user.ini or the shim"

// TestPlanEditsThroughSymlinks: a file read through a symbolic link is
// changed where the link leads, under --root inside the root (this
// machine has no /etc/dokuwiki), and without --root on this machine; the
// diff says so, and positions keep the path the tree reads.
func TestPlanEditsThroughSymlinks(t *testing.T) {
	for _, underRoot := range []bool{true, false} {
		dir, err := filepath.EvalSymlinks(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		abs, root := dir, ""
		if underRoot {
			abs, root = "", dir
		}
		dokuwikiTree(t, dir, abs)
		res, err := parser.Load(filepath.Join(dir, "etc/apache2"), parser.LoadOptions{Root: root})
		if err != nil {
			t.Fatal(err)
		}
		p, err := Build(Input{Today: res.Today, After: res.After, Root: root,
			Owner: func(string) (uint32, uint32, bool) { return 0, 0, true }})
		if err != nil {
			t.Fatalf("root %q: %v", root, err)
		}
		files := map[string]*File{}
		for _, f := range p.Changed() {
			files[f.Path] = f
		}
		for _, c := range []struct{ link, target, after string }{
			{"/usr/share/dokuwiki/.htaccess", "/etc/dokuwiki/htaccess",
				"Options -Indexes\n" + wrapComment + "\n<IfModule mod_php.c>\nphp_flag display_errors off\n</IfModule>\n"},
			{"/etc/apache2/sites-enabled/site.conf", "/etc/apache2/sites-available/site.conf",
				"<VirtualHost *:80>\n\tServerName site.test\n\tDocumentRoot " + abs + "/var/www/site\n\t" + wrapComment + "\n\t<IfModule mod_php.c>\n\tphp_value memory_limit 256M\n\t</IfModule>\n</VirtualHost>\n"},
		} {
			link, target := abs+c.link, abs+c.target
			if f := files[link]; f != nil {
				t.Errorf("root %q: the link %s is replaced by a file", root, link)
			}
			f := files[target]
			if f == nil {
				t.Errorf("root %q: %s is not changed; changed: %v", root, target, files)
				continue
			}
			if f.Action != "change" || f.Via != link || f.After != c.after {
				t.Errorf("root %q: %s = %s via %q:\n%s", root, target, f.Action, f.Via, f.After)
			}
			note := "# " + link + " is a symbolic link to " + target + ": the change is made there\n--- " + target + "\n+++ " + target + "\n"
			if !strings.Contains(p.Diff(), note) {
				t.Errorf("root %q: the diff lacks %q:\n%s", root, note, p.Diff())
			}
		}
		pls := p.For(parser.Pos{File: filepath.Join(dir, "usr/share/dokuwiki/.htaccess"), Line: 2})
		if len(pls) != 1 || pls[0].Source.File != abs+"/usr/share/dokuwiki/.htaccess" || !pls[0].Wrapped {
			t.Errorf("root %q: placements of the .htaccess line: %+v", root, pls)
		}
	}
}
