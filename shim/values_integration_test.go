package shim

// Differential tests of the values the shim decides to send php-fpm:
// the same Apache configuration, envvars and document root are served by
// real mod_php (Apache prefork + libapache2-mod-php) and by the shim in
// front of a real php-fpm with one worker, and the ini_get() values the
// scripts print must be identical.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modphp-migrate/modphp-migrate/fcgi"
	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// valsPHP prints the directives these tests decide, one per line, with
// var_export so that an empty value and a missing one differ.
const valsPHP = `<?php
header('Content-Type: text/plain');
foreach (['user_agent','open_basedir','date.timezone','memory_limit','upload_tmp_dir','sys_temp_dir','zend.assertions'] as $k) {
  echo $k, '=', var_export(ini_get($k), true), "\n";
}
echo 'sys_get_temp_dir()=', sys_get_temp_dir(), "\n";
`

// labPATH is the PATH every server here starts with, as under systemd.
const labPATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// envvarsCommand runs argv the way Debian's apache2ctl starts apache2: a
// fixed PATH and LANG, then the envvars file (written into dir) sourced by
// the shell, so that only what it exports reaches the server; the working
// directory is /, as for the daemon.
func envvarsCommand(t *testing.T, dir, envvars string, argv ...string) *exec.Cmd {
	t.Helper()
	ev := filepath.Join(dir, "envvars")
	if err := os.WriteFile(ev, []byte(envvars), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", append([]string{"-c", `. "$0"; exec "$@"`, ev}, argv...)...)
	cmd.Env = []string{labPATH, "LANG=C"}
	cmd.Dir = "/"
	return cmd
}

// modPHPSetup is one mod_php server: its document root, configuration
// lines beyond the lab's, envvars, and php.ini text ("" = Debian's).
type modPHPSetup struct {
	docRoot, conf, envvars, phpINI string
}

// startModPHPSetup starts Apache prefork + mod_php from dir/apache2.conf
// with envvars beside it (so a shim given the same file reads the same
// Defines and envvars) and returns the server and that file.
func startModPHPSetup(t *testing.T, o modPHPSetup) (*modPHP, string) {
	t.Helper()
	dir, addr := lab.TempDir(t), fmt.Sprintf("127.0.0.1:%d", lab.FreePort(t))
	var b strings.Builder
	b.WriteString(modPHPHead(t, dir, addr, "mpm_prefork", "authz_core", "dir"))
	if o.phpINI != "" {
		if err := os.WriteFile(filepath.Join(dir, "php.ini"), []byte(o.phpINI), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "PHPIniDir %s\n", dir)
	}
	b.WriteString("StartServers 1\nMinSpareServers 1\nMaxSpareServers 2\nMaxRequestWorkers 4\nKeepAlive Off\n")
	fmt.Fprintf(&b, "DocumentRoot %s\n<Directory />\n    AllowOverride None\n    Require all denied\n</Directory>\n", o.docRoot)
	fmt.Fprintf(&b, "<Directory %s>\n    AllowOverride All\n    Options FollowSymLinks\n    Require all granted\n</Directory>\n", o.docRoot)
	b.WriteString("<FilesMatch \"\\.php$\">\n    SetHandler application/x-httpd-php\n</FilesMatch>\n")
	b.WriteString(o.conf + "\n")
	conf := filepath.Join(dir, "apache2.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return runModPHP(t, dir, addr, conf, o.envvars), conf
}

// errorLog returns mod_php's Apache error log.
func (m *modPHP) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(m.dir, "error.log"))
	return string(b)
}

// directShim is a shim in front of a real php-fpm, asked directly with the
// params Apache's SetHandler sends.
type directShim struct {
	srv  *Server
	c    *fcgi.Client
	logs *syncBuffer
}

