package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// version is the release this binary reports when set at link time:
//
//	go build -ldflags "-X main.version=0.1.0" ./cmd/modphp-migrate
//
// Without it the version comes from the build information Go records.
var version string

// buildVersion is the version --version prints and SARIF reports: the
// link-time version, else the module version `go install …@vX.Y.Z` recorded,
// else "devel" with the VCS revision of a build from a checkout. A leading
// "v" is dropped, so a tag v0.1.0 reports 0.1.0 as the CHANGELOG names it.
func buildVersion() string {
	if version != "" {
		return strings.TrimPrefix(version, "v")
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return versionFrom(info)
}

// versionFrom picks the version out of recorded build information.
func versionFrom(info *debug.BuildInfo) string {
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return strings.TrimPrefix(v, "v")
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return "devel-" + rev
}

func versionCommand() command {
	return command{"version", "print the version of this binary", runVersion}
}

// runVersion prints "modphp-migrate VERSION"; it takes no arguments.
func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stdout, "usage: modphp-migrate version\n\nPrints the version of this binary (also: modphp-migrate --version).")
		return exitOK
	}
	if len(args) > 0 {
		fmt.Fprintf(stderr, "modphp-migrate version: unexpected argument %q\n", args[0])
		return exitUsage
	}
	fmt.Fprintf(stdout, "modphp-migrate %s\n", buildVersion())
	return exitOK
}
