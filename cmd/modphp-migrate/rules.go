package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/modphp-migrate/modphp-migrate/rules"
)

func rulesCommand() command {
	return command{name: "rules", summary: "list the lint rules", run: runRules}
}

const rulesUsage = "usage: modphp-migrate rules\n\nLists every lint rule: code, severity and title.\n"

func runRules(_ context.Context, args []string, stdout, stderr io.Writer) int {
	rest, code, done := parseBare("rules", rulesUsage, args, stdout, stderr)
	if done {
		return code
	}
	if len(rest) != 0 {
		fmt.Fprint(stderr, rulesUsage)
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
