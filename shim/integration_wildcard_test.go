package shim

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// TestIntegrationDirectoryMatchesFile shows a limit of the shim's model
// of httpd's directory walk (parser.DirSections walks directories only):
// when FollowSymLinks is in effect and the script exists, httpd's walk
// (request.c ap_directory_walk, its "first optimization") treats every
// remaining path segment as a directory without a stat, the script's own
// name included, so a <Directory> section matching the script's path,
// wildcard or not, applies to it; with FollowSymLinks off the walk stops
// at the file and the section does not apply.
func TestIntegrationDirectoryMatchesFile(t *testing.T) {
	docRoot := filepath.Join(lab.TempDir(t), "www")
	script := "<?php echo 'memory_limit=', var_export(ini_get('memory_limit'), true), \"\\n\";\n"
	for _, p := range []string{"base.php", "f/i.php", "f/x.php", "f/named.php", "g/i.php"} {
		writeTestFile(t, filepath.Join(docRoot, p), script)
	}
	ref := startModPHP(t, docRoot, `<Directory "{{DocRoot}}/f/[!x]*">
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
</Directory>`)
	base := modPHPINI(t, ref.url, "/base.php")["memory_limit"]
	for p, want := range map[string]string{
		"/f/i.php":     "'41M'",
		"/f/named.php": "'42M'",
		"/f/x.php":     base,
		"/g/i.php":     base,
	} {
		if got := modPHPINI(t, ref.url, p)["memory_limit"]; got != want {
			t.Errorf("%s: mod_php memory_limit = %s, want %s (base %s)", p, got, want, base)
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
		req, err := http.NewRequest("GET", ref.url+"/i.php", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := strings.TrimSpace(string(body)); got != "memory_limit='"+want+"'" {
			t.Errorf("Host %s: mod_php says %q, want memory_limit='%s'", host, got, want)
		}
		res, err := r.Resolve(Request{DocRoot: docRoot, Script: filepath.Join(docRoot, "i.php"), URI: "/i.php", ServerName: strings.ToLower(host)})
		if got := describe(res, err); got != `memory_limit="`+want+`"` {
			t.Errorf("Host %s: the shim applies %s, want memory_limit=%q", host, got, want)
		}
	}
}
