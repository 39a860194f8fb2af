package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// probeDirs are the example's directories with PHP settings (relative to
// var/www), each given a probe script.
// blog/intl and blog/lang are the copy's (unresettableDirs).
var probeDirs = []string{"blog", "blog/wp-admin", "blog/intl", "blog/lang", "intranet", "hosting/bob", "hosting/alice", "shop/public"}

const probeName = "modphp-probe.php"

// probeScript prints php_sapi_name() and every INI setting, one
// "key=value" a line, in key order.
const probeScript = `<?php
$all = ini_get_all(null, false);
ksort($all);
echo 'SAPI=', php_sapi_name(), "\n";
foreach ($all as $k => $v) { echo $k, '=', var_export($v, true), "\n"; }
`

// planRequest is one URL of the comparison.
type planRequest struct {
	host, path string
	auth       bool
}

// key names a request in the answers: "host path", " auth" added when
// it carries the intranet's credentials.
func (r planRequest) key() string {
	k := r.host + " " + r.path
	if r.auth {
		k += " auth"
	}
	return k
}

// planRequests cover each site's pages, static files, denied files and
// directories, a missing .php, and the probes.
var planRequests = []planRequest{
	{"localhost", "/", false},
	{"localhost", "/missing.php", false},
	{"localhost", "/index.phps", false},
	{"blog.example.test", "/", false},
	{"blog.example.test", "/wp-admin/", false},
	{"blog.example.test", "/xmlrpc.php", false},
	{"blog.example.test", "/no-such-page", false},
	{"blog.example.test", "/wp-content/uploads/2024/05/README.txt", false},
	{"blog.example.test", "/wp-content/uploads/evil.php", false},
	{"shop.example.test", "/", false},
	{"shop.example.test", "/missing.php", false},
	{"shop.example.test", "/uploads/README.txt", false},
	{"api.example.test", "/docs/index.html", false},
	{"intranet.example.test", "/", false},
	{"intranet.example.test", "/", true},
	{"intranet.example.test", "/reports/", true},
	{"users.example.test", "/bob/", false},
	{"users.example.test", "/alice/", false},
	{"users.example.test", "/nobody.php", false},
	// Basic credentials no Apache auth consumes reach PHP: mod_php
	// always passed them; the plan adds CGIPassAuth On because the
	// script reads PHP_AUTH_USER.
	{"users.example.test", "/bob/auth-probe.php", true},
}

// knownDifferences are the answers the plan changes on purpose, by
// "host path": php_flag engine off served PHP sources as text under
// mod_php; the plan denies them. The API's ProxyPassMatch sends its
// scripts to 127.0.0.1:9000, where nothing listens here (503); no pool of
// the plan listens there, so the plan replaces the route by its handler
// for /var/www/api, and they run (200).
var knownDifferences = map[string][2]int{
	"shop.example.test /uploads/shell.php": {200, 403},
	"api.example.test /v1/status.php":      {503, 200},
}

