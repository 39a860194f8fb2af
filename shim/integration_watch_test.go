package shim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func init() {
	apacheConfs["sethandler-watch"] = apacheConfs["sethandler"] + `
<Directory {{DocRoot}}/app>
    AllowOverride None
</Directory>
`
}

// TestIntegrationConfigChange: the Apache configuration the shim reads
// (--apache-config) is edited under the running shim — a new AllowOverride
// for an application, as in issue 14 — and the next request after the
// check interval follows it, without a SIGHUP; a configuration that fails
// to load keeps the one in force, logged, and a later valid edit is
// followed again.
func TestIntegrationConfigChange(t *testing.T) {
	st := startStack(t, "sethandler-watch")
	a := st.apaches["sethandler-watch"]
	const interval = 100 * time.Millisecond
	st.srv.watch.interval.Store(int64(interval))
	os.MkdirAll(filepath.Join(a.DocRoot, "app"), 0o755)
	os.WriteFile(filepath.Join(a.DocRoot, "app", "ini.php"), []byte(iniPHP), 0o644)
	os.WriteFile(filepath.Join(a.DocRoot, "app", ".htaccess"), []byte("php_value memory_limit 222M\n"), 0o644)
	conf, err := os.ReadFile(a.ConfPath)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(from, to string) {
		t.Helper()
		b, _ := os.ReadFile(a.ConfPath)
		if !strings.Contains(string(b), from) {
			t.Fatalf("%q not in the configuration", from)
		}
		if err := os.WriteFile(a.ConfPath, []byte(strings.Replace(string(b), from, to, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * interval)
	}
	memory := func() string {
		t.Helper()
		code, body := get(t, a, "/app/ini.php")
		if code != 200 {
			t.Fatalf("/app/ini.php: %d %s", code, body)
		}
		for line := range strings.Lines(body) {
			if v, ok := strings.CutPrefix(line, "memory_limit="); ok {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	if got := memory(); got != "'128M'" {
		t.Fatalf("before the edit: memory_limit %s, want '128M' (AllowOverride None)", got)
	}
	appDir := "<Directory " + a.DocRoot + "/app>\n    AllowOverride None"
	edit(appDir, "<Directory "+a.DocRoot+"/app>\n    AllowOverride All Nonfatal=Unknown")
	if got := memory(); got != "'222M'" {
		t.Errorf("after AllowOverride All: memory_limit %s, want '222M'", got)
	}
	if !strings.Contains(st.logs.String(), `msg="configuration file changed: reloading" path=`+a.ConfPath) {
		t.Errorf("reload not logged:\n%s", st.logs.String())
	}
	// Broken: an unclosed section. The configuration in force stays.
	edit("</Directory>\n", "\n")
	if got := memory(); got != "'222M'" {
		t.Errorf("after a broken edit: memory_limit %s, want '222M' (kept)", got)
	}
	if !strings.Contains(st.logs.String(), "reload failed; keeping the previous configuration") {
		t.Errorf("failed reload not logged:\n%s", st.logs.String())
	}
	// Fixed, with the application's overrides off again.
	fixed := strings.Replace(string(conf), appDir, "<Directory "+a.DocRoot+"/app>\n    AllowOverride None\n    Options None", 1)
	if err := os.WriteFile(a.ConfPath, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * interval)
	if got := memory(); got != "'128M'" {
		t.Errorf("after the fix: memory_limit %s, want '128M'", got)
	}
}
