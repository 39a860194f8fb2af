package main

import (
	"github.com/spf13/pflag"

	"github.com/modphp-migrate/modphp-migrate/internal/lintconfig"
	"github.com/modphp-migrate/modphp-migrate/rules"
)

// applyConfig reads lint's configuration file, --config or else the
// .modphp-migrate.yaml nearest above the first linted path (the working
// directory when none is given), and takes from it every setting whose flag
// was not given: flags override the file.
func applyConfig(flags *pflag.FlagSet, f *lintFlags) error {
	path := f.config
	switch path {
	case "none":
		return nil
	case "":
		start := "."
		if flags.NArg() > 0 {
			start = flags.Arg(0)
		}
		var err error
		if path, err = lintconfig.Find(start); err != nil || path == "" {
			return err
		}
	}
	c, err := lintconfig.Load(path)
	if err != nil {
		return err
	}
	unset := func(key, flag string) bool { return c.Set[key] && !flags.Changed(flag) }
	if unset("enable", "enable") {
		f.enable = c.Enable
	}
	if unset("disable", "disable") {
		f.disable = c.Disable
	}
	if unset("fail-on", "fail-on") {
		f.failOn = string(c.FailOn)
	}
	if unset("access-file-name", "access-file-name") {
		f.accessNames = c.AccessFileNames
	}
	if unset("root", "root") {
		f.root = c.Root
	}
	f.severity = c.Severity
	return nil
}

// applySeverities gives the findings of the codes in sev their configured
// severity.
func applySeverities(diags []rules.Diagnostic, sev map[string]rules.Severity) {
	if len(sev) == 0 {
		return
	}
	for i := range diags {
		if s, ok := sev[diags[i].Code]; ok {
			diags[i].Severity = s
		}
	}
}
