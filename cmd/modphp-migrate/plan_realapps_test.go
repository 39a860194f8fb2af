package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
	"github.com/modphp-migrate/modphp-migrate/internal/migrate"
	"github.com/modphp-migrate/modphp-migrate/internal/realapps"
)

// TestPlanIntegrationRealApps plans a copy of this machine's Debian
// server (prefork + mod_php, as Debian installs it) with the packaged
// Apache configuration of dokuwiki, adminer and phpmyadmin enabled, and a
// tenant's .htaccess with PHP settings in DokuWiki (tenantAccess), with
// --root: the copy holds /etc/apache2, php-fpm's configuration and the
// applications' files, everything plan reads and writes. Once per
// --htaccess mode, it applies the plan to another copy (--out overlay,
// remove.list, permissions.sh) and runs both on real servers, the second
// under Apache event + php-fpm, through the shim the plan configures for
// shim: every request of realapps.Apps and of the default site answers the
// same status and redirect, and an ini_get_all() probe placed in every
// directory with PHP settings (and in every other application directory)
// sees the same values, but for what php-fpm itself differs in
// (fpmOnlyINI, modPHPOnlyINI, the SAPI name; checkLogs pins how Apache's
// error log differs). phpMyAdmin's php_admin_value open_basedir and
// upload_tmp_dir go to a pool of its own, and no other pool gets them (the
// advice that broke every other application when applied to the one
// shared pool). Planning the applied copy prints no change, and plan
// --check passes on it.
func TestPlanIntegrationRealApps(t *testing.T) {
	realapps.Require(t, realapps.Apps...)
	lab.FindBinary(t, "/usr/lib/apache2/modules/libphp*.so")
	bins := appsBinaries{
		fpm:    lab.FindBinary(t, "php-fpm8.2", "/usr/sbin/php-fpm*"),
		apache: lab.FindBinary(t, "apache2", "/usr/sbin/apache2"),
		shim:   lab.BuildCommand(t),
	}
	base := lab.TempDir(t)
	orig := appsRoot(t, filepath.Join(base, "orig"))
	today := askApps(t, bins.apache, appsView(t, orig, ""))
	checkPMAProbe(t, today[probeURL("/usr/share/phpmyadmin")].body, orig)
	checkTenantProbe(t, today[probeURL(tenantDir)].body)
	for _, mode := range []string{"shim", "user-ini"} {
		t.Run(mode, func(t *testing.T) { switchApps(t, mode, bins, filepath.Join(base, mode), orig, today) })
	}
}

// appsBinaries are the programs the real-apps test runs.
type appsBinaries struct{ fpm, apache, shim string }

// switchApps plans a copy of the server in dir with --htaccess=mode,
// applies the plan, serves the copy under Apache event + php-fpm (and the
// shim when the plan configures one) and compares its answers with
// mod_php's (today, served from orig).
func switchApps(t *testing.T, mode string, bins appsBinaries, dir, orig string, today map[string]answer) {
	after := appsRoot(t, filepath.Join(dir, "root"))
	out := filepath.Join(dir, "out")
	p := planApps(t, after, out, mode)
	checkPMAPool(t, filepath.Join(out, fpmDir, "pool.d"))
	applyOut(t, out, after)
	if b, err := exec.Command("sh", "-c", `ROOT="$1" sh "$2"`, "sh", after, filepath.Join(out, permissionsScript)).CombinedOutput(); err != nil {
		t.Fatalf("permissions.sh: %v\n%s", err, b)
	}
	sockDir := filepath.Join(dir, "sock")
	if err := os.Mkdir(sockDir, 0o755); err != nil {
		t.Fatal(err)
	}
	view := appsView(t, after, sockDir)
	fpmConf := startPools(t, bins.fpm, filepath.Join(view, "pool.d"), view)
	var sh *lab.Shim
	if mode == "shim" {
		sh = lab.StartShim(t, bins.shim, filepath.Join(sockDir, "shim.sock"), "--config", filepath.Join(view, "shim.conf"),
			"--fpm-config", fpmConf, "--php-ini", modPHPINI, "--apache-config", filepath.Join(view, "etc/apache2/apache2.conf"))
	}
	switched := askApps(t, bins.apache, view)
	compareApps(t, p, today, switched, orig, after)
	checkLogs(t, orig, after)
	replanApps(t, after, mode)
	if t.Failed() {
		data, _ := json.MarshalIndent(p.Files, "", "  ")
		t.Logf("plan's files:\n%s", data)
		data, _ = os.ReadFile(filepath.Join(view, "run", "error.log"))
		t.Logf("Apache's error.log after the plan:\n%s", data)
		if sh != nil {
			t.Logf("shim log:\n%s", sh.LogText())
		}
	}
}

