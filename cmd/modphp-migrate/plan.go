package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/modphp-migrate/modphp-migrate/internal/migrate"
	"github.com/modphp-migrate/modphp-migrate/internal/rootfs"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

func planCommand() command {
	return command{name: "plan", summary: "compute the migration to php-fpm: pools, settings, Apache config, permissions, as a diff", run: runPlan}
}

// planFlags are the flags of plan.
type planFlags struct {
	htaccess, out, format string
	check                 bool
	treeFlags
}

func newPlanFlags() (*pflag.FlagSet, *planFlags) {
	f := &planFlags{}
	fs := pflag.NewFlagSet("plan", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.StringVar(&f.format, "format", "text", "output `format`: text (a unified diff) or json (the model)")
	fs.StringVar(&f.htaccess, "htaccess", string(migrate.HTAccessShim), "`mode` for .htaccess PHP settings: shim (kept for the shim) or user-ini (moved to .user.ini where PHP allows it)")
	fs.StringVar(&f.out, "out", "", "write the after-state of every created or changed file under `DIR` at its absolute path, with DIR/permissions.sh and DIR/remove.list")
	fs.BoolVar(&f.check, "check", false, "run apache2 -t on a temporary copy of the after-state and php-fpm -t on the planned pools (where installed)")
	addTreeFlags(fs, &f.treeFlags, treeFlagUse{fpmConfig: "whose pools may be reused", walk: "(the search for .htaccess files)"})
	return fs, f
}

func planUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, `usage: modphp-migrate plan [flags] [DIR|FILE]

Computes the move of an Apache httpd + mod_php server to php-fpm behind
mod_proxy_fcgi as one change set: a php-fpm pool and user per scope (virtual
host, or a directory or Alias that must differ), every PHP setting of the
configuration placed by its INI mode (pool, .user.ini, the shim, or dropped
because it never applied), the Apache configuration that replaces mod_php,
the module changes, and a permissions script.

It prints a unified diff of every file it would create or change (symlinks
and removals as "symlink PATH -> TARGET" and "remove PATH" lines) and writes
nothing unless --out is given. The tree is read as lint reads it (DIR is a
server tree, FILE its main file; default /etc/apache2, else /etc/httpd).
Planning a tree the plan was applied to prints nothing.

flags:
`)
	fmt.Fprint(w, fs.FlagUsages())
	fmt.Fprint(w, `
Exit codes: 0 planned (and --check passed), 1 --check found errors,
2 usage error, 3 internal failure. See docs/plan.md.
`)
}

func planUsageError(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "modphp-migrate plan: %v\nRun 'modphp-migrate plan --help' for usage.\n", err)
	return exitUsage
}

func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags, f := newPlanFlags()
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			planUsage(stdout, flags)
			return exitOK
		}
		return planUsageError(stderr, err)
	}
	if err := f.validate(flags.NArg()); err != nil {
		return planUsageError(stderr, err)
	}
	tree, err := planTree(flags.Args(), f.root)
	if err != nil {
		return planUsageError(stderr, err)
	}
	p, err := buildPlan(ctx, tree, f)
	if err != nil {
		fmt.Fprintf(stderr, "modphp-migrate plan: %v\n", err)
		return exitInternal
	}
	if f.out != "" {
		if err := writeOut(f.out, p); err != nil {
			fmt.Fprintf(stderr, "modphp-migrate plan: %v\n", err)
			return exitInternal
		}
	}
	if err := printPlan(stdout, p, f.format); err != nil {
		fmt.Fprintf(stderr, "modphp-migrate plan: writing output: %v\n", err)
		return exitInternal
	}
	for _, n := range p.Notes {
		fmt.Fprintf(stderr, "note: %s\n", n)
	}
	if f.check {
		return checkPlan(ctx, p, f.root, stderr)
	}
	return exitOK
}

