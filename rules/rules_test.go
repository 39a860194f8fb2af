package rules_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules"
)

// TestScenarios runs every rules/testdata/CODE/*.txtar archive: the files
// are extracted to a temporary directory, loaded with Root set to it, and
// the rule CODE is run. Expectations are Apache comment lines
//
//	# want +1 "regexp" ["regexp"...]
//
// meaning a diagnostic of that code on the line that many lines below (or
// above, with -N) whose message matches; `# want +1 error/switch "re"`
// also checks the finding's severity and origin; `# want dir=var/www/site "re"`
// expects a whole-directory finding (line 0). Every expectation must be
// met and every diagnostic expected.
//
// The archive comment describes the scenario and may hold setup lines:
//
//	load etc/apache2          (default: etc/apache2 or etc/httpd)
//	single var/www/x/.htaccess (LoadSingle instead of Load)
//	enable MPM1006            (more codes to run, e.g. for suppression tests)
//	chmod 0777 var/www/x/a.php
//	symlink /etc var/www/x/etc
//	max-examples 2
//	max-walk 100              (Options.MaxWalk and LoadOptions.MaxWalk)
//	fpm etc/php/8.2/fpm/php-fpm.conf (rules.LoadFPM; "auto": FindFPMConfig)
//	httpd-version 2.4.7       (Options.HTTPDVersion)
//
// In php-fpm and php.ini files expectations start with ';' instead of '#'.
func TestScenarios(t *testing.T) {
	dirs, err := filepath.Glob("testdata/MPM*")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		code := filepath.Base(dir)
		files, _ := filepath.Glob(filepath.Join(dir, "*.txtar"))
		for _, file := range files {
			t.Run(code+"/"+strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
				runScenario(t, code, file)
			})
		}
	}
}

// setupWords start setup lines in an archive comment; other lines describe
// the scenario.
var setupWords = map[string]bool{"load": true, "single": true, "enable": true, "chmod": true, "symlink": true, "mkdir": true, "max-examples": true, "max-walk": true, "fpm": true, "httpd-version": true}

var wantRE = regexp.MustCompile(`^\s*[#;]\s*want\s+(?:([+-]\d+)|dir=(\S+))\s+(?:((?:error|warning|info)/(?:switch|today))\s+)?(.*)$`)

type want struct {
	file string
	line int
	re   *regexp.Regexp
	src  string
	kind string // "severity/origin", or "" for any
	hit  bool
}

func runScenario(t *testing.T, code, file string) {
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	var wants []*want
	for _, f := range ar.Files {
		p := filepath.Join(tmp, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(f.Data), "\n") {
			m := wantRE.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			w := want{file: p, kind: m[3]}
			if m[2] != "" {
				w.file, w.line = filepath.Join(tmp, filepath.FromSlash(m[2])), 0
			} else {
				off, _ := strconv.Atoi(m[1])
				w.line = i + 1 + off
			}
			for _, q := range splitQuoted(t, m[4]) {
				w2 := w
				w2.src = q
				w2.re, err = regexp.Compile(q)
				if err != nil {
					t.Fatalf("%s:%d: %v", f.Name, i+1, err)
				}
				wants = append(wants, &w2)
			}
		}
	}
	opt := &rules.Options{Enable: []string{code}}
	loadDir, single := "", ""
	for _, line := range strings.Split(string(ar.Comment), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch {
		case f[0] == "load" && len(f) == 2:
			loadDir = f[1]
		case f[0] == "single" && len(f) == 2:
			single = f[1]
		case f[0] == "enable" && len(f) >= 2:
			opt.Enable = append(opt.Enable, f[1:]...)
		case f[0] == "chmod" && len(f) == 3:
			mode, err := strconv.ParseUint(f[1], 8, 32)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Join(tmp, f[2]), os.FileMode(mode)); err != nil {
				t.Fatal(err)
			}
		case f[0] == "symlink" && len(f) == 3:
			if err := os.Symlink(f[1], filepath.Join(tmp, f[2])); err != nil {
				t.Fatal(err)
			}
		case f[0] == "mkdir" && len(f) == 2:
			if err := os.MkdirAll(filepath.Join(tmp, f[1]), 0o755); err != nil {
				t.Fatal(err)
			}
		case f[0] == "fpm" && len(f) == 2: // php-fpm.conf to load (relative), or "auto"
			path := filepath.Join(tmp, f[1])
			if f[1] == "auto" {
				path = rules.FindFPMConfig(tmp)
			}
			if opt.FPM, err = rules.LoadFPM(tmp, path); err != nil {
				t.Fatal(err)
			}
		case f[0] == "httpd-version" && len(f) == 2:
			opt.HTTPDVersion = f[1]
		case f[0] == "max-examples" && len(f) == 2:
			opt.MaxExamples, _ = strconv.Atoi(f[1])
		case f[0] == "max-walk" && len(f) == 2: // Options.MaxWalk and LoadOptions.MaxWalk
			opt.MaxWalk, _ = strconv.ParseInt(f[1], 10, 64)
		case setupWords[f[0]]:
			t.Fatalf("bad setup line %q", line)
		}
	}
	var res *parser.Result
	lopt := parser.LoadOptions{Root: tmp, MaxWalk: opt.MaxWalk}
	if single != "" {
		res, err = parser.LoadSingle(filepath.Join(tmp, single), rules.IsAccessFileName(filepath.Base(single), nil), lopt)
	} else {
		if loadDir == "" {
			loadDir = "etc/apache2"
			if _, err := os.Stat(filepath.Join(tmp, loadDir)); err != nil {
				loadDir = "etc/httpd"
			}
		}
		res, err = parser.Load(filepath.Join(tmp, loadDir), lopt)
	}
	if err != nil {
		t.Fatal(err)
	}
	diags, err := rules.Run(res, opt)
	if err != nil {
		t.Fatal(err)
	}
	var unexpected bytes.Buffer
	for _, d := range diags {
		matched := false
		for _, w := range wants {
			if !w.hit && w.file == d.Pos.File && w.line == d.Pos.Line && w.re.MatchString(d.Code+" "+d.Message) &&
				(w.kind == "" || w.kind == string(d.Severity)+"/"+string(d.Origin)) {
				w.hit, matched = true, true
				break
			}
		}
		if !matched {
			fmt.Fprintf(&unexpected, "\n\t%s: %s %s/%s %s", rel(tmp, d.Pos), d.Code, d.Severity, d.Origin, d.Message)
		}
	}
	if unexpected.Len() > 0 {
		t.Errorf("unexpected diagnostics:%s", unexpected.String())
	}
	for _, w := range wants {
		if !w.hit {
			t.Errorf("%s:%d: no diagnostic matching %q", strings.TrimPrefix(w.file, tmp+"/"), w.line, w.src)
		}
	}
}

func rel(tmp string, p parser.Pos) string {
	p.File = strings.TrimPrefix(p.File, tmp+"/")
	return p.String()
}

// splitQuoted splits `"a" "b"` (Go string literals) into their values.
func splitQuoted(t *testing.T, s string) []string {
	var out []string
	s = strings.TrimSpace(s)
	for s != "" {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			t.Fatalf("want: bad quoted string in %q: %v", s, err)
		}
		v, _ := strconv.Unquote(q)
		out = append(out, v)
		s = strings.TrimSpace(s[len(q):])
	}
	return out
}
