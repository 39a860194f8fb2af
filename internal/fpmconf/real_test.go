package fpmconf

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/modphp-migrate/modphp-migrate/fcgi"
	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// realPool exercises what decides a baseline: a key set twice (the first
// line wins), admin over plain whichever comes first, flags, constants,
// $pool, ${VAR} from php.ini and from php-fpm's environment, a relative path php-fpm puts
// under the prefix, quoting and none.
const realPool = `
php_value[memory_limit] = 64M
php_value[memory_limit] = 96M
php_value[max_execution_time] = 9
php_admin_value[max_execution_time] = 7
php_value[precision] = 5
php_admin_value[precision] = 6
php_admin_value[precision] = 8
php_flag[display_errors] = on
php_admin_flag[log_errors] = off
php_flag[html_errors] = 0
php_value[error_reporting] = E_ALL & ~E_NOTICE
php_value[include_path] = ".:/usr/share/php:$pool"
php_value[session.save_path] = "${LANG}/sess"
php_value[docref_ext] = "${memory_limit}-${LANG}"
php_value[error_log] = log/$pool.log
php_value[highlight.html] = none
php_value[arg_separator.output] = "&amp;" ; a comment
php_admin_value[sendmail_path] = "/usr/sbin/sendmail -t -i -f admin@example.com"
`

// realINI is appended to the stock php.ini the master reads (-c); conf.d is
// the stock scan directory compiled into php-fpm.
const realINI = `[PHP]
memory_limit = 100M
user_agent = "${LANG}-agent"
serialize_precision = 12
default_charset = 'latin1'
short_open_tag = Off
auto_detect_line_endings = yes
[PATH=/nowhere/]
serialize_precision = 3
`

const iniScript = `<?php
header('Content-Type: application/json');
$out = [];
foreach (ini_get_all(null, false) as $k => $v) { $out[$k] = $v === null ? null : (string)$v; }
echo json_encode($out);
`

// TestBaselineAgainstFPM starts a real php-fpm with realPool and realINI and
// compares every directive that Baseline gives a value with what a worker
// reports from ini_get_all().
func TestBaselineAgainstFPM(t *testing.T) {
	iniDir := lab.TempDir(t)
	iniPath := filepath.Join(iniDir, "php.ini")
	// The stock php.ini first, so that its hundred-odd directives are
	// compared too.
	stock := ""
	if m, _ := filepath.Glob("/etc/php/*/fpm/php.ini"); len(m) > 0 {
		b, err := os.ReadFile(m[len(m)-1])
		if err != nil {
			t.Fatal(err)
		}
		stock = string(b) + "\n"
	}
	if err := os.WriteFile(iniPath, []byte(stock+realINI), 0o644); err != nil {
		t.Fatal(err)
	}
	f := lab.StartFPM(t, lab.FPMConfig{Pool: realPool, INI: iniPath, Scripts: map[string]string{"ini.php": iniScript}})

	// The lab gives php-fpm a fixed environment (internal/lab serverEnv).
	env := getenv(map[string]string{"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"})
	scanDir := ""
	if m, _ := filepath.Glob("/etc/php/*/fpm/conf.d"); len(m) > 0 {
		scanDir = m[len(m)-1]
	}
	ini, err := LoadINIOptions(iniPath, scanDir, Options{Getenv: env})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadOptions(f.ConfPath, Options{Getenv: env, INI: ini})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Accepted() || len(cfg.Pools) != 1 {
		t.Fatalf("lab configuration: %d pools, diagnostics %v", len(cfg.Pools), cfg.Diagnostics)
	}
	if len(ini.Sections) != 1 || ini.Sections[0].Name != "/nowhere" {
		t.Errorf("sections %+v", ini.Sections)
	}
	base := Baseline(ini, cfg.Pools[0])
	// Spot-check the cases the pool is about before comparing with PHP.
	for k, want := range map[string]string{
		"memory_limit": "64M", "max_execution_time": "7", "precision": "6", "display_errors": "1",
		"log_errors": "0", "html_errors": "0", "error_reporting": "32759",
		"include_path": ".:/usr/share/php:lab", "session.save_path": "C/sess",
		"docref_ext": "100M-C", // ${memory_limit} from php.ini, as zend_ini_get_var looks there first
		"error_log":  "/usr/log/lab.log", "highlight.html": "", "arg_separator.output": "&amp;",
		"user_agent": "C-agent", "serialize_precision": "12", "default_charset": "latin1",
		"short_open_tag": "", "auto_detect_line_endings": "1",
	} {
		if base[k] != want {
			t.Errorf("Baseline[%s] = %q, want %q", k, base[k], want)
		}
	}

	c := &fcgi.Client{Network: f.Network, Addr: f.Addr}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	res, err := c.Do(ctx, &fcgi.Request{Params: fcgi.Params{
		{Name: "GATEWAY_INTERFACE", Value: "CGI/1.1"},
		{Name: "REQUEST_METHOD", Value: "GET"},
		{Name: "SCRIPT_FILENAME", Value: f.Script("ini.php")},
		{Name: "SCRIPT_NAME", Value: "/ini.php"},
		{Name: "REQUEST_URI", Value: "/ini.php"},
		{Name: "DOCUMENT_ROOT", Value: f.DocRoot},
	}}, &out)
	if err != nil {
		t.Fatalf("request: %v (result %+v)", err, res)
	}
	_, body, ok := bytes.Cut(out.Bytes(), []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("response without headers: %q", out.String())
	}
	var real map[string]*string
	if err := json.Unmarshal(body, &real); err != nil {
		t.Fatalf("ini_get_all: %v\n%s", err, body)
	}
	var keys []string
	for k := range base {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	compared := 0
	for _, k := range keys {
		v, known := real[k]
		if !known {
			continue // set in php.ini for an extension this build lacks
		}
		compared++
		got := ""
		if v != nil {
			got = *v
		}
		if got != base[k] {
			t.Errorf("%s: php-fpm worker has %q, Baseline %q", k, got, base[k])
		}
	}
	if stock != "" && compared < 60 || compared < 15 {
		t.Errorf("compared only %d directives", compared)
	}
	t.Logf("%d directives agree with the worker", compared)
}