// TestPlanIntegrationLegacy runs docs/examples/legacy-server on real
// servers: as it is (Apache prefork + mod_php), and with the plan applied
// (--out overlay, remove.list and permissions.sh) under Apache event +
// php-fpm, once per --htaccess mode: user-ini without the shim, shim with
// the shim the plan configures. Every URL answers the same status, and
// every directory with PHP settings sees the same INI settings
// (compareProbe).
func TestPlanIntegrationLegacy(t *testing.T) {
	lab.FindBinary(t, "/usr/lib/apache2/modules/libphp*.so")
	fpmBin := lab.FindBinary(t, "php-fpm8.2", "/usr/sbin/php-fpm*")
	apacheBin := lab.FindBinary(t, "apache2", "/usr/sbin/apache2")
	if os.Geteuid() != 0 {
		if lab.Real() {
			t.Fatal("the example server runs its PHP as www-data: run as root")
		}
		t.Skip("needs root (the servers switch to www-data)")
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:9000", time.Second); err == nil {
		c.Close()
		t.Skip("127.0.0.1:9000 is in use; the example's ProxyPassMatch must find nothing there")
	}
	base := lab.TempDir(t)
	orig := exampleCopy(t, filepath.Join(base, "orig"))
	today := runLegacy(t, apacheBin, orig)
	for _, mode := range []string{"user-ini", "shim"} {
		t.Run(mode, func(t *testing.T) {
			dir := filepath.Join(base, mode)
			after := exampleCopy(t, filepath.Join(dir, "root"))
			out := filepath.Join(dir, "out")
			var stdout, stderr bytes.Buffer
			args := []string{"plan", "--htaccess=" + mode, "--out", out, "--fpm-config", "none", filepath.Join(after, "etc/apache2")}
			if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
				t.Fatalf("plan: exit %d: %s", code, stderr.String())
			}
			sockDir := filepath.Join(dir, "sock")
			if err := os.Mkdir(sockDir, 0o755); err != nil {
				t.Fatal(err)
			}
			applyPlanned(t, out, after, sockDir)
			fpmConf := startPools(t, fpmBin, filepath.Join(out, "etc/php/8.2/fpm/pool.d"), dir)
			shimConf := filepath.Join(out, "etc/modphp-migrate/shim.conf")
			if _, err := os.Stat(shimConf); (err == nil) != (mode == "shim") {
				t.Fatalf("--htaccess=%s: shim.conf written: %v", mode, err == nil)
			}
			var sh *lab.Shim
			if mode == "shim" {
				sh = lab.StartShim(t, lab.BuildCommand(t), filepath.Join(sockDir, "shim.sock"), "--config", shimConf,
					"--fpm-config", fpmConf, "--php-ini", modPHPINI)
			}
			compareLegacy(t, today, runLegacy(t, apacheBin, after), orig, after)
			if t.Failed() {
				t.Logf("plan:\n%s", stdout.String())
				data, _ := os.ReadFile(filepath.Join(after, "run", "error.log"))
				t.Logf("Apache's error.log:\n%s", data)
				if sh != nil {
					t.Logf("shim log:\n%s", sh.LogText())
				}
			}
		})
	}
}

// modPHPINI is mod_php's php.ini; php-fpm and the shim read it too, so
// that only the plan differs.
const modPHPINI = "/etc/php/8.2/apache2/php.ini"

// compareLegacy compares the answers of the two servers.
func compareLegacy(t *testing.T, today, switched map[string]answer, orig, after string) {
	t.Helper()
	for _, r := range planRequests {
		key := r.key()
		if today[key].status != switched[key].status {
			t.Errorf("%s: mod_php %d, php-fpm %d", key, today[key].status, switched[key].status)
		}
	}
	for _, k := range sortedKeys(knownDifferences) {
		w := knownDifferences[k]
		if today[k].status != w[0] || switched[k].status != w[1] {
			t.Errorf("%s: mod_php %d, php-fpm %d; want the planned change %d → %d", k, today[k].status, switched[k].status, w[0], w[1])
		}
	}
	checkFPMDifferences(t, today, switched)
	checkTenantEnv(t, today[tenantEnvKey], switched[tenantEnvKey])
	for _, d := range probeDirs {
		compareProbe(t, d, today[probeKey(d)], switched[probeKey(d)], orig, after)
	}
}

