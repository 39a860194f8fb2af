package migrate

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

var update = flag.Bool("update", false, "rewrite golden files")

// legacy loads docs/examples/legacy-server and plans it; every file is
// treated as root's (not a regular user), as in a packaged server.
func legacy(t *testing.T, mode HTAccessMode) *Plan {
	t.Helper()
	root, err := filepath.Abs("../../docs/examples/legacy-server")
	if err != nil {
		t.Fatal(err)
	}
	return planTree(t, root, mode)
}

func planTree(t *testing.T, root string, mode HTAccessMode) *Plan {
	t.Helper()
	res := loadRoot(t, root)
	p, err := Build(Input{Today: res.Today, After: res.After, Root: root, HTAccess: mode,
		Owner: func(string) (uint32, uint32, bool) { return 0, 0, true }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDebugLegacy(t *testing.T) {
	if os.Getenv("PLAN_DEBUG") == "" {
		t.Skip()
	}
	p := legacy(t, HTAccessMode(os.Getenv("PLAN_DEBUG")))
	t.Log(p.Diff())
	for _, pl := range p.Placements {
		t.Logf("%s %s %s=%s → %s %s %s (%s)", pl.Source, pl.Directive, pl.Key, pl.Value, pl.Target, pl.Pool, pl.File, pl.Note)
	}
	for _, s := range p.Scopes {
		t.Logf("scope %+v", *s)
	}
	t.Log(p.Notes)
}

// copyTree copies dir to a new temporary directory, symlinks as links.
func copyTree(t *testing.T, dir string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		to := filepath.Join(dst, rel)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, to)
		case fi.IsDir():
			return os.MkdirAll(to, 0o755)
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(to, data, fi.Mode().Perm())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// apply makes the plan's file changes in the tree at root.
func apply(t *testing.T, p *Plan, root string) {
	t.Helper()
	for _, f := range p.Changed() {
		host := filepath.Join(root, f.Path)
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch f.Action {
		case "remove":
			err = os.Remove(host)
		case "symlink":
			err = os.Symlink(f.Link, host)
		default:
			err = os.WriteFile(host, []byte(f.After), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestLegacyPlacements pins where each PHP setting of the example server
// goes.
func TestLegacyPlacements(t *testing.T) {
	type want struct{ target, pool, file string }
	cases := map[string]want{
		"/etc/apache2/sites-enabled/intranet.conf:17": {TargetPoolAdmin, "intranet-example-test", "/etc/php/8.2/fpm/pool.d/modphp-migrate-intranet-example-test.conf"},
		"/etc/apache2/sites-enabled/intranet.conf:19": {TargetPool, "intranet-example-test", "/etc/php/8.2/fpm/pool.d/modphp-migrate-intranet-example-test.conf"},
		"/etc/apache2/sites-enabled/shop.conf:17":     {TargetPoolAdmin, "shop-example-test", "/etc/php/8.2/fpm/pool.d/modphp-migrate-shop-example-test.conf"},
		"/etc/apache2/includes/blog/wp-admin.conf:3":  {TargetUserINI, "www-data", "/var/www/blog/wp-admin/.user.ini"},
		"/var/www/blog/.htaccess:17":                  {TargetShim, "www-data", ""},
		"/var/www/blog/.htaccess:24":                  {TargetDropped, "", ""},
		"/var/www/intranet/reports/.htaccess:3":       {TargetUnchanged, "", ""},
		"/var/www/shop/public/uploads/.htaccess:2":    {TargetDeny, "shop-example-test", ""},
	}
	p := legacy(t, HTAccessShim)
	got := map[string]want{}
	for _, pl := range p.Placements {
		got[pl.Source.File+":"+itoa(pl.Source.Line)] = want{pl.Target, pl.Pool, pl.File}
	}
	for pos, w := range cases {
		if got[pos] != w {
			t.Errorf("%s: got %+v, want %+v", pos, got[pos], w)
		}
	}
	pu := legacy(t, HTAccessUserINI)
	for _, pl := range pu.Placements {
		if pl.Source.File == "/var/www/blog/.htaccess" && pl.Source.Line == 17 && (pl.Target != TargetUserINI || pl.File != "/var/www/blog/.user.ini") {
			t.Errorf("user-ini mode: blog upload_max_filesize goes to %s %s", pl.Target, pl.File)
		}
	}
}

// TestLegacyIdempotent applies the plan to a copy and plans again: no
// change is left, in either --htaccess mode.
func TestLegacyIdempotent(t *testing.T) {
	src, _ := filepath.Abs("../../docs/examples/legacy-server")
	for _, mode := range []HTAccessMode{HTAccessShim, HTAccessUserINI} {
		t.Run(string(mode), func(t *testing.T) {
			root := copyTree(t, src)
			p := planTree(t, root, mode)
			if len(p.Changed()) == 0 {
				t.Fatal("the first plan changes nothing")
			}
			apply(t, p, root)
			again := planTree(t, root, mode)
			if d := again.Diff(); d != "" {
				t.Errorf("planning the applied tree changes:\n%s", d)
			}
		})
	}
}

// TestLegacyPermissions plans the example with its world-writable modes:
// exactly those paths change, to the pool user without o+w; the shop's
// cache and config above its document root are the site's too.
func TestLegacyPermissions(t *testing.T) {
	src, _ := filepath.Abs("../../docs/examples/legacy-server")
	root := copyTree(t, src)
	for p, mode := range map[string]os.FileMode{
		"var/www/blog/wp-content/uploads": 0o777, "var/www/shop/public/uploads": 0o777,
		"var/www/shop/var/cache": 0o777, "var/www/shop/config.php": 0o666,
	} {
		if err := os.Chmod(filepath.Join(root, p), mode); err != nil {
			t.Fatal(err)
		}
	}
	p := planTree(t, root, HTAccessShim)
	var got []string
	for _, perm := range p.Permissions {
		got = append(got, perm.Path+" "+perm.Mode+" "+perm.Chmod)
	}
	want := []string{
		"/var/www/blog/wp-content/uploads 0777 o-w",
		"/var/www/shop/public/uploads 0777 o-w",
		"/var/www/shop/config.php 0666 o-w",
		"/var/www/shop/var/cache 0777 o-w",
	}
	checkLines(t, "permissions", got, want)
	script := p.PermissionsScript()
	if !strings.Contains(script, "chmod o-w \"$ROOT\"'/var/www/shop/var/cache'\n") {
		t.Errorf("permissions.sh lacks the cache's chmod:\n%s", script)
	}
}

// TestForAndScopes checks the lookups lint uses: For by the position the
// parser reports (under the root), and a directory with php_admin_* of
// its own becoming a scope with its own pool inside its virtual host,
// whose user is the document root's owner (a regular user, named from
// the tree's etc/passwd).
func TestForAndScopes(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"etc/apache2/apache2.conf": "ServerRoot /etc/apache2\nUser www-data\n<VirtualHost *:80>\n\tServerName a.test\n\tDocumentRoot /srv/a\n" +
			"\t<Directory /srv/a/admin>\n\t\tphp_admin_flag allow_url_fopen off\n\t\tphp_value memory_limit 1G\n\t</Directory>\n</VirtualHost>\n",
		"etc/passwd":        "root:x:0:0::/root:/bin/sh\nalice:x:1001:1001::/home/alice:/bin/sh\n",
		"etc/group":         "root:x:0:\nalice:x:1001:\n",
		"srv/a/index.php":   "<?php\n",
		"srv/a/admin/x.php": "<?php\n",
	}
	writeFiles(t, root, files)
	res := loadRoot(t, root)
	owner := func(p string) (uint32, uint32, bool) {
		if strings.HasSuffix(p, "/srv/a") {
			return 1001, 1001, true
		}
		return 0, 0, true
	}
	p, err := Build(Input{Today: res.Today, After: res.After, Root: root, Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Scopes {
		got = append(got, s.ID+" "+s.Kind+" "+s.User+" "+s.UserFrom+" "+s.Pool)
	}
	want := []string{
		"a.test vhost alice owner of /srv/a alice",
		"a.test:/srv/a/admin directory alice owner of /srv/a a-test-srv-a-admin",
	}
	checkLines(t, "scopes", got, want)
	pls := p.For(parser.Pos{File: filepath.Join(root, "etc/apache2/apache2.conf"), Line: 8, Col: 3})
	if len(pls) != 1 || pls[0].Key != "memory_limit" || pls[0].Target != TargetPool || pls[0].Pool != "a-test-srv-a-admin" {
		t.Fatalf("For(apache2.conf:8) = %+v", pls)
	}
	if pls := p.For(parser.Pos{File: "/etc/apache2/apache2.conf", Line: 7}); len(pls) != 1 || pls[0].Target != TargetPoolAdmin {
		t.Fatalf("For(/etc/apache2/apache2.conf:7) = %+v", pls)
	}
}

// writeTree writes files under a new temporary root.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	writeFiles(t, root, files)
	return root
}

// writeFiles writes files (relative name → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// loadRoot loads the tree's etc/apache2 under --root root.
func loadRoot(t *testing.T, root string) *parser.Result {
	t.Helper()
	res, err := parser.Load(filepath.Join(root, "etc/apache2"), parser.LoadOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestOwnerScopes: on a shared-hosting vhost, the users' directories
// right under the document root get scopes, pools and handlers of their
// owners; a directory of the root's owner stays in the vhost's scope.
func TestOwnerScopes(t *testing.T) {
	root := writeTree(t, map[string]string{
		"etc/apache2/apache2.conf": "ServerRoot /etc/apache2\nUser www-data\nGroup www-data\n<VirtualHost *:80>\n\tServerName h.test\n\tDocumentRoot /srv/h\n</VirtualHost>\n",
		"etc/passwd":               "www-data:x:33:33::/var/www:/bin/sh\nalice:x:1001:1001::/home/alice:/bin/sh\nbob:x:1002:1002::/home/bob:/bin/sh\n",
		"etc/group":                "www-data:x:33:\nalice:x:1001:\nbob:x:1002:\n",
		"srv/h/alice/index.php":    "<?php\n",
		"srv/h/bob/index.php":      "<?php\n",
		"srv/h/shared/index.php":   "<?php\n",
	})
	res := loadRoot(t, root)
	owners := map[string]uint32{"alice": 1001, "bob": 1002}
	owner := func(p string) (uint32, uint32, bool) {
		uid := owners[filepath.Base(p)]
		return uid, uid, true
	}
	p, err := Build(Input{Today: res.Today, After: res.After, Root: root, Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Scopes {
		got = append(got, s.ID+" "+s.User+" "+s.UserFrom+" "+s.Pool)
	}
	want := []string{
		"h.test www-data Apache's User www-data",
		"h.test:/srv/h/alice alice owner of /srv/h/alice alice",
		"h.test:/srv/h/bob bob owner of /srv/h/bob bob",
	}
	checkLines(t, "scopes", got, want)
	if d := p.Diff(); !strings.Contains(d, "+<Directory \"/srv/h/bob\">\n+\t<FilesMatch \".+\\.ph(?:ar|p|tml)$\">\n+\t\t<If \"-f %{REQUEST_FILENAME}\">\n+\t\t\tSetHandler \"proxy:unix:/run/php/modphp-migrate-bob.sock|fcgi://localhost\"\n") {
		t.Errorf("no handler for bob's pool:\n%s", d)
	}
}

// TestOwnerScopesFromLoad: the subdirectories of a document root come
// from the load's listing (made while looking for .htaccess files), not
// from a second listing: a directory renamed after the load is still
// seen under its old name.
func TestOwnerScopesFromLoad(t *testing.T) {
	root := writeTree(t, map[string]string{
		"etc/apache2/apache2.conf": "ServerRoot /etc/apache2\nUser www-data\nGroup www-data\n<VirtualHost *:80>\n\tServerName h.test\n\tDocumentRoot /srv/h\n</VirtualHost>\n",
		"srv/h/bob/index.php":      "<?php\n",
	})
	res := loadRoot(t, root)
	if err := os.Rename(filepath.Join(root, "srv/h/bob"), filepath.Join(root, "srv/h/carol")); err != nil {
		t.Fatal(err)
	}
	owner := func(p string) (uint32, uint32, bool) {
		uid := map[string]uint32{"bob": 1002, "carol": 1003}[filepath.Base(p)]
		return uid, uid, true
	}
	p, err := Build(Input{Today: res.Today, After: res.After, Root: root, Owner: owner, PlacementsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Scopes {
		got = append(got, s.ID)
	}
	if want := []string{"h.test", "h.test:/srv/h/bob"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("scopes %q, want %q", got, want)
	}
}

// TestLegacyGolden compares the plan of the example server (files as
// root's) with testdata/legacy-server.plan.golden, the diff docs/plan.md
// walks through; go test -update rewrites it after review.
func TestLegacyGolden(t *testing.T) {
	got := legacy(t, HTAccessShim).Diff()
	golden := filepath.Join("testdata", "legacy-server.plan.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("the plan of docs/examples/legacy-server changed (go test -update after review):\n%s", UnifiedDiff(golden, "got", string(want), got))
	}
}

func TestParentDirRelative(t *testing.T) {
	for _, d := range []string{"a", ".", "a/b"} {
		if got := parentDir(d); got != "" {
			t.Errorf("parentDir(%q) = %q, want \"\" (a relative directory has no scope)", d, got)
		}
	}
}

// TestUserINIOutsideDocumentRoot: php-fpm reads the .user.ini of every
// directory from DOCUMENT_ROOT down to a script's, but outside
// DOCUMENT_ROOT (an Alias) only the script's own. So with
// --htaccess=user-ini, an Alias directory whose .htaccess covers scripts
// in a subdirectory keeps the shim, saying why; one with scripts in that
// directory only, and a directory under the DocumentRoot, get .user.ini;
// a server-config php_value for such an Alias directory goes to a pool of
// its own.
func TestUserINIOutsideDocumentRoot(t *testing.T) {
	root := writeTree(t, map[string]string{
		"etc/apache2/apache2.conf": "ServerRoot /etc/apache2\nUser www-data\nDocumentRoot /srv/www\n" +
			"<Directory /srv/www>\n\tAllowOverride All\n</Directory>\n" +
			"Alias /app /usr/share/app\nAlias /flat /usr/share/flat\n<Directory /usr/share>\n\tAllowOverride All\n</Directory>\n" +
			"<Directory /usr/share/app/conf>\n\tphp_value max_input_vars 3000\n</Directory>\n",
		"srv/www/.htaccess":                "php_value memory_limit 64M\n",
		"srv/www/sub/x.php":                "<?php\n",
		"usr/share/app/.htaccess":          "php_value memory_limit 64M\n",
		"usr/share/app/index.php":          "<?php\n",
		"usr/share/app/lib/exe/x.php":      "<?php\n",
		"usr/share/app/conf/index.php":     "<?php\n",
		"usr/share/app/conf/more/y.phtml":  "<?php\n",
		"usr/share/flat/.htaccess":         "php_value memory_limit 64M\n",
		"usr/share/flat/index.php":         "<?php\n",
		"usr/share/flat/inc/functions.inc": "<?php\n",
	})
	p := planTree(t, root, HTAccessUserINI)
	var got []string
	for _, pl := range p.Placements {
		got = append(got, pl.Dir+" "+pl.Key+" "+pl.Target+" "+pl.Pool+" "+pl.Note)
	}
	want := []string{
		"/usr/share/app/conf max_input_vars pool alias-app-usr-share-app-conf ",
		"/srv/www memory_limit user-ini www-data ",
		// The Alias scopes need nothing of their own: the fallback
		// handler serves them, and their placements name no pool.
		"/usr/share/app memory_limit shim  this directory needs the shim: outside the DocumentRoot php-fpm reads only the .user.ini of a script's own directory, and /usr/share/app/conf has scripts",
		"/usr/share/flat memory_limit user-ini  ",
	}
	checkLines(t, "placements", got, want)
}

// TestDirectoryNamingFile: a <Directory> whose path is a script reaches
// that script alone under mod_php (httpd's walk ends on the file,
// parser.DirSections): neither a pool nor a .user.ini can be limited to
// it, so the shim applies it; a <Directory> naming a directory keeps its
// pool or .user.ini.
func TestDirectoryNamingFile(t *testing.T) {
	root := writeTree(t, map[string]string{
		"etc/apache2/apache2.conf": "ServerRoot /etc/apache2\nUser www-data\nDocumentRoot /srv/www\n" +
			"<Directory /srv/www>\n\tAllowOverride All\n</Directory>\n" +
			"<Directory /srv/www/i.php>\n\tphp_value memory_limit 42M\n</Directory>\n" +
			"<Directory /srv/www/sub>\n\tphp_value memory_limit 64M\n</Directory>\n",
		"srv/www/i.php":     "<?php\n",
		"srv/www/sub/x.php": "<?php\n",
	})
	p := planTree(t, root, HTAccessUserINI)
	var got []string
	for _, pl := range p.Placements {
		got = append(got, pl.Dir+" "+pl.Key+" "+pl.Value+" "+pl.Target+" "+pl.Note)
	}
	want := []string{
		"/srv/www memory_limit 42M shim under <Directory>: neither a pool nor .user.ini can be limited to some files; only the shim applies it per request",
		"/srv/www/sub memory_limit 64M user-ini ",
	}
	checkLines(t, "placements", got, want)
}

// TestLinesInEffect: the lines the plan reads (identity directives,
// PHP handlers, routes to php-fpm) count only where httpd reads them:
// not under a false <IfModule>, and an identity directive only for the
// directories of its <Directory>.
func TestLinesInEffect(t *testing.T) {
	const never = "<IfModule mod_never.c>\n"
	root := writeTree(t, map[string]string{
		"etc/apache2/apache2.conf": "ServerRoot /etc/apache2\nUser www-data\nGroup www-data\n" +
			never + "\tAddHandler application/x-httpd-php .php5\n</IfModule>\n" +
			"AddType application/x-httpd-php .phtml\n" +
			"<VirtualHost *:80>\n\tServerName a.test\n\tDocumentRoot /srv/a\n" +
			"\t" + never + "\t\tAssignUserID bad bad\n\t\tProxyPassMatch ^/(.*\\.php)$ unix:/run/php/never.sock|fcgi://localhost/srv/a/$1\n\t</IfModule>\n" +
			"\tAssignUserID web1 web1\n" +
			"\tProxyPassMatch ^/(.*\\.php)$ unix:/run/php/a.sock|fcgi://localhost/srv/a/$1\n" +
			"</VirtualHost>\n" +
			"<VirtualHost *:80>\n\tServerName b.test\n\tDocumentRoot /srv/b\n" +
			"\t<Directory /srv/other>\n\t\tAssignUserID web2 web2\n\t</Directory>\n" +
			"</VirtualHost>\n",
		"etc/passwd":        "www-data:x:33:33::/var/www:/bin/sh\nweb1:x:1001:1001::/srv/a:/bin/sh\nweb2:x:1002:1002::/srv/b:/bin/sh\n",
		"etc/group":         "www-data:x:33:\nweb1:x:1001:\nweb2:x:1002:\n",
		"srv/a/index.php":   "<?php\n",
		"srv/b/index.php":   "<?php\n",
		"srv/other/x.php":   "<?php\n",
		"run/php/.keep":     "",
		"etc/php/8.2/.keep": "",
	})
	p := planTree(t, root, HTAccessShim)
	var users []string
	for _, s := range p.Scopes {
		users = append(users, s.ID+" "+s.User+" "+s.UserFrom)
	}
	want := []string{"a.test web1 AssignUserID at /etc/apache2/apache2.conf:15", "b.test www-data Apache's User"}
	if strings.Join(users, "\n") != strings.Join(want, "\n") {
		t.Errorf("scopes:\n%s\nwant:\n%s", strings.Join(users, "\n"), strings.Join(want, "\n"))
	}
	var routes []string
	for _, r := range p.Routes {
		routes = append(routes, r.Source.File+":"+itoa(r.Source.Line)+" "+r.Backend)
	}
	if want := []string{"/etc/apache2/apache2.conf:16 /run/php/a.sock"}; strings.Join(routes, "\n") != strings.Join(want, "\n") {
		t.Errorf("routes %q, want %q", routes, want)
	}
	d := p.Diff()
	if !strings.Contains(d, `<FilesMatch "\.phtml$">`) || strings.Contains(d, "php5") {
		t.Errorf("the handler's files should be .phtml's alone:\n%s", d)
	}
}

// TestUserINIAction: a .user.ini the plan writes is created where there
// is none, and changed where there is one: a file (its lines kept before
// the plan's) or a link, even a dangling one, which the change replaces.
func TestUserINIAction(t *testing.T) {
	root := writeTree(t, map[string]string{
		"etc/apache2/apache2.conf": "ServerRoot /etc/apache2\nUser www-data\nDocumentRoot /srv/www\n" +
			"<Directory /srv/www>\n\tAllowOverride All\n</Directory>\n",
		"srv/www/new/.htaccess":  "php_value memory_limit 64M\n",
		"srv/www/new/x.php":      "<?php\n",
		"srv/www/old/.htaccess":  "php_value memory_limit 64M\n",
		"srv/www/old/.user.ini":  "max_input_vars = 2000\n",
		"srv/www/old/x.php":      "<?php\n",
		"srv/www/link/.htaccess": "php_value memory_limit 64M\n",
		"srv/www/link/x.php":     "<?php\n",
	})
	if err := os.Symlink("/nowhere/.user.ini", filepath.Join(root, "srv/www/link/.user.ini")); err != nil {
		t.Fatal(err)
	}
	p := planTree(t, root, HTAccessUserINI)
	var got []string
	for _, f := range p.Files {
		if strings.HasSuffix(f.Path, ".user.ini") {
			got = append(got, f.Path+" "+f.Action+" "+strconv.Quote(f.Before))
		}
	}
	want := []string{
		`/srv/www/link/.user.ini change ""`,
		`/srv/www/new/.user.ini create ""`,
		`/srv/www/old/.user.ini change "max_input_vars = 2000\n"`,
	}
	checkLines(t, ".user.ini files", got, want)
}

// checkLines fails t when got differs from want, showing both, a line each.
func checkLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
		t.Errorf("%s:\n%s\nwant:\n%s", what, g, w)
	}
}
