package shim

import (
	"path/filepath"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/fcgi"
)

// TestRequestInfoPathInfo: a request whose path goes on past the script,
// in PATH_INFO (SetHandler) or still in SCRIPT_FILENAME (ProxyPassMatch),
// is marked so: httpd's directory walk stops at the script's directory
// for it (TestIntegrationDirectoryMatchesFile).
func TestRequestInfoPathInfo(t *testing.T) {
	root := t.TempDir()
	writeTestFile(t, filepath.Join(root, "a", "i.php"), "<?php\n")
	script := filepath.Join(root, "a", "i.php")
	for _, c := range []struct {
		params fcgi.Params
		want   bool
	}{
		{fcgi.Params{{Name: "SCRIPT_FILENAME", Value: script}, {Name: "SCRIPT_NAME", Value: "/a/i.php"}}, false},
		{fcgi.Params{{Name: "SCRIPT_FILENAME", Value: script}, {Name: "SCRIPT_NAME", Value: "/a/i.php"}, {Name: "PATH_INFO", Value: "/x"}}, true},
		{fcgi.Params{{Name: "SCRIPT_FILENAME", Value: "proxy:fcgi://127.0.0.1:9000" + script + "/x/y"}}, true},
		{fcgi.Params{{Name: "SCRIPT_FILENAME", Value: "proxy:fcgi://127.0.0.1:9000" + script}}, false},
	} {
		info := requestInfo(c.params)
		if info.Script != script || info.PathInfo != c.want {
			t.Errorf("%v: Script %q PathInfo %v, want %q %v", c.params, info.Script, info.PathInfo, script, c.want)
		}
	}
}

// TestResolvePathInfoCached: a cached resolution of a script is not
// reused for the same script and URI with path-info, which the section
// matching the script's own path does not reach.
func TestResolvePathInfoCached(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "apache2.conf")
	writeTestFile(t, conf, "ServerRoot "+dir+"\nDocumentRoot "+dir+"/www\n<Directory "+dir+"/www/i.php>\n    php_value memory_limit 42M\n</Directory>\n")
	r, err := NewResolver(nil, conf)
	if err != nil {
		t.Fatal(err)
	}
	req := Request{DocRoot: dir + "/www", Script: dir + "/www/i.php", URI: "/i.php"}
	for _, c := range []struct {
		pathInfo bool
		want     string
	}{{false, `memory_limit="42M"`}, {true, "-"}, {false, `memory_limit="42M"`}} {
		req.PathInfo = c.pathInfo
		if got := describe(r.Resolve(req)); got != c.want {
			t.Errorf("PathInfo %v: %s, want %s", c.pathInfo, got, c.want)
		}
	}
}
