package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// extractTxtar writes the files of a txtar archive under a new temporary
// directory and returns it (symbolic links resolved).
func extractTxtar(t *testing.T, file string) string {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ar.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const debianStock = "../../testdata/lint_debian_stock_main_file.txtar"

// TestLintMainFileSameAsTree: on Debian's stock tree, lint of apache2.conf
// prints byte for byte what lint of its directory prints, in every format
// that carries the findings.
func TestLintMainFileSameAsTree(t *testing.T) {
	root := extractTxtar(t, debianStock)
	tree := filepath.Join(root, "etc", "apache2")
	for _, format := range []string{"text", "json"} {
		var out [2]bytes.Buffer
		var codes [2]int
		for i, arg := range []string{filepath.Join(tree, "apache2.conf"), tree} {
			var stderr bytes.Buffer
			codes[i] = run(context.Background(), []string{"lint", "--format", format, "--root", root, arg}, &out[i], &stderr)
			if stderr.Len() != 0 {
				t.Errorf("lint %s: stderr %s", arg, stderr.String())
			}
		}
		if codes[0] != codes[1] || out[0].String() != out[1].String() {
			t.Errorf("--format=%s: apache2.conf gives exit %d:\n%s\nthe directory exit %d:\n%s", format, codes[0], out[0].String(), codes[1], out[1].String())
		}
		if !strings.Contains(out[0].String(), "MPM2007") {
			t.Errorf("--format=%s: no MPM2007 finding:\n%s", format, out[0].String())
		}
	}
}

// TestPreCommitStockApache2Conf runs the pre-commit hook's entry with the
// documented --fail-on=warning on the stock apache2.conf of a configuration
// repository holding Debian's apache2 tree as the apache2 package enables
// it (mpm_event, no mod_php): no finding, exit 0. Linted on its own the
// file gave five false MPM0003 warnings (envvars unread).
func TestPreCommitStockApache2Conf(t *testing.T) {
	data, err := os.ReadFile("../../.pre-commit-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var entry []string
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "entry:"); ok {
			entry = strings.Fields(v)
		}
	}
	if len(entry) < 2 || entry[0] != "modphp-migrate" {
		t.Fatalf("hook entry %q", entry)
	}
	repo := extractTxtar(t, debianStock)
	// a2dismod php8.2 mpm_prefork; a2enmod mpm_event
	mods := filepath.Join(repo, "etc", "apache2", "mods-enabled")
	for _, f := range []string{"php8.2.conf", "php8.2.load", "mpm_prefork.conf", "mpm_prefork.load"} {
		if err := os.Remove(filepath.Join(mods, f)); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"mpm_event.conf", "mpm_event.load"} {
		if err := os.Rename(filepath.Join(repo, "etc", "apache2", "mods-available", f), filepath.Join(mods, f)); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(repo) // pre-commit runs the hook at the repository's top with relative paths
	args := append(entry[1:], "--fail-on=warning", "etc/apache2/apache2.conf", "etc/apache2/sites-enabled/000-default.conf")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	if code != exitOK || stdout.String() != "modphp-migrate: no findings (38 files read)\n" {
		t.Errorf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout.String(), stderr.String())
	}
}
