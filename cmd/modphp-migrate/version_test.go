package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"testing"
)

func TestVersionFrom(t *testing.T) {
	for _, tc := range []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"go install @tag", debug.BuildInfo{Main: debug.Module{Version: "v0.1.0"}}, "0.1.0"},
		{"pseudo-version", debug.BuildInfo{Main: debug.Module{Version: "v0.1.1-0.20261202003000-0123456789ab"}}, "0.1.1-0.20261202003000-0123456789ab"},
		{"checkout", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "e5ff278aa0d1c2b3e4f5a6b7c8d9e0f1a2b3c4d5"}, {Key: "vcs.modified", Value: "true"}}}, "devel-e5ff278aa0d1+dirty"},
		{"clean checkout", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "e5ff278"}, {Key: "vcs.modified", Value: "false"}}}, "devel-e5ff278"},
		{"no information", debug.BuildInfo{}, "devel"},
	} {
		if got := versionFrom(&tc.info); got != tc.want {
			t.Errorf("%s: versionFrom = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestVersionCommand checks --version and version print the same line and
// that stray arguments are a usage error.
func TestVersionCommand(t *testing.T) {
	want := "modphp-migrate " + buildVersion() + "\n"
	for _, args := range [][]string{{"--version"}, {"version"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != exitOK || stdout.String() != want {
			t.Errorf("%v: exit %d, stdout %q, want 0 and %q (stderr %q)", args, code, stdout.String(), want, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"version", "x"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("version x: exit %d, want %d", code, exitUsage)
	}
}

// TestVersionLinkTime builds the binary with -ldflags -X main.version, as a
// release build does, and checks --version and SARIF's tool.driver.version
// both report it.
func TestVersionLinkTime(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "modphp-migrate")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=v9.8.7", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || string(out) != "modphp-migrate 9.8.7\n" {
		t.Fatalf("--version: %q, %v; want %q", out, err, "modphp-migrate 9.8.7\n")
	}
	htaccess := filepath.Join(dir, ".htaccess")
	if err := os.WriteFile(htaccess, []byte("php_value memory_limit 64M\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "lint", "--format=sarif", "--no-permissions", htaccess)
	sarif, err := cmd.Output()
	if cmd.ProcessState.ExitCode() != exitFindings {
		t.Fatalf("lint: %v, exit %d, want %d", err, cmd.ProcessState.ExitCode(), exitFindings)
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Version string `json:"version"`
				} `json:"driver"`
			} `json:"tool"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(sarif, &log); err != nil || len(log.Runs) != 1 {
		t.Fatalf("SARIF: %v, %d runs\n%s", err, len(log.Runs), sarif)
	}
	if got := log.Runs[0].Tool.Driver.Version; got != "9.8.7" {
		t.Errorf("tool.driver.version = %q, want 9.8.7", got)
	}
}
