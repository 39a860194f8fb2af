package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShimUsageErrors: bad flags are exit 2 with the reason first on
// stderr.
func TestShimUsageErrors(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "shim.conf")
	os.WriteFile(conf, []byte("# comment\nlisten = unix:/run/x.sock\nno-such-flag 1\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--pool", "unix:/x", "--fpm-config", "/x"}, "modphp-migrate shim: --listen is required\n"},
		{[]string{"--listen", "unix:/x", "--fpm-config", "/x"}, "modphp-migrate shim: --pool is required\n"},
		{[]string{"--listen", "unix:/x", "--pool", "unix:/y"}, "modphp-migrate shim: --fpm-config is required\n"},
		{[]string{"--listen", "unix:rel", "--pool", "unix:/y", "--fpm-config", "/x"}, "modphp-migrate shim: --listen: address \"unix:rel\": the socket path must be absolute\n"},
		{[]string{"--listen", "nohost", "--pool", "unix:/y", "--fpm-config", "/x"}, "modphp-migrate shim: --listen: address \"nohost\": want unix:/path or host:port"},
		{[]string{"--listen", "unix:/x", "--pool", "unix:/y", "--fpm-config", "/x", "--status-listen", "0.0.0.0:8080"}, "modphp-migrate shim: --status-listen: status address \"0.0.0.0:8080\": only loopback addresses (127.0.0.1, ::1) are allowed\n"},
		{[]string{"--listen", "unix:/x", "--pool", "unix:/y", "--fpm-config", "/x", "--pool-for", "rel=unix:/z"}, "modphp-migrate shim: --pool-for \"rel=unix:/z\": want /document/root=ADDR\n"},
		{[]string{"--listen", "unix:/x", "--pool", "unix:/y", "--fpm-config", "/x", "--listen-mode", "999"}, "modphp-migrate shim: --listen-mode \"999\": want an octal mode such as 0660\n"},
		{[]string{"--listen", "unix:/x", "--pool", "unix:/y", "--fpm-config", "/x", "--log-format", "xml"}, "modphp-migrate shim: --log-format \"xml\": want text or json\n"},
		{[]string{"--config", conf}, "modphp-migrate shim: " + conf + ":3: unknown flag \"no-such-flag\"\n"},
		{[]string{"extra"}, "modphp-migrate shim: unexpected argument \"extra\"\n"},
		{[]string{"--listen", "unix:/x", "--pool", "unix:/y", "--fpm-config", "/x", "--procs", "-1"}, "modphp-migrate shim: --procs must be 0 (the default) or more\n"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"shim"}, tc.args...), &stdout, &stderr)
		if code != exitUsage || !strings.HasPrefix(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, firstLine(stderr.String()), tc.want)
		}
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// TestShimConfigFile: values come from the file unless the command line
// sets them; repeatable flags collect every line.
func TestShimConfigFile(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "shim.conf")
	os.WriteFile(conf, []byte("listen = unix:/from/file.sock\npool unix:/from/file-pool.sock\naccess-file-name = .a\naccess-file-name .b\nlog-level = \"debug\"\n"), 0o644)
	fs, vals := newShimFlags()
	if err := fs.Parse([]string{"--pool", "unix:/cli.sock"}); err != nil {
		t.Fatal(err)
	}
	if err := applyConfigFile(fs, conf); err != nil {
		t.Fatal(err)
	}
	got := []string{*vals.listen, *vals.pool, strings.Join(*vals.access, ","), *vals.logLevel}
	want := []string{"unix:/from/file.sock", "unix:/cli.sock", ".a,.b", "debug"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestShimStartFailure: a php-fpm configuration that does not exist is
// exit 3 with a log line.
func TestShimStartFailure(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"shim", "--listen", "unix:/tmp/never.sock", "--pool", "unix:/y", "--fpm-config", "/nonexistent/php-fpm.conf"}, &stdout, &stderr)
	if code != exitInternal || !strings.Contains(stderr.String(), "cannot start") || !strings.Contains(stderr.String(), "/nonexistent/php-fpm.conf") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestShimLoggerRedacts: attributes that carry credentials never reach
// the log, whatever their case.
func TestShimLoggerRedacts(t *testing.T) {
	var b bytes.Buffer
	log, err := newShimLogger(&b, "json", "debug")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("x", "HTTP_AUTHORIZATION", "Bearer s3cret", "Cookie", "sid=s3cret", "PHP_AUTH_PW", "s3cret", "uri", "/index.php")
	got := b.String()
	if strings.Contains(got, "s3cret") || !strings.Contains(got, `"HTTP_AUTHORIZATION":"[redacted]"`) || !strings.Contains(got, `"uri":"/index.php"`) {
		t.Errorf("log line %s", got)
	}
}

// TestShimProcs: --procs wins, then $GOMAXPROCS (left to the runtime), then
// a quarter of the CPUs, at least one.
func TestShimProcs(t *testing.T) {
	for _, tc := range []struct {
		flag   int
		envSet bool
		cpus   int
		want   int
	}{
		{3, true, 16, 3},
		{0, true, 16, 0},
		{0, false, 1, 1},
		{0, false, 2, 1},
		{0, false, 4, 1},
		{0, false, 5, 2},
		{0, false, 8, 2},
		{0, false, 64, 16},
	} {
		if got := shimProcs(tc.flag, tc.envSet, tc.cpus); got != tc.want {
			t.Errorf("shimProcs(%d, %v, %d) = %d, want %d", tc.flag, tc.envSet, tc.cpus, got, tc.want)
		}
	}
}
