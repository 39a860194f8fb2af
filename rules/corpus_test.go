package rules_test

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules"
)

var updateCorpus = flag.Bool("update", false, "rewrite testdata/corpus.golden")

// corpusDir is the shared corpus of real-world Apache files, relative to
// the repository root.
const corpusDir = "../shared/corpus"

// corpusFiles returns the Apache configuration and access files of the
// corpus (relative paths, sorted) and whether each is an access file.
// PHP, php-fpm and other non-Apache files are left out.
func corpusFiles(root string) (map[string]bool, error) {
	out := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel == "phpini" || rel == "phpfpm" || strings.Contains(rel, "php-fpm") {
				return filepath.SkipDir
			}
			return nil
		}
		name := strings.ToLower(d.Name())
		switch {
		case strings.Contains(name, "htaccess"):
			out[rel] = true
		case strings.HasSuffix(name, ".ini") || strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".tsv") ||
			strings.HasSuffix(name, ".php") || strings.HasPrefix(name, "readme") || strings.Contains(name, "fpm") ||
			strings.Contains(name, "pool") || name == "config" || strings.HasSuffix(name, ".user.ini"):
		default:
			out[rel] = false
		}
		return nil
	})
	return out, err
}

// TestCorpusGolden runs every rule over each file of ../shared/corpus on its
// own (as the pre-commit hook does) and compares the findings with
// testdata/corpus.golden, which is reviewed by hand: go test -run
// TestCorpusGolden -update rewrites it. Skipped when the corpus is absent.
func TestCorpusGolden(t *testing.T) {
	root := filepath.Join("..", corpusDir)
	if _, err := os.Stat(root); err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	files, err := corpusFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		res, err := parser.LoadSingle(filepath.Join(root, n), files[n], parser.LoadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		diags, err := rules.Run(res, &rules.Options{NoPermissions: true})
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		for _, d := range diags {
			// Positions and messages name corpus files relative to the
			// corpus, not where this checkout finds it.
			d.Pos.File = strings.TrimPrefix(d.Pos.File, root+string(filepath.Separator))
			msg := strings.ReplaceAll(d.Message, root+string(filepath.Separator), "")
			fmt.Fprintf(&b, "%s: %s %s %s\n", d.Pos, d.Severity, d.Code, msg)
		}
	}
	golden := filepath.Join("testdata", "corpus.golden")
	if *updateCorpus {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for _, l := range gl {
			if !slices.Contains(wl, l) {
				t.Errorf("new finding: %s", l)
			}
		}
		for _, l := range wl {
			if !slices.Contains(gl, l) {
				t.Errorf("finding gone: %s", l)
			}
		}
		t.Error("findings on the corpus changed: review them and run go test ./rules -run TestCorpusGolden -update")
	}
}