// checkFPMDifferences pins what docs/plan.md says: Basic credentials
// reach PHP in both (CGIPassAuth); mod_php served a script under
// php_flag engine off as its source; mod_php sent a short PHP page with a
// Content-Length, uncompressed also to a client that accepts gzip, and
// through mod_proxy_fcgi the page arrives chunked, or gzip-compressed by
// mod_deflate.
func checkFPMDifferences(t *testing.T, today, switched map[string]answer) {
	t.Helper()
	if got := today["shop.example.test /uploads/shell.php"].body; got != "<?php echo 'ran';\n" {
		t.Errorf("mod_php under engine off answered %q, want the script's source", got)
	}
	if k := "users.example.test /bob/auth-probe.php auth"; today[k].body != "probe" || switched[k].body != "probe" {
		t.Errorf("%s: PHP_AUTH_USER %q under mod_php, %q under php-fpm; want probe", k, today[k].body, switched[k].body)
	}
	page := "blog.example.test /"
	if today[page].length != int64(len(today[page].body)) || today[page].chunked || switched[page].length != -1 || !switched[page].chunked {
		t.Errorf("%s: Content-Length %d (chunked %v) under mod_php (body %d bytes), %d (chunked %v) under php-fpm; want the body's length, then none and chunked",
			page, today[page].length, today[page].chunked, len(today[page].body), switched[page].length, switched[page].chunked)
	}
	gz := page + gzipSuffix
	if today[gz].encoding != "" || today[gz].body != today[page].body || switched[gz].encoding != "gzip" {
		t.Errorf("%s: Content-Encoding %q under mod_php (body %q), %q under php-fpm; want none and the page, then gzip",
			gz, today[gz].encoding, today[gz].body, switched[gz].encoding)
	}
}

// The SAPI names, and the INI settings only one SAPI registers, which
// ini_get_all() lists under one and not the other (docs/plan.md,
// "Differences php-fpm makes"): mod_php's engine, last_modified and
// xbithack; php-fpm's cgi.*, fastcgi.* and fpm.config.
const (
	modPHPSAPI = "apache2handler"
	fpmSAPI    = "fpm-fcgi"
)

var (
	modPHPOnlyINI = []string{"engine", "last_modified", "xbithack"}
	fpmOnlyINI    = []string{"cgi.discard_path", "cgi.fix_pathinfo", "cgi.force_redirect", "cgi.nph",
		"cgi.redirect_status_env", "cgi.rfc2616_headers", "fastcgi.error_header", "fastcgi.logging", "fpm.config"}
)

// compareProbe compares what a probe printed under mod_php and under
// php-fpm: the SAPI names, then every INI setting, the copies' paths made
// the same. A setting only one SAPI has must be in modPHPOnlyINI or
// fpmOnlyINI, and each of those must be there.
func compareProbe(t *testing.T, dir string, today, switched answer, orig, after string) {
	t.Helper()
	if today.status != 200 || switched.status != 200 {
		t.Errorf("%s: probe answered %d under mod_php, %d under php-fpm:\n%s\n%s", dir, today.status, switched.status, today.body, switched.body)
		return
	}
	m, f := probeValues(today.body), probeValues(strings.ReplaceAll(switched.body, after, orig))
	if m["SAPI"] != modPHPSAPI || f["SAPI"] != fpmSAPI {
		t.Errorf("%s: SAPI %q under mod_php, %q under php-fpm; want %s, %s", dir, m["SAPI"], f["SAPI"], modPHPSAPI, fpmSAPI)
	}
	delete(m, "SAPI")
	delete(f, "SAPI")
	only := map[string]bool{}
	for _, k := range modPHPOnlyINI {
		only[k] = true
		if _, ok := m[k]; !ok {
			t.Errorf("%s: mod_php has no %s (modPHPOnlyINI)", dir, k)
		}
	}
	for _, k := range fpmOnlyINI {
		only[k] = true
		if _, ok := f[k]; !ok {
			t.Errorf("%s: php-fpm has no %s (fpmOnlyINI)", dir, k)
		}
	}
	for _, k := range sortedKeys(m) {
		if v, ok := f[k]; ok && v != m[k] {
			t.Errorf("%s: ini_get(%q) is %s under mod_php, %s under php-fpm", dir, k, m[k], v)
		} else if !ok && !only[k] {
			t.Errorf("%s: only mod_php has %s = %s", dir, k, m[k])
		}
	}
	for _, k := range sortedKeys(f) {
		if _, ok := m[k]; !ok && !only[k] {
			t.Errorf("%s: only php-fpm has %s = %s", dir, k, f[k])
		}
	}
}

