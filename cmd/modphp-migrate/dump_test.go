package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestDumpHelp compares dump -h with its golden file (go test -update).
func TestDumpHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"dump", "--help"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	golden := filepath.Join("testdata", "dump.help.golden")
	if updating() {
		if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if stdout.String() != string(want) {
		t.Errorf("dump --help differs from %s (go test -update to refresh):\n%s", golden, stdout.String())
	}
}

// TestDumpExample loads the shipped example server: every enabled vhost is
// found with its file:line and nothing is an error.
func TestDumpExample(t *testing.T) {
	var stdout, stderr bytes.Buffer
	root := "../../docs/examples/legacy-server"
	code := run(context.Background(), []string{"dump", "--format=json", "--root", root, root + "/etc/apache2"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{
		`"server_name": "shop.example.test"`,
		`"server_name": "api.example.test"`,
		`"file": "../../docs/examples/legacy-server/etc/apache2/sites-enabled/blog.conf",` + "\n" + `      "line": 3`,
	} {
		if !bytes.Contains(stdout.Bytes(), []byte(want)) {
			t.Errorf("output lacks %s", want)
		}
	}
}
