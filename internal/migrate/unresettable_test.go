package migrate

import (
	"strings"
	"testing"
)

// TestUnresettableOwnPool: a directory with a php_value PHP cannot set
// back to the pools' empty value (intl.default_locale), from a
// <Directory> or a .htaccess the shim applies, gets a scope, pool and
// handler of its own, and the shim routes it there (--pool-for): the
// shim refuses such a value on a pool that serves other directories. The
// server-config value goes to that pool; a directive PHP can reset, or
// one whose pools' value is not empty (include_path), needs no pool.
func TestUnresettableOwnPool(t *testing.T) {
	root := writeTree(t, map[string]string{
		"etc/apache2/apache2.conf": "ServerRoot /etc/apache2\nUser www-data\nGroup www-data\n" +
			"<VirtualHost *:80>\n\tServerName s.test\n\tDocumentRoot /srv/s\n" +
			"\t<Directory /srv/s>\n\t\tAllowOverride All\n\t</Directory>\n" +
			"\t<Directory /srv/s/intl>\n\t\tphp_value intl.default_locale fr_FR\n\t</Directory>\n" +
			"\t<Directory /srv/s/inc>\n\t\tphp_value include_path .:/srv/s/lib\n\t</Directory>\n" +
			"</VirtualHost>\n",
		"srv/s/.htaccess":          "php_value memory_limit 64M\n",
		"srv/s/lang/.htaccess":     "php_value intl.default_locale de_DE\n",
		"srv/s/lang/sub/.htaccess": "php_value memory_limit 96M\n",
		"srv/s/index.php":          "<?php\n",
		"srv/s/intl/index.php":     "<?php\n",
		"srv/s/lang/index.php":     "<?php\n",
		"srv/s/inc/index.php":      "<?php\n",
	})
	p := planTree(t, root, HTAccessShim)
	var got []string
	for _, pl := range p.Placements {
		got = append(got, pl.Dir+" "+pl.Key+" "+pl.Target+" "+pl.Scope+" "+pl.Pool+" "+pl.File)
	}
	want := []string{
		"/srv/s/intl intl.default_locale pool s.test:/srv/s/intl s-test-srv-s-intl /etc/php/8.2/fpm/pool.d/modphp-migrate-s-test-srv-s-intl.conf",
		"/srv/s/inc include_path user-ini s.test www-data /srv/s/inc/.user.ini",
		"/srv/s memory_limit shim s.test www-data ",
		"/srv/s/lang intl.default_locale shim s.test:/srv/s/lang s-test-srv-s-lang ",
		"/srv/s/lang/sub memory_limit shim s.test:/srv/s/lang s-test-srv-s-lang ",
	}
	checkLines(t, "placements", got, want)
	if p.Shim == nil {
		t.Fatal("no shim planned")
	}
	routes := map[string]string{
		"/srv/s/lang": "unix:/run/php/modphp-migrate-s-test-srv-s-lang.sock",
		// below /srv/s, whose .htaccess the shim applies
		"/srv/s/intl": "unix:/run/php/modphp-migrate-s-test-srv-s-intl.sock",
	}
	if len(p.Shim.Routes) != len(routes) {
		t.Errorf("shim routes %v, want %v", p.Shim.Routes, routes)
	}
	for d, addr := range routes {
		if p.Shim.Routes[d] != addr {
			t.Errorf("shim route for %s = %q, want %q", d, p.Shim.Routes[d], addr)
		}
	}
	files := map[string]string{}
	for _, f := range p.Files {
		files[f.Path] = f.After
	}
	if pool := files["/etc/php/8.2/fpm/pool.d/modphp-migrate-s-test-srv-s-intl.conf"]; !strings.Contains(pool, "\nphp_value[intl.default_locale] = fr_FR\n") {
		t.Errorf("intl's pool file:\n%s", pool)
	}
	conf := files["/etc/apache2/conf.d/"+ConfName]
	for _, dir := range []string{"/srv/s/intl", "/srv/s/lang"} {
		if !strings.Contains(conf, "<Directory \""+dir+"\">\n\t<FilesMatch \".+\\.ph(?:ar|p|tml)$\">\n\t\t<If \"-f %{REQUEST_FILENAME}\">\n\t\t\tSetHandler \"proxy:unix:"+ShimSocket+"|fcgi://localhost\"\n") {
			t.Errorf("no handler through the shim for %s:\n%s", dir, conf)
		}
	}
}
