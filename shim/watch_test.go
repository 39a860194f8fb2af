package shim

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestConfigFilesFPM: the files --fpm-config reads (its include= files),
// php.ini and the scan directory are all watched.
func TestConfigFilesFPM(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "pool.d"), 0o755)
	os.MkdirAll(filepath.Join(dir, "conf.d"), 0o755)
	conf := filepath.Join(dir, "php-fpm.conf")
	os.WriteFile(conf, []byte("[global]\ninclude="+dir+"/pool.d/*.conf\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "pool.d", "www.conf"), []byte("[www]\nlisten = /run/x.sock\npm = static\npm.max_children = 1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "php.ini"), []byte("memory_limit = 64M\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "conf.d", "10-x.ini"), []byte("display_errors = Off\n"), 0o644)
	got := (&FPMPoolSource{}).ConfigFiles(conf, "")
	for _, want := range []string{conf, filepath.Join(dir, "pool.d", "www.conf"), filepath.Join(dir, "php.ini"), filepath.Join(dir, "conf.d"), filepath.Join(dir, "conf.d", "10-x.ini")} {
		if !slices.Contains(got, want) {
			t.Errorf("ConfigFiles lacks %s: %q", want, got)
		}
	}
}

// TestConfigWatch: an edited file, a file added beside a watched one and a
// removed file are changes; nothing else is; a check is due once per
// interval.
func TestConfigWatch(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "sites", "a.conf")
	os.MkdirAll(filepath.Dir(a), 0o755)
	os.WriteFile(a, []byte("x\n"), 0o644)
	var w configWatch
	w.stampFiles([]string{a})
	if p := w.changed(); p != "" {
		t.Fatalf("unchanged, got %s", p)
	}
	os.WriteFile(a, []byte("xy\n"), 0o644)
	if p := w.changed(); p != a {
		t.Errorf("edited: got %q, want %s", p, a)
	}
	w.stampFiles([]string{a})
	os.WriteFile(filepath.Join(dir, "sites", "b.conf"), nil, 0o644)
	if p := w.changed(); p != filepath.Dir(a) {
		t.Errorf("file added: got %q, want %s", p, filepath.Dir(a))
	}
	w.stampFiles([]string{a})
	os.Remove(a)
	if p := w.changed(); p == "" {
		t.Error("removed: no change")
	}

	w.interval.Store(int64(time.Second))
	now := time.Now()
	if !w.due(now) || w.due(now) || w.due(now.Add(999*time.Millisecond)) || !w.due(now.Add(time.Second)) {
		t.Error("due: want one check per interval")
	}
	w.interval.Store(-1)
	if w.due(now.Add(time.Hour)) {
		t.Error("due with checks off")
	}
}

// TestConfigChangeReloads: an edit of --fpm-config under a running shim
// is reloaded by the first request after the check interval, and that
// request already has the new baseline; without an edit nothing reloads.
func TestConfigChangeReloads(t *testing.T) {
	s := startShim(t, 4, map[string]string{"a/x.php": "", "a/.htaccess": "php_value memory_limit 64M\n", "plain.php": ""})
	conf := filepath.Join(t.TempDir(), "php-fpm.conf")
	os.WriteFile(conf, []byte("[www]\n"), 0o644)
	src := &switchSource{}
	pool := func(mem string) []*Pool {
		return []*Pool{{Name: "www", Listen: s.fpm.addr, MaxChildren: 2, Baseline: map[string]string{"memory_limit": mem}, Locked: map[string]bool{}}}
	}
	src.set(pool("128M"), nil)
	s.srv.cfg.Source, s.srv.cfg.FPMConfig = src, conf
	if err := s.srv.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.srv.watch.interval.Store(int64(20 * time.Millisecond))
	last := func() string {
		r := s.fpm.requests()
		return strings.Join(phpValues(r[len(r)-1]), "|")
	}
	s.do(t, "/a/x.php")
	s.do(t, "/plain.php")
	if got := last(); got != "PHP_VALUE=memory_limit='128M'\n" {
		t.Fatalf("before: %q", got)
	}
	src.set(pool("256M"), nil) // what the edited file will say
	time.Sleep(50 * time.Millisecond)
	s.do(t, "/a/x.php")
	s.do(t, "/plain.php")
	if got := last(); got != "PHP_VALUE=memory_limit='128M'\n" {
		t.Errorf("no edit, yet reloaded: %q", got)
	}
	os.WriteFile(conf, []byte("[www]\npm.max_children = 2\n"), 0o644)
	time.Sleep(50 * time.Millisecond)
	s.do(t, "/a/x.php")
	s.do(t, "/plain.php")
	if got := last(); got != "PHP_VALUE=memory_limit='256M'\n" {
		t.Errorf("after the edit: %q", got)
	}
	if !strings.Contains(s.logs.String(), `msg="configuration file changed: reloading" path=`+conf) {
		t.Errorf("reload not logged:\n%s", s.logs.String())
	}
}
