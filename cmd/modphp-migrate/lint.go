package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/spf13/pflag"

	"github.com/modphp-migrate/modphp-migrate/internal/lintconfig"
	"github.com/modphp-migrate/modphp-migrate/internal/rootfs"
	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules"
)

// defaultTrees are linted, in this order, when lint is given no path.
var defaultTrees = []string{"/etc/apache2", "/etc/httpd"}

func lintCommand() command {
	return command{name: "lint", summary: "check an Apache tree or files for what breaks without mod_php", run: runLint}
}

// lintFlags are the flags of lint.
type lintFlags struct {
	format, color, failOn string
	enable, disable       []string
	noPermissions         bool
	maxExamples           int
	config                string
	baseline              string
	writeBaseline         string
	severity              map[string]rules.Severity // from the configuration file
	mainFiles             []string
	stdinFilename         string
	treeFlags
}

func newLintFlags() (*pflag.FlagSet, *lintFlags) {
	f := &lintFlags{}
	fs := pflag.NewFlagSet("lint", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.StringVar(&f.format, "format", "text", "output `format`: text, json, sarif, github, checkstyle or gitlab")
	fs.StringVar(&f.color, "color", "auto", "colour text output: auto, always or never (auto honours NO_COLOR)")
	fs.StringVar(&f.failOn, "fail-on", "error", "exit 1 when a finding is at least this `severity`: error, warning or info")
	fs.StringSliceVar(&f.enable, "enable", nil, "run only these rule `codes` (repeatable, comma-separated)")
	fs.StringSliceVar(&f.disable, "disable", nil, "skip these rule `codes` (repeatable, comma-separated)")
	fs.BoolVar(&f.noPermissions, "no-permissions", false, "skip the walk of document roots for world-writable files (MPM1003)")
	fs.IntVar(&f.maxExamples, "max-examples", 5, "example paths listed per aggregated finding")
	addTreeFlags(fs, &f.treeFlags, treeFlagUse{fpmConfig: "to compare with", accessName: "; single files with this name are linted as .htaccess",
		walk: "(the search for .htaccess files, and the permission walk)"})
	fs.StringVar(&f.config, "config", "", "configuration `FILE` (or none); default: "+lintconfig.FileName+" in the first path's directory or the nearest one above it")
	fs.StringVar(&f.baseline, "baseline", "", "report only findings not recorded in `FILE` (see --write-baseline)")
	fs.StringVar(&f.writeBaseline, "write-baseline", "", "record today's findings in `FILE`, print nothing and exit 0")
	addLintInputFlags(fs, f)
	return fs, f
}

func lintUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, `usage: modphp-migrate lint [flags] [DIR|FILE|-...]

Checks an Apache httpd tree that runs PHP with mod_php for what breaks, or
silently changes, when PHP moves to php-fpm behind mod_proxy_fcgi.

With no argument lint reads /etc/apache2, else /etc/httpd. A DIR is a server
tree (its apache2.conf, httpd.conf or conf/httpd.conf, the Includes, and the
.htaccess files under every DocumentRoot). A server's main file (a FILE
named apache2.conf or httpd.conf, or given with --main-file) is read with
the tree it includes, as for its DIR. Any other FILE is linted on its own,
as a pre-commit hook sees it: a file named .htaccess (or
--access-file-name) in .htaccess context, any other file as a fragment of
server configuration. - reads one file from standard input (name it with
--stdin-filename).

Settings may also come from a .modphp-migrate.yaml in the first path's
directory or the nearest one above it (keys enable, disable, fail-on,
severity, access-file-name, root; see docs/lint.md); flags override it.
To adopt lint on a large tree, --write-baseline FILE records today's
findings, and --baseline FILE then reports only new ones.

flags:
`)
	fmt.Fprint(w, fs.FlagUsages())
	fmt.Fprint(w, `
Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 usage error,
3 internal failure, 130 interrupted (Ctrl-C or SIGTERM; nothing is
printed). 'modphp-migrate rules' lists the checks and
'modphp-migrate explain CODE' explains one.
`)
}