// compareApps compares the answers of the two servers: the statuses and
// redirects of every request, and the probes of every directory.
func compareApps(t *testing.T, p planJSON, today, switched map[string]answer, orig, after string) {
	t.Helper()
	for _, r := range appsRequests() {
		k := r.String()
		if today[k].status != r.Want {
			t.Errorf("%s: mod_php answered %d, want %d: the copy no longer serves it as Debian does", k, today[k].status, r.Want)
		}
		if today[k] != switched[k] {
			t.Errorf("%s: mod_php %v, php-fpm %v", k, today[k], switched[k])
		}
	}
	checkProbedDirs(t, p)
	for _, dir := range sortedKeys(appsProbes) {
		compareProbe(t, dir, today[probeURL(dir)], switched[probeURL(dir)], orig, after)
	}
}

// fpmDir is php-fpm's configuration directory on this machine and in
// the copies.
const fpmDir = "/etc/php/8.2/fpm"

// appsDirs are what a copy holds besides /etc/apache2 and fpmDir: every
// directory the applications' packaged Apache configuration serves,
// /etc/dokuwiki (the target of DokuWiki's symlinked .htaccess), and the
// default site's DocumentRoot.
var appsDirs = []string{"/usr/share/dokuwiki", "/etc/dokuwiki", "/usr/share/phpmyadmin", "/etc/adminer", "/var/www/html"}

// appsLinks are where phpMyAdmin's relative symbolic links lead
// (js/vendor/… → ../../../../javascript/…, doc/html →
// ../../doc/phpmyadmin/html): in a copy, links to this machine's.
var appsLinks = []string{"/usr/share/javascript", "/usr/share/doc/phpmyadmin"}

// appsServed are the paths the servers' configuration (appsView) names
// inside a copy: the directories Apache serves from it.
var appsServed = []string{"/usr/share/dokuwiki", "/usr/share/phpmyadmin", "/etc/adminer", "/var/www"}

// appsProbes are the directories given an ini_get_all() probe, with the
// URL that serves them: phpMyAdmin's, whose <Directory> has PHP settings,
// the tenant's (tenantDir), and the others, which share the pool
// phpMyAdmin's settings must not reach.
var appsProbes = map[string]string{
	"/usr/share/phpmyadmin": "/phpmyadmin/",
	"/usr/share/dokuwiki":   "/dokuwiki/",
	tenantDir:               "/dokuwiki/lib/exe/",
	"/etc/adminer":          "/adminer/",
	"/var/www/html":         "/",
}

// tenantDir holds tenantAccess, a .htaccess a wiki's administrator could
// add under DokuWiki's AllowOverride All: PHP settings for its media, CSS
// and JavaScript scripts, with values php.ini does not have. The
// directory has no subdirectory, so --htaccess=user-ini can move them to
// a .user.ini (in lib/, whose scripts are in lib/exe, it could not:
// TestUserINIOutsideDocumentRoot in internal/migrate).
const (
	tenantDir    = "/usr/share/dokuwiki/lib/exe"
	tenantAccess = "php_value memory_limit 192M\nphp_value max_input_vars 2000\n"
)

// defaultSite are the requests to Debian's default site: its page (a
// static file), a missing script, and a script that logs a PHP warning
// (warnScript).
var defaultSite = []realapps.Request{{Path: "/", Want: 200}, {Path: "/missing.php", Want: 404}, {Path: "/" + warnName, Want: 200}}

