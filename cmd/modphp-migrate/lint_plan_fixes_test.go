package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// placementView is what the fix check reads of a placement.
type placementView struct {
	Source  parser.Pos `json:"source"`
	Key     string     `json:"key"`
	Value   string     `json:"value"`
	Target  string     `json:"target"`
	Pool    string     `json:"pool"`
	File    string     `json:"file"`
	Dir     string     `json:"dir"`
	Wrapped bool       `json:"wrapped"`
}

// planView is what the fix check reads of plan --format=json.
type planView struct {
	Scopes []struct {
		ID  string `json:"id"`
		Dir string `json:"dir"`
	} `json:"scopes"`
	Pools      []poolView      `json:"pools"`
	Placements []placementView `json:"placements"`
	Files      []struct {
		Path  string `json:"path"`
		Via   string `json:"via"`
		After string `json:"after"`
	} `json:"files"`
	Routes []routeView `json:"routes"`
}

// routeView is a route of plan --format=json.
type routeView struct {
	Source  parser.Pos `json:"source"`
	Dir     string     `json:"dir"`
	Action  string     `json:"action"`
	Handler string     `json:"handler"`
}

// routeAt finds the plan's route at one of the positions.
func (p *planView) routeAt(where []parser.Pos) *routeView {
	for i, r := range p.Routes {
		if slices.ContainsFunc(where, func(w parser.Pos) bool { return w.File == r.Source.File && w.Line == r.Source.Line }) {
			return &p.Routes[i]
		}
	}
	return nil
}

// setHandler finds the handler a fix sets.
var setHandler = regexp.MustCompile(`(?m)^\s*SetHandler "([^"]+)"$`)

// routeProblems checks a fix that sets a handler at a route the plan
// decides: it is the plan's handler for the route's directory, which the
// plan's Apache configuration sets there, and a route the plan replaces
// is under <IfModule mod_php.c> in the plan's version of its file.
func routeProblems(fix string, r *routeView, plan *planView) []string {
	var out []string
	for _, m := range setHandler.FindAllStringSubmatch(fix, -1) {
		if m[1] != r.Handler {
			out = append(out, fmt.Sprintf("fix sets handler %s; the plan serves %s with %s", m[1], r.Dir, r.Handler))
		}
	}
	block := "<Directory \"" + r.Dir + "\">\n"
	found := false
	for _, f := range plan.Files {
		if i := strings.Index(f.After, block); i >= 0 && strings.Contains(f.After[i:], "SetHandler \""+r.Handler+"\"") {
			found = true
		}
	}
	if !found {
		out = append(out, fmt.Sprintf("the plan writes no handler %s for %s", r.Handler, r.Dir))
	}
	if r.Action == "replace" {
		after, ok := plan.after(r.Source.File)
		lines := strings.Split(after, "\n")
		if !ok || !slices.ContainsFunc(lines, func(l string) bool { return strings.TrimSpace(l) == "<IfModule mod_php.c>" }) {
			out = append(out, fmt.Sprintf("the plan replaces the route at %s:%d but does not put it under <IfModule mod_php.c>", r.Source.File, r.Source.Line))
		}
	}
	return out
}

// poolView is a pool of plan --format=json.
type poolView struct {
	Name   string   `json:"name"`
	File   string   `json:"file"`
	Listen string   `json:"listen"`
	Scopes []string `json:"scopes"`
}