func runLint(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags, f := newLintFlags()
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			lintUsage(stdout, flags)
			return exitOK
		}
		return lintUsageError(stderr, err)
	}
	if err := applyConfig(flags, f); err != nil {
		return lintUsageError(stderr, err)
	}
	if f.baseline != "" && f.writeBaseline != "" {
		return lintUsageError(stderr, fmt.Errorf("--baseline and --write-baseline exclude each other"))
	}
	failOn, err := rules.ParseSeverity(f.failOn)
	if err != nil {
		return lintUsageError(stderr, fmt.Errorf("--fail-on: %w", err))
	}
	switch f.format {
	case "text", "json", "sarif", "github", "checkstyle", "gitlab":
	default:
		return lintUsageError(stderr, fmt.Errorf("--format: unknown format %q (want text, json, sarif, github, checkstyle or gitlab)", f.format))
	}
	switch f.color {
	case "auto", "always", "never":
	default:
		return lintUsageError(stderr, fmt.Errorf("--color: unknown value %q (want auto, always or never)", f.color))
	}
	if err := rules.CheckCodes(f.enable); err != nil {
		return lintUsageError(stderr, fmt.Errorf("--enable: %w", err))
	}
	if err := rules.CheckCodes(f.disable); err != nil {
		return lintUsageError(stderr, fmt.Errorf("--disable: %w", err))
	}
	if f.maxExamples < 0 {
		return lintUsageError(stderr, fmt.Errorf("--max-examples must not be negative"))
	}
	if err := f.limits.check(); err != nil {
		return lintUsageError(stderr, err)
	}
	paths := append(flags.Args(), f.mainFiles...)
	if err := checkLintInput(f, paths); err != nil {
		return lintUsageError(stderr, err)
	}
	if len(paths) == 0 {
		for _, t := range defaultTrees {
			if st, err := rootfs.New(f.root).Stat(filepath.Join(f.root, t)); err == nil && st.IsDir() {
				paths = []string{filepath.Join(f.root, t)}
				break
			}
		}
		if len(paths) == 0 {
			return lintUsageError(stderr, fmt.Errorf("no path given and neither %s exists", strings.Join(defaultTrees, " nor ")))
		}
	}

	walked := &atomic.Int64{}
	opt := &rules.Options{
		Enable: f.enable, Disable: f.disable, NoPermissions: f.noPermissions,
		MaxExamples: f.maxExamples, Walked: walked, MaxWalk: f.limits.walk,
	}
	if f.maxExamples == 0 {
		opt.MaxExamples = -1
	}
	if flags.Changed("httpd-version") {
		opt.HTTPDVersion = f.httpdVersion
	}
	lopt := f.loadOptions()

	loaded := &parser.Progress{}
	lopt.Progress = loaded
	prog := startProgress(stderr, loaded, walked)
	lr := lintPathsInterruptible(ctx, paths, lintInput{flags: f, opt: opt, lopt: lopt, stdin: lintStdin, prog: prog})
	prog.stop()
	if lr.err != nil {
		if lr.code == exitUsage {
			return lintUsageError(stderr, lr.err)
		}
		fmt.Fprintf(stderr, "modphp-migrate lint: %v\n", lr.err)
		return lr.code
	}
	diags, files, failed := lr.diags, lr.files, lr.failed
	if allRelative(paths) {
		relativize(diags)
	}
	diags = rules.Sort(diags)
	applySeverities(diags, f.severity)
	// Fingerprints (a SHA-256 each) only for what prints or compares them.
	var fps []string
	if f.writeBaseline != "" || f.baseline != "" || f.format == "sarif" || f.format == "gitlab" {
		fps = fingerprints(diags, f.root)
	}
	if f.writeBaseline != "" {
		return lintWriteBaseline(f.writeBaseline, diags, fps, failed, stderr)
	}
	if f.baseline != "" {
		if diags, fps, err = filterBaseline(f.baseline, diags, fps, stderr); err != nil {
			return lintUsageError(stderr, fmt.Errorf("--baseline: %w", err))
		}
	}

	color := useColor(f.color, stdout)
	var werr error
	switch f.format {
	case "json":
		werr = writeJSON(stdout, diags)
	case "sarif":
		werr = writeSARIF(stdout, diags, fps)
	case "github":
		werr = writeGitHub(stdout, diags)
	case "checkstyle":
		werr = writeCheckstyle(stdout, diags)
	case "gitlab":
		werr = writeGitLab(stdout, diags, fps)
	default:
		werr = writeText(stdout, diags, color, files)
	}
	if werr != nil {
		fmt.Fprintf(stderr, "modphp-migrate lint: writing output: %v\n", werr)
		return exitInternal
	}
	if len(failed) > 0 {
		for _, err := range failed {
			fmt.Fprintf(stderr, "modphp-migrate lint: internal error: %v\n", err)
		}
		return exitInternal
	}
	for _, d := range diags {
		if d.Severity.Rank() >= failOn.Rank() {
			return exitFindings
		}
	}
	return exitOK
}

func lintUsageError(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "modphp-migrate lint: %v\nRun 'modphp-migrate lint --help' for usage.\n", err)
	return exitUsage
}

// useColor decides whether text output is coloured: always, never, or (auto)
// when stdout is a terminal, NO_COLOR is unset (https://no-color.org) and
// TERM is not dumb.
func useColor(mode string, w io.Writer) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	return os.Getenv("TERM") != "dumb" && isTerminal(w)
}

func allRelative(paths []string) bool {
	for _, p := range paths {
		if filepath.IsAbs(p) {
			return false
		}
	}
	return true
}

// relativize shows absolute paths under the working directory relative to
// it, as the relative input paths were given: with a relative --root the
// loader still opens included files by absolute path.
func relativize(diags []rules.Diagnostic) {
	wd, err := os.Getwd()
	if err != nil {
		return
	}
	rel := func(p string) string {
		if !filepath.IsAbs(p) {
			return p
		}
		r, err := filepath.Rel(wd, p)
		if err != nil || r == ".." || strings.HasPrefix(r, "../") {
			return p
		}
		return r
	}
	for i := range diags {
		diags[i].Pos.File = rel(diags[i].Pos.File)
		for j := range diags[i].Related {
			diags[i].Related[j].Pos.File = rel(diags[i].Related[j].Pos.File)
		}
	}
}
