package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteErrors: output that cannot be written (a full disk, /dev/full)
// is exit 3 with the reason on stderr, for every command and format that
// prints a report.
func TestWriteErrors(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "apache2.conf"), []byte("ServerName x\nphp_value memory_limit 1G\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"dump", dir}, {"dump", "--format", "json", dir},
		{"lint", dir}, {"lint", "--format", "json", dir}, {"lint", "--format", "sarif", dir},
		{"lint", "--format", "github", dir}, {"lint", "--format", "checkstyle", dir}, {"lint", "--format", "gitlab", dir},
	} {
		var stderr bytes.Buffer
		code := run(context.Background(), args, full, &stderr)
		if code != exitInternal || !strings.Contains(stderr.String(), "writing output: ") || !strings.Contains(stderr.String(), "no space left on device") {
			t.Errorf("%v > /dev/full: exit %d, stderr %q; want 3 and the write error", args, code, stderr.String())
		}
	}
}
