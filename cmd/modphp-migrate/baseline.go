package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/modphp-migrate/modphp-migrate/internal/baseline"
	"github.com/modphp-migrate/modphp-migrate/rules"
)

// writeBaseline records the findings, by fingerprint, in the file at path.
func writeBaseline(path string, diags []rules.Diagnostic, fps []string) error {
	entries := make([]baseline.Entry, len(diags))
	for i, d := range diags {
		entries[i] = baseline.Entry{Fingerprint: fps[i], Code: d.Code, File: filepath.ToSlash(d.Pos.File), Line: d.Pos.Line, Message: d.Message}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".baseline-*")
	if err != nil {
		return fmt.Errorf("writing baseline: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := baseline.Write(tmp, entries); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing baseline: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("writing baseline: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing baseline: %w", err)
	}
	return nil
}

// filterBaseline drops the findings the baseline at path records and says
// on stderr how many it hid and how many of its entries matched nothing
// (fixed, or moved to another line).
func filterBaseline(path string, diags []rules.Diagnostic, fps []string, stderr io.Writer) ([]rules.Diagnostic, []string, error) {
	entries, err := baseline.Load(path)
	if err != nil {
		return nil, nil, err
	}
	set := baseline.NewSet(entries)
	var keptD []rules.Diagnostic
	var keptF []string
	for i, d := range diags {
		if set.Match(fps[i]) {
			continue
		}
		keptD = append(keptD, d)
		keptF = append(keptF, fps[i])
	}
	hidden := len(diags) - len(keptD)
	fmt.Fprintf(stderr, "modphp-migrate lint: baseline %s: %d %s hidden, %d %s no longer %s\n", path,
		hidden, plural(hidden, "finding", "findings"),
		set.Unmatched(), plural(set.Unmatched(), "entry", "entries"), plural(set.Unmatched(), "matches", "match"))
	return keptD, keptF, nil
}

// lintWriteBaseline ends a --write-baseline run: the baseline is written
// even when a rule failed, but the run then exits 3.
func lintWriteBaseline(path string, diags []rules.Diagnostic, fps []string, failed []error, stderr io.Writer) int {
	if err := writeBaseline(path, diags, fps); err != nil {
		fmt.Fprintf(stderr, "modphp-migrate lint: %v\n", err)
		return exitInternal
	}
	fmt.Fprintf(stderr, "modphp-migrate lint: wrote %d %s to %s\n", len(diags), plural(len(diags), "finding", "findings"), path)
	if len(failed) > 0 {
		for _, err := range failed {
			fmt.Fprintf(stderr, "modphp-migrate lint: internal error: %v\n", err)
		}
		return exitInternal
	}
	return exitOK
}
