package fpmconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkDiagnostics holds for any input: every diagnostic names a file, a
// line inside it (or 0 for the file as a whole) and a column inside the
// line, has a severity and a message.
func checkDiagnostics(t *testing.T, ds []Diagnostic, files map[string]string, split func(string) []string) {
	t.Helper()
	for _, d := range ds {
		if d.Message == "" || (d.Severity != SeverityError && d.Severity != SeverityWarning) {
			t.Errorf("bad diagnostic %+v", d)
		}
		src, ok := files[d.Pos.File]
		if !ok {
			continue // a directory or an included file we did not write
		}
		if d.Pos.Line == 0 {
			continue
		}
		lines := split(src)
		if d.Pos.Line < 1 || d.Pos.Line > len(lines) {
			t.Errorf("%s: line out of range (%d lines)", d, len(lines))
			continue
		}
		if d.Pos.Col < 1 || d.Pos.Col > len(lines[d.Pos.Line-1])+1 {
			t.Errorf("%s: column out of range (line %q)", d, lines[d.Pos.Line-1])
		}
	}
}

// splitFPM splits lines as php-fpm reads them: at '\n' only.
func splitFPM(s string) []string { return strings.Split(s, "\n") }

// splitINI splits lines as PHP's INI scanner counts them: "\r\n", "\r" or
// "\n".
func splitINI(s string) []string {
	return strings.Split(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"), "\n")
}

// FuzzLoadFPM loads arbitrary bytes as a php-fpm.conf (includes resolve
// under the test's own directory) and checks that loading never panics and
// that diagnostics point inside the file.
func FuzzLoadFPM(f *testing.F) {
	f.Add([]byte(pool))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		main := filepath.Join(dir, "php-fpm.conf")
		if err := os.WriteFile(main, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := LoadOptions(main, Options{Prefix: dir, Getenv: getenv(exampleEnv)})
		if err != nil {
			t.Fatal(err)
		}
		checkDiagnostics(t, c.Diagnostics, map[string]string{main: string(data)}, splitFPM)
		for _, p := range c.Pools {
			base := Baseline(nil, p)
			for k, s := range p.Values() {
				if base[k] != s.Value {
					t.Errorf("Baseline[%s] = %q, Values %q", k, base[k], s.Value)
				}
			}
			if p.Listen == "" && c.Accepted() {
				t.Errorf("pool [%s] accepted without listen", p.Name)
			}
		}
	})
}

// FuzzINI parses arbitrary bytes as a php.ini and checks that it never
// panics, that diagnostics point inside the file, and that whatever is
// read is also what a second read gives.
func FuzzINI(f *testing.F) {
	f.Add([]byte("memory_limit = 128M\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "php.ini")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ini, err := LoadINI(path, dir)
		if err != nil {
			t.Fatal(err)
		}
		checkDiagnostics(t, ini.Diagnostics, map[string]string{path: string(data)}, splitINI)
		// The scan directory holds php.ini itself: read twice, same
		// settings.
		once, err := LoadINI(path, "")
		if err != nil {
			t.Fatal(err)
		}
		for k, s := range once.Settings {
			if _, ok := ini.Settings[k]; !ok {
				t.Errorf("%s read once but not twice (%q)", k, s.Value)
			}
		}
	})
}
