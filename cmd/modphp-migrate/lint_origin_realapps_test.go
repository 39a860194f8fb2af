package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
	"github.com/modphp-migrate/modphp-migrate/internal/realapps"
)

// TestLintOriginsRealApps lints this machine's Debian Apache tree with the
// packaged configuration of dokuwiki, adminer and phpmyadmin enabled,
// under mod_php and again after the switch as Debian documents it: no
// error has origin today; phpMyAdmin's open_basedir and upload_tmp_dir
// under <IfModule mod_php.c> are errors at their lines both times; no fix
// or message contradicts the plan of the same tree (fixProblems), and a
// fix changed to name another file or pool would be caught; and stock
// Debian's php8.2.conf (which covers
// .phtml and .phar) gets no MPM2007, as no such file is served.
func TestLintOriginsRealApps(t *testing.T) {
	realapps.Require(t, realapps.Apps...)
	conf := appsConf(t, filepath.Join(lab.TempDir(t), "orig"))
	for _, view := range []string{"mod_php", "switched"} {
		if view == "switched" {
			switchLikeDebian(t, conf)
		}
		diags := lintJSONOf(t, conf)
		checkNoTodayError(t, view, diags)
		pma := filepath.Join(conf, "conf-enabled/phpmyadmin.conf") // as lint reports it
		for _, line := range pmaModPHPLines(t, pma) {
			if !hasFinding(diags, pma, line, "MPM1004", "error", "switch") {
				t.Errorf("%s: no MPM1004 error/switch at %s:%d (a protection lost at the switch); MPM1004: %v", view, pma, line, only(diags, "MPM1004"))
			}
		}
		for _, d := range diags {
			if d.Code == "MPM2007" {
				t.Errorf("%s: MPM2007 on stock Debian: %s:%d %s", view, d.File, d.Line, d.Message)
			}
		}
		plan := planOf(t, conf)
		problems, checked := fixProblems("", diags, plan)
		for _, p := range problems {
			t.Errorf("%s: %s", view, p)
		}
		t.Logf("%s: %d places checked against the plan", view, checked)
		checkCatchesOtherPlace(t, view, "", diags, plan)
		if n := checkLostAreErrors(t, view, "", diags, plan); n < 2 {
			t.Errorf("%s: only %d settings lost at the switch found in the plan (phpMyAdmin's open_basedir and upload_tmp_dir)", view, n)
		}
	}
}

// lintJSONOf runs lint --format=json on a tree, with php-fpm's
// configuration found beside it as lint does by default.
func lintJSONOf(t *testing.T, conf string) []jsonDiag {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"lint", "--format=json", conf}, &stdout, &stderr); code != exitOK && code != exitFindings {
		t.Fatalf("lint: exit %d: %s", code, stderr.String())
	}
	var diags []jsonDiag
	if err := json.Unmarshal(stdout.Bytes(), &diags); err != nil {
		t.Fatal(err)
	}
	return diags
}

func checkNoTodayError(t *testing.T, view string, diags []jsonDiag) {
	t.Helper()
	for _, d := range diags {
		if d.Origin != "switch" && d.Origin != "today" {
			t.Errorf("%s: %s:%d %s: origin %q", view, d.File, d.Line, d.Code, d.Origin)
		}
		if d.Origin == "today" && d.Severity == "error" {
			t.Errorf("%s: error with origin today: %s:%d %s %s", view, d.File, d.Line, d.Code, d.Message)
		}
	}
}

// pmaModPHPLines returns the lines of the php_admin_value settings under
// <IfModule mod_php.c> in phpMyAdmin's packaged configuration.
func pmaModPHPLines(t *testing.T, file string) []int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	in := false
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.EqualFold(l, "<IfModule mod_php.c>"):
			in = true
		case strings.HasPrefix(l, "</IfModule"):
			in = false
		case in && (strings.HasPrefix(l, "php_admin_value open_basedir") || strings.HasPrefix(l, "php_admin_value upload_tmp_dir")):
			out = append(out, i+1)
		}
	}
	if len(out) != 2 {
		t.Fatalf("%s: want open_basedir and upload_tmp_dir under <IfModule mod_php.c>, found lines %v", file, out)
	}
	return out
}

func hasFinding(diags []jsonDiag, file string, line int, code, sev, origin string) bool {
	for _, d := range diags {
		if d.File == file && d.Line == line && d.Code == code && d.Severity == sev && d.Origin == origin {
			return true
		}
	}
	return false
}

// switchLikeDebian switches a copy of Debian's tree as Debian documents
// it: a2dismod php8.2 mpm_prefork; a2enmod mpm_event proxy_fcgi setenvif;
// a2enconf php8.2-fpm.
func switchLikeDebian(t *testing.T, conf string) {
	t.Helper()
	for _, f := range []string{"php8.2.load", "php8.2.conf", "mpm_prefork.load", "mpm_prefork.conf"} {
		if err := os.Remove(filepath.Join(conf, "mods-enabled", f)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	link := func(dir, name string) {
		dst := filepath.Join(conf, dir+"-enabled", name)
		if _, err := os.Lstat(filepath.Join(conf, dir+"-available", name)); err != nil {
			return // this module has no .conf
		}
		_ = os.Remove(dst)
		if err := os.Symlink("../"+dir+"-available/"+name, dst); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []string{"mpm_event", "proxy", "proxy_fcgi", "setenvif"} {
		link("mods", m+".load")
		link("mods", m+".conf")
	}
	link("conf", "php8.2-fpm.conf")
}

func only(diags []jsonDiag, code string) []string {
	var out []string
	for _, d := range diags {
		if d.Code == code {
			out = append(out, d.File+":"+strconv.Itoa(d.Line)+" "+d.Severity+"/"+d.Origin+" "+d.Message)
		}
	}
	return out
}
