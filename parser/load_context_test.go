package parser

import (
	"context"
	"errors"
	"testing"
)

// TestLoadContextCanceled: a load whose context is done gives up with the
// context's error instead of a partial tree, and counts what it read.
func TestLoadContextCanceled(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"apache2.conf":  "Include sites/*.conf\n",
		"sites/a.conf":  "<VirtualHost *:80>\nDocumentRoot /nonexistent\n</VirtualHost>\n",
		"sites/b.conf":  "ServerName b\n",
		"www/.htaccess": "Options -Indexes\n",
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := LoadContext(ctx, dir, LoadOptions{})
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Fatalf("LoadContext after cancel = %v, %v; want nil, context.Canceled", res, err)
	}

	var p Progress
	res, err = LoadContext(context.Background(), dir, LoadOptions{Progress: &p})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Files.Load(); got != 3 {
		t.Errorf("Progress.Files = %d, want 3 (apache2.conf and two sites)", got)
	}
	if len(res.Today.Files) != 3 {
		t.Errorf("loaded %d files, want 3", len(res.Today.Files))
	}
}

// TestLoadSingleBytes parses content under a name that is not on disk,
// in both views.
func TestLoadSingleBytes(t *testing.T) {
	res, err := LoadSingleBytes("site/.htaccess", []byte("php_flag engine off\n"), true, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Config{res.Today, res.After} {
		if len(c.Access) != 1 || c.Access[0].File.Path != "site/.htaccess" || len(c.Access[0].File.Nodes) != 1 {
			t.Fatalf("%s view: access files %+v", c.View, c.Access)
		}
	}
	if res.Today.Access[0].File == res.After.Access[0].File {
		t.Error("both views share one parsed file")
	}
}

// TestLoadSingleTreeEnvvars: a fragment inside a Debian tree sees the
// variables of the tree's envvars; a fragment elsewhere does not.
func TestLoadSingleTreeEnvvars(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"etc/apache2/apache2.conf":                   "ServerName x\n",
		"etc/apache2/envvars":                        "export APACHE_LOG_DIR=/var/log/apache2$SUFFIX\n",
		"etc/apache2/sites-enabled/000-default.conf": "ErrorLog ${APACHE_LOG_DIR}/error.log\n",
		"elsewhere/site.conf":                        "ErrorLog ${APACHE_LOG_DIR}/error.log\n",
	})
	for name, want := range map[string]string{
		"etc/apache2/sites-enabled/000-default.conf": "/var/log/apache2/error.log",
		"elsewhere/site.conf":                        "${APACHE_LOG_DIR}/error.log",
	} {
		res, err := LoadSingle(dir+"/"+name, false, LoadOptions{Env: func(string) (string, bool) { return "", false }})
		if err != nil {
			t.Fatal(err)
		}
		n := res.Today.Main.Nodes[0]
		if len(n.Args) != 1 || n.Args[0] != want {
			t.Errorf("%s: ErrorLog args %q, want %q", name, n.Args, want)
		}
	}
}

// TestEnvvarsExportedOnly: ${VAR} takes from envvars only what it exports
// (export NAME=value, or export NAME after the assignment); another
// assignment stays in the shell that sources the file, and apache2 leaves
// the reference as written.
func TestEnvvarsExportedOnly(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"etc/apache2/apache2.conf": "ServerName x\nErrorLog ${EXPORTED}|${LATER}|${PLAIN}\n",
		"etc/apache2/envvars":      "export EXPORTED=/e\nLATER=/l\nexport LATER\nPLAIN=/p\n",
	})
	cfg, err := LoadView(dir+"/etc/apache2", AfterModPHP, LoadOptions{Env: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	n := cfg.Main.Nodes[1]
	if want := "/e|/l|${PLAIN}"; len(n.Args) != 1 || n.Args[0] != want {
		t.Errorf("ErrorLog args %q, want %q", n.Args, want)
	}
	if _, ok := cfg.Envvars["PLAIN"]; ok {
		t.Errorf("Envvars %v holds an assignment envvars does not export", cfg.Envvars)
	}
}
