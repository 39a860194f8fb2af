package fpmconf

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// pool is a minimal valid pool; {{DIR}} is the test directory.
const pool = "[www]\nlisten = {{DIR}}/www.sock\npm = static\npm.max_children = 1\n"

// acceptCases are configurations with the diagnostics we give them; want
// holds "line:col: message" of every diagnostic in order (errors make
// php-fpm -t fail, warnings do not). {{DIR}} is the test directory, the
// prefix and the place of the main file.
var acceptCases = []struct {
	name  string
	files map[string]string // besides php-fpm.conf
	conf  string
	want  []string
}{
	{name: "minimal", conf: pool},
	{name: "comments and quoting", conf: "[global]\n; c\n  ;indented\nlog_level = \"notice\" ; c\n[www] ; c\n" +
		"listen = '{{DIR}}/www.sock'\npm = static\npm.max_children = \"1\"\n"},
	{name: "unknown entry", conf: pool + "pm.max_childs = 2\n",
		want: []string{`5:1: unknown entry "pm.max_childs" in pool [www]; php-fpm refuses the configuration`}},
	{name: "unknown global", conf: "[global]\nfoo = 1\n" + pool,
		want: []string{`2:1: unknown entry "foo" in the [global] section; php-fpm refuses the configuration`}},
	{name: "bad integer", conf: pool + "pm.max_requests = 5x\n",
		want: []string{`5:1: unable to parse value for entry "pm.max_requests": is not a valid number (greater or equal than zero)`}},
	{name: "empty integer is zero", conf: pool + "pm.max_requests =\n"},
	{name: "negative integer", conf: pool + "listen.backlog = -1\n"},
	{name: "bad time suffix", conf: pool + "request_terminate_timeout = 5x\n",
		want: []string{`5:1: unable to parse value for entry "request_terminate_timeout": unknown suffix used in time value`}},
	{name: "empty time", conf: pool + "request_terminate_timeout = \n",
		want: []string{`5:1: unable to parse value for entry "request_terminate_timeout": invalid time value`}},
	{name: "time units", conf: pool + "request_terminate_timeout = 1d\npm.process_idle_timeout = 2h\n"},
	{name: "bare key", conf: pool + "catch_workers_output\n",
		want: []string{`5:1: "catch_workers_output" has no value (php-fpm: "value is NULL for a ZEND_INI_PARSER_ENTRY"); write catch_workers_output = value`}},
	{name: "unterminated quote", conf: pool + "php_value[error_log] = \"/tmp/x\n",
		want: []string{`5:31: syntax error, unexpected end of file, expecting TC_DOLLAR_CURLY or TC_QUOTED_STRING or '"'; php-fpm refuses the configuration`}},
	{name: "quote across lines", conf: pool + "php_value[error_log] = \"/tmp/x\n\"\n",
		want: []string{
			`5:31: syntax error, unexpected end of file, expecting TC_DOLLAR_CURLY or TC_QUOTED_STRING or '"'; php-fpm refuses the configuration`,
			`6:1: syntax error, unexpected '"'; php-fpm refuses the configuration`,
		}},
	{name: "equals in value", conf: pool + "php_value[include_path] = a=b\n",
		want: []string{`5:28: syntax error, unexpected '='; php-fpm refuses the configuration`}},
	{name: "bool as key", conf: pool + "yes = 1\n",
		want: []string{`5:1: syntax error, unexpected BOOL_TRUE; php-fpm refuses the configuration`}},
	{name: "flag 0", conf: pool + "php_flag[display_errors] = 0\ncatch_workers_output = 0\n"},
	{name: "flag 2 is not a boolean", conf: pool + "php_flag[display_errors] = 2\n",
		want: []string{`5:1: error while parsing 'php_flag[display_errors]': invalid boolean value "2" (use On or Off)`}},
	{name: "flags", conf: pool + "php_flag[display_errors] = yes\nphp_admin_flag[log_errors] = none\nphp_flag[html_errors] = 1\n"},
	{name: "boolean directive", conf: pool + "catch_workers_output = maybe\n",
		want: []string{`5:1: unable to parse value for entry "catch_workers_output": invalid boolean value`}},
	{name: "pool outside pool", conf: "[global]\npid = {{DIR}}/$pool.pid\n" + pool,
		want: []string{`2:1: unable to parse value for entry "pid": Can't use '$pool' when the pool is not defined`}},
	{name: "pool in pool", conf: "[www]\nlisten = {{DIR}}/$pool.sock\npm = static\npm.max_children = 1\nphp_value[error_log] = {{DIR}}/$pool.log\n"},
	{name: "include no match", conf: "include={{DIR}}/none/*.conf\n" + pool, files: map[string]string{"none/x.txt": ""},
		want: []string{`1:1: nothing matches the include pattern "{{DIR}}/none/*.conf"`}},
	{name: "include missing dir", conf: "include={{DIR}}/missing/*.conf\n" + pool,
		want: []string{`1:1: cannot expand include pattern "{{DIR}}/missing/*.conf": open {{DIR}}/missing: no such file or directory; php-fpm refuses the configuration`}},
	{name: "empty include", conf: "include=\n" + pool,
		want: []string{`1:1: nothing matches the include pattern ""`}},
	{name: "two includes on a line", conf: "include=a.inc\rinclude=b.inc\n" + pool, files: map[string]string{"a.inc": "", "b.inc": ""},
		want: []string{`1:15: two includes on one line; php-fpm refuses the configuration`}},
	{name: "line numbers after an include", conf: "include=five.inc\nfoo = 1\n" + pool,
		files: map[string]string{"five.inc": "; a\n; b\n; c\n; d\n; e\n"},
		// php-fpm's own message gives a later line: fpm_conf_load_ini_file
		// does not restore ini_lineno after an include.
		want: []string{`2:1: unknown entry "foo" in the [global] section; php-fpm refuses the configuration`}},
	{name: "include relative to prefix", conf: "include=pools/*.conf\n", files: map[string]string{"pools/www.conf": pool}},
	{name: "include five deep", conf: "include=d1.inc\n", files: map[string]string{
		"d1.inc": "include=d2.inc\n", "d2.inc": "include=d3.inc\n", "d3.inc": "include=d4.inc\n", "d4.inc": pool}},
	{name: "include six deep", conf: "include=d1.inc\n", files: map[string]string{
		"d1.inc": "include=d2.inc\n", "d2.inc": "include=d3.inc\n", "d3.inc": "include=d4.inc\n",
		"d4.inc": "include=d5.inc\n", "d5.inc": pool},
		want: []string{`{{DIR}}/d4.inc:1:1: including {{DIR}}/d5.inc would open more than 5 files at once; php-fpm refuses the configuration`,
			`0:0: no pool defined; php-fpm needs at least one [pool] section`}},
	{name: "empty env", conf: pool + "env[FOO] = \"\"\n",
		want: []string{`5:1: env[FOO] has an empty value; php-fpm refuses it`}},
	{name: "empty key", conf: pool + "php_value[] = 1\n",
		want: []string{`5:1: php_value[] needs a key`}},
	{name: "array in global", conf: "[global]\nphp_value[memory_limit] = 1M\n" + pool,
		want: []string{`2:1: php_value[memory_limit] is not allowed in the [global] section; put it in a pool`}},
	{name: "unknown array", conf: pool + "php_values[memory_limit] = 1M\n",
		want: []string{`5:1: unknown directive "php_values[memory_limit]"; php-fpm refuses the configuration`}},
	{name: "unknown php directive", conf: pool + "php_value[memory_limt] = 1M\n",
		want: []string{`5:1: PHP 8.2.36 does not know the directive "memory_limt"; php-fpm logs "Unable to set php_value 'memory_limt'" and ignores it`}},
	{name: "no pool", conf: "[global]\nlog_level = notice\n",
		want: []string{`0:0: no pool defined; php-fpm needs at least one [pool] section`}},
	{name: "no pm", conf: "[www]\nlisten = {{DIR}}/www.sock\npm.max_children = 1\n",
		want: []string{`1:1: [pool www] the process manager is missing; set pm = static, dynamic or ondemand`}},
	{name: "no listen", conf: "[www]\npm = static\npm.max_children = 1\n",
		want: []string{`1:1: [pool www] no listen address; set listen = /run/php/www.sock or 127.0.0.1:9000`}},
	{name: "no children", conf: "[www]\nlisten = {{DIR}}/www.sock\npm = static\n",
		want: []string{`1:1: [pool www] pm.max_children must be a positive value`}},
	{name: "dynamic spare servers", conf: "[www]\nlisten = {{DIR}}/www.sock\npm = dynamic\npm.max_children = 5\npm.min_spare_servers = 1\npm.max_spare_servers = 6\n",
		want: []string{`6:1: [pool www] pm.min_spare_servers(1) and pm.max_spare_servers(6) cannot be greater than pm.max_children(5)`}},
	{name: "dynamic ok", conf: "[www]\nlisten = {{DIR}}/www.sock\npm = Dynamic\npm.max_children = 5\npm.min_spare_servers = 1\npm.max_spare_servers = 3\n"},
	{name: "bad pm", conf: "[www]\nlisten = {{DIR}}/www.sock\npm = adaptive\npm.max_children = 1\n",
		want: []string{`3:1: unable to parse value for entry "pm": invalid process manager (static, dynamic or ondemand)`,
			`1:1: [pool www] the process manager is missing; set pm = static, dynamic or ondemand`}},
	{name: "same listen twice", conf: pool + "[two]\nlisten = {{DIR}}/www.sock\npm = static\npm.max_children = 1\n",
		want: []string{`5:1: pool [two] listens on {{DIR}}/www.sock like pool [www] ({{DIR}}/php-fpm.conf:2:1)`}},
	{name: "reopened pool", conf: "[www]\nlisten = {{DIR}}/www.sock\n[global]\n[WWW]\npm = static\npm.max_children = 1\n"},
	{name: "bad log level", conf: "[global]\nlog_level = verbose\n" + pool,
		want: []string{`2:1: unable to parse value for entry "log_level": invalid value for 'log_level'`}},
	{name: "suppress path", conf: pool + "access.suppress_path[] = /ping\n"},
	{name: "suppress path key", conf: pool + "access.suppress_path[x] = /ping\n",
		want: []string{`5:1: keys given to access.suppress_path are not allowed`}},
	{name: "slowlog timeout without slowlog", conf: pool + "request_slowlog_timeout = 5s\n",
		want: []string{`5:1: [pool www] request_slowlog_timeout needs slowlog`}},
	{name: "ping path", conf: pool + "ping.path = ping\n",
		want: []string{`5:1: [pool www] ping.path "ping" must start with a '/'`}},
	{name: "status path chars", conf: pool + "pm.status_path = /st atus\n",
		want: []string{`5:1: [pool www] pm.status_path "/st atus" may contain only letters, digits and /_-.~`}},
	{name: "chdir missing", conf: pool + "chdir = {{DIR}}/nope\n",
		want: []string{`5:1: [pool www] the chdir path "{{DIR}}/nope" does not exist or is not a directory`}},
	{name: "every global directive", conf: "[global]\npid = {{DIR}}/fpm.pid\nsyslog.ident = x\nsyslog.facility = daemon\n" +
		"log_buffering = no\nlog_level = warn\nlog_limit = 2048\nemergency_restart_threshold = 10\n" +
		"emergency_restart_interval = 1m\nprocess_control_timeout = 10s\nprocess.max = 0\nprocess.priority = -5\n" +
		"daemonize = no\nrlimit_files = 1024\nrlimit_core = 0\nevents.mechanism = epoll\nsystemd_interval = 10\n" + pool},
	{name: "every pool directive", conf: pool + "prefix = {{DIR}}\nuser = nobody\ngroup = nogroup\nlisten.backlog = 511\n" +
		"listen.acl_users = root\nlisten.acl_groups = root\nlisten.owner = nobody\nlisten.group = nogroup\nlisten.mode = 0660\n" +
		"listen.allowed_clients = 127.0.0.1\nprocess.priority = 5\nprocess.dumpable = yes\npm.start_servers = 1\n" +
		"pm.min_spare_servers = 1\npm.max_spare_servers = 1\npm.max_spawn_rate = 4\npm.process_idle_timeout = 5s\n" +
		"pm.max_requests = 100\npm.status_path = /status\npm.status_listen = {{DIR}}/status.sock\nping.path = /ping\n" +
		"ping.response = pong\naccess.log = {{DIR}}/access.log\naccess.format = \"%R %u\"\nslowlog = {{DIR}}/slow.log\n" +
		"request_slowlog_timeout = 5s\nrequest_slowlog_trace_depth = 5\nrequest_terminate_timeout = 10s\n" +
		"request_terminate_timeout_track_finished = yes\nrlimit_files = 1024\nrlimit_core = unlimited\nchdir = /\n" +
		"catch_workers_output = yes\ndecorate_workers_output = no\nclear_env = no\nsecurity.limit_extensions = .php\n" +
		"apparmor_hat = x\n"},
	{name: "listen.setfib is FreeBSD only", conf: pool + "listen.setfib = 1\n",
		want: []string{`5:1: unknown entry "listen.setfib" in pool [www]; php-fpm refuses the configuration`}},
	{name: "rlimit_core", conf: pool + "rlimit_core = unlimited\n"},
	{name: "env from environment", conf: pool + "env[PATH] = $PATH\nphp_value[error_log] = ${NOT_SET_HERE}/x\n",
		want: []string{`6:1: ${NOT_SET_HERE} is not set here; php-fpm takes it from its php.ini or environment and uses "" when neither has it`}},
	{name: "two statements on a line", conf: pool + "pm.max_requests = 5\rpm.max_requests = x\n",
		want: []string{`5:21: unable to parse value for entry "pm.max_requests": is not a valid number (greater or equal than zero)`}},
	{name: "CRLF", conf: strings.ReplaceAll(pool, "\n", "\r\n")},
	{name: "section with spaces", conf: "[ www ]\nlisten = {{DIR}}/www.sock\npm = static\npm.max_children = 1\n"},
	{name: "constant in value", conf: pool + "php_value[error_reporting] = E_ALL & ~E_DEPRECATED\n"},
	{name: "hash is not a comment", conf: pool + "# a comment?\n",
		want: []string{`5:1: "# a comment?" has no value (php-fpm: "value is NULL for a ZEND_INI_PARSER_ENTRY"); write # a comment? = value`}},
}

