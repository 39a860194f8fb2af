package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/modphp-migrate/modphp-migrate/rules"
)

func explainCommand() command {
	return command{name: "explain", summary: "explain a lint rule: what it finds, why, and the fix", run: runExplain}
}

func runExplain(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("explain", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	usage := func(w io.Writer) {
		fmt.Fprint(w, "usage: modphp-migrate explain CODE\n\nPrints the documentation of a lint rule (see 'modphp-migrate rules' for the codes).\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			usage(stdout)
			return exitOK
		}
		fmt.Fprintf(stderr, "modphp-migrate explain: %v\n", err)
		usage(stderr)
		return exitUsage
	}
	if fs.NArg() != 1 {
		usage(stderr)
		return exitUsage
	}
	r, ok := rules.Lookup(fs.Arg(0))
	if !ok {
		fmt.Fprintf(stderr, "modphp-migrate explain: no rule has code %q; 'modphp-migrate rules' lists them\n", fs.Arg(0))
		return exitUsage
	}
	if _, err := io.WriteString(stdout, rules.Explain(r)); err != nil {
		fmt.Fprintf(stderr, "modphp-migrate explain: %v\n", err)
		return exitInternal
	}
	return exitOK
}
