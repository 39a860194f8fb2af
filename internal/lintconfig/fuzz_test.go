package lintconfig

import (
	"errors"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/rules"
)

// FuzzParse parses arbitrary bytes as a configuration file: Parse never
// panics, every error is an *Error naming the file and a line inside it
// (or none), and what it accepts holds only known codes and severities.
func FuzzParse(f *testing.F) {
	f.Add([]byte("enable: [MPM1001, MPM1004]\ndisable: MPM1003\nfail-on: warning\nseverity:\n  MPM1004: error\naccess-file-name: [.htaccess]\nroot: ../copy\n"))
	f.Add([]byte("severity: {MPM1006: info}\n"))
	f.Add([]byte("enable: [MPM1004\n"))
	f.Add([]byte("disable: &x [MPM1004]\nenable: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("c.yaml", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.File != "c.yaml" || e.Msg == "" {
				t.Fatalf("error %v is not a positioned *Error", err)
			}
			// YAML breaks lines at CR LF, CR or LF.
			text := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n")
			if lines := strings.Count(text, "\n") + 1; e.Line < 0 || e.Line > lines+1 {
				t.Fatalf("error %v: line outside the %d lines", err, lines)
			}
			return
		}
		for _, code := range append(append([]string{}, c.Enable...), c.Disable...) {
			if _, ok := rules.Lookup(code); !ok {
				t.Fatalf("accepted unknown code %q", code)
			}
		}
		for code, sev := range c.Severity {
			if _, ok := rules.Lookup(code); !ok || sev.Rank() == 0 {
				t.Fatalf("accepted severity %q for %q", sev, code)
			}
		}
		if c.FailOn != "" && c.FailOn.Rank() == 0 {
			t.Fatalf("accepted fail-on %q", c.FailOn)
		}
	})
}
