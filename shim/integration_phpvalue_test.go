package shim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// TestIntegrationPHPValueVisible: php-fpm shows scripts the PHP_VALUE it
// was sent, in $_SERVER and getenv() (so phpinfo() lists it); the shim
// sends one only when the worker must change, so for the same URL it is
// there on the first request and absent on the repeat — while ini_get()
// is the same both times (docs/shim.md, "PHP_VALUE is visible").
func TestIntegrationPHPValueVisible(t *testing.T) {
	// Two workers: the shim keeps a connection (so it knows what that
	// worker holds) only while one of pm.max_children stays unpinned
	// (DefaultFPMReserve); with one worker it keeps none and sends the
	// full PHP_VALUE every time.
	st := startStackFPM(t, lab.FPMConfig{Children: 2}, "sethandler")
	a := st.apaches["sethandler"]
	dir := filepath.Join(a.DocRoot, "pv")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, ".htaccess"), []byte("php_value memory_limit 99M\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "pv.php"), []byte(`<?php
header('Content-Type: text/plain');
echo 'server=', var_export($_SERVER['PHP_VALUE'] ?? null, true), "\n";
echo 'getenv=', var_export(getenv('PHP_VALUE'), true), "\n";
echo 'memory_limit=', ini_get('memory_limit'), "\n";
`), 0o644)
	// The value away from its baseline follows the baseline (128M), so
	// that PHP itself decides a value it would refuse (docs/shim.md,
	// "Values PHP refuses").
	first := "server='memory_limit=\\'128M\\'\nmemory_limit=\\'99M\\'\n'\ngetenv='memory_limit=\\'128M\\'\nmemory_limit=\\'99M\\'\n'\nmemory_limit=99M\n"
	// Coming back after a request that reset the worker: it is known to
	// hold the baseline, so the value alone is sent.
	back := "server='memory_limit=\\'99M\\'\n'\ngetenv='memory_limit=\\'99M\\'\n'\nmemory_limit=99M\n"
	repeat := "server=NULL\ngetenv=false\nmemory_limit=99M\n"
	for i, want := range []string{first, repeat, repeat} {
		code, body := get(t, a, "/pv/pv.php")
		if code != 200 || body != want {
			t.Errorf("request %d: %d\n%s\nwant\n%s", i+1, code, body, want)
		}
	}
	// Another directory changes the worker; coming back sends it again.
	if code, body := get(t, a, "/ini.php"); code != 200 || strings.Contains(body, "99M") {
		t.Fatalf("/ini.php: %d %s", code, body)
	}
	if code, body := get(t, a, "/pv/pv.php"); code != 200 || body != back {
		t.Errorf("back to /pv/: %d\n%s\nwant\n%s", code, body, back)
	}
}