// probeValues reads probeScript's output.
func probeValues(body string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			out[k] = v
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// probeKey returns the request key of a probe directory's script.
func probeKey(dir string) string {
	host, path := "blog.example.test", "/"+strings.TrimPrefix(dir, "blog")
	switch {
	case strings.HasPrefix(dir, "intranet"):
		host, path = "intranet.example.test", "/"
	case strings.HasPrefix(dir, "hosting/"):
		host, path = "users.example.test", "/"+strings.TrimPrefix(dir, "hosting/")
	case dir == "shop/public":
		host, path = "shop.example.test", "/"
	}
	r := planRequest{host, strings.TrimSuffix(path, "/") + "/" + probeName, host == "intranet.example.test"}
	return r.key()
}

// exampleCopy copies the example server to dir as a real server would
// hold it: its paths (/var/www, the htpasswd file) moved under dir, every
// vhost on one free port, the file modes of legacy-server.modes, an
// intranet user "probe" (password "probe"), a PHP file in the shop's
// uploads and a probe (probeScript) in every directory with PHP settings.
func exampleCopy(t *testing.T, dir string) string {
	t.Helper()
	if err := copyDir("../../docs/examples/legacy-server", dir); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("sh", "../../docs/examples/apply-modes.sh", dir).CombinedOutput(); err != nil {
		t.Fatalf("apply-modes.sh: %v\n%s", err, out)
	}
	port := fmt.Sprint(lab.FreePort(t))
	repl := strings.NewReplacer("/var/www", dir+"/var/www", "/etc/apache2/htpasswd", dir+"/etc/apache2/htpasswd",
		"*:80", "*:"+port, "Listen 80\n", "Listen 127.0.0.1:"+port+"\n")
	if err := rewriteFiles(dir, repl); err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte("probe"))
	write(t, filepath.Join(dir, "etc/apache2/htpasswd-intranet"), "probe:{SHA}"+base64.StdEncoding.EncodeToString(sum[:])+"\n")
	write(t, filepath.Join(dir, "var/www/shop/public/uploads/shell.php"), "<?php echo 'ran';\n")
	unresettableDirs(t, dir)
	for _, d := range probeDirs {
		write(t, filepath.Join(dir, "var/www", d, probeName), probeScript)
	}
	write(t, filepath.Join(dir, "var/www/hosting/bob/auth-probe.php"), "<?php echo $_SERVER['PHP_AUTH_USER'] ?? '-';\n")
	tenantEnv(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "port"), []byte(port), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// rewriteFiles applies r to every regular file under dir, in place
// (modes kept).
func rewriteFiles(dir string, r *strings.Replacer) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if s := r.Replace(string(data)); s != string(data) {
			return os.WriteFile(p, []byte(s), 0o644)
		}
		return nil
	})
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// applyPlanned applies an --out directory to the server copy at root:
// the files under root, remove.list, permissions.sh; the pools' and the
// handlers' sockets are moved to sockDir (in out too), unless it is "".
func applyPlanned(t *testing.T, out, root, sockDir string) {
	t.Helper()
	sock := strings.NewReplacer()
	if sockDir != "" {
		sock = strings.NewReplacer("/run/php/", sockDir+"/", "/run/modphp-migrate/", sockDir+"/")
	}
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		if d.Type().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(p, []byte(sock.Replace(string(data))), 0o644); err != nil {
				return err
			}
		}
		abs := "/" + rel
		if !strings.HasPrefix(abs, root+"/") {
			return nil // the pools stay in out; the scripts are run below
		}
		f := &planFile{path: abs}
		if d.Type()&fs.ModeSymlink != 0 {
			f.link, _ = os.Readlink(p)
		} else if f.data, err = os.ReadFile(p); err != nil {
			return err
		}
		return f.write()
	})
	if err != nil {
		t.Fatal(err)
	}
	list, err := os.ReadFile(filepath.Join(out, removeList))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range strings.Fields(string(list)) {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := exec.Command("sh", filepath.Join(out, permissionsScript)).CombinedOutput(); err != nil {
		t.Fatalf("permissions.sh: %v\n%s", err, b)
	}
}

