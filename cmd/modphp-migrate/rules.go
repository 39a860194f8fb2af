package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/modphp-migrate/modphp-migrate/rules"
)

func rulesCommand() command {
	return command{name: "rules", summary: "list the lint rules", run: runRules}
}

func runRules(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("rules", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	usage := func(w io.Writer) {
		fmt.Fprint(w, "usage: modphp-migrate rules\n\nLists every lint rule: code, severity and title.\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			usage(stdout)
			return exitOK
		}
		fmt.Fprintf(stderr, "modphp-migrate rules: %v\n", err)
		usage(stderr)
		return exitUsage
	}
	if fs.NArg() != 0 {
		usage(stderr)
		return exitUsage
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tSEVERITY\tTITLE")
	for _, r := range rules.All() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Code, r.Severity, r.Title)
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "modphp-migrate rules: %v\n", err)
		return exitInternal
	}
	return exitOK
}
