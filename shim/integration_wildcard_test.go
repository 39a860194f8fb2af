package shim

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// TestIntegrationDirectoryMatchesFile: when FollowSymLinks is in effect
// and the script exists, httpd's walk (request.c ap_directory_walk, its
// "first optimization") treats every remaining path segment as a
// directory without a stat, the script's own name included, so a
// <Directory> section matching the script's path, wildcard or not,
// applies to it; with Options None, -FollowSymLinks or
// SymLinksIfOwnerMatch, in a section or a .htaccess, the walk lstat()s
// the script and stops there, and so it does when path-info follows the
// script. The shim agrees (parser.DirSections with toFile).
func TestIntegrationDirectoryMatchesFile(t *testing.T) {
	docRoot := filepath.Join(lab.TempDir(t), "www")
	script := "<?php echo 'memory_limit=', var_export(ini_get('memory_limit'), true), \"\\n\";\n"
	for _, p := range []string{"base.php", "topi.php", "f/i.php", "f/x.php", "f/named.php", "g/i.php", "h/i.php", "o/i.php", "s/i.php"} {
		writeTestFile(t, filepath.Join(docRoot, p), script)
	}
	writeTestFile(t, filepath.Join(docRoot, "h/.htaccess"), "Options -FollowSymLinks\n")
	ref := startModPHP(t, docRoot, `<Directory "{{DocRoot}}/top*">
    php_value memory_limit 40M
</Directory>
<Directory "{{DocRoot}}/f/[!x]*">
    php_value memory_limit 41M
</Directory>
<Directory "{{DocRoot}}/f/named.php">
    php_value memory_limit 42M
</Directory>
<Directory "{{DocRoot}}/g">
    Options None
</Directory>
<Directory "{{DocRoot}}/g/[!x]*">
    php_value memory_limit 43M
</Directory>
<Directory "{{DocRoot}}/h/i.php">
    php_value memory_limit 44M
</Directory>
<Directory "{{DocRoot}}/o">
    Options +SymLinksIfOwnerMatch
</Directory>
<Directory "{{DocRoot}}/o/*">
    php_value memory_limit 45M
</Directory>
<Directory "{{DocRoot}}/s">
    Options -FollowSymLinks
</Directory>
<Directory "{{DocRoot}}/s/i.php">
    php_value memory_limit 46M
</Directory>`)
	r, err := NewResolver(nil, filepath.Join(ref.dir, "httpd.conf"))
	if err != nil {
		t.Fatal(err)
	}
	base := modPHPINI(t, ref.url, "/base.php")["memory_limit"]
	for _, c := range []struct{ uri, script, want string }{
		{"/topi.php", "topi.php", "'40M'"},
		{"/f/i.php", "f/i.php", "'41M'"},
		{"/f/named.php", "f/named.php", "'42M'"},
		{"/f/named.php/more", "f/named.php", base},
		{"/topi.php/x", "topi.php", base},
		{"/f/x.php", "f/x.php", base},
		{"/g/i.php", "g/i.php", base},
		{"/h/i.php", "h/i.php", base},
		{"/o/i.php", "o/i.php", base},
		{"/s/i.php", "s/i.php", base},
	} {
		if got := modPHPINI(t, ref.url, c.uri)["memory_limit"]; got != c.want {
			t.Errorf("%s: mod_php memory_limit = %s, want %s (base %s)", c.uri, got, c.want, base)
		}
		scriptName := "/" + c.script
		req := Request{DocRoot: docRoot, Script: filepath.Join(docRoot, c.script), URI: c.uri, ServerName: "127.0.0.1",
			PathInfo: c.uri != scriptName}
		res, err := r.Resolve(req)
		want := "-"
		if c.want != base {
			want = "memory_limit=\"" + strings.Trim(c.want, "'") + "\""
		}
		if got := describe(res, err); got != want {
			t.Errorf("%s: the shim applies %s, want %s", c.uri, got, want)
		}
	}
}