// TestAcceptAgainstFPM checks every case's diagnostics exactly and that
// php-fpm -t accepts exactly the configurations we find no error in.
func TestAcceptAgainstFPM(t *testing.T) {
	bin := ""
	for _, tc := range acceptCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			subst := func(s string) string { return strings.ReplaceAll(s, "{{DIR}}", dir) }
			files := map[string]string{}
			// The error_log line keeps php-fpm -t off /usr/log; it is
			// written into an included file so that line numbers
			// in the main file stay as in the case.
			files["php-fpm.conf"] = "include=" + dir + "/0-global.inc\n" + subst(tc.conf)
			files["0-global.inc"] = "[global]\nerror_log = " + dir + "/error.log\n"
			for k, v := range tc.files {
				files[k] = subst(v)
			}
			writeTree(t, dir, files)
			main := filepath.Join(dir, "php-fpm.conf")
			c, err := LoadOptions(main, Options{Prefix: dir, Getenv: getenv(exampleEnv)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range c.Diagnostics {
				s := d.String()
				s = strings.TrimPrefix(s, main+":")
				if d.Pos.File == main && d.Pos.Line > 0 {
					s = fmt.Sprintf("%d:%d: %s", d.Pos.Line-1, d.Pos.Col, d.Message)
				} else if d.Pos.Line == 0 {
					s = "0:0: " + d.Message
				}
				got = append(got, s)
			}
			var want []string
			for _, w := range tc.want {
				want = append(want, subst(w))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if bin == "" {
				bin = fpmBinary(t)
			}
			out, ok := fpmTest(t, bin, main, dir, false)
			if ok != c.Accepted() {
				t.Errorf("php-fpm -t accepts: %v, Accepted(): %v\n%s", ok, c.Accepted(), out)
			}
		})
	}
}

