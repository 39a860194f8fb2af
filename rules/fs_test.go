package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules"
)

// TestOptionsFS: with Options.FS the rules read the document roots from an
// in-memory tree, not from disk: MPM1003 finds the world-writable file
// that exists only there (the document root is not on disk at all).
func TestOptionsFS(t *testing.T) {
	root := t.TempDir()
	conf := "ServerRoot /etc/apache2\n<VirtualHost *:80>\n    DocumentRoot /var/www/site\n</VirtualHost>\n"
	if err := os.MkdirAll(filepath.Join(root, "etc/apache2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/apache2/apache2.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := parser.Load(filepath.Join(root, "etc/apache2"), parser.LoadOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	site := strings.TrimPrefix(filepath.ToSlash(root), "/") + "/var/www/site"
	mem := fstest.MapFS{
		site + "/index.php":      {Data: []byte("<?php\n"), Mode: 0o644},
		site + "/uploads/up.php": {Data: []byte("<?php\n"), Mode: 0o666},
	}
	diags, err := rules.Run(res, &rules.Options{Enable: []string{"MPM1003"}, FS: mem})
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) != 1 || !strings.HasPrefix(diags[0].Message, "1 world-writable file under /var/www/site (most in uploads/ (1))") {
		t.Fatalf("got %+v, want one MPM1003 finding for uploads/up.php", diags)
	}
	if got, want := diags[0].Related[1].Pos.File, filepath.Join(root, "var/www/site/uploads/up.php"); got != want {
		t.Errorf("example %s, want %s", got, want)
	}
	// The same tree on disk has nothing: the rule did not read it.
	diags, err = rules.Run(res, &rules.Options{Enable: []string{"MPM1003"}, FS: fstest.MapFS{site + "/index.php": {Mode: 0o644}}})
	if err != nil || len(diags) != 0 {
		t.Errorf("clean in-memory tree: %+v, %v", diags, err)
	}
}
