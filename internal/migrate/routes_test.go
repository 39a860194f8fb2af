package migrate

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// routeTree is a server with two sites routed to php-fpm by
// ProxyPassMatch: a to 127.0.0.1:9000, where the existing pool www
// (Apache's user, no settings) listens; b to 127.0.0.1:9001, where no pool
// does. b's .htaccess also has a setting for the shim.
var routeTree = map[string]string{
	"etc/apache2/apache2.conf": "ServerRoot /etc/apache2\nUser www-data\nGroup www-data\n" +
		"<VirtualHost *:80>\n\tServerName a.test\n\tDocumentRoot /srv/a\n" +
		"\tProxyPassMatch ^/(.*\\.php)$ fcgi://127.0.0.1:9000/srv/a/$1\n</VirtualHost>\n" +
		"<VirtualHost *:80>\n\tServerName b.test\n\tDocumentRoot /srv/b\n" +
		"\tProxyPassMatch ^/(.*\\.php(/.*)?)$ fcgi://localhost:9001/srv/b/$1\n" +
		"\t<Directory /srv/b>\n\t\tAllowOverride All\n\t</Directory>\n</VirtualHost>\n",
	"etc/php/8.2/fpm/php-fpm.conf": "[global]\n[www]\nuser = www-data\ngroup = www-data\nlisten = 127.0.0.1:9000\npm = ondemand\npm.max_children = 2\n",
	"srv/a/index.php":              "<?php\n",
	"srv/b/index.php":              "<?php\n",
	"srv/b/.htaccess":              "php_value memory_limit 64M\n",
}

// TestRoutes: the plan decides which backend serves a directory an
// existing route sends to php-fpm. a's route reaches the pool the plan
// reuses for it (www on 127.0.0.1:9000): kept, and the plan's handler for
// /srv/a points there too. b's goes to an address no pool of the plan
// has: replaced — put under <IfModule mod_php.c>, the plan's handler (the
// shim, for b's .htaccess) serves /srv/b — and planning the applied tree
// changes nothing.
func TestRoutes(t *testing.T) {
	root := writeTree(t, routeTree)
	p := planRoutes(t, root)
	var got []string
	for _, r := range p.Routes {
		got = append(got, r.Source.File+":"+itoa(r.Source.Line)+" "+r.Backend+" "+r.Scope+" "+r.Action+" "+r.Handler)
	}
	want := []string{
		"/etc/apache2/apache2.conf:7 127.0.0.1:9000 a.test keep proxy:fcgi://127.0.0.1:9000",
		"/etc/apache2/apache2.conf:12 localhost:9001 b.test replace proxy:unix:" + ShimSocket + "|fcgi://localhost",
	}
	checkLines(t, "routes", got, want)
	if r := p.RouteAt(parser.Pos{File: filepath.Join(root, "etc/apache2/apache2.conf"), Line: 12}); r == nil || r.Action != RouteReplace {
		t.Errorf("RouteAt(apache2.conf:12 under the root) = %+v", r)
	}
	files := map[string]*File{}
	for _, f := range p.Files {
		files[f.Path] = f
	}
	conf := files["/etc/apache2/apache2.conf"]
	if conf == nil || !strings.Contains(conf.After, "\t<IfModule mod_php.c>\n\tProxyPassMatch ^/(.*\\.php(/.*)?)$ fcgi://localhost:9001/srv/b/$1\n\t</IfModule>\n") ||
		strings.Contains(conf.After, "<IfModule mod_php.c>\n\tProxyPassMatch ^/(.*\\.php)$") {
		t.Fatalf("apache2.conf after the plan: %+v", conf)
	}
	handlers := files["/etc/apache2/conf.d/"+ConfName].After
	for dir, h := range map[string]string{"/srv/a": "proxy:fcgi://127.0.0.1:9000", "/srv/b": "proxy:unix:" + ShimSocket + "|fcgi://localhost"} {
		if !strings.Contains(handlers, "<Directory \""+dir+"\">\n\t<FilesMatch \".+\\.ph(?:ar|p|tml)$\">\n\t\t<If \"-f %{REQUEST_FILENAME}\">\n\t\t\tSetHandler \""+h+"\"\n") {
			t.Errorf("no handler %s for %s:\n%s", h, dir, handlers)
		}
	}
	apply(t, p, root)
	again := planRoutes(t, root)
	if d := again.Diff(); strings.Contains(d, "apache2.conf") || strings.Contains(d, ConfName) {
		t.Errorf("planning the applied tree changes:\n%s", d)
	}
	if len(again.Routes) != 2 || again.Routes[1].Action != RouteReplace {
		t.Errorf("routes of the applied tree: %+v", again.Routes)
	}
}

func planRoutes(t *testing.T, root string) *Plan {
	t.Helper()
	res := loadRoot(t, root)
	fpmPath := filepath.Join(root, "etc/php/8.2/fpm/php-fpm.conf")
	fpm, err := fpmconf.Load(fpmPath)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Build(Input{Today: res.Today, After: res.After, Root: root, FPM: fpm, FPMPath: fpmPath,
		Owner: func(string) (uint32, uint32, bool) { return 0, 0, true }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
