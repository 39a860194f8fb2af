package realapps

import (
	"net/url"
	"os"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// App is a PHP application installed from its Debian package.
type App struct {
	// Package is the Debian package, which installs the application.
	Package string
	// Confs are where the package's Apache configuration may be, the
	// first that exists is used: conf-available/<app>.conf when the
	// package (or its postinst, when asked to configure Apache) puts it
	// there, else the file under /etc/<app>/ it ships.
	Confs []string
	// SymlinkedAccessFile is an access file the package installs as a
	// symbolic link ("" if none); Require checks that it still is one.
	SymlinkedAccessFile string
	// OwnPool is a directory whose server-config settings PHP cannot
	// reset (upload_tmp_dir, sys_temp_dir): behind the shim it gets a
	// php-fpm pool of its own (--pool-for), as the shim asks, and the
	// other applications keep theirs clean. "" if none.
	OwnPool string
	// Requests are what the set-ups are compared on: front and login
	// pages, static files, denied directories, a missing .php.
	Requests []Request
}

// Request is one HTTP request to a set-up, and what mod_php answers.
type Request struct {
	// Method is GET when empty.
	Method string
	// Path is the URL path with its query.
	Path string
	// Form is sent as an application/x-www-form-urlencoded body.
	Form url.Values
	// Want is the status Apache prefork + mod_php answers, as observed
	// with the Debian 12 packages; it keeps the harness honest (a set-up
	// that answers 500 everywhere would otherwise compare equal).
	Want int
}

// String returns "METHOD path".
func (r Request) String() string {
	m := r.Method
	if m == "" {
		m = "GET"
	}
	return m + " " + r.Path
}

// Dokuwiki is DokuWiki as Debian 12 packages it: Alias /dokuwiki to
// /usr/share/dokuwiki with AllowOverride All, whose .htaccess is a
// symbolic link to /etc/dokuwiki/htaccess; inc/, vendor/ and bin/ are
// denied by their own .htaccess or <Directory>.
var Dokuwiki = App{
	Package:             "dokuwiki",
	Confs:               []string{"/etc/apache2/conf-available/dokuwiki.conf", "/etc/dokuwiki/apache.conf"},
	SymlinkedAccessFile: "/usr/share/dokuwiki/.htaccess",
	Requests: []Request{
		{Path: "/dokuwiki", Want: 301},
		{Path: "/dokuwiki/", Want: 302}, // index.php redirects to doku.php?id=start
		{Path: "/dokuwiki/doku.php", Want: 200},
		{Path: "/dokuwiki/doku.php?id=wiki:syntax", Want: 200},
		{Path: "/dokuwiki/doku.php/wiki:syntax", Want: 200}, // PATH_INFO
		{Path: "/dokuwiki/doku.php?do=login", Want: 200},
		{Path: "/dokuwiki/doku.php?id=start&do=edit", Want: 200},
		{Path: "/dokuwiki/feed.php", Want: 200},
		{Path: "/dokuwiki/lib/exe/css.php", Want: 200},
		{Path: "/dokuwiki/lib/exe/js.php", Want: 200},
		{Path: "/dokuwiki/lib/exe/fetch.php?media=wiki:dokuwiki-128.png", Want: 200},
		// No security token: DokuWiki refuses the login.
		{Method: "POST", Path: "/dokuwiki/doku.php?do=login", Form: url.Values{"u": {"nobody"}, "p": {"wrong"}, "do": {"login"}}, Want: 403},
		// Static files, one through the symbolic link lib/tpl →
		// /var/lib/dokuwiki/lib/tpl.
		{Path: "/dokuwiki/lib/exe/index.html", Want: 200},
		{Path: "/dokuwiki/lib/tpl/dokuwiki/images/logo.png", Want: 200},
		{Path: "/dokuwiki/lib/images/email.png", Want: 200},
		// Denied by the symlinked .htaccess (<Files>; RedirectMatch 404
		// for .git), by inc/.htaccess and vendor/.htaccess, and by
		// <Directory /usr/share/dokuwiki/bin>.
		{Path: "/dokuwiki/VERSION", Want: 403},
		{Path: "/dokuwiki/.htaccess", Want: 403},
		{Path: "/dokuwiki/.git/config", Want: 404},
		{Path: "/dokuwiki/inc/", Want: 403},
		{Path: "/dokuwiki/inc/init.php", Want: 403},
		{Path: "/dokuwiki/vendor/autoload.php", Want: 403},
		{Path: "/dokuwiki/bin/", Want: 403},
		{Path: "/dokuwiki/bin/dwpage.php", Want: 403},
		// The data and conf directories are outside the Alias.
		{Path: "/dokuwiki/data/pages/start.txt", Want: 404},
		{Path: "/dokuwiki/conf/local.php", Want: 404},
		{Path: "/dokuwiki/nonexistent.php", Want: 404},
	},
}

// Adminer is Adminer as Debian 12 packages it: Alias /adminer to
// /etc/adminer, whose DirectoryIndex conf.php includes
// /usr/share/adminer/adminer.php. It needs no database to show its login
// form.
var Adminer = App{
	Package: "adminer",
	Confs:   []string{"/etc/apache2/conf-available/adminer.conf"},
	Requests: []Request{
		{Path: "/adminer", Want: 301},
		{Path: "/adminer/", Want: 200},
		{Path: "/adminer/conf.php", Want: 200},
		{Path: "/adminer/conf.php/extra", Want: 200}, // PATH_INFO
		{Path: "/adminer/conf.php?file=default.css&version=4.8.1", Want: 200},
		{Path: "/adminer/conf.php?file=functions.js&version=4.8.1", Want: 200},
		{Path: "/adminer/conf.php?username=", Want: 403}, // no login yet
		// The package has no static file and no denied directory of its
		// own (its CSS and JavaScript come from conf.php?file=); Debian's
		// <FilesMatch "^\.ht"> denies this name.
		{Path: "/adminer/.htaccess", Want: 403},
		// A login to a closed port: Adminer redirects to its error page.
		{Method: "POST", Path: "/adminer/conf.php", Form: url.Values{
			"auth[driver]": {"server"}, "auth[server]": {"127.0.0.1:1"}, "auth[username]": {"root"},
			"auth[password]": {"wrong"}, "auth[db]": {""},
		}, Want: 302},
		{Path: "/adminer/nonexistent.php", Want: 404},
		{Path: "/adminer/nonexistent.txt", Want: 404},
	},
}

// PhpMyAdmin is phpMyAdmin as Debian 12 packages it: Alias /phpmyadmin to
// /usr/share/phpmyadmin with server-config php_admin_value open_basedir
// and upload_tmp_dir under <IfModule mod_php.c>, templates/ and
// libraries/ denied. Its login page needs no database.
var PhpMyAdmin = App{
	Package: "phpmyadmin",
	Confs:   []string{"/etc/apache2/conf-available/phpmyadmin.conf", "/etc/phpmyadmin/apache.conf"},
	OwnPool: "/usr/share/phpmyadmin",
	Requests: []Request{
		{Path: "/phpmyadmin", Want: 301},
		{Path: "/phpmyadmin/", Want: 200},
		{Path: "/phpmyadmin/index.php", Want: 200},
		{Path: "/phpmyadmin/index.php?route=/server/databases", Want: 200},
		{Path: "/phpmyadmin/url.php?url=https://www.phpmyadmin.net/", Want: 200},
		{Path: "/phpmyadmin/show_config_errors.php", Want: 200},
		// A login with no database server: phpMyAdmin shows its error.
		{Method: "POST", Path: "/phpmyadmin/index.php?route=/", Form: url.Values{
			"pma_username": {"root"}, "pma_password": {"wrong"}, "server": {"1"},
		}, Want: 200},
		{Path: "/phpmyadmin/robots.txt", Want: 200},
		{Path: "/phpmyadmin/favicon.ico", Want: 200},
		{Path: "/phpmyadmin/themes/pmahomme/css/theme.css", Want: 200},
		{Path: "/phpmyadmin/js/dist/ajax.js", Want: 200},
		{Path: "/phpmyadmin/templates/", Want: 403},
		{Path: "/phpmyadmin/templates/login/form.twig", Want: 403},
		{Path: "/phpmyadmin/libraries/", Want: 403},
		{Path: "/phpmyadmin/libraries/vendor_config.php", Want: 403},
		{Path: "/phpmyadmin/setup/", Want: 404}, // Debian does not ship the setup script
		{Path: "/phpmyadmin/nonexistent.php", Want: 404},
	},
}

// Apps are the applications the set-ups serve, at least one of them
// with a symlinked access file.
var Apps = []App{Dokuwiki, Adminer, PhpMyAdmin}

// Conf returns the app's packaged Apache configuration, "" when the
// package is not installed.
func (a App) Conf() string {
	for _, c := range a.Confs {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return ""
}

// Require checks that every app is installed and that the test runs as
// root, so that the servers run as www-data, which owns the applications'
// data (/var/lib/dokuwiki/data is www-data's, mode 0700). Otherwise it
// skips the test, or fails it when lab.Real(). A symlinked access file
// that no longer is one fails the test: the comparison would lose that
// case.
func Require(t testing.TB, apps ...App) {
	t.Helper()
	if os.Geteuid() != 0 {
		if lab.Real() {
			t.Fatalf("the applications run as www-data, which needs root; %s=1 requires it", lab.RealEnv)
		}
		t.Skipf("the applications run as www-data, which needs root (set %s=1 to make this a failure)", lab.RealEnv)
	}
	var missing []string
	for _, a := range apps {
		if a.Conf() == "" {
			missing = append(missing, a.Package)
		}
	}
	if len(missing) > 0 {
		msg := "Debian packages not installed: %v (their Apache configuration is missing; .ci/test.sh installs them)"
		if lab.Real() {
			t.Fatalf(msg+"; %s=1 requires them", missing, lab.RealEnv)
		}
		t.Skipf(msg, missing)
	}
	for _, a := range apps {
		if a.SymlinkedAccessFile == "" {
			continue
		}
		if fi, err := os.Lstat(a.SymlinkedAccessFile); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("%s: %s is not a symbolic link (%v): the package changed, pick another application that ships one", a.Package, a.SymlinkedAccessFile, err)
		}
	}
}
