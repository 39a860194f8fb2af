package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/modphp-migrate/modphp-migrate/internal/rootfs"
	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules"
)

// exitInterrupted is lint's exit code after Ctrl-C or SIGTERM (128+SIGINT,
// as a shell reports a process killed by it).
const exitInterrupted = 130

// stdinPath is the lint argument that reads one file from standard input.
const stdinPath = "-"

// lintStdin is what lint - reads (tests replace it).
var lintStdin io.Reader = os.Stdin

// mainFileNames are the base names of a server's main configuration
// file: lint reads the tree such a file includes, as dump does.
var mainFileNames = []string{"apache2.conf", "httpd.conf"}

// lintInput is what lintPaths needs besides the paths.
type lintInput struct {
	flags *lintFlags
	opt   *rules.Options
	lopt  parser.LoadOptions
	stdin io.Reader
	prog  *progress
}

// lintResult is what lintPaths found; code is 0 unless err says why lint
// must stop with that exit code.
type lintResult struct {
	diags  []rules.Diagnostic
	files  int
	failed []error // rule engine failures (the other findings still count)
	code   int
	err    error
}

// lintPathsInterruptible runs lintPaths until it ends or ctx is done. On
// ctx done it returns at once with code exitInterrupted: the work still in
// flight sees ctx and stops by itself, and nothing it found is printed.
func lintPathsInterruptible(ctx context.Context, paths []string, in lintInput) lintResult {
	done := make(chan lintResult, 1)
	go func() { done <- lintPaths(ctx, paths, in) }()
	select {
	case r := <-done:
		if ctx.Err() == nil {
			return r
		}
	case <-ctx.Done():
	}
	return lintResult{code: exitInterrupted, err: errors.New("interrupted")}
}

// lintPaths loads and checks each path: a directory as a server tree, a
// server's main file (apache2.conf, httpd.conf, --main-file) with the tree
// it includes, "-" as one file read from stdin, any other file on its own.
// It writes nothing.
func lintPaths(ctx context.Context, paths []string, in lintInput) lintResult {
	var r lintResult
	for _, p := range paths {
		if ctx.Err() != nil {
			return lintResult{code: exitInterrupted, err: errors.New("interrupted")}
		}
		in.prog.phase(phaseReading, p)
		res, tree, err := loadPath(ctx, p, in)
		if err != nil {
			return loadFailure(ctx, p, err)
		}
		r.files += filesRead(res.Today)
		// Everything the load allocated but the two views is garbage now
		// (a big tree's file buffers, the grammar's values per line): one
		// collection here starts the rules from the size of the views
		// rather than from wherever the collector's last cycle left the
		// heap goal, which lowers the peak of a large tree by about a tenth.
		runtime.GC()
		in.prog.phase(phaseChecking, p)
		popt := *in.opt
		if p == stdinPath {
			popt.NoPermissions = true // nothing on disk to walk
		}
		if popt.FPM, err = fpmInput(in.flags.fpmConfig, in.flags.root, tree, tree != ""); err != nil {
			return lintResult{code: exitUsage, err: fmt.Errorf("--fpm-config: %w", err)}
		}
		ds, err := rules.RunContext(ctx, res, &popt)
		if ctx.Err() != nil {
			return lintResult{code: exitInterrupted, err: errors.New("interrupted")}
		}
		if r.diags == nil {
			r.diags = ds // one path, the usual case: no copy of every finding
		} else {
			r.diags = append(r.diags, ds...)
		}
		if err != nil {
			r.failed = append(r.failed, err)
		}
	}
	return r
}

// loadFailure turns a load error into lint's exit code.
func loadFailure(ctx context.Context, p string, err error) lintResult {
	switch {
	case ctx.Err() != nil:
		return lintResult{code: exitInterrupted, err: errors.New("interrupted")}
	case errors.Is(err, parser.ErrNoConfig) || errors.Is(err, fs.ErrNotExist):
		return lintResult{code: exitUsage, err: err}
	}
	return lintResult{code: exitInternal, err: fmt.Errorf("loading %s: %w", p, err)}
}

// loadPath loads one lint argument. tree is the server directory whose
// php-fpm configuration lint looks for, "" for a single file.
func loadPath(ctx context.Context, p string, in lintInput) (res *parser.Result, tree string, err error) {
	if p == stdinPath {
		return loadStdin(in)
	}
	st, err := rootfs.New(in.lopt.Root).Stat(p)
	if err != nil {
		return nil, "", err
	}
	if st.IsDir() {
		res, err = parser.LoadContext(ctx, p, in.lopt)
		return res, p, err
	}
	if isMainFile(p, in.flags) {
		res, err = parser.LoadContext(ctx, p, in.lopt)
		return res, mainFileTree(p), err
	}
	res, err = parser.LoadSingle(p, rules.IsAccessFileName(filepath.Base(p), in.flags.accessNames), in.lopt)
	return res, "", err
}

// isMainFile reports whether a file argument is a server's main
// configuration file: named apache2.conf or httpd.conf (and not an access
// file name), or given with --main-file.
func isMainFile(p string, f *lintFlags) bool {
	for _, m := range f.mainFiles {
		if filepath.Clean(m) == filepath.Clean(p) {
			return true
		}
	}
	base := filepath.Base(p)
	if rules.IsAccessFileName(base, f.accessNames) {
		return false
	}
	for _, n := range mainFileNames {
		if base == n {
			return true
		}
	}
	return false
}

// mainFileTree is the server directory of a main file: its directory, or
// the parent of conf/ for conf/httpd.conf (Red Hat's /etc/httpd).
func mainFileTree(p string) string {
	dir := filepath.Dir(p)
	if filepath.Base(dir) == "conf" && filepath.Base(p) == "httpd.conf" {
		return filepath.Dir(dir)
	}
	return dir
}

// loadStdin reads one file from standard input, named by
// --stdin-filename (which decides .htaccess context, as a file's name
// does) or "<stdin>".
func loadStdin(in lintInput) (*parser.Result, string, error) {
	data, err := io.ReadAll(in.stdin)
	if err != nil {
		return nil, "", fmt.Errorf("reading standard input: %w", err)
	}
	name := in.flags.stdinFilename
	if name == "" {
		name = "<stdin>"
	}
	access := rules.IsAccessFileName(filepath.Base(name), in.flags.accessNames)
	res, err := parser.LoadSingleBytes(name, data, access, in.lopt)
	return res, "", err
}

// filesRead counts the configuration and access files of a load, each
// once (a single .htaccess is both the file read and its access file).
func filesRead(c *parser.Config) int {
	if c == nil {
		return 0
	}
	seen := make(map[string]bool, len(c.Files)+len(c.Access))
	for _, f := range c.Files {
		seen[f.Path] = true
	}
	for _, a := range c.Access {
		seen[a.File.Path] = true
	}
	return len(seen)
}