// appsRequests returns the requests of realapps.Apps and defaultSite.
func appsRequests() []realapps.Request {
	out := append([]realapps.Request(nil), defaultSite...)
	for _, app := range realapps.Apps {
		out = append(out, app.Requests...)
	}
	return out
}

// warnScript, in the default site as warnName, logs a PHP warning.
const (
	warnName   = "modphp-warn.php"
	warnScript = "<?php trigger_error('modphp-migrate probe', E_USER_WARNING); echo 'ok';\n"
)

// probeURL returns the URL of the probe in a directory of appsProbes.
func probeURL(dir string) string { return appsProbes[dir] + probeName }

// appsRoot makes dir a copy of this machine's server for the
// applications: /etc/apache2 with their packaged configuration enabled
// (appsConf), php-fpm's configuration, their files (appsDirs, copied with
// owners and modes), the links of appsLinks, and a probe (probeScript) in
// each directory of appsProbes.
func appsRoot(t *testing.T, dir string) string {
	t.Helper()
	appsConf(t, dir)
	for _, d := range append([]string{fpmDir}, appsDirs...) {
		copyAll(t, d, filepath.Join(dir, d))
	}
	for _, l := range appsLinks {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, l)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(l, filepath.Join(dir, l)); err != nil {
			t.Fatal(err)
		}
	}
	for d := range appsProbes {
		write(t, filepath.Join(dir, d, probeName), probeScript)
	}
	write(t, filepath.Join(dir, "var/www/html", warnName), warnScript)
	write(t, filepath.Join(dir, tenantDir, ".htaccess"), tenantAccess)
	return dir
}

// copyAll copies src to dst as cp -a does: owners, modes and symbolic
// links kept.
func copyAll(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s: %v\n%s", src, err, b)
	}
}

// appsConf copies this machine's /etc/apache2 to dir/etc/apache2 with the
// applications' packaged configuration enabled (copied into
// conf-available, as a2enconf would link it), and returns that directory.
func appsConf(t *testing.T, dir string) string {
	t.Helper()
	conf := filepath.Join(dir, "etc/apache2")
	copyAll(t, "/etc/apache2", conf)
	for _, app := range realapps.Apps {
		data, err := os.ReadFile(app.Conf())
		if err != nil {
			t.Fatal(err)
		}
		name := app.Package + ".conf"
		dst := filepath.Join(conf, "conf-available", name)
		_ = os.Remove(dst) // a symlink to the package's file: not to be written through
		write(t, dst, string(data))
		link := filepath.Join(conf, "conf-enabled", name)
		_ = os.Remove(link)
		if err := os.Symlink("../conf-available/"+name, link); err != nil {
			t.Fatal(err)
		}
	}
	return conf
}

// appsView returns a directory that serves the copy at root: its Apache
// configuration, php-fpm pools and shim configuration (shim.conf, when
// the plan wrote one), with the directories of appsServed
// (and Debian's <Directory /usr/share> grant) named inside root, the
// sockets in sockDir (unless it is ""), and the default site on a free
// port. The copy itself keeps the server's paths, as plan --root reads
// it.
func appsView(t *testing.T, root, sockDir string) string {
	t.Helper()
	view := root + "-run"
	copyAll(t, filepath.Join(root, "etc/apache2"), filepath.Join(view, "etc/apache2"))
	copyAll(t, filepath.Join(root, fpmDir, "pool.d"), filepath.Join(view, "pool.d"))
	if _, err := os.Stat(filepath.Join(root, migrate.ShimConfig)); err == nil {
		copyAll(t, filepath.Join(root, migrate.ShimConfig), filepath.Join(view, "shim.conf"))
	}
	port := strconv.Itoa(lab.FreePort(t))
	pairs := []string{"<Directory /usr/share>", "<Directory " + root + "/usr/share>",
		"Listen 80\n", "Listen 127.0.0.1:" + port + "\n", "*:80>", "*:" + port + ">"}
	for _, d := range appsServed {
		pairs = append(pairs, d, root+d)
	}
	if sockDir != "" {
		pairs = append(pairs, "/run/php/", sockDir+"/", "/run/modphp-migrate/", sockDir+"/")
	}
	if err := rewriteFiles(view, strings.NewReplacer(pairs...)); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(view, "port"), port)
	return view
}

