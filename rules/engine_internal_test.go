package rules

import (
	"os"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
)

// handBuilt is a one-file server configuration built without the loader.
func handBuilt(nodes ...*parser.Node) *parser.Config {
	f := &parser.File{Path: "/etc/apache2/apache2.conf", Nodes: nodes}
	return &parser.Config{Main: f, Files: []*parser.File{f}, MainFile: f.Path}
}

func TestUnknownLoaderKind(t *testing.T) {
	cfg := handBuilt()
	cfg.Diagnostics = []parser.Diagnostic{
		{Pos: parser.Pos{File: "/etc/apache2/apache2.conf", Line: 3, Col: 1}, Severity: parser.SevWarning, Kind: "future", Message: "something new"},
		{Pos: parser.Pos{File: "/etc/apache2/apache2.conf", Line: 4, Col: 1}, Severity: parser.SevError, Kind: "syntax", Message: "broken"},
	}
	diags, err := Run(&parser.Result{Today: cfg, After: cfg}, &Options{Enable: []string{"MPM0009", "MPM0001"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range diags {
		got = append(got, d.Pos.String()+" "+d.Code+" "+string(d.Severity)+" "+d.Message)
	}
	want := []string{
		"/etc/apache2/apache2.conf:3:1 MPM0009 warning something new",
		"/etc/apache2/apache2.conf:4:1 MPM0001 error broken",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPanickingRuleIsAnError(t *testing.T) {
	r := &Rule{Code: "MPM9998", Run: func(p *Pass) {
		p.Report(Diagnostic{Pos: parser.Pos{File: "x", Line: 1}, Message: "before the panic"})
		var n *parser.Node
		_ = n.Name
	}}
	p := &Pass{Rule: r, Options: &Options{}, report: func(Diagnostic) {}}
	err := runRule(r, p)
	if err == nil || !strings.Contains(err.Error(), "rule MPM9998 panicked") {
		t.Fatalf("err = %v, want a panic turned into an error", err)
	}
}

func TestHandBuiltPHPValue(t *testing.T) {
	// The engine on nodes built by hand, as a rule sees them before any
	// loader: an unguarded php_value, and one under <IfModule mod_php.c>
	// that is active today only.
	file := "/etc/apache2/apache2.conf"
	plain := &parser.Node{Kind: parser.KindDirective, Pos: parser.Pos{File: file, Line: 1, Col: 1}, Name: "php_value", Args: []string{"memory_limit", "1G"}, Active: true}
	guard := func(active bool) *parser.Node {
		g := &parser.Node{Kind: parser.KindSection, Pos: parser.Pos{File: file, Line: 2, Col: 1}, Name: "IfModule", Args: []string{"mod_php.c"}, Active: active}
		in := &parser.Node{Kind: parser.KindDirective, Pos: parser.Pos{File: file, Line: 3, Col: 5}, Name: "php_flag", Args: []string{"display_errors", "on"}, Active: true, Parent: g}
		g.Children = []*parser.Node{in}
		return g
	}
	today := handBuilt(plain, guard(true))
	after := handBuilt(plain, guard(false))
	diags, err := Run(&parser.Result{Today: today, After: after}, &Options{Enable: []string{"MPM1004"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) != 2 {
		t.Fatalf("got %d diagnostics, want 2: %+v", len(diags), diags)
	}
	if d := diags[0]; d.Pos.Line != 1 || d.Severity != Error || !strings.HasPrefix(d.Message, "php_value is an unknown directive without mod_php: httpd will refuse to start") {
		t.Errorf("first = %+v", d)
	}
	// No DocumentRoot: the plan has no directory to place the setting in
	// and leaves it to the shim, so there is no fix (no pool guessed).
	wantMsg := "display_errors is set under <IfModule mod_php.c> and silently stops applying once mod_php is gone: for display_errors, the plan leaves it to the modphp-migrate shim: outside every virtual host and directory: no directory to place it in; only the shim applies it per request"
	if d := diags[1]; d.Pos.Line != 2 || d.Severity != Warning || d.Fix != "" || d.Message != wantMsg {
		t.Errorf("second = %+v", d)
	}
}

func TestSortDropsDuplicates(t *testing.T) {
	d := func(line int, code, msg string) Diagnostic {
		return Diagnostic{Pos: parser.Pos{File: "a", Line: line, Col: 1}, Code: code, Message: msg}
	}
	got := Sort([]Diagnostic{d(2, "MPM1004", "x"), d(1, "MPM1006", "y"), d(2, "MPM1004", "x"), d(2, "MPM1001", "z")})
	var s []string
	for _, g := range got {
		s = append(s, g.Pos.String()+" "+g.Code)
	}
	if want := "a:1:1 MPM1006,a:2:1 MPM1001,a:2:1 MPM1004"; strings.Join(s, ",") != want {
		t.Errorf("got %s, want %s", strings.Join(s, ","), want)
	}
}

func TestOptionsEnabled(t *testing.T) {
	for _, tc := range []struct {
		opt  Options
		code string
		want bool
	}{
		{Options{}, "MPM1003", true},
		{Options{NoPermissions: true}, "MPM1003", false},
		{Options{Enable: []string{"mpm1004"}}, "MPM1004", true},
		{Options{Enable: []string{"MPM1004"}}, "MPM1005", false},
		{Options{Disable: []string{"MPM1005"}}, "MPM1005", false},
	} {
		r, _ := Lookup(tc.code)
		if got := tc.opt.enabled(r); got != tc.want {
			t.Errorf("%+v enabled(%s) = %v, want %v", tc.opt, tc.code, got, tc.want)
		}
	}
}

func TestIsPHPName(t *testing.T) {
	for name, want := range map[string]bool{"a.php": true, "A.PHP": true, "x.php7": true, "y.phtml": true, "z.phar": true,
		"evil.jpg": false, "php": false, "a.php.jpg": false, "a.phps": false, "a.php10": false} {
		if got := isPHPName(name); got != want {
			t.Errorf("isPHPName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestWalkReportsUnreadable(t *testing.T) {
	// Root can read every directory, so make one unreachable by path: a
	// chain of directories deeper than PATH_MAX (4096 bytes) fails to open
	// with ENAMETOOLONG, as a directory without permission would fail
	// with EACCES.
	root := t.TempDir()
	t.Chdir(root)
	name := strings.Repeat("d", 250)
	for range 20 {
		if err := os.Mkdir(name, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chdir(name); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile("deep.php", nil, 0o666); err != nil {
		t.Fatal(err)
	}
	res := walkTree(t.Context(), facts.OS(), root, &Options{}, walkBudget(nil))
	if res.unreadableCount != 1 || len(res.unreadable) != 1 || !strings.HasPrefix(res.unreadable[0], name+"/") {
		t.Fatalf("unreadable = %d %.80q…, want the one directory past PATH_MAX", res.unreadableCount, res.unreadable)
	}
}