// startPools runs php-fpm with the planned pool files, with the php.ini
// mod_php reads so that only the plan differs.
func startPools(t *testing.T, bin, poolDir, base string) (conf string) {
	t.Helper()
	dir := filepath.Join(base, "fpm")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf = filepath.Join(dir, "php-fpm.conf")
	write(t, conf, fmt.Sprintf("[global]\nerror_log = %s/error.log\ndaemonize = no\ninclude = %s/*.conf\n", dir, poolDir))
	pools, _ := filepath.Glob(filepath.Join(poolDir, "*.conf"))
	if len(pools) == 0 {
		t.Fatal("the plan wrote no pool")
	}
	first := ""
	for _, p := range pools {
		data, _ := os.ReadFile(p)
		for _, l := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(l, "listen = "); ok && first == "" {
				first = v
			}
		}
	}
	lab.StartServer(t, dir, "php-fpm", "unix", first, bin, "--nodaemonize", "-y", conf, "-c", modPHPINI)
	return conf
}

// answer is what one URL answered.
type answer struct {
	status   int
	body     string
	length   int64  // Content-Length, -1 when absent
	chunked  bool   // Transfer-Encoding: chunked
	encoding string // Content-Encoding
}

// startTree starts Apache on a Debian tree at dir/etc/apache2 listening
// on dir/port (Debian's envvars as Defines), stopped when the test ends.
func startTree(t *testing.T, bin, dir string) (addr string, srv *lab.Proc) {
	t.Helper()
	port, err := os.ReadFile(filepath.Join(dir, "port"))
	if err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "etc/apache2")
	argv := []string{bin, "-d", conf, "-f", filepath.Join(conf, "apache2.conf"), "-DFOREGROUND"}
	for k, v := range map[string]string{"APACHE_RUN_USER": "www-data", "APACHE_RUN_GROUP": "www-data", "APACHE_RUN_DIR": run,
		"APACHE_PID_FILE": run + "/apache2.pid", "APACHE_LOCK_DIR": run, "APACHE_LOG_DIR": run} {
		argv = append(argv, "-C", "Define "+k+" "+v)
	}
	addr = "127.0.0.1:" + string(port)
	return addr, lab.StartServer(t, run, "apache2", "tcp", addr, argv...)
}

// runLegacy starts Apache on a server copy, asks every URL and the
// probes, and stops it.
func runLegacy(t *testing.T, bin, dir string) map[string]answer {
	t.Helper()
	addr, srv := startTree(t, bin, dir)
	defer srv.Stop()
	reqs := append([]planRequest(nil), planRequests...)
	for _, k := range sortedKeys(knownDifferences) {
		host, path, _ := strings.Cut(k, " ")
		reqs = append(reqs, planRequest{host, path, false})
	}
	for _, d := range probeDirs {
		host, path, _ := strings.Cut(strings.TrimSuffix(probeKey(d), " auth"), " ")
		reqs = append(reqs, planRequest{host, path, host == "intranet.example.test"})
	}
	got := map[string]answer{}
	for _, r := range reqs {
		got[r.key()] = fetch(t, addr, r, "")
	}
	got["blog.example.test /"+gzipSuffix] = fetch(t, addr, planRequest{"blog.example.test", "/", false}, "gzip")
	got[tenantEnvKey] = post(t, addr, "blog.example.test", tenantEnvPath, tenantBody)
	return got
}

// gzipSuffix ends the key of a request sent with Accept-Encoding: gzip.
const gzipSuffix = " gzip"

var planClient = &http.Client{
	Timeout:       30 * time.Second, // the first request of each script compiles it
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	// No Accept-Encoding unless a request asks for one: answers arrive
	// as the servers send them (Go's transparent gzip would hide
	// mod_deflate's work and drop Content-Length).
	Transport: &http.Transport{DisableCompression: true},
}

