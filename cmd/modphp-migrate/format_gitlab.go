package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/rules"
)

// gitlabIssue is one finding of a GitLab code quality report
// (docs.gitlab.com, "Code Quality": the Code Climate issue subset GitLab
// reads).
type gitlabIssue struct {
	Description string         `json:"description"`
	CheckName   string         `json:"check_name"`
	Fingerprint string         `json:"fingerprint"`
	Severity    string         `json:"severity"`
	Location    gitlabLocation `json:"location"`
}

type gitlabLocation struct {
	Path  string      `json:"path"`
	Lines gitlabLines `json:"lines"`
}

type gitlabLines struct {
	Begin int `json:"begin"`
}

// gitlabSeverity maps a severity onto GitLab's info, minor, major,
// critical, blocker.
func gitlabSeverity(s rules.Severity) string {
	switch s {
	case rules.Error:
		return "critical"
	case rules.Warning:
		return "major"
	}
	return "info"
}

// writeGitLab prints a GitLab code quality report: a JSON array (never
// null). GitLab wants paths relative to the repository and a line on every
// issue: paths under the working directory are made relative to it, and a
// finding about a whole file or directory is placed on line 1. The
// description, which GitLab shows, starts with the code and the origin in
// brackets (GitLab reads no other field for it).
// fps are the findings' fingerprints (see fingerprints), the same that SARIF
// and the baseline use.
func writeGitLab(w io.Writer, diags []rules.Diagnostic, fps []string) error {
	wd, _ := os.Getwd()
	out := make([]gitlabIssue, 0, len(diags))
	for i, d := range diags {
		path := repoPath(wd, d.Pos.File)
		out = append(out, gitlabIssue{
			Description: d.Code + " [" + string(d.Origin) + "] " + d.Message,
			CheckName:   d.Code,
			Fingerprint: fps[i],
			Severity:    gitlabSeverity(d.Severity),
			Location:    gitlabLocation{Path: path, Lines: gitlabLines{Begin: max(d.Pos.Line, 1)}},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("encoding gitlab report: %w", err)
	}
	return nil
}

// repoPath is p relative to wd when it lies under it, with forward slashes.
func repoPath(wd, p string) string {
	if filepath.IsAbs(p) && wd != "" {
		if r, err := filepath.Rel(wd, p); err == nil && r != ".." && !strings.HasPrefix(r, "../") {
			p = r
		}
	}
	return filepath.ToSlash(p)
}
