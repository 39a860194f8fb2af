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

// parseBare parses the arguments of a command that has no flags but -h:
// it returns the positional arguments, or done with the exit code when -h
// was given (usage on stdout, 0) or the flags were bad (stderr, 2).
func parseBare(name, usage string, args []string, stdout, stderr io.Writer) (rest []string, code int, done bool) {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return nil, exitOK, true
		}
		fmt.Fprintf(stderr, "modphp-migrate %s: %v\n%s", name, err, usage)
		return nil, exitUsage, true
	}
	return fs.Args(), 0, false
}

const explainUsage = "usage: modphp-migrate explain CODE\n\nPrints the documentation of a lint rule (see 'modphp-migrate rules' for the codes).\n"

func runExplain(_ context.Context, args []string, stdout, stderr io.Writer) int {
	rest, code, done := parseBare("explain", explainUsage, args, stdout, stderr)
	if done {
		return code
	}
	if len(rest) != 1 {
		fmt.Fprint(stderr, explainUsage)
		return exitUsage
	}
	r, ok := rules.Lookup(rest[0])
	if !ok {
		fmt.Fprintf(stderr, "modphp-migrate explain: no rule has code %q; 'modphp-migrate rules' lists them\n", rest[0])
		return exitUsage
	}
	if _, err := io.WriteString(stdout, rules.Explain(r)); err != nil {
		fmt.Fprintf(stderr, "modphp-migrate explain: %v\n", err)
		return exitInternal
	}
	return exitOK
}
