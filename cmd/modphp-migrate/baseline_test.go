package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func runLintArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"lint", "--config", "none"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestLintBaselineRoundTrip writes a baseline, lints the unchanged tree
// against it (no findings, exit 0, also as SARIF), then moves findings to
// other lines: they are reported as new, and the entries they had are
// counted as no longer matching.
func TestLintBaselineRoundTrip(t *testing.T) {
	dir := t.TempDir()
	sarifTree(t, dir, 0)
	tree := filepath.Join(dir, "etc/apache2")
	file := filepath.Join(t.TempDir(), "baseline.json")

	code, stdout, stderr := runLintArgs(t, "--root", dir, "--write-baseline", file, tree)
	m := regexp.MustCompile(`^modphp-migrate lint: wrote (\d+) findings to `).FindStringSubmatch(stderr)
	if code != exitOK || stdout != "" || m == nil {
		t.Fatalf("--write-baseline: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	recorded := m[1]

	code, stdout, stderr = runLintArgs(t, "--root", dir, "--baseline", file, "--fail-on", "info", tree)
	if code != exitOK || !strings.HasPrefix(stdout, "modphp-migrate: no findings") {
		t.Errorf("--baseline on the unchanged tree: exit %d, stdout %q", code, stdout)
	}
	if want := "modphp-migrate lint: baseline " + file + ": " + recorded + " findings hidden, 0 entries no longer match\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}

	code, stdout, _ = runLintArgs(t, "--root", dir, "--baseline", file, "--format", "sarif", tree)
	var log struct {
		Runs []struct{ Results []json.RawMessage }
	}
	if err := json.Unmarshal([]byte(stdout), &log); err != nil || code != exitOK || len(log.Runs[0].Results) != 0 {
		t.Errorf("--baseline --format=sarif on the unchanged tree: exit %d, %v, %s", code, err, stdout)
	}

	// The ProxyPassMatch (MPM1001 and more on its line) and the php_value
	// block (MPM1004) move down two lines.
	sarifTree(t, dir, 2)
	code, stdout, stderr = runLintArgs(t, "--root", dir, "--baseline", file, "--format", "json", tree)
	var diags []jsonDiag
	if err := json.Unmarshal([]byte(stdout), &diags); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range diags {
		got = append(got, d.Code)
		if d.Line < 7 {
			t.Errorf("%s on line %d did not move, yet is reported", d.Code, d.Line)
		}
	}
	if code != exitFindings || !strings.Contains(strings.Join(got, ","), "MPM1001") || !strings.Contains(strings.Join(got, ","), "MPM1004") {
		t.Errorf("moved findings: exit %d, codes %v", code, got)
	}
	want := regexp.MustCompile(`: \d+ findings hidden, ` + strconv.Itoa(len(diags)) + ` entries no longer match\n$`)
	if !want.MatchString(stderr) {
		t.Errorf("stderr %q does not count the %d moved entries", stderr, len(diags))
	}
}
