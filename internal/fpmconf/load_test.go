package fpmconf

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/rootfs"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// writeTree writes files (path relative to dir → content) under dir.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// exampleTree is a configuration with the features php-fpm's own parser
// has opinions about: a relative include glob (under the prefix, not the
// including file), $pool, time units, flags, duplicate keys, quoting,
// inline comments, env[], a reopened pool, a hidden file and a directory
// the glob must skip.
func exampleTree(dir string) map[string]string {
	return map[string]string{
		"php-fpm.conf": `; main file
include=pool.d/*.conf
[global]
error_log = ` + dir + `/error.log ; inline comment
log_level = Notice
emergency_restart_interval = 1m
`,
		"pool.d/a.conf": `[site-a]
user = nobody
group = nogroup
listen = run/$pool.sock
listen.owner = nobody
listen.mode = 0660
pm = OnDemand
pm.max_children = 4
pm.process_idle_timeout = 10s;
pm.max_requests = 500
request_terminate_timeout = 5m
php_value[memory_limit] = 64M
php_value[memory_limit] = 96M
php_flag[display_errors] = on
php_admin_flag[log_errors] = Off
php_admin_value[open_basedir] = "/srv/$pool:/tmp"
php_value[error_log] = log/$pool.err
php_value[error_reporting] = E_ALL & ~E_NOTICE
php_value[session.save_path] = "${LANG}/s"
php_value[highlight.html] = none
env[TMP] = '/tmp;x'
env[POOL] = $pool
security.limit_extensions = .php .php7
`,
		"pool.d/b.conf": `[site-b]
user = nobody
listen = 127.0.0.1:9001 ; tcp
pm = static
pm.max_children = 2
php_admin_value[memory_limit] = 32M
php_value[memory_limit] = 256M
security.limit_extensions =
[SITE-A]
request_terminate_timeout = 1h
`,
		"pool.d/.hidden.conf": "[hidden]\n",
		"pool.d/dir.conf/":    "",
		"run/":                "",
		"log/":                "",
	}
}

var exampleEnv = map[string]string{"LANG": "C", "PATH": "/usr/bin:/bin"}

func getenv(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestLoadExample(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, exampleTree(dir))
	main := filepath.Join(dir, "php-fpm.conf")
	c, err := LoadOptions(main, Options{Prefix: dir, Getenv: getenv(exampleEnv)})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Diagnostics) != 0 {
		t.Errorf("diagnostics: %v", c.Diagnostics)
	}
	wantFiles := []string{main, dir + "/pool.d/a.conf", dir + "/pool.d/b.conf"}
	if !slices.Equal(c.Files, wantFiles) {
		t.Errorf("Files = %q, want %q", c.Files, wantFiles)
	}
	if got := c.Global["error_log"]; got != (Setting{Value: dir + "/error.log", Pos: parser.Pos{File: main, Line: 4, Col: 1}}) {
		t.Errorf("error_log = %+v", got)
	}
	if got := c.Global["emergency_restart_interval"].Value; got != "60" {
		t.Errorf("emergency_restart_interval = %q, want 60", got)
	}
	if len(c.Pools) != 2 {
		t.Fatalf("pools: %d, want 2", len(c.Pools))
	}
	a, b := c.Pool("site-a"), c.Pool("SITE-B")
	if a == nil || b == nil || c.Pools[0] != a || c.Pools[1] != b {
		t.Fatalf("pools %v", c.Pools)
	}
	aFile, bFile := dir+"/pool.d/a.conf", dir+"/pool.d/b.conf"
	if a.Pos != (parser.Pos{File: aFile, Line: 1, Col: 1}) {
		t.Errorf("site-a at %v", a.Pos)
	}
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	check("a.Listen", a.Listen, dir+"/run/site-a.sock")
	check("a.User", a.User, "nobody")
	check("a.Group", a.Group, "nogroup")
	check("a.ListenOwner", a.ListenOwner, "nobody")
	check("a.ListenMode", a.ListenMode, "0660")
	check("a.PM", a.PM, "ondemand")
	check("a.MaxChildren", a.MaxChildren, 4)
	check("a.MaxRequests", a.MaxRequests, 500)
	check("a.RequestTerminateTimeout (reopened [SITE-A] wins)", a.RequestTerminateTimeout, 3600)
	check("a terminate pos", a.Settings["request_terminate_timeout"].Pos, parser.Pos{File: bFile, Line: 10, Col: 1})
	check("a.Settings[pm.process_idle_timeout]", a.Settings["pm.process_idle_timeout"].Value, "10")
	check("a.LimitExtensions", a.LimitExtensions, []string{".php", ".php7"})
	check("a.Env", a.Env, map[string]Setting{
		"TMP":  {Value: "/tmp;x", Pos: parser.Pos{File: aFile, Line: 21, Col: 1}},
		"POOL": {Value: "site-a", Pos: parser.Pos{File: aFile, Line: 22, Col: 1}},
	})
	at := func(line int) parser.Pos { return parser.Pos{File: aFile, Line: line, Col: 1} }
	check("a.PHP", a.PHP, []INISetting{
		{Key: "memory_limit", Value: "64M", Pos: at(12)},
		{Key: "memory_limit", Value: "96M", Pos: at(13)},
		{Key: "display_errors", Value: "1", Flag: true, Pos: at(14)},
		{Key: "log_errors", Value: "0", Admin: true, Flag: true, Pos: at(15)},
		{Key: "open_basedir", Value: "/srv/site-a:/tmp", Admin: true, Pos: at(16)},
		{Key: "error_log", Value: dir + "/log/site-a.err", Pos: at(17)},
		{Key: "error_reporting", Value: "32759", Pos: at(18)},
		{Key: "session.save_path", Value: "C/s", Pos: at(19)},
		{Key: "highlight.html", Value: "", Pos: at(20)},
	})
	check("b.Listen", b.Listen, "127.0.0.1:9001")
	check("b.User/Group", []string{b.User, b.Group}, []string{"nobody", ""})
	check("b.PM", b.PM, "static")
	check("b.RequestTerminateTimeout", b.RequestTerminateTimeout, 0)
	check("b.LimitExtensions (empty: all allowed)", b.LimitExtensions, []string{})

	ini := &INI{Settings: map[string]Setting{
		"memory_limit": {Value: "128M"}, "precision": {Value: "14"}, "log_errors": {Value: "1"},
	}}
	check("Baseline(site-a)", Baseline(ini, a), map[string]string{
		"memory_limit": "64M", "precision": "14", "display_errors": "1", "log_errors": "0",
		"open_basedir": "/srv/site-a:/tmp", "error_log": dir + "/log/site-a.err",
		"error_reporting": "32759", "session.save_path": "C/s", "highlight.html": "",
	})
	check("Baseline(site-b): admin beats plain", Baseline(ini, b), map[string]string{
		"memory_limit": "32M", "precision": "14", "log_errors": "1",
	})
	check("Baseline(nil, nil)", Baseline(nil, nil), map[string]string{})

	// Without a prefix the include is looked for under /usr, as php-fpm
	// does without -p.
	c2, err := Load(main)
	if err != nil {
		t.Fatal(err)
	}
	if len(c2.Pools) != 0 || c2.Accepted() {
		t.Errorf("default prefix: pools %d, accepted %v", len(c2.Pools), c2.Accepted())
	}
	wantDiag := main + ":2:1: cannot expand include pattern \"/usr/pool.d/*.conf\": open /usr/pool.d: no such file or directory; php-fpm refuses the configuration"
	if len(c2.Diagnostics) == 0 || c2.Diagnostics[0].String() != wantDiag {
		t.Errorf("default prefix diagnostics:\n%v\nwant first %s", c2.Diagnostics, wantDiag)
	}
}

