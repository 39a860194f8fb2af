package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// The -update flag rewrites golden files. Another test file of the package
// may define it too; register it only once.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// TestLintScenarios runs the end-to-end CLI scenarios in ../../testdata/*.txtar,
// in the style of golang.org/x/tools/cmd/deadcode's tests. The archive
// comment holds, one per line:
//
//	modphp-migrate ARGS...   the command line ($ROOT = the extracted tree)
//	exit N                   the expected exit code (default 0)
//	want "regexp"            stdout must match
//	!want "regexp"           stdout must not match
//	stderr "regexp"          stderr must match
//	env NAME=VALUE           environment for the run
//	chmod MODE PATH          file mode to set after extraction
//	symlink PATH TARGET      a symbolic link to make after extraction
//	stdin PATH               standard input of lint - (an extracted file)
//
// Files are extracted to a temporary directory, which is also the working
// directory of the run. In regexps, $ROOT is that directory, quoted.
func TestLintScenarios(t *testing.T) {
	files, err := filepath.Glob("../../testdata/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scenarios")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			runCLIScenario(t, file)
		})
	}
}

func runCLIScenario(t *testing.T, file string) {
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	if tmp, err = filepath.EvalSymlinks(tmp); err != nil {
		t.Fatal(err)
	}
	for _, f := range ar.Files {
		p := filepath.Join(tmp, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var (
		args     []string
		exitWant int
		checks   []func(stdout, stderr string)
	)
	expand := func(s string) string { return strings.ReplaceAll(s, "$ROOT", regexp.QuoteMeta(tmp)) }
	for i, line := range strings.Split(string(ar.Comment), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		verb, rest, _ := strings.Cut(line, " ")
		switch verb {
		case "modphp-migrate":
			args = strings.Fields(strings.ReplaceAll(rest, "$ROOT", tmp))
		case "exit":
			exitWant, err = strconv.Atoi(rest)
			if err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
		case "env":
			k, v, _ := strings.Cut(rest, "=")
			t.Setenv(k, v)
		case "chmod":
			f := strings.Fields(rest)
			mode, err := strconv.ParseUint(f[0], 8, 32)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Join(tmp, f[1]), os.FileMode(mode)); err != nil {
				t.Fatal(err)
			}
		case "symlink":
			f := strings.Fields(rest)
			p := filepath.Join(tmp, f[0])
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(f[1], p); err != nil {
				t.Fatal(err)
			}
		case "stdin":
			data, err := os.ReadFile(filepath.Join(tmp, rest))
			if err != nil {
				t.Fatal(err)
			}
			old := lintStdin
			lintStdin = bytes.NewReader(data)
			t.Cleanup(func() { lintStdin = old })
		case "want", "!want", "stderr":
			q, err := strconv.Unquote(rest)
			if err != nil {
				t.Fatalf("line %d: %s: %v", i+1, rest, err)
			}
			re, err := regexp.Compile(expand(q))
			if err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			checks = append(checks, func(stdout, stderr string) {
				switch verb {
				case "want":
					if !re.MatchString(stdout) {
						t.Errorf("stdout does not match %s", q)
					}
				case "!want":
					if re.MatchString(stdout) {
						t.Errorf("stdout matches %s", q)
					}
				case "stderr":
					if !re.MatchString(stderr) {
						t.Errorf("stderr does not match %s", q)
					}
				}
			})
		default:
			t.Fatalf("line %d: unknown verb %q", i+1, verb)
		}
	}
	if args == nil {
		t.Fatal("no modphp-migrate command line")
	}
	t.Chdir(tmp)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	if code != exitWant {
		t.Errorf("exit code %d, want %d", code, exitWant)
	}
	for _, c := range checks {
		c(stdout.String(), stderr.String())
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
}

// TestLintHelp compares every command's -h output with its golden file, and
// checks it goes to stdout with exit 0.
func TestLintHelp(t *testing.T) {
	for _, cmd := range []string{"lint", "explain", "rules", "dump", "shim"} {
		t.Run(cmd, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), []string{cmd, "-h"}, &stdout, &stderr); code != exitOK {
				t.Fatalf("exit %d, stderr %s", code, stderr.String())
			}
			golden := filepath.Join("testdata", cmd+".help.golden")
			if updating() {
				if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if stdout.String() != string(want) {
				t.Errorf("-h output differs from %s (go test -update to refresh):\n%s", golden, stdout.String())
			}
		})
	}
}