// TestAcceptRandomAgainstFPM builds configurations from lines that are
// right or subtly wrong and checks that php-fpm -t accepts exactly those
// we find no error in.
func TestAcceptRandomAgainstFPM(t *testing.T) {
	if testing.Short() {
		t.Skip("runs php-fpm -t 200 times")
	}
	bin := fpmBinary(t)
	lines := []string{
		"[www]", "[other]", "[global]", "[WWW]", "listen = {{DIR}}/a.sock", "listen = {{DIR}}/b.sock", "listen = 9001",
		"listen = run/$pool.sock", "pm = static", "pm = dynamic", "pm = ondemand", "pm = bogus", "pm.max_children = 0",
		"pm.max_children = 3", "pm.max_children = 5x", "pm.min_spare_servers = 1", "pm.min_spare_servers = 9",
		"pm.max_spare_servers = 2", "pm.start_servers = 3", "pm.start_servers = 2", "pm.max_spawn_rate = 0",
		"pm.process_idle_timeout = 0", "pm.process_idle_timeout = 3m", "request_terminate_timeout = 5q",
		"request_terminate_timeout = 1s", "request_slowlog_timeout = 2s", "slowlog = {{DIR}}/s.log",
		"user = nobody", "env[A] =", "env[A] = b", "env[] = c", "include = {{DIR}}/none/*.conf",
		"include = {{DIR}}/missing/*.conf", "ping.path = /p", "ping.path = p", "ping.response =",
		"pm.status_path = /", "pm.status_path = /s", "catch_workers_output = 2", "catch_workers_output = Off",
		"listen.backlog = -", "listen.backlog = -1", "yes = 1", "x", "; c", "", `php_value[a] = "b`,
		"process.priority = 30", "process.priority = -19", "rlimit_core = -1", "rlimit_core = unlimited",
		"pid = {{DIR}}/$pool.pid", "php_admin_value[error_log] = $pool.log", "access.suppress_path[] = x",
		"access.suppress_path[] = /x", "php_flag[display_errors] = 0", "php_flag[display_errors] = none",
		"log_level = debug", "log_level = loud", "process.max = -1", "daemonize = maybe", "chdir = {{DIR}}",
		"chdir = {{DIR}}/nope", "prefix = {{DIR}}", "prefix = nope", "security.limit_extensions =",
		"php_value[memory_limit] = 1M ; c", "a[b] = c", "listen.owner = nobody", "emergency_restart_interval = 1d",
		"request_slowlog_trace_depth = 0", "request_slowlog_trace_depth = 3",
	}
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 200 {
		dir := t.TempDir()
		var b strings.Builder
		b.WriteString("include=" + dir + "/0-global.inc\n")
		if r.IntN(2) == 0 {
			b.WriteString(strings.ReplaceAll(pool, "{{DIR}}", dir))
		}
		for range 1 + r.IntN(8) {
			b.WriteString(strings.ReplaceAll(lines[r.IntN(len(lines))], "{{DIR}}", dir) + "\n")
		}
		writeTree(t, dir, map[string]string{
			"php-fpm.conf": b.String(), "0-global.inc": "[global]\nerror_log = " + dir + "/error.log\n",
			"none/x.txt": "", "run/": "",
		})
		main := filepath.Join(dir, "php-fpm.conf")
		c, err := LoadOptions(main, Options{Prefix: dir})
		if err != nil {
			t.Fatal(err)
		}
		out, ok := fpmTest(t, bin, main, dir, false)
		if ok != c.Accepted() {
			t.Errorf("case %d: php-fpm -t accepts: %v, Accepted(): %v\n%s\ndiagnostics: %v\nphp-fpm:\n%s", i, ok, c.Accepted(), b.String(), c.Diagnostics, out)
		}
	}
}