// planApps plans the copy at root with --root, --out and --htaccess=mode,
// and returns the plan. The shim is configured for shim, and only then.
func planApps(t *testing.T, root, out, mode string) planJSON {
	t.Helper()
	args := []string{"plan", "--format=json", "--htaccess=" + mode, "--out", out, "--root", root, filepath.Join(root, "etc/apache2")}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("plan: exit %d: %s", code, stderr.String())
	}
	var p planJSON
	if err := json.Unmarshal(stdout.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	shim := false
	for _, f := range p.Files {
		shim = shim || f.Path == migrate.ShimConfig
	}
	if shim != (mode == "shim") {
		t.Errorf("--htaccess=%s: %s planned: %v", mode, migrate.ShimConfig, shim)
	}
	return p
}

// checkProbedDirs checks that every directory the plan places a PHP
// setting for has a probe.
func checkProbedDirs(t *testing.T, p planJSON) {
	t.Helper()
	n := 0
	for _, pl := range p.Placements {
		if pl.Target == migrate.TargetDropped {
			continue
		}
		n++
		if _, ok := appsProbes[pl.Dir]; !ok {
			t.Errorf("%s:%d: %s %s is placed for %s, which has no probe", pl.Source.File, pl.Source.Line, pl.Directive, pl.Key, pl.Dir)
		}
	}
	if n == 0 {
		t.Error("the plan places no PHP setting: phpMyAdmin's open_basedir and upload_tmp_dir should be placed")
	}
}

// checkPMAPool checks that exactly one planned pool sets phpMyAdmin's
// open_basedir, and that it serves phpMyAdmin alone.
func checkPMAPool(t *testing.T, poolDir string) {
	t.Helper()
	pools, _ := filepath.Glob(filepath.Join(poolDir, "*.conf"))
	n := 0
	for _, p := range pools {
		data, _ := os.ReadFile(p)
		s := string(data)
		if !strings.Contains(s, "php_admin_value[open_basedir] = /usr/share/phpmyadmin/:") {
			continue
		}
		n++
		if !strings.Contains(s, "; Generated by modphp-migrate plan. Scopes: alias:/phpmyadmin\n") ||
			!strings.Contains(s, "php_admin_value[upload_tmp_dir] = /var/lib/phpmyadmin/tmp\n") {
			t.Errorf("%s: phpMyAdmin's settings in a pool that is not phpMyAdmin's alone:\n%s", p, s)
		}
	}
	if n != 1 {
		t.Errorf("%d pools set phpMyAdmin's open_basedir, want 1", n)
	}
}

// askApps starts Apache on a view (appsView), sends every request of the
// apps and of the default site and asks every probe, and stops it.
func askApps(t *testing.T, bin, view string) map[string]answer {
	t.Helper()
	addr, srv := startTree(t, bin, view)
	defer srv.Stop()
	got := map[string]answer{}
	for _, r := range appsRequests() {
		got[r.String()] = ask(t, addr, r)
	}
	for d := range appsProbes {
		got[probeURL(d)] = fetch(t, addr, planRequest{"localhost", probeURL(d), false}, "")
	}
	return got
}

