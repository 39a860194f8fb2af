package fpmconf

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus-summary.txt")

// corpusDir is ../shared/corpus seen from this package.
const corpusDir = "../../../shared/corpus"

// corpusFPM are the php-fpm configurations and pool templates of the
// corpus: every file under phpfpm/, the panels' pool templates, and the
// pools of the docker, automation and real-world sets.
var corpusFPM = []string{
	"phpfpm/",
	"panels/hestiacp/php-fpm/multiphp.tpl",
	"panels/hestiacp/web/php-fpm/default.tpl",
	"panels/imscp/php/fpm/php-fpm.conf",
	"panels/imscp/php/fpm/pool.conf",
	"panels/ispconfig3/install/tpl/apps_php_fpm_pool.conf.master",
	"panels/ispconfig3/server/conf/php_fpm_pool.conf.master",
	"panels/vestacp/debian9/web/php-fpm/default.tpl",
	"panels/vestacp/debian9/web/php-fpm/socket.tpl",
	"automation/geerlingguy-php/php-fpm.conf.j2",
	"automation/geerlingguy-php/www.conf.j2",
	"docker/ddev-webserver/php/8.4/fpm/pool.d/www.conf",
	"docker/docker-library-php/php-fpm.d/",
	"real-world/heroku-buildpack-php/php/php-fpm.conf",
	"real-world/icingaweb2/php-fpm/icingaweb2.conf",
	"real-world/openstreetmap-chef/php/pool.conf.erb",
	"real-world/szepeviktor-debian-server-tools/phpfpm-pools/Skeleton-pool.conf",
	"real-world/zabbix-docker/centos/php-fpm.conf",
	"real-world/zabbix-docker/centos/php-fpm.d/zabbix.conf",
}

// corpusINI are the php.ini-syntax files: phpini/, .user.ini files, conf.d
// snippets and templates.
var corpusINI = []string{
	"phpini/",
	"debian/php/php-module.ini.in",
	"automation/geerlingguy-php/php.ini.j2",
	"real-world/zabbix-docker/ubuntu/99-zabbix.ini",
	"htaccess/",
}

