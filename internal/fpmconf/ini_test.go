package fpmconf

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

func TestLoadINI(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"php.ini": `[PHP]
memory_limit = 128M
error_reporting = E_ALL & ~E_DEPRECATED & ~E_STRICT
user_agent = "${memory_limit}-${HOME_X}"
display_errors = Off
extension=pdo
[PATH=/var/www/site/]
memory_limit = 256M
[HOST=Example.COM]
display_errors = On
[Session]
session.save_path = "/var/lib/php/sessions"
`,
		"conf.d/20-b.ini":     "memory_limit = 192M\nzend_extension=opcache.so\n",
		"conf.d/10-a.ini":     "memory_limit = 160M\nprecision = 10\n",
		"conf.d/30-bad.ini":   "precision = 11\nbroken = a=b\nprecision = 12\n",
		"conf.d/40-skip.conf": "precision = 13\n",
		"conf.d/50-dir.ini/":  "",
		"more/00-last.ini":    "short_open_tag = yes\n",
		"conf.d/.hidden.ini":  "hidden = 1\n",
	})
	ini, err := LoadINIOptions(filepath.Join(dir, "php.ini"), filepath.Join(dir, "conf.d")+"::"+filepath.Join(dir, "more"),
		Options{Getenv: getenv(map[string]string{"HOME_X": "h"})})
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	check("Files", ini.Files, []string{
		dir + "/php.ini", dir + "/conf.d/.hidden.ini", dir + "/conf.d/10-a.ini", dir + "/conf.d/20-b.ini",
		dir + "/conf.d/30-bad.ini", dir + "/more/00-last.ini",
	})
	values := map[string]string{}
	for k, s := range ini.Settings {
		values[k] = s.Value
	}
	check("Settings", values, map[string]string{
		"memory_limit": "192M", "error_reporting": "22527", "user_agent": "128M-h", "display_errors": "",
		"session.save_path": "/var/lib/php/sessions", "precision": "11", "short_open_tag": "1", "hidden": "1",
		"broken": "a", // the statement is complete when '=' ends the value; PHP stores it, then fails

	})
	check("memory_limit pos", ini.Settings["memory_limit"].Pos, parser.Pos{File: dir + "/conf.d/20-b.ini", Line: 1, Col: 1})
	check("Extensions", ini.Extensions, []Setting{{Value: "pdo", Pos: parser.Pos{File: dir + "/php.ini", Line: 6, Col: 1}}})
	check("ZendExtensions", ini.ZendExtensions, []Setting{{Value: "opcache.so", Pos: parser.Pos{File: dir + "/conf.d/20-b.ini", Line: 2, Col: 1}}})
	check("Sections", ini.Sections, []*INISection{
		{Kind: "PATH", Name: "/var/www/site", Pos: parser.Pos{File: dir + "/php.ini", Line: 7, Col: 1},
			Settings: map[string]Setting{"memory_limit": {Value: "256M", Pos: parser.Pos{File: dir + "/php.ini", Line: 8, Col: 1}}}},
		{Kind: "HOST", Name: "example.com", Pos: parser.Pos{File: dir + "/php.ini", Line: 9, Col: 1},
			Settings: map[string]Setting{"display_errors": {Value: "1", Pos: parser.Pos{File: dir + "/php.ini", Line: 10, Col: 1}}}},
	})
	var diags []string
	for _, d := range ini.Diagnostics {
		diags = append(diags, d.Severity.String()+" "+d.String())
	}
	check("Diagnostics", diags, []string{
		"error " + dir + "/conf.d/30-bad.ini:2:11: syntax error, unexpected '='; PHP ignores the rest of the file",
	})
	if v, ok := ini.Get("precision"); v != "11" || !ok {
		t.Errorf("Get(precision) = %q, %v", v, ok)
	}
	if _, ok := ini.Get("nope"); ok {
		t.Error("Get(nope) found")
	}
	var nilINI *INI
	if _, ok := nilINI.Get("x"); ok {
		t.Error("nil INI has a value")
	}
	if _, err := LoadINI(filepath.Join(dir, "missing.ini"), ""); err == nil {
		t.Error("missing php.ini: no error")
	}
}

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		msg  string
	}{
		{"10", 10, ""}, {"10s", 10, ""}, {"5m", 300, ""}, {"1h", 3600, ""}, {"1d", 86400, ""},
		{"0", 0, ""}, {"1.5m", 60, ""}, {"m", 0, ""}, {"", 0, "invalid time value"},
		{"5x", 0, "unknown suffix used in time value"}, {"-2m", -120, ""},
	} {
		got, msg := ParseTime(tc.in)
		if got != tc.want || msg != tc.msg {
			t.Errorf("ParseTime(%q) = %d, %q; want %d, %q", tc.in, got, msg, tc.want, tc.msg)
		}
	}
}
