package rules_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules"
)

// requireRealApache skips the test when Debian's apache2 is not installed,
// unless MODPHP_MIGRATE_REAL=1 (CI) makes its absence a failure.
func requireRealApache(t *testing.T) {
	t.Helper()
	_, err := exec.LookPath("apache2")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/apache2"); err2 == nil {
			err = nil
		}
	}
	if _, err2 := os.Stat("/etc/apache2/apache2.conf"); err == nil && err2 != nil {
		err = err2
	}
	if err != nil {
		if os.Getenv("MODPHP_MIGRATE_REAL") == "1" {
			t.Fatalf("MODPHP_MIGRATE_REAL=1 but Debian's apache2 is missing: %v", err)
		}
		t.Skipf("apache2 not installed: %v", err)
	}
}

// TestStockDebianHasNoErrors lints the stock /etc/apache2 of Debian 12 with
// libapache2-mod-php and php-fpm installed: mod_php enabled, php8.2-fpm.conf
// available but not enabled. Nothing there breaks after the switch, so no
// finding may be an error. It then enables php8.2-fpm.conf next to mod_php
// in a copy (what a2enconf php8.2-fpm gives) and expects the same.
func TestStockDebianHasNoErrors(t *testing.T) {
	requireRealApache(t)
	for _, want := range []string{"/etc/apache2/mods-enabled/php8.2.conf", "/etc/apache2/conf-available/php8.2-fpm.conf"} {
		if _, err := os.Stat(want); err != nil {
			if os.Getenv("MODPHP_MIGRATE_REAL") == "1" {
				t.Fatalf("stock Debian with libapache2-mod-php and php-fpm expected: %v", err)
			}
			t.Skipf("not the expected Debian setup: %v", err)
		}
	}
	// php-fpm's configuration as installed (/etc/php/8.2/fpm), given to
	// every variant: the MPM20xx rules compare Apache with it.
	var fpm *rules.FPM
	if p := rules.FindFPMConfig(""); p != "" {
		var err error
		if fpm, err = rules.LoadFPM("", p); err != nil {
			t.Fatal(err)
		}
	}
	check := func(t *testing.T, res *parser.Result) {
		if !strings.HasSuffix(res.Today.MainFile, "apache2.conf") || len(res.Today.Files) < 20 {
			t.Fatalf("loaded %d files from %s: not the Debian tree", len(res.Today.Files), res.Today.MainFile)
		}
		diags, err := rules.Run(res, &rules.Options{FPM: fpm})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range diags {
			if d.Severity == rules.Error {
				t.Errorf("false error on stock Debian: %s: %s %s", d.Pos, d.Code, d.Message)
			} else {
				t.Logf("%s: %s %s %s", d.Pos, d.Severity, d.Code, d.Message)
			}
		}
	}
	t.Run("mod_php", func(t *testing.T) {
		res, err := parser.Load("/etc/apache2", parser.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		check(t, res)
	})
	for _, variant := range []struct {
		name  string
		links []string
	}{
		{"mod_php+php8.2-fpm.conf", []string{"conf-enabled/php8.2-fpm.conf"}},
		// What the lab's "both" instance runs: php-fpm takes every .php
		// (MPM2002 warns), still nothing may be an error.
		{"mod_php+php8.2-fpm.conf+proxy_fcgi", []string{"conf-enabled/php8.2-fpm.conf", "mods-enabled/proxy.load", "mods-enabled/proxy_fcgi.load"}},
	} {
		t.Run(variant.name, func(t *testing.T) { checkCopy(t, variant.links, check) })
	}
}

// checkCopy copies /etc/apache2 to a temporary root, enables the given
// *-enabled links (pointing to ../*-available/ of the same name) and checks
// the result.
func checkCopy(t *testing.T, links []string, check func(*testing.T, *parser.Result)) {
	{
		root := t.TempDir()
		dst := filepath.Join(root, "etc", "apache2")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("cp", "-a", "/etc/apache2", dst).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v\n%s", err, out)
		}
		for _, l := range links {
			target := "../" + strings.Replace(filepath.Dir(l), "-enabled", "-available", 1) + "/" + filepath.Base(l)
			if err := os.Symlink(target, filepath.Join(dst, l)); err != nil && !os.IsExist(err) {
				t.Fatal(err)
			}
		}
		res, err := parser.Load(dst, parser.LoadOptions{Root: root})
		if err != nil {
			t.Fatal(err)
		}
		check(t, res)
	}
}