// fpmBinary returns php-fpm's path, skipping the test when it is missing
// unless MODPHP_MIGRATE_REAL=1.
func fpmBinary(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"php-fpm8.2", "php-fpm"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if m, _ := filepath.Glob("/usr/sbin/php-fpm*"); len(m) > 0 {
		return m[0]
	}
	return needBinary(t, "php-fpm")
}

// fpmTest runs php-fpm -t (or -tt) on the configuration; root needs -R
// because the test pools name no user.
func fpmTest(t testing.TB, bin, conf, prefix string, dump bool) (string, bool) {
	t.Helper()
	flag := "-t"
	if dump {
		flag = "-tt"
	}
	args := []string{flag, "-y", conf, "-p", prefix}
	if os.Geteuid() == 0 {
		args = append(args, "-R")
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("running php-fpm: %v", err)
		}
	}
	// The exit status says it (FPM_EXIT_OK only when test_successful);
	// "test is successful" is a NOTICE that log_level can hide.
	return string(out), err == nil
}

// dumpedPool is one pool of php-fpm -tt's configuration dump
// (fpm_conf_dump): "key = value" lines, and the php_value, php_admin_value
// and env lines in php-fpm's own (newest first) order.
type dumpedPool struct {
	kv    map[string]string
	lists map[string][]string
}

func parseDump(out string) map[string]*dumpedPool {
	pools := map[string]*dumpedPool{}
	var cur *dumpedPool
	for _, line := range strings.Split(out, "\n") {
		i := strings.Index(line, "NOTICE: ")
		if i < 0 {
			continue
		}
		line = line[i+len("NOTICE: "):]
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			name := line[1 : len(line)-1]
			cur = nil
			if name != "global" {
				cur = &dumpedPool{kv: map[string]string{}, lists: map[string][]string{}}
				pools[name] = cur
			}
			continue
		}
		if cur == nil || !strings.HasPrefix(line, "\t") {
			continue
		}
		k, v, _ := strings.Cut(line[1:], " = ")
		if j := strings.IndexByte(k, '['); j > 0 {
			cur.lists[k[:j]] = append(cur.lists[k[:j]], k[j:]+"="+v)
			continue
		}
		cur.kv[k] = v
	}
	return pools
}