// expandCorpus lists the files an entry names (a directory: every file
// under it; for htaccess/, only .user.ini files).
func expandCorpus(t *testing.T, entry string) []string {
	t.Helper()
	root := filepath.Join(corpusDir, entry)
	if !strings.HasSuffix(entry, "/") {
		return []string{root}
	}
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if entry == "htaccess/" && !strings.Contains(d.Name(), ".user.ini") {
			return nil
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func skipWithoutCorpus(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		if os.Getenv(realEnv) == "1" {
			t.Fatalf("corpus missing: %v", err)
		}
		t.Skipf("corpus missing: %v", err)
	}
}

func rel(p string) string { return strings.TrimPrefix(p, corpusDir+"/") }

// TestCorpus loads every corpus file and compares a summary (pools, their
// main settings, php_value counts, diagnostics) with a reviewed golden
// file.
func TestCorpus(t *testing.T) {
	skipWithoutCorpus(t)
	var b strings.Builder
	for _, entry := range corpusFPM {
		for _, p := range expandCorpus(t, entry) {
			c, err := Load(p)
			if err != nil {
				t.Errorf("%s: %v", rel(p), err)
				continue
			}
			fmt.Fprintf(&b, "fpm %s: %d files, %d pools, accepted=%v\n", rel(p), len(c.Files), len(c.Pools), c.Accepted())
			for _, pool := range c.Pools {
				fmt.Fprintf(&b, "  [%s] listen=%q pm=%q max_children=%d user=%q limit_extensions=%q php=%d env=%d\n",
					pool.Name, pool.Listen, pool.PM, pool.MaxChildren, pool.User, pool.LimitExtensions, len(pool.PHP), len(pool.Env))
			}
			writeDiagnostics(&b, c.Diagnostics)
		}
	}
	for _, entry := range corpusINI {
		for _, p := range expandCorpus(t, entry) {
			ini, err := LoadINI(p, "")
			if err != nil {
				t.Errorf("%s: %v", rel(p), err)
				continue
			}
			keys := make([]string, 0, len(ini.Settings))
			for k, s := range ini.Settings {
				keys = append(keys, k+"="+s.Value)
			}
			sort.Strings(keys)
			fmt.Fprintf(&b, "ini %s: %d settings, %d sections, %d extensions\n", rel(p), len(ini.Settings), len(ini.Sections), len(ini.Extensions)+len(ini.ZendExtensions))
			for _, k := range keys {
				fmt.Fprintf(&b, "  %q\n", k)
			}
			writeDiagnostics(&b, ini.Diagnostics)
		}
	}
	summary := b.String()
	const golden = "testdata/corpus-summary.txt"
	if *update {
		if err := os.WriteFile(golden, []byte(summary), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != summary {
		t.Errorf("corpus summary changed (review, then go test -run TestCorpus -update):\n%s", summary)
	}
}

// writeDiagnostics writes the first diagnostics of a file and counts the
// rest, so that a pool fragment read on its own does not flood the summary.
func writeDiagnostics(b *strings.Builder, ds []Diagnostic) {
	const show = 6
	for i, d := range ds {
		if i == show {
			fmt.Fprintf(b, "  ... %d more\n", len(ds)-show)
			break
		}
		fmt.Fprintf(b, "  %s: %s\n", d.Severity, rel(d.String()))
	}
}

// TestLocalFPM loads this machine's php-fpm configuration, php.ini and
// conf.d, which php-fpm itself accepts.
func TestLocalFPM(t *testing.T) {
	m, _ := filepath.Glob("/etc/php/*/fpm/php-fpm.conf")
	if len(m) == 0 {
		t.Skip("no /etc/php/*/fpm")
	}
	etc := filepath.Dir(m[len(m)-1])
	c, err := Load(filepath.Join(etc, "php-fpm.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Accepted() || len(c.Diagnostics) != 0 {
		t.Errorf("diagnostics: %v", c.Diagnostics)
	}
	www := c.Pool("www")
	if www == nil {
		t.Fatalf("no [www] pool: %v", c.Pools)
	}
	if www.User != "www-data" || www.PM != "dynamic" || www.MaxChildren != 5 || !strings.HasPrefix(www.Listen, "/run/php/php") {
		t.Errorf("[www] = %+v", www)
	}
	ini, err := LoadINI(filepath.Join(etc, "php.ini"), filepath.Join(etc, "conf.d"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ini.Diagnostics) != 0 {
		t.Errorf("php.ini diagnostics: %v", ini.Diagnostics)
	}
	// php.ini-production (docs/behaviour.md#b-php-ini).
	if v, ok := ini.Get("include_path"); ok {
		t.Errorf("include_path is commented out in php.ini-production, got %q", v)
	}
	for k, want := range map[string]string{
		"memory_limit": "128M", "display_errors": "", "expose_php": "", "max_file_uploads": "20",
		"upload_max_filesize": "2M",
		"error_reporting":     "22527", // E_ALL & ~E_DEPRECATED & ~E_STRICT
	} {
		if got, ok := ini.Get(k); !ok || got != want {
			t.Errorf("php.ini %s = %q, %v; want %q", k, got, ok, want)
		}
	}
	if len(ini.ZendExtensions) != 1 || ini.ZendExtensions[0].Value != "opcache.so" {
		t.Errorf("zend_extension = %v", ini.ZendExtensions)
	}
	if ini.Files[0] != filepath.Join(etc, "php.ini") || !sort.StringsAreSorted(ini.Files[1:]) {
		t.Errorf("files in wrong order: %q", ini.Files)
	}
}

// TestScanCorpusAgainstPHP runs every corpus file, this machine's php.ini,
// and every line of the php-fpm files on its own (as php-fpm reads them)
// through parse_ini_string and compares.
func TestScanCorpusAgainstPHP(t *testing.T) {
	skipWithoutCorpus(t)
	var cases, names []string
	add := func(name, src string) {
		cases, names = append(cases, src), append(names, name)
	}
	for _, entry := range append(append([]string(nil), corpusFPM...), corpusINI...) {
		for _, p := range expandCorpus(t, entry) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			add(rel(p), string(b))
			for i, line := range strings.Split(string(b), "\n") {
				if line != "" {
					add(fmt.Sprintf("%s:%d", rel(p), i+1), line+"\n")
				}
			}
		}
	}
	if m, _ := filepath.Glob("/etc/php/*/fpm/php.ini"); len(m) > 0 {
		b, err := os.ReadFile(m[0])
		if err != nil {
			t.Fatal(err)
		}
		add(m[0], string(b))
	}
	want := runPHP(t, cases, scanEnv)
	for i, c := range cases {
		if got := emulate(c, scanEnv); got != want[i] {
			t.Errorf("%s:\n got %q\nwant %q", names[i], got, want[i])
		}
	}
	t.Logf("%d inputs agree with parse_ini_string", len(cases))
}