// planOf runs plan --format=json with args and decodes its model.
func planOf(t *testing.T, args ...string) *planView {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), append([]string{"plan", "--format=json"}, args...), &stdout, &stderr); code != exitOK {
		t.Fatalf("plan %v: exit %d: %s", args, code, stderr.String())
	}
	var p planView
	if err := json.Unmarshal(stdout.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

// poolNamed finds a pool of the plan by name.
func (p *planView) poolNamed(name string) (file, listen string, ok bool) {
	for _, pool := range p.Pools {
		if pool.Name == name {
			return pool.File, pool.Listen, true
		}
	}
	return "", "", false
}

// serves reports whether the plan's pool serves only scopes in dir.
func (p *planView) servesOnly(pool, dir string) bool {
	for _, pl := range p.Pools {
		if pl.Name != pool {
			continue
		}
		for _, id := range pl.Scopes {
			for _, s := range p.Scopes {
				if s.ID == id && !parser.PathUnder(s.Dir, dir) {
					return false
				}
			}
		}
		return true
	}
	return false
}

// after is the content the plan gives a file, read at its own path or
// through a symbolic link (plan changes a link's target), and whether it
// changes it.
func (p *planView) after(path string) (string, bool) {
	for _, f := range p.Files {
		if f.Path == path || f.Via == path {
			return f.After, true
		}
	}
	return "", false
}

// fixHeader heads a fix segment the plan places: "; FILE:LINE" before a
// pool or .user.ini line, "# FILE" before an Apache block.
var (
	settingHeader = regexp.MustCompile(`^; (/\S*):(\d+)$`)
	fileHeader    = regexp.MustCompile(`^; (/\S*[^:\d\s]\S*)$`)
	apacheHeader  = regexp.MustCompile(`^# (/\S*\.conf)$`)
	// poolLine and poolSection are what a fix holds when it writes php-fpm
	// pool configuration; .user.ini names that file.
	poolLine    = regexp.MustCompile(`(?m)^\s*php_(admin_)?(value|flag)\[`)
	poolSection = regexp.MustCompile(`(?m)^\[[^\]]+\]$`)
	namedPool   = regexp.MustCompile(`php-fpm pool ([A-Za-z0-9_.-]+)`)
	poolFor     = regexp.MustCompile(`--pool-for (\S+)=unix:([^\s);]+)`)
)

// notPoolName are the words after "php-fpm pool" that name no pool.
var notPoolName = map[string]bool{"of": true, "that": true, "the": true, "which": true, "instead": true, "and": true, "for": true}

// fixProblems judges every finding against the plan of the same tree
// (root is lint's and plan's --root, "" for none): each fix segment
// headed "; FILE:LINE" is the plan's line there for a setting at the
// finding's line or one of its related lines, in the file the plan puts
// that setting in (a pool the plan has, or .user.ini); each "# FILE"
// segment is the plan's denial for the line, as written in FILE; a fix
// headed "; FILE" alone is the whole of a pool file the plan writes; a fix
// without a header at a placed line is the line wrapped in <IfModule
// mod_php.c>, as the plan wraps it; a fix elsewhere writes no pool or
// .user.ini lines of its own; a pool a fix adds to serves no scope
// outside the setting's directory; every php-fpm pool (of a finding with
// a fix or at a placed line) and --pool-for a message
// names is the plan's for that line; a fix setting a handler at a route
// the plan decides sets the plan's handler for its directory
// (routeProblems). It returns the problems and how many
// places it checked.
func fixProblems(root string, diags []jsonDiag, plan *planView) (problems []string, checked int) {
	server := func(p string) string {
		if rel, ok := strings.CutPrefix(p, root); ok && root != "" {
			return rel
		}
		return p
	}
	for _, d := range diags {
		at := fmt.Sprintf("%s:%d %s", d.File, d.Line, d.Code)
		where := []parser.Pos{{File: server(d.File), Line: d.Line}}
		for _, r := range d.Related {
			where = append(where, parser.Pos{File: server(r.File), Line: r.Line})
		}
		var pls []placementView
		for _, pl := range plan.Placements {
			if slices.ContainsFunc(where, func(w parser.Pos) bool { return w.Line > 0 && w.File == pl.Source.File && w.Line == pl.Source.Line }) {
				pls = append(pls, pl)
			}
		}
		bad := func(format string, args ...any) { problems = append(problems, at+": "+fmt.Sprintf(format, args...)) }
		for _, m := range namedPool.FindAllStringSubmatch(d.Message, -1) {
			if notPoolName[m[1]] || d.Fix == "" && len(pls) == 0 {
				// "the php-fpm pool of the directory's own"; or a pool of
				// php-fpm's configuration as it is (MPM2009, MPM2012)
				continue // "the php-fpm pool of the directory's own"
			}
			checked++
			if _, _, ok := plan.poolNamed(m[1]); !ok {
				bad("message names pool %s, which the plan does not have", m[1])
			} else if len(pls) > 0 && !slices.ContainsFunc(pls, func(pl placementView) bool { return pl.Pool == m[1] }) {
				bad("message names pool %s; the plan serves the line from another pool", m[1])
			}
		}
		for _, m := range poolFor.FindAllStringSubmatch(d.Message, -1) {
			checked++
			if !slices.ContainsFunc(pls, func(pl placementView) bool {
				_, listen, ok := plan.poolNamed(pl.Pool)
				return ok && listen == m[2] && pl.Dir == m[1]
			}) {
				bad("message routes %s to %s, which is not the plan's pool for the line", m[1], m[2])
			}
		}
		if d.Fix == "" {
			continue
		}
		if r := plan.routeAt(where); r != nil && setHandler.MatchString(d.Fix) {
			checked++
			for _, p := range routeProblems(d.Fix, r, plan) {
				bad("%s", p)
			}
			continue
		}
		lines := strings.Split(strings.TrimSuffix(d.Fix, "\n"), "\n")
		headed := false
		for i := 0; i < len(lines); i++ {
			if m := settingHeader.FindStringSubmatch(lines[i]); m != nil && i+1 < len(lines) {
				headed = true
				checked++
				file, text := m[1], lines[i+1]
				n, _ := strconv.Atoi(m[2])
				after, ok := plan.after(file)
				got := strings.Split(after, "\n")
				switch {
				case !ok || n < 1 || n > len(got) || got[n-1] != text:
					bad("fix puts %q at %s:%d, which the plan does not write", text, file, n)
				case !slices.ContainsFunc(pls, func(pl placementView) bool { return pl.File == file }):
					bad("fix puts the setting in %s; the plan puts it in %v", file, pls)
				}
				for _, pl := range pls {
					if pl.File != file || pl.Target == "user-ini" {
						continue
					}
					if pf, _, ok := plan.poolNamed(pl.Pool); !ok || pf != file {
						bad("fix adds to %s, which is not the file of the plan's pool %q", file, pl.Pool)
					} else if !plan.servesOnly(pl.Pool, pl.Dir) {
						bad("fix adds to pool %s, which also serves scopes outside %s", pl.Pool, pl.Dir)
					}
				}
				i++
				continue
			}
			if m := fileHeader.FindStringSubmatch(lines[i]); m != nil && settingHeader.FindString(lines[i]) == "" {
				headed = true
				checked++
				content := strings.Join(lines[i+1:], "\n") + "\n"
				after, ok := plan.after(m[1])
				if !ok || after != content || !slices.ContainsFunc(plan.Pools, func(p poolView) bool { return p.File == m[1] }) {
					bad("fix writes %s, which is not a pool file the plan writes with that content:\n%s", m[1], content)
				}
				break
			}
			if m := apacheHeader.FindStringSubmatch(lines[i]); m != nil {
				headed = true
				checked++
				block := strings.Join(lines[i+1:], "\n") + "\n"
				after, ok := plan.after(m[1])
				if !ok || !strings.Contains(after, block) || !slices.ContainsFunc(pls, func(pl placementView) bool { return pl.Target == "deny" }) {
					bad("fix writes in %s a block the plan does not write for this line:\n%s", m[1], block)
				}
				break
			}
		}
		switch {
		case headed:
		case len(pls) > 0:
			checked++
			if !strings.HasPrefix(d.Fix, "<IfModule mod_php.c>\n") || !slices.ContainsFunc(pls, func(pl placementView) bool { return pl.Wrapped }) {
				bad("fix %q at a line the plan places is neither the plan's line nor the plan's wrap", d.Fix)
			}
		case poolLine.MatchString(d.Fix) || poolSection.MatchString(d.Fix) || strings.Contains(d.Fix, ".user.ini"):
			checked++
			bad("fix writes pool or .user.ini configuration of its own: %q", d.Fix)
		}
	}
	return problems, checked
}

// TestLintFixesFollowPlanLegacy lints docs/examples/legacy-server and
// plans it with the same flags, as mod_php runs it and again after the
// switch as Debian documents it: no fix contradicts the plan
// (fixProblems), no error has origin today, and every setting lost at
// the switch (a php_* line with a protection under <IfModule mod_php.c>)
// is an MPM1004 error at its own line. A fix that names another pool or
// file than the plan's is caught.
func TestLintFixesFollowPlanLegacy(t *testing.T) {
	root := legacyCopy(t)
	conf := filepath.Join(root, "etc/apache2")
	for _, view := range []string{"mod_php", "switched"} {
		if view == "switched" {
			switchLikeDebian(t, conf)
		}
		diags := lintJSONArgs(t, "--root", root, conf)
		checkNoTodayError(t, view, diags)
		plan := planOf(t, "--root", root, conf)
		problems, checked := fixProblems(root, diags, plan)
		for _, p := range problems {
			t.Errorf("%s: %s", view, p)
		}
		t.Logf("%s: %d places checked against the plan", view, checked)
		if checked < 10 {
			t.Errorf("%s: only %d places checked against the plan", view, checked)
		}
		for _, want := range []struct {
			file string
			line int
		}{{"etc/apache2/sites-enabled/shop.conf", 17}, {"etc/apache2/sites-enabled/shop.conf", 18}} {
			if !hasFinding(diags, filepath.Join(root, want.file), want.line, "MPM1004", "error", "switch") {
				t.Errorf("%s: no MPM1004 error/switch at %s:%d (a protection lost at the switch); MPM1004: %v", view, want.file, want.line, only(diags, "MPM1004"))
			}
		}
		checkCatchesOtherPlace(t, view, root, diags, plan)
		if n := checkLostAreErrors(t, view, root, diags, plan); n < 5 {
			t.Errorf("%s: only %d settings lost at the switch found in the plan", view, n)
		}
	}
}

// checkLostAreErrors checks that every setting mod_php applied and
// php-fpm's Apache no longer does, as the plan finds them, is an error of
// origin switch at its own line: a protection (modphp.Protection) of the
// server configuration that the plan moves to a pool, .user.ini or the
// shim (MPM1004), and engine off, which the plan turns into a denial
// (MPM1005). It returns how many it checked.
func checkLostAreErrors(t *testing.T, view, root string, diags []jsonDiag, plan *planView) int {
	t.Helper()
	n := 0
	for _, pl := range plan.Placements {
		code := "MPM1004"
		switch {
		case pl.Target == "deny":
			code = "MPM1005"
		case filepath.Base(pl.Source.File) == ".htaccess":
			continue // kept by the shim
		case pl.Target != "pool" && pl.Target != "pool-admin" && pl.Target != "user-ini" && pl.Target != "shim":
			continue // dropped: it never applied, or already broken
		default:
			if _, ok := modphp.Protection(pl.Key, pl.Value); !ok {
				continue
			}
		}
		n++
		if !hasFinding(diags, root+pl.Source.File, pl.Source.Line, code, "error", "switch") {
			t.Errorf("%s: %s %s=%q at %s:%d is lost at the switch (the plan: %s), but there is no %s error of origin switch at its line; %s: %v",
				view, code, pl.Key, pl.Value, pl.Source.File, pl.Source.Line, pl.Target, code, code, only(diags, code))
		}
	}
	return n
}

// checkCatchesOtherPlace changes each kind of fix to name another place
// than the plan's and checks that fixProblems reports it.
func checkCatchesOtherPlace(t *testing.T, view, root string, diags []jsonDiag, plan *planView) {
	t.Helper()
	mutations := 0
	for i, d := range diags {
		for _, re := range []*regexp.Regexp{settingHeader, fileHeader, apacheHeader} {
			if !slices.ContainsFunc(strings.Split(d.Fix, "\n"), re.MatchString) {
				continue
			}
			other := slices.Clone(diags)
			var lines []string
			for _, l := range strings.Split(d.Fix, "\n") {
				if sm := re.FindStringSubmatch(l); sm != nil {
					l = strings.Replace(l, sm[1], filepath.Join(filepath.Dir(sm[1]), "other-"+filepath.Base(sm[1])), 1)
				}
				lines = append(lines, l)
			}
			other[i].Fix = strings.Join(lines, "\n")
			mutations++
			if p, _ := fixProblems(root, other, plan); len(p) == 0 {
				t.Errorf("%s: %s:%d %s: a fix naming another file than the plan's passed the check:\n%s", view, d.File, d.Line, d.Code, other[i].Fix)
			}
		}
		if m := setHandler.FindStringSubmatch(d.Fix); m != nil && hasRoute(root, d, plan) {
			other := slices.Clone(diags)
			other[i].Fix = strings.Replace(d.Fix, m[1], "proxy:fcgi://127.0.0.1:9999", 1)
			mutations++
			if p, _ := fixProblems(root, other, plan); len(p) == 0 {
				t.Errorf("%s: %s:%d %s: a fix setting another handler than the plan's passed the check:\n%s", view, d.File, d.Line, d.Code, other[i].Fix)
			}
		}
		if m := poolFor.FindStringSubmatch(d.Message); m != nil {
			other := slices.Clone(diags)
			other[i].Message = strings.Replace(d.Message, "=unix:"+m[2], "=unix:/run/php/php8.2-fpm.sock", 1)
			mutations++
			if p, _ := fixProblems(root, other, plan); len(p) == 0 {
				t.Errorf("%s: %s:%d %s: a --pool-for to Debian's www socket instead of %s passed the check", view, d.File, d.Line, d.Code, m[2])
			}
		}
		if m := namedPool.FindStringSubmatch(d.Message); m != nil && !notPoolName[m[1]] && (d.Fix != "" || hasPlaced(root, d, plan)) {
			other := slices.Clone(diags)
			other[i].Message = strings.Replace(d.Message, "php-fpm pool "+m[1], "php-fpm pool www", 1)
			mutations++
			if p, _ := fixProblems(root, other, plan); len(p) == 0 && m[1] != "www" {
				t.Errorf("%s: %s:%d %s: a message naming pool www instead of %s passed the check", view, d.File, d.Line, d.Code, m[1])
			}
		}
	}
	if mutations == 0 {
		t.Errorf("%s: no fix or message names a place of the plan", view)
	}
}

// hasRoute reports whether the plan decides a route at finding d's line
// or a related one.
func hasRoute(root string, d jsonDiag, plan *planView) bool {
	where := []parser.Pos{{File: strings.TrimPrefix(d.File, root), Line: d.Line}}
	for _, r := range d.Related {
		where = append(where, parser.Pos{File: strings.TrimPrefix(r.File, root), Line: r.Line})
	}
	return plan.routeAt(where) != nil
}

// hasPlaced reports whether the plan places a line of finding d.
func hasPlaced(root string, d jsonDiag, plan *planView) bool {
	file := strings.TrimPrefix(d.File, root)
	for _, pl := range plan.Placements {
		if pl.Source.File == file && pl.Source.Line == d.Line {
			return true
		}
	}
	return false
}

// lintJSONArgs runs lint --format=json with args.
func lintJSONArgs(t *testing.T, args ...string) []jsonDiag {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), append([]string{"lint", "--format=json"}, args...), &stdout, &stderr); code != exitOK && code != exitFindings {
		t.Fatalf("lint: exit %d: %s", code, stderr.String())
	}
	var diags []jsonDiag
	if err := json.Unmarshal(stdout.Bytes(), &diags); err != nil {
		t.Fatal(err)
	}
	return diags
}

