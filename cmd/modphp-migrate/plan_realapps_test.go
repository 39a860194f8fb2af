package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
	"github.com/modphp-migrate/modphp-migrate/internal/migrate"
	"github.com/modphp-migrate/modphp-migrate/internal/realapps"
)

// TestPlanIntegrationRealApps plans this machine's Debian Apache tree
// (prefork + mod_php, as Debian installs it) with the packaged Apache
// configuration of dokuwiki, adminer and phpmyadmin enabled, applies the
// plan to a copy, and runs both copies on real servers: every request of
// realapps.Apps answers the same status and redirect. phpMyAdmin's
// php_admin_value open_basedir and upload_tmp_dir go to a pool of its
// own, and no other pool gets them (the advice that broke every other
// application when applied to the one shared pool).
func TestPlanIntegrationRealApps(t *testing.T) {
	realapps.Require(t, realapps.Apps...)
	lab.FindBinary(t, "/usr/lib/apache2/modules/libphp*.so")
	fpmBin := lab.FindBinary(t, "php-fpm8.2", "/usr/sbin/php-fpm*")
	apacheBin := lab.FindBinary(t, "apache2", "/usr/sbin/apache2")
	base := lab.TempDir(t)
	today := askApps(t, apacheBin, appsTree(t, filepath.Join(base, "orig")))
	after := appsTree(t, filepath.Join(base, "after"))
	out := filepath.Join(base, "out")
	var stdout, stderr bytes.Buffer
	args := []string{"plan", "--out", out, "--fpm-config", "none", filepath.Join(after, "etc/apache2")}
	if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("plan: exit %d: %s", code, stderr.String())
	}
	poolDir := filepath.Join(out, "etc/php/8.2/fpm/pool.d")
	checkPMAPool(t, poolDir)
	checkOutInside(t, out, after)
	sockDir := filepath.Join(base, "sock")
	if err := os.Mkdir(sockDir, 0o755); err != nil {
		t.Fatal(err)
	}
	applyPlanned(t, out, after, sockDir)
	startPools(t, fpmBin, poolDir, base)
	switched := askApps(t, apacheBin, after)
	for _, app := range realapps.Apps {
		for _, r := range app.Requests {
			k := r.String()
			if today[k].status != r.Want {
				t.Errorf("%s: mod_php answered %d, want %d: the copy no longer serves %s as its package does", k, today[k].status, r.Want, app.Package)
			}
			if today[k] != switched[k] {
				t.Errorf("%s: mod_php %v, php-fpm %v", k, today[k], switched[k])
			}
		}
	}
	// Put the sockets back where the plan wrote them, and plan again.
	conf := filepath.Join(after, "etc/apache2/conf-available", migrate.ConfName)
	data, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	write(t, conf, strings.NewReplacer(sockDir+"/shim.sock", migrate.ShimSocket, sockDir+"/", "/run/php/").Replace(string(data)))
	replanApps(t, after)
	orig := filepath.Join(base, "orig")
	if p := today[pmaProbeURL]; p.status != 200 || !strings.Contains(p.body, "open_basedir='"+orig+"/pma-probe/:") {
		t.Errorf("phpMyAdmin's probe under mod_php: %d %q", p.status, p.body)
	}
	if got := strings.ReplaceAll(switched[pmaProbeURL].body, after, orig); got != today[pmaProbeURL].body {
		t.Errorf("phpMyAdmin's ini_get() differ\nmod_php:\n%s\nphp-fpm:\n%s", today[pmaProbeURL].body, got)
	}
	if t.Failed() {
		t.Logf("plan:\n%s", stdout.String())
		data, _ := os.ReadFile(filepath.Join(after, "run", "error.log"))
		t.Logf("Apache's error.log after the plan:\n%s", data)
	}
}

// appsTree copies this machine's /etc/apache2 to dir/etc/apache2 with the
// applications' packaged configuration enabled (copied into
// conf-available, as a2enconf would link it) and the default site on a
// free port.
func appsTree(t *testing.T, dir string) string {
	t.Helper()
	conf := filepath.Join(dir, "etc/apache2")
	if err := copyDir("/etc/apache2", conf); err != nil {
		t.Fatal(err)
	}
	for _, app := range realapps.Apps {
		data, err := os.ReadFile(app.Conf())
		if err != nil {
			t.Fatal(err)
		}
		name := app.Package + ".conf"
		write(t, filepath.Join(conf, "conf-available", name), string(data))
		link := filepath.Join(conf, "conf-enabled", name)
		_ = os.Remove(link)
		if err := os.Symlink("../conf-available/"+name, link); err != nil {
			t.Fatal(err)
		}
	}
	pmaProbe(t, dir, conf)
	port := fmt.Sprint(lab.FreePort(t))
	repl := strings.NewReplacer("*:80>", "*:"+port+">", "Listen 80\n", "Listen 127.0.0.1:"+port+"\n")
	for _, f := range []string{"ports.conf", "sites-available/000-default.conf"} {
		p := filepath.Join(conf, f)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		write(t, p, repl.Replace(string(data)))
	}
	write(t, filepath.Join(dir, "port"), port)
	return dir
}

