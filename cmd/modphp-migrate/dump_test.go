package main

import (
	"bytes"
	"context"
	"testing"
)

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