// TestLintFixesFollowPlanKinds checks each kind of fix against the plan on
// a small tree that has them all: a pool line (MPM1004, MPM1007), a
// .user.ini line, a denial (MPM1005), a wrap (an unguarded .htaccess
// line), a whole pool file (MPM2003's FastCgiServer) and the handler that
// replaces a ProxyPassMatch (MPM1001, MPM1002); and that each one changed
// to name another file or handler is caught.
func TestLintFixesFollowPlanKinds(t *testing.T) {
	root := t.TempDir()
	put := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(root, p), s)
	}
	put("etc/apache2/apache2.conf", `ServerRoot /etc/apache2
LoadModule php_module /usr/lib/apache2/modules/libphp8.2.so
LoadModule fastcgi_module /usr/lib/apache2/modules/mod_fastcgi.so
<Directory />
    AllowOverride None
</Directory>
<VirtualHost *:80>
    ServerName site.example
    DocumentRoot /var/www/site
    <Directory /var/www/site>
        AllowOverride All
    </Directory>
    <Directory /var/www/site/pma>
        <IfModule mod_php.c>
            php_admin_value upload_tmp_dir /var/www/site/pma/tmp
            php_admin_value open_basedir /var/www/site/pma
        </IfModule>
    </Directory>
    <Directory /var/www/site/intl>
        <IfModule mod_php.c>
            php_value memory_limit 64M
        </IfModule>
    </Directory>
</VirtualHost>
<VirtualHost *:80>
    ServerName api.example
    DocumentRoot /var/www/api
    DirectoryIndex index.php index.html
    ProxyPassMatch ^/(.*\.php(/.*)?)$ fcgi://127.0.0.1:9000/var/www/api/$1
</VirtualHost>
<VirtualHost *:80>
    ServerName cgi.example
    DocumentRoot /var/www/cgi
    FastCgiServer /usr/lib/cgi-bin/php-cgi -processes 4
</VirtualHost>
`)
	put("var/www/site/uploads/.htaccess", "php_flag engine off\n")
	put("var/www/site/app/.htaccess", "php_value upload_max_filesize 64M\n")
	put("var/www/cgi/index.php", "<?php\n")
	conf := filepath.Join(root, "etc/apache2")
	diags := lintJSONArgs(t, "--no-permissions", "--fpm-config", "none", "--root", root, conf)
	plan := planOf(t, "--fpm-config", "none", "--root", root, conf)
	problems, _ := fixProblems(root, diags, plan)
	for _, p := range problems {
		t.Error(p)
	}
	kinds := map[string]bool{}
	for _, d := range diags {
		for _, l := range strings.Split(d.Fix, "\n") {
			switch {
			case settingHeader.MatchString(l) && strings.HasSuffix(strings.Split(l, ":")[0], ".user.ini"):
				kinds["user-ini"] = true
			case settingHeader.MatchString(l):
				kinds["pool line "+d.Code] = true
			case fileHeader.MatchString(l):
				kinds["pool file"] = true
			case apacheHeader.MatchString(l):
				kinds["denial"] = true
			}
		}
		if strings.HasPrefix(d.Fix, "<IfModule mod_php.c>\n") {
			kinds["wrap"] = true
		}
		if setHandler.MatchString(d.Fix) && hasRoute(root, d, plan) {
			kinds["route handler "+d.Code] = true
		}
	}
	for _, k := range []string{"pool line MPM1004", "pool line MPM1007", "user-ini", "pool file", "denial", "wrap", "route handler MPM1001", "route handler MPM1002"} {
		if !kinds[k] {
			t.Errorf("no fix of kind %q on the tree; findings: %+v", k, diags)
		}
	}
	checkCatchesOtherPlace(t, "kinds", root, diags, plan)
}