// startDirectShim runs a shim for fpm with the given Apache configuration
// and --pool-for routes.
func startDirectShim(t *testing.T, fpm *lab.FPM, apacheConf string, routes ...Route) *directShim {
	t.Helper()
	sock := filepath.Join(lab.TempDir(t), "shim.sock")
	d := &directShim{logs: &syncBuffer{}}
	srv, err := New(context.Background(), Config{
		Listen: Addr{Network: "unix", Address: sock}, Pool: Addr{Network: fpm.Network, Address: fpm.Addr},
		Routes: routes, FPMConfig: fpm.ConfPath, ApacheConfig: apacheConf, ShutdownGrace: time.Second,
	}, slog.New(slog.NewTextHandler(d.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("shim: %v", err)
	}
	d.srv = srv
	runShim(t, srv)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("shim log:\n%s", d.logs.String())
		}
	})
	waitAccepts(sock)
	d.c = &fcgi.Client{Network: "unix", Addr: sock}
	return d
}

// get asks the shim for docRoot+uri as Apache (SetHandler) would and
// returns the status and body.
func (d *directShim) get(t *testing.T, docRoot, uri string) (int, string) {
	t.Helper()
	file := path.Join(docRoot, uri)
	var out bytes.Buffer
	_, err := d.c.Do(context.Background(), &fcgi.Request{Params: pp(
		"SCRIPT_FILENAME", "proxy:fcgi://localhost"+file, "DOCUMENT_ROOT", docRoot, "CONTEXT_DOCUMENT_ROOT", docRoot,
		"SCRIPT_NAME", uri, "REQUEST_URI", uri, "REQUEST_METHOD", "GET", "QUERY_STRING", "",
		"SERVER_NAME", "127.0.0.1", "SERVER_PROTOCOL", "HTTP/1.1", "GATEWAY_INTERFACE", "CGI/1.1")}, &out)
	if err != nil {
		t.Fatalf("shim %s: %v", uri, err)
	}
	head, body, _ := strings.Cut(out.String(), "\r\n\r\n")
	code := 200
	for line := range strings.SplitSeq(head, "\r\n") {
		if v, ok := strings.CutPrefix(line, "Status: "); ok {
			code, _ = strconv.Atoi(v[:3])
		}
	}
	return code, body
}

