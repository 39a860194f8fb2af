package parser

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// corpusDir holds real configurations from public projects and panels,
// shared beside the repository (../shared/corpus from the repo root).
const corpusDir = "../../shared/corpus"

// corpusAccess reports whether a corpus file is an access file.
func corpusAccess(path string) bool {
	return strings.Contains(strings.ToLower(filepath.Base(path)), "htaccess")
}

// TestCorpus loads every file of the corpus on its own (the way the
// pre-commit hook does) — nothing may crash — and keeps a reviewed summary
// of the diagnostics per file in testdata/corpus-summary.txt.
func TestCorpus(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		if os.Getenv("MODPHP_MIGRATE_REAL") == "1" {
			t.Fatalf("corpus required: %v", err)
		}
		t.Skip("no ../shared/corpus")
	}
	var lines []string
	files, withDiags := 0, 0
	err := filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(p) == "MANIFEST.tsv" {
			return err
		}
		files++
		res, err := LoadSingle(p, corpusAccess(p), LoadOptions{Env: func(string) (string, bool) { return "", false }})
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		count := map[string]int{}
		for _, c := range []*Config{res.Today, res.After} {
			for _, d := range c.Diagnostics {
				count[string(d.Severity)+" "+d.Kind]++
			}
		}
		if len(count) > 0 {
			withDiags++
			var parts []string
			for k, n := range count {
				parts = append(parts, fmt.Sprintf("%s×%d", k, n))
			}
			sort.Strings(parts)
			lines = append(lines, strings.TrimPrefix(p, corpusDir+"/")+": "+strings.Join(parts, ", "))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	summary := fmt.Sprintf("%d files loaded, %d with diagnostics (both views counted)\n%s\n", files, withDiags, strings.Join(lines, "\n"))
	const golden = "testdata/corpus-summary.txt"
	if *update {
		if err := os.WriteFile(golden, []byte(summary), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if summary != string(want) {
		t.Errorf("corpus summary changed (review, then -update):\n%s", summary)
	}
}

// TestCorpusDebianTree loads Debian's packaged apache2 tree from the corpus
// as a whole server (its main file is apache2.conf.in).
func TestCorpusDebianTree(t *testing.T) {
	main := filepath.Join(corpusDir, "debian/apache2/apache2.conf.in")
	if _, err := os.Stat(main); err != nil {
		t.Skip("no corpus Debian tree")
	}
	res, err := Load(main, LoadOptions{NoAccessFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Today.Files) == 0 {
		t.Fatal("nothing loaded")
	}
}