// ask sends one request and keeps its status and redirect target (the
// body of an application page differs in tokens and times).
func ask(t *testing.T, addr string, r realapps.Request) answer {
	t.Helper()
	method, body := "GET", ""
	if r.Method != "" {
		method = r.Method
	}
	if r.Form != nil {
		body = r.Form.Encode()
	}
	req, err := http.NewRequest(method, "http://"+addr+r.Path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if r.Form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := planClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", r, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	// Only the status and the redirect are compared (length stays 0).
	return answer{status: resp.StatusCode, body: strings.TrimPrefix(resp.Header.Get("Location"), "http://"+addr)}
}

// checkTenantProbe checks that the probe in tenantDir sees, under
// mod_php, the settings of tenantAccess.
func checkTenantProbe(t *testing.T, body string) {
	t.Helper()
	if v := probeValues(body); v["memory_limit"] != "'192M'" || v["max_input_vars"] != "'2000'" {
		t.Errorf("the probe in %s under mod_php: memory_limit %s, max_input_vars %s; want tenantAccess's", tenantDir, v["memory_limit"], v["max_input_vars"])
	}
}

// checkPMAProbe checks that the probe in phpMyAdmin's directory sees,
// under mod_php, the settings of phpMyAdmin's <Directory> (moved into the
// copy at root with the directory).
func checkPMAProbe(t *testing.T, body, root string) {
	t.Helper()
	v := probeValues(body)
	if !strings.HasPrefix(v["open_basedir"], "'"+root+"/usr/share/phpmyadmin/:/usr/share/doc/phpmyadmin/:") ||
		v["upload_tmp_dir"] != "'/var/lib/phpmyadmin/tmp'" {
		t.Errorf("phpMyAdmin's probe under mod_php: open_basedir %s, upload_tmp_dir %s; want phpMyAdmin's <Directory> settings", v["open_basedir"], v["upload_tmp_dir"])
	}
}

// checkLogs pins what docs/plan.md says of Apache's error log: a PHP
// warning is logged by mod_php as [php:warn] "PHP Warning: …", and
// arrives from php-fpm as mod_proxy_fcgi's [proxy_fcgi:error] "AH01071:
// Got error 'PHP message: PHP Warning: …'"; a missing script, which
// mod_php logged ("script '…' not found or unable to stat"), is answered
// by Apache alone after the plan and leaves no line.
func checkLogs(t *testing.T, orig, after string) {
	t.Helper()
	today, err := os.ReadFile(filepath.Join(orig+"-run", "run", "error.log"))
	if err != nil {
		t.Fatal(err)
	}
	switched, err := os.ReadFile(filepath.Join(after+"-run", "run", "error.log"))
	if err != nil {
		t.Fatal(err)
	}
	warning := "PHP Warning:  modphp-migrate probe in %s/var/www/html/" + warnName + " on line 1"
	want := map[string]string{
		"mod_php": regexp.QuoteMeta("[php:warn]") + " .* " + regexp.QuoteMeta(fmt.Sprintf(warning, orig)) + "\n",
		"php-fpm": regexp.QuoteMeta("[proxy_fcgi:error]") + " .* AH01071: Got error 'PHP message: " + regexp.QuoteMeta(fmt.Sprintf(warning, after)) + "'",
	}
	for name, log := range map[string][]byte{"mod_php": today, "php-fpm": switched} {
		if !regexp.MustCompile(want[name]).Match(log) {
			t.Errorf("%s's Apache logged no line matching %s:\n%s", name, want[name], log)
		}
	}
	missing := "script '" + orig + "/var/www/html/missing.php' not found or unable to stat"
	if !bytes.Contains(today, []byte(missing)) || bytes.Contains(switched, []byte("missing.php")) {
		t.Errorf("a missing script: want %q logged under mod_php and nothing under php-fpm:\n%s\n%s", missing, today, switched)
	}
}

// replanApps plans the copy the plan was applied to, in the same mode,
// as text and with --check: nothing is left to change, and apache2 -t and
// php-fpm -t accept it.
func replanApps(t *testing.T, root, mode string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args := []string{"plan", "--check", "--htaccess=" + mode, "--root", root, filepath.Join(root, "etc/apache2")}
	if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("plan --check on the applied copy: exit %d: %s", code, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("planning the applied copy prints changes:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "Syntax OK") || !strings.Contains(stderr.String(), "test is successful") {
		t.Errorf("plan --check on the applied copy:\n%s", stderr.String())
	}
}