// modPHPGet fetches a URL from mod_php.
func modPHPGet(t *testing.T, m *modPHP, uri string) (int, string) {
	t.Helper()
	resp, err := httpClient.Get(m.url + uri)
	if err != nil {
		t.Fatalf("GET %s: %v\n%s", uri, err, m.errorLog())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// writeTree writes files (relative path → content) under root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// compareValues asks mod_php and the shim for each uri in turn and fails
// unless status and body are identical; it returns the shim's bodies.
func compareValues(t *testing.T, ref *modPHP, sh *directShim, docRoot string, uris ...string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, u := range uris {
		mc, mb := modPHPGet(t, ref, u)
		sc, sb := sh.get(t, docRoot, u)
		// Error pages differ (Apache's and the shim's): the status is
		// the behaviour.
		if mc != sc || mc == 200 && mb != sb {
			t.Errorf("%s:\nmod_php %d:\n%s\nshim %d:\n%s", u, mc, mb, sc, sb)
		}
		got[u] = sb
	}
	return got
}

// TestIntegrationVarSubstitution: ${VAR} in a php_value is what httpd
// substitutes when it reads the .htaccess at request time — a Define with
// a value, then what envvars exported into Apache's environment — and a
// name neither defines stays as written (with httpd's AH00111 warning). The
// shim's own environment (a secret, HOME) is never used.
func TestIntegrationVarSubstitution(t *testing.T) {
	fpm := lab.StartFPM(t, lab.FPMConfig{Children: 1})
	root := fpm.DocRoot
	writeTree(t, root, map[string]string{
		"var/.htaccess": `php_value user_agent "${SITE_DEF}|${APACHE_ENV_VAR}|${SHIM_SECRET}|${NOVAL_DEF}|${HOME}|${UNDEFINED_X}|${PLAIN_ASSIGN}"` + "\n",
		"var/vals.php":  valsPHP,
		// The substituted value is split into words with the rest of the
		// line: three arguments, a 500.
		"split/.htaccess": "php_value user_agent ${TWO_WORDS}\n",
		"split/vals.php":  valsPHP,
		"vals.php":        valsPHP,
	})
	ref, conf := startModPHPSetup(t, modPHPSetup{
		docRoot: root,
		conf:    "Define SITE_DEF /from/define\nDefine NOVAL_DEF\nDefine TWO_WORDS \"a b\"\n",
		envvars: "unset HOME\nexport APACHE_ENV_VAR=/from/envvars\nPLAIN_ASSIGN=not-exported\n",
	})
	t.Setenv("SHIM_SECRET", "leaked-secret")
	t.Setenv("HOME", "/root-of-the-shim")
	sh := startDirectShim(t, fpm, conf)
	got := compareValues(t, ref, sh, root, "/var/vals.php", "/vals.php", "/var/vals.php", "/split/vals.php")
	if c, _ := sh.get(t, root, "/split/vals.php"); c != 500 {
		t.Errorf("/split/vals.php: %d, want 500", c)
	}
	want := `user_agent='/from/define|/from/envvars|${SHIM_SECRET}|${NOVAL_DEF}|${HOME}|${UNDEFINED_X}|${PLAIN_ASSIGN}'`
	if !strings.Contains(got["/var/vals.php"], want+"\n") {
		t.Errorf("shim: %s\nwant the line %s", got["/var/vals.php"], want)
	}
	if !strings.Contains(ref.errorLog(), "Config variable ${SHIM_SECRET} is not defined") {
		t.Errorf("httpd did not warn about ${SHIM_SECRET}:\n%s", ref.errorLog())
	}
}

// TestIntegrationRefusedValues: a value PHP refuses (date.timezone
// Bogus/Zone, memory_limit 1 below the memory in use, zend.assertions 1
// when php.ini has -1) leaves mod_php at php.ini's value; through the shim
// on one php-fpm worker it must leave the baseline too, never the value
// the previous site set on that worker.
func TestIntegrationRefusedValues(t *testing.T) {
	fpm := lab.StartFPM(t, lab.FPMConfig{Children: 1})
	root := fpm.DocRoot
	writeTree(t, root, map[string]string{
		"a/.htaccess": "php_value date.timezone Europe/Berlin\nphp_value memory_limit 64M\n",
		"a/vals.php":  valsPHP,
		"b/.htaccess": "php_value date.timezone Bogus/Zone\nphp_value memory_limit 1\nphp_value zend.assertions 1\n",
		"b/vals.php":  valsPHP,
		"c/vals.php":  valsPHP,
	})
	ref, conf := startModPHPSetup(t, modPHPSetup{docRoot: root})
	sh := startDirectShim(t, fpm, conf)
	got := compareValues(t, ref, sh, root, "/a/vals.php", "/b/vals.php", "/c/vals.php", "/b/vals.php", "/a/vals.php", "/b/vals.php")
	for _, want := range []string{"date.timezone='UTC'\n", "memory_limit='128M'\n", "zend.assertions='-1'\n"} {
		if !strings.Contains(got["/b/vals.php"], want) {
			t.Errorf("/b/vals.php after /a/vals.php on one worker:\n%s\nwant the line %s", got["/b/vals.php"], want)
		}
	}
	if !strings.Contains(got["/a/vals.php"], "date.timezone='Europe/Berlin'\n") {
		t.Errorf("/a/vals.php:\n%s", got["/a/vals.php"])
	}
	for _, want := range []string{"key=date.timezone value=Bogus/Zone", "key=memory_limit value=1 "} {
		if logs := sh.logs.String(); !strings.Contains(logs, "PHP will refuse this value") || !strings.Contains(logs, want) {
			t.Errorf("the refused value is not logged (%s):\n%s", want, logs)
		}
	}
}

// TestIntegrationOpenBasedir: php_value open_basedir in .htaccess may only
// tighten the current value, checked on resolved paths. php.ini (mod_php)
// and the pool's php_value (php-fpm) set open_basedir to the document
// root; each directory's .htaccess proposes a value, and mod_php and the
// shim must show the same ini_get('open_basedir'). Links are then
// re-pointed: the next request follows the file system as mod_php does.
func TestIntegrationOpenBasedir(t *testing.T) {
	ini, err := os.ReadFile("/etc/php/8.2/apache2/php.ini")
	if err != nil {
		if lab.Real() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	tmp := lab.TempDir(t)
	root := filepath.Join(tmp, "www")
	fpm := lab.StartFPM(t, lab.FPMConfig{Children: 1, Pool: "php_value[open_basedir] = " + root})
	// The pool's own document root is unused: the shim sends
	// SCRIPT_FILENAME under root.
	os.Mkdir(root, 0o755)
	files := map[string]string{"vals.php": valsPHP}
	cases := map[string]string{
		"ok":      "R/ok/",
		"link":    "R/link/l/", // l -> /
		"lit":     "/etc",
		"dotdot":  "R/dotdot/../dotdot", // PHP 8.2 refuses only a leading ".."
		"none":    "none",
		"list":    "R/list:/etc",
		"missing": "R/missing/:R/missing/not/there",
		"sib":     "Rx",
		"inlink":  "R/inlink/:R/inlink/in/", // in -> R/ok
		"rel":     "rel",
		"colon":   "R/colon:",
		"swap":    "R/swap/l/", // l -> R/swap, later -> /
	}
	var uris []string
	for dir, v := range cases {
		files[dir+"/.htaccess"] = "php_value open_basedir " + strings.ReplaceAll(v, "R", root) + "\n"
		files[dir+"/vals.php"] = valsPHP
		uris = append(uris, "/"+dir+"/vals.php")
	}
	writeTree(t, root, files)
	for link, target := range map[string]string{"link/l": "/", "inlink/in": root + "/ok", "swap/l": root + "/swap"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	ref, conf := startModPHPSetup(t, modPHPSetup{docRoot: root, phpINI: string(ini) + "\nopen_basedir = " + root + "\n"})
	sh := startDirectShim(t, fpm, conf)
	got := compareValues(t, ref, sh, root, append(uris, "/vals.php", "/link/vals.php")...)
	for dir, want := range map[string]string{"ok": root + "/ok/", "link": root, "lit": root, "none": root, "sib": root, "inlink": root + "/inlink/:" + root + "/inlink/in/", "dotdot": root + "/dotdot/../dotdot", "swap": root + "/swap/l/"} {
		if line := "open_basedir='" + want + "'\n"; !strings.Contains(got["/"+dir+"/vals.php"], line) {
			t.Errorf("/%s/vals.php:\n%s\nwant the line %s", dir, got["/"+dir+"/vals.php"], line)
		}
	}
	// The tenant re-points the link to /: the .htaccess is unchanged,
	// the decision is not.
	os.Remove(filepath.Join(root, "swap/l"))
	if err := os.Symlink("/", filepath.Join(root, "swap/l")); err != nil {
		t.Fatal(err)
	}
	got = compareValues(t, ref, sh, root, "/swap/vals.php", "/ok/vals.php", "/swap/vals.php")
	if line := "open_basedir='" + root + "'\n"; !strings.Contains(got["/swap/vals.php"], line) {
		t.Errorf("/swap/vals.php after the link moved:\n%s\nwant the line %s", got["/swap/vals.php"], line)
	}
}

// TestIntegrationUnresettable: Debian's phpMyAdmin sets php_admin_value
// upload_tmp_dir (and here sys_temp_dir) in its <Directory>. PHP refuses
// to set either back to the pool's empty value, so under php-fpm every
// later request on that worker would keep them. With one pool (one worker)
// the shim answers phpMyAdmin's requests 500 with the reason logged and
// reports the line at start-up, and the other directory sees its own
// baseline, as under mod_php; with --pool-for giving the directory its own
// pool, both directories show exactly mod_php's values.
func TestIntegrationUnresettable(t *testing.T) {
	tmp := lab.TempDir(t)
	root := filepath.Join(tmp, "www")
	for _, d := range []string{"pmatmp", "systmp"} {
		os.Mkdir(filepath.Join(tmp, d), 0o777)
		os.Chmod(filepath.Join(tmp, d), 0o777)
	}
	writeTree(t, root, map[string]string{"pma/vals.php": valsPHP, "other/vals.php": valsPHP})
	ref, conf := startModPHPSetup(t, modPHPSetup{docRoot: root, conf: fmt.Sprintf(
		"<Directory %s/pma>\n    php_admin_value upload_tmp_dir %s/pmatmp\n    php_admin_value sys_temp_dir %s/systmp\n</Directory>\n", root, tmp, tmp)})
	user := ""
	if os.Geteuid() == 0 {
		user = "user = www-data\ngroup = www-data\n"
	}
	pma := "[pma]\n" + user + "listen = {{Dir}}/pma.sock\nlisten.mode = 0666\npm = static\npm.max_children = 1\n"
	other := func(t *testing.T, sh *directShim) {
		t.Helper()
		got := compareValues(t, ref, sh, root, "/other/vals.php")
		for _, want := range []string{"upload_tmp_dir=''\n", "sys_temp_dir=''\n", "sys_get_temp_dir()=/tmp\n"} {
			if !strings.Contains(got["/other/vals.php"], want) {
				t.Errorf("/other/vals.php:\n%s\nwant the line %s", got["/other/vals.php"], want)
			}
		}
	}

	t.Run("one pool", func(t *testing.T) {
		fpm := lab.StartFPM(t, lab.FPMConfig{Children: 1, ExtraPools: pma})
		sh := startDirectShim(t, fpm, conf)
		probs := sh.srv.UnresettableProblems()
		if len(probs) != 2 || probs[0].Key != "upload_tmp_dir" || probs[1].Key != "sys_temp_dir" || probs[0].Scope != root+"/pma" {
			t.Errorf("start-up problems %v, want upload_tmp_dir and sys_temp_dir in %s/pma", probs, root)
		}
		if !strings.Contains(sh.logs.String(), "--pool-for "+root+"/pma=ADDR") {
			t.Errorf("start-up log does not name the fix:\n%s", sh.logs.String())
		}
		for range 2 {
			if mc, _ := modPHPGet(t, ref, "/pma/vals.php"); mc != 200 {
				t.Fatalf("mod_php /pma/vals.php: %d", mc)
			}
			if c, b := sh.get(t, root, "/pma/vals.php"); c != 500 {
				t.Errorf("shim /pma/vals.php: %d %s, want 500", c, b)
			}
			other(t, sh)
		}
		if !strings.Contains(sh.logs.String(), "upload_tmp_dir") || !strings.Contains(sh.logs.String(), "a setting PHP cannot reset would leak") {
			t.Errorf("the 500 is not explained in the log:\n%s", sh.logs.String())
		}
	})

	t.Run("pool-for", func(t *testing.T) {
		fpm := lab.StartFPM(t, lab.FPMConfig{Children: 1, ExtraPools: pma})
		sh := startDirectShim(t, fpm, conf, Route{DocRoot: root + "/pma", Pool: Addr{Network: "unix", Address: filepath.Join(fpm.Dir, "pma.sock")}})
		if probs := sh.srv.UnresettableProblems(); len(probs) != 0 {
			t.Errorf("start-up problems %v with the directory on its own pool", probs)
		}
		got := compareValues(t, ref, sh, root, "/pma/vals.php", "/other/vals.php", "/pma/vals.php")
		if want := "upload_tmp_dir='" + tmp + "/pmatmp'\n"; !strings.Contains(got["/pma/vals.php"], want) {
			t.Errorf("/pma/vals.php:\n%s\nwant the line %s", got["/pma/vals.php"], want)
		}
		other(t, sh)
	})
}

// TestIntegrationServerConfigGuardVars: php_value lines of the server
// configuration under <IfModule mod_php.c> are applied by the shim,
// which reads the configuration as it runs once mod_php is unloaded,
// where the guard is false and Apache leaves its body unread. ${VAR} in
// them (and in the sections inside the guard) must be what httpd with
// mod_php substituted: the Define in force at that line, a Define inside
// the guard, envvars' exports; never the shim's environment. A guarded
// Define also decides a guarded <IfDefine>, and an access file sees it.
// Unguarded lines do not read the shim's environment either.
func TestIntegrationServerConfigGuardVars(t *testing.T) {
	fpm := lab.StartFPM(t, lab.FPMConfig{Children: 1})
	root := fpm.DocRoot
	writeTree(t, root, map[string]string{
		"guarded/vals.php": valsPHP,
		"inner/vals.php":   valsPHP,
		"ifdef/vals.php":   valsPHP,
		"plain/vals.php":   valsPHP,
		"acc/.htaccess":    "php_value user_agent ${IN_GUARD}\n",
		"acc/vals.php":     valsPHP,
		"vals.php":         valsPHP,
	})
	ref, conf := startModPHPSetup(t, modPHPSetup{
		docRoot: root,
		conf: "Define ROOT_DEF " + root + "\nDefine ORDER first\n" +
			"<Directory ${ROOT_DEF}/guarded>\n<IfModule mod_php.c>\n" +
			`php_value user_agent "${ROOT_DEF}|${ORDER}|${APACHE_ENV_VAR}|${SHIM_SECRET}|${PLAIN_ASSIGN}"` + "\n" +
			"</IfModule>\n</Directory>\nDefine ORDER second\n" +
			"<IfModule mod_php.c>\nDefine IN_GUARD /in/guard\n<Directory ${ROOT_DEF}/inner>\n" +
			`php_value user_agent "${IN_GUARD}|${ORDER}"` + "\n</Directory>\n" +
			"<IfDefine IN_GUARD>\n<Directory ${ROOT_DEF}/ifdef>\nphp_value memory_limit 77M\n</Directory>\n</IfDefine>\n" +
			"<IfDefine !IN_GUARD>\n<Directory ${ROOT_DEF}/ifdef>\nphp_value memory_limit 78M\n</Directory>\n</IfDefine>\n" +
			"</IfModule>\nUnDefine ORDER\n" +
			"<Directory ${ROOT_DEF}/plain>\n" + `php_value user_agent "${SHIM_SECRET}|${ORDER}|${PLAIN_ASSIGN}|${APACHE_ENV_VAR}"` + "\n</Directory>\n",
		envvars: "export APACHE_ENV_VAR=/from/envvars\nPLAIN_ASSIGN=not-exported\n",
	})
	t.Setenv("SHIM_SECRET", "leaked-secret")
	sh := startDirectShim(t, fpm, conf)
	got := compareValues(t, ref, sh, root, "/guarded/vals.php", "/inner/vals.php", "/ifdef/vals.php", "/plain/vals.php", "/acc/vals.php", "/vals.php")
	for u, want := range map[string]string{
		"/guarded/vals.php": "user_agent='" + root + "|first|/from/envvars|${SHIM_SECRET}|${PLAIN_ASSIGN}'\n",
		"/inner/vals.php":   "user_agent='/in/guard|second'\n",
		"/ifdef/vals.php":   "memory_limit='77M'\n",
		"/plain/vals.php":   "user_agent='${SHIM_SECRET}|${ORDER}|${PLAIN_ASSIGN}|/from/envvars'\n",
		"/acc/vals.php":     "user_agent='/in/guard'\n",
	} {
		if !strings.Contains(got[u], want) {
			t.Errorf("shim %s:\n%s\nwant the line %s", u, got[u], want)
		}
	}
}
