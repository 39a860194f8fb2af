// Command gendocs writes docs/rules/CODE.md for every lint rule and the
// index docs/rules/README.md from the rules' metadata. Run it from the
// repository root (go run ./rules/gendocs) or with go generate ./rules.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/rules"
)

func main() {
	dir := flag.String("dir", "docs/rules", "directory to write the pages to")
	flag.Parse()
	if err := generate(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func generate(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	files := rules.DocFiles()
	// Remove pages of rules that no longer exist (codes are never reused,
	// but a rule may be withdrawn before a release).
	old, err := filepath.Glob(filepath.Join(dir, "MPM*.md"))
	if err != nil {
		return fmt.Errorf("listing %s: %w", dir, err)
	}
	for _, p := range old {
		if _, ok := files[filepath.Base(p)]; !ok {
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("removing %s: %w", p, err)
			}
		}
	}
	for name, text := range files {
		if !strings.HasSuffix(name, ".md") {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return nil
}