// pmaProbeURL is an ini_get() probe served with phpMyAdmin's packaged
// <Directory> settings.
const pmaProbeURL = "/pma-probe/" + probeName

// pmaProbe adds a second copy of phpMyAdmin's packaged configuration for
// a probe directory in the tree (dir/pma-probe): Alias, <Directory>
// sections and open_basedir moved there, so that the probe sees what
// phpMyAdmin's scripts see without writing into /usr/share.
func pmaProbe(t *testing.T, dir, conf string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(conf, "conf-available/phpmyadmin.conf"))
	if err != nil {
		t.Fatal(err)
	}
	probeDir := filepath.Join(dir, "pma-probe")
	if err := os.Mkdir(probeDir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(probeDir, probeName), "<?php\nforeach (['open_basedir', 'upload_tmp_dir', 'memory_limit'] as $k) { echo $k, '=', var_export(ini_get($k), true), \"\\n\"; }\n")
	moved := strings.NewReplacer("Alias /phpmyadmin ", "Alias /pma-probe ", "/usr/share/phpmyadmin", probeDir).Replace(string(data))
	// What Debian's <Directory /usr/share> grants phpMyAdmin.
	moved += "<Directory " + probeDir + ">\n\tRequire all granted\n</Directory>\n"
	write(t, filepath.Join(conf, "conf-available/phpmyadmin-probe.conf"), moved)
	if err := os.Symlink("../conf-available/phpmyadmin-probe.conf", filepath.Join(conf, "conf-enabled/phpmyadmin-probe.conf")); err != nil {
		t.Fatal(err)
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

// checkOutInside checks that the plan changes nothing of this machine
// outside the copy: every file is under root or a planned pool, and
// permissions.sh touches nothing.
func checkOutInside(t *testing.T, out, root string) {
	t.Helper()
	_ = filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		abs := "/" + rel
		switch {
		case rel == permissionsScript || rel == removeList, strings.HasPrefix(abs, root+"/"),
			strings.HasPrefix(abs, "/etc/php/8.2/fpm/pool.d/"):
		default:
			t.Errorf("the plan writes %s, outside the copy", abs)
		}
		return nil
	})
	script, err := os.ReadFile(filepath.Join(out, permissionsScript))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(script), "\n") {
		if (strings.HasPrefix(l, "chown ") || strings.HasPrefix(l, "chmod ")) && !strings.Contains(l, root) {
			t.Errorf("permissions.sh changes this machine: %s", l)
		}
	}
}

// askApps starts Apache on a tree, sends every request of the apps, and
// stops it.
func askApps(t *testing.T, bin, dir string) map[string]answer {
	t.Helper()
	addr, srv := startTree(t, bin, dir)
	defer srv.Stop()
	got := map[string]answer{}
	for _, app := range realapps.Apps {
		for _, r := range app.Requests {
			got[r.String()] = ask(t, addr, r)
		}
	}
	got[pmaProbeURL] = fetch(t, addr, planRequest{"localhost", pmaProbeURL, false})
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

// replanApps plans a copy the plan was applied to, with --check:
// apache2 -t and php-fpm -t accept it, and the only changes left are the
// pool files, which live outside the copy (/etc/php).
func replanApps(t *testing.T, root string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args := []string{"plan", "--check", "--format=json", "--fpm-config", "none", filepath.Join(root, "etc/apache2")}
	if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("plan --check on the applied copy: exit %d: %s", code, stderr.String())
	}
	var p planJSON
	if err := json.Unmarshal(stdout.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Files {
		if f.Action != "create" || !strings.HasPrefix(f.Path, "/etc/php/8.2/fpm/pool.d/modphp-migrate-") {
			t.Errorf("planning the applied copy changes %s (%s):\n%s", f.Path, f.Action, migrate.UnifiedDiff(f.Path, f.Path, f.Before, f.After))
		}
	}
	if !strings.Contains(stderr.String(), "Syntax OK") || !strings.Contains(stderr.String(), "test is successful") {
		t.Errorf("plan --check on the applied copy:\n%s", stderr.String())
	}
}
