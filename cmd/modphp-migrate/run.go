package main

import (
	"context"
	"fmt"
	"io"
)

// Exit codes are part of the command-line interface.
const (
	exitOK       = 0 // nothing at or above --fail-on
	exitFindings = 1 // findings (lint) or diagnostics (dump)
	exitUsage    = 2 // bad flags or arguments
	exitInternal = 3 // the tool itself failed
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"dump", "print what the loader saw in an Apache tree (files, modules, vhosts, .htaccess, diagnostics)", runDump},
		lintCommand(), explainCommand(), rulesCommand(), shimCommand(), planCommand(), versionCommand(),
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 2 && args[0] == "help" {
		// help COMMAND is COMMAND --help.
		args = []string{args[1], "--help"}
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := stdout
		code := exitOK
		if len(args) == 0 {
			w, code = stderr, exitUsage
		}
		usage(w)
		return code
	}
	if args[0] == "--version" || args[0] == "-version" {
		return runVersion(ctx, args[1:], stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "modphp-migrate: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: modphp-migrate COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'modphp-migrate COMMAND --help' or 'modphp-migrate help COMMAND' for the flags")
	fmt.Fprintln(w, "of a command, 'modphp-migrate --version' for the version.")
	fmt.Fprintln(w, "Exit codes: 0 clean, 1 findings, 2 usage error, 3 internal failure.")
}
