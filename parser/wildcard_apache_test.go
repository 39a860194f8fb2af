package parser

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestApacheIncludeWildcards: Include wildcards are apr_fnmatch patterns,
// not Go's: "[!x]" is a negated class, a '[' without ']' makes no
// wildcard, a wildcard across components is none, and a leading '.' needs
// a literal one. The loader includes the files apache2 -D DUMP_INCLUDES
// lists, in its order.
func TestApacheIncludeWildcards(t *testing.T) {
	needApache(t)
	dir := t.TempDir()
	w := func(rel, body string) { writeFile(t, filepath.Join(dir, rel), body) }
	for _, f := range []string{"neg/a.conf", "neg/x.conf", "neg/!.conf", "neg/.b.conf",
		"open/a[b.conf", "across/a[b/c]d.conf", "dot/.a.conf", "dot/b.conf", "caret/a.conf", "caret/y.conf"} {
		w(f, "# "+f+"\n")
	}
	mods := "/usr/lib/apache2/modules"
	main := fmt.Sprintf(`ServerRoot %q
DefaultRuntimeDir %s
PidFile %s/httpd.pid
ErrorLog %s/error.log
LoadModule mpm_prefork_module %s/mod_mpm_prefork.so
LoadModule authz_core_module %s/mod_authz_core.so
ServerName main.test
Listen 127.0.0.1:21399
Include neg/[!x]*.conf
Include open/a[b.conf
Include across/a[b/c]d.conf
Include dot/\.*.conf
Include dot/[.b]*.conf
Include caret/[^y]*
<VirtualHost *:21399>
    ServerName v.test
</VirtualHost>
`, dir, dir, dir, dir, mods, mods)
	w("httpd.conf", main)
	conf := filepath.Join(dir, "httpd.conf")
	compareWithApache(t, dir, conf, LoadOptions{NoAccessFiles: true})
	cfg, err := LoadView(conf, Today, LoadOptions{NoAccessFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range cfg.Files[1:] {
		got = append(got, strings.TrimPrefix(f.Path, dir+"/"))
	}
	want := "neg/!.conf neg/a.conf open/a[b.conf across/a[b/c]d.conf dot/.a.conf dot/b.conf caret/a.conf"
	if strings.Join(got, " ") != want {
		t.Errorf("included %v, want %s", got, want)
	}
}