// TestLoadAgainstFPMDump compares the example with php-fpm -tt's dump of
// it: pool settings after php-fpm's parsing, and the php_value and
// php_admin_value lists value for value, in php-fpm's order.
func TestLoadAgainstFPMDump(t *testing.T) {
	bin := fpmBinary(t)
	dir := t.TempDir()
	writeTree(t, dir, exampleTree(dir))
	main := filepath.Join(dir, "php-fpm.conf")
	out, ok := fpmTest(t, bin, main, dir, true)
	if !ok {
		t.Fatalf("php-fpm -tt rejects the example:\n%s", out)
	}
	dump := parseDump(out)
	c, err := LoadOptions(main, Options{Prefix: dir, Getenv: getenv(exampleEnv)})
	if err != nil {
		t.Fatal(err)
	}
	if len(dump) != len(c.Pools) {
		t.Fatalf("php-fpm dumps %d pools, we have %d:\n%s", len(dump), len(c.Pools), out)
	}
	for _, p := range c.Pools {
		d := dump[p.Name]
		if d == nil {
			t.Errorf("php-fpm has no pool %q", p.Name)
			continue
		}
		for key, want := range map[string]string{
			"listen":                    p.Listen,
			"user":                      orUndefined(p.User),
			"group":                     orUndefined(p.Group),
			"listen.owner":              orUndefined(p.ListenOwner),
			"listen.mode":               orUndefined(p.ListenMode),
			"pm.max_children":           itoa(p.MaxChildren),
			"pm.max_requests":           itoa(p.MaxRequests),
			"request_terminate_timeout": itoa(p.RequestTerminateTimeout) + "s",
			"security.limit_extensions": p.Settings["security.limit_extensions"].Value,
		} {
			if key == "security.limit_extensions" && p.Settings[key].Pos.File == "" {
				want = ".php .phar"
			}
			if got := d.kv[key]; got != want {
				t.Errorf("[%s] %s: php-fpm %q, we %q", p.Name, key, got, want)
			}
		}
		if d.kv["pm"] != p.PM {
			t.Errorf("[%s] pm: php-fpm %q, we %q", p.Name, d.kv["pm"], p.PM)
		}
		var plain, admin []string
		for _, s := range slices.Backward(p.PHP) {
			line := "[" + s.Key + "]=" + s.Value
			if s.Admin {
				admin = append(admin, line)
			} else {
				plain = append(plain, line)
			}
		}
		if !slices.Equal(d.lists["php_value"], plain) {
			t.Errorf("[%s] php_value:\nphp-fpm %q\nwe      %q", p.Name, d.lists["php_value"], plain)
		}
		if !slices.Equal(d.lists["php_admin_value"], admin) {
			t.Errorf("[%s] php_admin_value:\nphp-fpm %q\nwe      %q", p.Name, d.lists["php_admin_value"], admin)
		}
		var env []string
		for k, s := range p.Env {
			env = append(env, "["+k+"]="+s.Value)
		}
		got := append([]string(nil), d.lists["env"]...)
		sort.Strings(env)
		sort.Strings(got)
		if !slices.Equal(got, env) {
			t.Errorf("[%s] env: php-fpm %q, we %q", p.Name, got, env)
		}
	}
}

func orUndefined(s string) string {
	if s == "" {
		return "undefined"
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestLoadUnderRoot: with Options.Root the configuration is read as on
// the server whose files lie under the root: absolute include= patterns
// at any depth are listed there, a pool file linked to an absolute path
// is read from the root, and the directories pools name are looked up
// there too — none of it from this machine.
func TestLoadUnderRoot(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"etc/php/8.2/fpm/php-fpm.conf":   "[global]\ninclude=/etc/php/8.2/fpm/pool.d/*.conf\n",
		"etc/php/8.2/fpm/real/site.conf": "[site]\nlisten = /run/php/site.sock\npm = static\npm.max_children = 2\nprefix = /srv/site-prefix\nchdir = /\ninclude = /etc/php/8.2/fpm/extra/*.conf\n",
		"etc/php/8.2/fpm/extra/x.conf":   "php_admin_value[memory_limit] = 99M\n",
		"srv/site-prefix/":               "",
	})
	if err := os.MkdirAll(filepath.Join(root, "etc/php/8.2/fpm/pool.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/php/8.2/fpm/real/site.conf", filepath.Join(root, "etc/php/8.2/fpm/pool.d/site.conf")); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadOptions(filepath.Join(root, "etc/php/8.2/fpm/php-fpm.conf"), Options{Root: rootfs.New(root)})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range cfg.Diagnostics {
		t.Errorf("diagnostic: %s", d)
	}
	p := cfg.Pool("site")
	if p == nil {
		t.Fatalf("no pool site; files %q", cfg.Files)
	}
	if got := p.Settings["prefix"].Value; got != "/srv/site-prefix" {
		t.Errorf("prefix %q", got)
	}
	var php []string
	for _, v := range p.PHP {
		php = append(php, v.Key+"="+v.Value+" at "+strings.TrimPrefix(v.Pos.File, root))
	}
	if want := "memory_limit=99M at /etc/php/8.2/fpm/extra/x.conf"; len(php) != 1 || php[0] != want {
		t.Errorf("php values %q, want [%s]", php, want)
	}
}