// TestLintSARIF checks the shape GitHub code scanning requires of a SARIF
// 2.1.0 upload: version, a driver with rules, results whose ruleId is a
// driver rule, levels from the allowed set, and positive start lines.
func TestLintSARIF(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "etc", "apache2", "apache2.conf")
	if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
		t.Fatal(err)
	}
	data := "ServerRoot /etc/apache2\n<VirtualHost *:80>\n  DocumentRoot /var/www/site\n  php_value memory_limit 1G\n  SetEnv PHP_VALUE x=1\n</VirtualHost>\n"
	if err := os.WriteFile(conf, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "var", "www", "site"), 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"lint", "--format=sarif", "--root", dir, filepath.Dir(conf)}, &stdout, &stderr)
	if code != exitFindings {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region *struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "modphp-migrate" {
		t.Fatalf("bad header: %+v", log)
	}
	r := log.Runs[0]
	var got []string
	for _, res := range r.Results {
		if res.RuleIndex >= len(r.Tool.Driver.Rules) || r.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %s: ruleIndex %d does not point at its rule", res.RuleID, res.RuleIndex)
		}
		if res.Level != "error" && res.Level != "warning" && res.Level != "note" {
			t.Errorf("result %s: level %q", res.RuleID, res.Level)
		}
		loc := res.Locations[0].PhysicalLocation
		if !strings.HasPrefix(loc.ArtifactLocation.URI, "file:///") || loc.Region == nil || loc.Region.StartLine < 1 {
			t.Errorf("result %s: location %+v", res.RuleID, loc)
		}
		got = append(got, res.RuleID+":"+strconv.Itoa(loc.Region.StartLine))
	}
	if want := "MPM1004:4,MPM1006:5"; strings.Join(got, ",") != want {
		t.Errorf("results %s, want %s", strings.Join(got, ","), want)
	}
}

// TestLintLegacyExample lints docs/examples/legacy-server, the README's
// walkthrough, on a copy with the file modes of legacy-server.modes
// applied, and compares file:line code severity of every finding with
// testdata/legacy-server.golden (go test -update rewrites it; review the
// diff against docs/examples/README.md, which lists what each site should
// produce).
func TestLintLegacyExample(t *testing.T) {
	src := "../../docs/examples/legacy-server"
	if _, err := os.Stat(src); err != nil {
		t.Skipf("example tree not present: %v", err)
	}
	root := filepath.Join(t.TempDir(), "legacy-server")
	if err := os.CopyFS(root, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	modes, err := os.ReadFile("../../docs/examples/legacy-server.modes")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(modes), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		mode, err := strconv.ParseUint(f[0], 8, 32)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(root, f[1]), os.FileMode(mode)); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"lint", "--format=json", "--root", root, filepath.Join(root, "etc", "apache2")}, &stdout, &stderr)
	if code != exitFindings {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	var diags []jsonDiag
	if err := json.Unmarshal(stdout.Bytes(), &diags); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, d := range diags {
		if !filepath.IsAbs(d.File) {
			t.Errorf("%s: file is not absolute although the input path is", d.File)
		}
		rel, _ := filepath.Rel(root, d.File)
		b.WriteString(rel + ":" + strconv.Itoa(d.Line) + " " + d.Code + " " + d.Severity + "\n")
		if d.Origin == "today" && d.Severity == "error" {
			t.Errorf("%s:%d %s: an error whose origin is today: %s", rel, d.Line, d.Code, d.Message)
		}
	}
	golden := filepath.Join("testdata", "legacy-server.golden")
	if updating() {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("findings on docs/examples/legacy-server changed (go test -update after review):\ngot:\n%swant:\n%s", b.String(), want)
	}
}
