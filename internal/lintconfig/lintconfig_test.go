package lintconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/rules"
)

func TestParse(t *testing.T) {
	src := `# adopt gradually
enable: [MPM1001, MPM1004, mpm1006]
disable: MPM1003,MPM2001
fail-on: warning
severity:
  MPM1004: error
  mpm1006: info
access-file-name:
  - .htaccess
  - .acl
root: ../copy
`
	c, err := Parse("/srv/repo/.modphp-migrate.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Path:            "/srv/repo/.modphp-migrate.yaml",
		Set:             map[string]bool{"enable": true, "disable": true, "fail-on": true, "severity": true, "access-file-name": true, "root": true},
		Enable:          []string{"MPM1001", "MPM1004", "mpm1006"},
		Disable:         []string{"MPM1003", "MPM2001"},
		FailOn:          rules.Warning,
		Severity:        map[string]rules.Severity{"MPM1004": rules.Error, "MPM1006": rules.Info},
		AccessFileNames: []string{".htaccess", ".acl"},
		Root:            "/srv/copy",
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "# nothing yet\n", "enable: []\n"} {
		c, err := Parse("c.yaml", []byte(src))
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if len(c.Enable) != 0 || c.FailOn != "" || c.Root != "" {
			t.Errorf("%q: %+v", src, c)
		}
	}
}

// TestParseErrors checks that every problem names file:line:col.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"enable: [MPM1004]\nfail_on: warning\n", `c.yaml:2:1: unknown key "fail_on" (want enable, disable, fail-on, severity, access-file-name, root)`},
		{"fail-on: fatal\n", `c.yaml:1:10: fail-on: unknown severity "fatal" (want error, warning or info)`},
		{"disable:\n  - MPM1004\n  - MPM9999\n", `c.yaml:3:5: disable: unknown rule code "MPM9999" (see modphp-migrate rules)`},
		{"severity:\n  MPM1004: high\n", `c.yaml:2:12: severity: MPM1004: unknown severity "high" (want error, warning or info)`},
		{"severity:\n  MPM1004: error\n  MPM12: info\n", `c.yaml:3:3: severity: unknown rule code "MPM12" (see modphp-migrate rules)`},
		{"severity: [MPM1004]\n", `c.yaml:1:11: severity: want a mapping of rule codes to severities (MPM1004: error)`},
		{"root: [a, b]\n", `c.yaml:1:7: root: want a single value`},
		{"access-file-name: ../x\n", `c.yaml:1:19: access-file-name: "../x" is not a file name`},
		{"fail-on: error\nfail-on: info\n", `c.yaml:2:1: fail-on is set twice`},
		{"- enable\n", `c.yaml:1:1: want a mapping of keys (enable, disable, fail-on, severity, access-file-name, root)`},
		{"enable: [MPM1004\n", `c.yaml:1: did not find expected ',' or ']'`},
		{"disable: &x [MPM1004]\nenable: *x\n", `c.yaml:2:9: enable: YAML aliases are not supported`},
	} {
		_, err := Parse("c.yaml", []byte(tc.src))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got %v\nwant %s", tc.src, err, tc.want)
		}
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	deep := filepath.Join(dir, "etc", "apache2", "sites")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(deep, "a.conf")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	top := filepath.Join(dir, FileName)
	if err := os.WriteFile(top, []byte("fail-on: info\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, start := range []string{deep, file, dir} {
		if got, err := Find(start); err != nil || got != top {
			t.Errorf("Find(%s) = %q, %v; want %s", start, got, err, top)
		}
	}
	nearer := filepath.Join(dir, "etc", FileName)
	if err := os.WriteFile(nearer, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := Find(file); got != nearer {
		t.Errorf("Find(%s) = %q, want the nearer %s", file, got, nearer)
	}
	c, err := Load(top)
	if err != nil || c.FailOn != rules.Info {
		t.Errorf("Load: %+v, %v", c, err)
	}
}