// fetch sends r with Accept-Encoding acceptEncoding ("" for none).
func fetch(t *testing.T, addr string, r planRequest, acceptEncoding string) answer {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+addr+r.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = r.host
	if r.auth {
		req.SetBasicAuth("probe", "probe")
	}
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	resp, err := planClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.host, r.path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(body), resp.ContentLength, slices.Contains(resp.TransferEncoding, "chunked"), resp.Header.Get("Content-Encoding")}
}

// The tenant's environment probe: a .htaccess in the blog sets every
// request variable php-fpm obeys (REQUEST_BODY_FILE to a file outside the
// site, PHP_VALUE and PHP_ADMIN_VALUE to a setting), and a script prints
// the request body it reads and that setting. mod_php never read them.
const (
	tenantEnvPath = "/tenant/env.php"
	tenantEnvKey  = "blog.example.test " + tenantEnvPath + " POST"
	tenantBody    = "tenant-body"
	tenantSecret  = "not-the-request-body"
)

// tenantEnv writes the tenant's .htaccess, script and the file its
// REQUEST_BODY_FILE names into the server copy at dir.
func tenantEnv(t *testing.T, dir string) {
	t.Helper()
	write(t, filepath.Join(dir, "tenant-secret.txt"), tenantSecret)
	tenant := filepath.Join(dir, "var/www/blog/tenant")
	if err := os.MkdirAll(tenant, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(tenant, ".htaccess"), "SetEnv REQUEST_BODY_FILE "+filepath.Join(dir, "tenant-secret.txt")+"\n"+
		"SetEnv PHP_VALUE \"max_input_time=17\"\nSetEnv PHP_ADMIN_VALUE \"max_input_time=17\"\n")
	write(t, filepath.Join(tenant, "env.php"), "<?php echo file_get_contents('php://input'), ' ', ini_get('max_input_time');\n")
}

// checkTenantEnv: under both servers the script reads the request's own
// body and the pool's max_input_time, so none of the tenant's variables
// reached php-fpm (the plan unsets them all).
func checkTenantEnv(t *testing.T, today, switched answer) {
	t.Helper()
	if today.status != 200 || !strings.HasPrefix(today.body, tenantBody+" ") || strings.HasSuffix(today.body, " 17") {
		t.Errorf("%s under mod_php: %d %q, want 200 and the request body", tenantEnvKey, today.status, today.body)
	}
	if switched.status != today.status || switched.body != today.body {
		t.Errorf("%s: %d %q under php-fpm, %d %q under mod_php: a tenant's SetEnv reached php-fpm", tenantEnvKey, switched.status, switched.body, today.status, today.body)
	}
}

// post sends body to a path of host with POST.
func post(t *testing.T, addr, host, path, body string) answer {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := planClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s %s: %v", host, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: string(data), length: resp.ContentLength}
}

// unresettableDirs adds to the server copy at dir two blog directories
// that set intl.default_locale, which PHP cannot set back to the pools'
// empty value: blog/intl in a <Directory> of the server configuration,
// blog/lang in its .htaccess. The shim refuses such a value on a pool that
// serves other directories (500), so the plan must give each a pool of
// its own.
func unresettableDirs(t *testing.T, dir string) {
	t.Helper()
	for _, d := range []string{"intl", "lang"} {
		if err := os.MkdirAll(filepath.Join(dir, "var/www/blog", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(dir, "var/www/blog/lang/.htaccess"), "php_value intl.default_locale de_DE\n")
	conf := filepath.Join(dir, "etc/apache2/sites-enabled/blog.conf")
	data, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	add := "\n<Directory " + filepath.Join(dir, "var/www/blog/intl") + ">\n\tphp_value intl.default_locale fr_FR\n</Directory>\n"
	write(t, conf, string(data)+add)
}