func (f *planFlags) validate(nargs int) error {
	switch {
	case f.format != "text" && f.format != "json":
		return fmt.Errorf("--format: unknown format %q (want text or json)", f.format)
	case f.htaccess != string(migrate.HTAccessShim) && f.htaccess != string(migrate.HTAccessUserINI):
		return fmt.Errorf("--htaccess: unknown mode %q (want shim or user-ini)", f.htaccess)
	case nargs > 1:
		return errors.New("plan takes one tree (DIR or main FILE)")
	}
	return f.limits.check()
}

// planTree returns the tree to plan: the argument, else the first of the
// default trees that exists (under --root).
func planTree(args []string, root string) (string, error) {
	if len(args) == 1 {
		return args[0], nil
	}
	for _, t := range defaultTrees {
		p := filepath.Join(root, t)
		if st, err := rootfs.New(root).Stat(p); err == nil && st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no path given and neither %s exists", strings.Join(defaultTrees, " nor "))
}

// buildPlan loads the tree in both views, php-fpm's configuration, and
// computes the plan.
func buildPlan(ctx context.Context, tree string, f *planFlags) (*migrate.Plan, error) {
	main, err := parser.FindMainUnder(f.root, tree)
	if err != nil {
		return nil, err
	}
	lopt := f.loadOptions()
	res, err := parser.LoadContext(ctx, main, lopt)
	if err != nil {
		return nil, err
	}
	stopped, notes := loadLimitsHit(res.Today)
	if stopped != nil {
		return nil, stopped
	}
	st, err := rootfs.New(f.root).Stat(tree)
	if err != nil {
		return nil, err
	}
	fpm, err := fpmInput(f.fpmConfig, f.root, tree, st.IsDir())
	if err != nil {
		return nil, err
	}
	in := migrate.Input{Today: res.Today, After: res.After, Root: f.root, HTAccess: migrate.HTAccessMode(f.htaccess)}
	if fpm != nil {
		in.FPM, in.FPMPath, in.INI = fpm.Config, fpm.Path, fpm.INI
	}
	p, err := migrate.Build(in)
	if err != nil {
		return nil, err
	}
	p.Notes = append(p.Notes, notes...)
	return p, nil
}

// loadLimitsHit reads the loader's "limit" diagnostics: reading that
// stopped (--max-files, --max-bytes, --max-walk in Include directories)
// is an error, as a plan of part of a tree would be wrong; a search for
// .htaccess files that stopped is a note.
func loadLimitsHit(cfg *parser.Config) (stopped error, notes []string) {
	for _, d := range cfg.Diagnostics {
		if d.Kind != "limit" {
			continue
		}
		if d.Severity == parser.SevError {
			return fmt.Errorf("%s: %s", d.Pos, d.Message), nil
		}
		notes = append(notes, d.Pos.String()+": "+d.Message)
	}
	return nil, notes
}

// planJSON is the --format=json object; its keys are documented in
// docs/plan.md.
type planJSON struct {
	Scopes      []*migrate.Scope     `json:"scopes"`
	Pools       []*migrate.Pool      `json:"pools"`
	Placements  []*migrate.Placement `json:"placements"`
	Files       []*migrate.File      `json:"files"`
	Permissions []migrate.Permission `json:"permissions"`
	Notes       []string             `json:"notes"`
	Routes      []*migrate.Route     `json:"routes"`
	Shim        *migrate.Shim        `json:"shim,omitempty"`
}

func printPlan(w io.Writer, p *migrate.Plan, format string) error {
	if format == "json" {
		out := planJSON{Scopes: p.Scopes, Pools: p.Pools, Placements: p.Placements, Files: p.Changed(), Permissions: p.Permissions, Notes: p.Notes,
			Routes: p.Routes, Shim: p.Shim}
		for _, s := range []*[]string{&out.Notes} {
			if *s == nil {
				*s = []string{}
			}
		}
		if out.Files == nil {
			out.Files = []*migrate.File{}
		}
		if out.Permissions == nil {
			out.Permissions = []migrate.Permission{}
		}
		if out.Routes == nil {
			out.Routes = []*migrate.Route{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	_, err := io.WriteString(w, p.Diff())
	return err
}