// TestIntegrationDirectoryMatchesFileServerOptions: the Options httpd's
// walk starts from are the server's, outside any section, a virtual
// host's merged onto the main server's (core.c merge_core_dir_configs):
// the main server's -FollowSymLinks keeps <Directory> sections off the
// script's own path in a virtual host without Options of its own, and a
// virtual host's +FollowSymLinks puts them back.
func TestIntegrationDirectoryMatchesFileServerOptions(t *testing.T) {
	docRoot := filepath.Join(lab.TempDir(t), "www")
	writeTestFile(t, filepath.Join(docRoot, "i.php"), "<?php echo 'memory_limit=', var_export(ini_get('memory_limit'), true), \"\\n\";\n")
	dir, addr := lab.TempDir(t), fmt.Sprintf("127.0.0.1:%d", lab.FreePort(t))
	conf := modPHPHead(t, dir, addr, "mpm_prefork", "authz_core") +
		"StartServers 1\nMinSpareServers 1\nMaxSpareServers 2\nMaxRequestWorkers 4\nKeepAlive Off\n" +
		"Options -FollowSymLinks\nDocumentRoot " + docRoot + "\n" +
		"<Directory />\n    AllowOverride None\n    Require all denied\n</Directory>\n" +
		"<Directory " + docRoot + ">\n    Require all granted\n</Directory>\n" +
		"<FilesMatch \"\\.php$\">\n    SetHandler application/x-httpd-php\n</FilesMatch>\n" +
		"<Directory " + docRoot + "/i.php>\n    php_value memory_limit 47M\n</Directory>\n" +
		"<VirtualHost *>\n    ServerName plain.test\n    DocumentRoot " + docRoot + "\n</VirtualHost>\n" +
		"<VirtualHost *>\n    ServerName follow.test\n    DocumentRoot " + docRoot + "\n    Options +FollowSymLinks\n</VirtualHost>\n"
	confPath := filepath.Join(dir, "apache2.conf")
	writeTestFile(t, confPath, conf)
	ref := runModPHP(t, dir, addr, confPath, "")
	r, err := NewResolver(nil, confPath)
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{"plain.test": "", "follow.test": "47M"} {
		got := getHost(t, ref.url+"/i.php", host)
		if want == "" && got == "memory_limit='47M'" || want != "" && got != "memory_limit='"+want+"'" {
			t.Errorf("Host %s: mod_php says %q; 47M expected: %v", host, got, want != "")
		}
		res, err := r.Resolve(Request{DocRoot: docRoot, Script: filepath.Join(docRoot, "i.php"), URI: "/i.php", ServerName: host})
		wantShim := "-"
		if want != "" {
			wantShim = `memory_limit="` + want + `"`
		}
		if got := describe(res, err); got != wantShim {
			t.Errorf("Host %s: the shim applies %s, want %s", host, got, wantShim)
		}
	}
}

// TestIntegrationServerAliasWildcards: a request's virtual host, picked
// by mod_php's Apache and by the shim from the same configuration. A
// ServerAlias with '*' or '?' is matched with ap_strcasecmp_match (httpd
// vhost.c matches_aliases): '[' is an ordinary character there, where
// Go's path.Match, which the shim used before, read a class and sent
// xa1.test to the second virtual host; other names fall back to the
// first virtual host.
func TestIntegrationServerAliasWildcards(t *testing.T) {
	docRoot := filepath.Join(lab.TempDir(t), "www")
	writeTestFile(t, filepath.Join(docRoot, "i.php"), "<?php echo 'memory_limit=', var_export(ini_get('memory_limit'), true), \"\\n\";\n")
	ref := startModPHP(t, docRoot, `<VirtualHost *>
    ServerName first.test
    DocumentRoot {{DocRoot}}
    php_value memory_limit 61M
</VirtualHost>
<VirtualHost *>
    ServerName second.test
    ServerAlias "x[ab]*.test" "*.WILD.test" "?.q.test"
    DocumentRoot {{DocRoot}}
    php_value memory_limit 62M
</VirtualHost>`)
	r, err := NewResolver(nil, filepath.Join(ref.dir, "httpd.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{
		"xa1.test":      "61M",
		"second.test":   "62M",
		"a.b.wild.test": "62M",
		"A.Wild.Test":   "62M",
		"z.q.test":      "62M",
		"zz.q.test":     "61M",
	} {
		if got := getHost(t, ref.url+"/i.php", host); got != "memory_limit='"+want+"'" {
			t.Errorf("Host %s: mod_php says %q, want memory_limit='%s'", host, got, want)
		}
		res, err := r.Resolve(Request{DocRoot: docRoot, Script: filepath.Join(docRoot, "i.php"), URI: "/i.php", ServerName: strings.ToLower(host)})
		if got := describe(res, err); got != `memory_limit="`+want+`"` {
			t.Errorf("Host %s: the shim applies %s, want memory_limit=%q", host, got, want)
		}
	}
}

// getHost GETs url with a Host header and returns the body, trimmed.
func getHost(t *testing.T, url, host string) string {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(body))
}
