package realapps

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// Kind is how a set-up runs PHP.
type Kind int

// The set-ups.
const (
	// ModPHP is Apache prefork with mod_php (libapache2-mod-php).
	ModPHP Kind = iota
	// Shim is Apache event → proxy_fcgi → modphp-migrate shim → php-fpm.
	Shim
	// FPM is Apache event → proxy_fcgi → php-fpm directly.
	FPM
)

// String returns the set-up's name as tests print it.
func (k Kind) String() string {
	return [...]string{"mod_php", "shim", "php-fpm"}[k]
}

// Server is one running set-up serving the apps.
type Server struct {
	Kind   Kind
	Apache *lab.Apache
	// FPM is php-fpm (Shim and FPM), Shim the shim (Shim only).
	FPM  *lab.FPM
	Shim *lab.Shim
}

// debianModules are the modules a fresh Debian 12 apache2 enables
// (mods-enabled after installing apache2), less the MPM, which each
// set-up chooses. Each is loaded as Debian does, with its .load and .conf
// from mods-available.
var debianModules = []string{
	"access_compat", "alias", "auth_basic", "authn_core", "authn_file", "authz_core", "authz_host",
	"authz_user", "autoindex", "deflate", "dir", "env", "filter", "mime", "negotiation",
	"reqtimeout", "setenvif", "status",
}

// debianModDir holds Debian's module files (X.load, X.conf).
const debianModDir = "/etc/apache2/mods-available"

// debianCore are the directives of Debian 12's apache2.conf that decide
// access (the rest is logging and run-time paths, which BaseConf sets),
// and a default site on the lab's empty document root.
const debianCore = `Timeout 300
KeepAlive On
MaxKeepAliveRequests 100
KeepAliveTimeout 5
HostnameLookups Off
<Directory />
	Options FollowSymLinks
	AllowOverride None
	Require all denied
</Directory>
<Directory /usr/share>
	AllowOverride None
	Require all granted
</Directory>
<Directory /var/www/>
	Options Indexes FollowSymLinks
	AllowOverride None
	Require all granted
</Directory>
AccessFileName .htaccess
<FilesMatch "^\.ht">
	Require all denied
</FilesMatch>
DocumentRoot {{DocRoot}}
<Directory {{DocRoot}}>
	Require all granted
</Directory>
`

// fpmHandlerConf is Debian's handler for php-fpm (a2enconf php8.2-fpm);
// its socket is replaced with the set-up's.
const fpmHandlerConf = "/etc/apache2/conf-available/php*-fpm.conf"

// handlerSocket matches the socket in fpmHandlerConf's SetHandler.
var handlerSocket = regexp.MustCompile(`proxy:unix:[^|"]+\|`)

// Start starts the set-up kind serving apps (see Require), with shimBin
// the modphp-migrate binary (lab.BuildCommand) for Shim. The
// configuration is laid out as Debian's apache2.conf reads it: every
// module's .load, then every module's .conf (mods-enabled, in name order),
// the core directives, then the enabled configurations (conf-enabled, in
// name order: the applications' and, for Shim and FPM, php8.2-fpm.conf).
// php-fpm has one worker, so that every request meets the settings the
// previous ones left in it. Everything stops when the test ends.
func Start(t testing.TB, kind Kind, shimBin string, apps []App) *Server {
	t.Helper()
	s := &Server{Kind: kind, Apache: lab.NewApache(t)}
	mods, limits := []string{"mpm_event", "proxy", "proxy_fcgi"}, lab.EventLimits
	if kind == ModPHP {
		lab.FindBinary(t, "/usr/lib/apache2/modules/libphp*.so")
		mods, limits = []string{"mpm_prefork", phpModule(t)}, lab.PreforkLimits
	}
	mods = append(mods, debianModules...)
	slices.Sort(mods)
	confs := map[string]string{} // conf-enabled name → file
	for _, a := range apps {
		confs[a.Package+".conf"] = a.Conf()
	}
	sock := ""
	if kind != ModPHP {
		s.FPM = lab.StartFPM(t, lab.FPMConfig{Children: 1, ExtraPools: ownPools(apps)})
		sock = s.FPM.Addr
		if kind == Shim {
			sock = lab.ShimSocket(t)
		}
		name, file := s.handlerConf(t, sock)
		confs[name] = file
	}
	var b strings.Builder
	b.WriteString(s.Apache.BaseConf(t))
	b.WriteString(includeModules(t, mods))
	b.WriteString(limits) // after mpm_*.conf, which size for production
	b.WriteString(s.Apache.Expand(debianCore))
	for _, name := range slices.Sorted(maps.Keys(confs)) {
		fmt.Fprintf(&b, "Include %s\n", confs[name])
	}
	s.Apache.WriteConf(t, b.String())
	if kind == Shim {
		// The shim reads the Apache configuration Apache runs with.
		args := []string{"--pool", "unix:" + s.FPM.Addr, "--fpm-config", s.FPM.ConfPath,
			"--php-ini", phpINI(t), "--apache-config", s.Apache.ConfPath}
		for _, a := range apps {
			if a.OwnPool != "" {
				args = append(args, "--pool-for", a.OwnPool+"=unix:"+filepath.Join(s.FPM.Dir, a.Package+".sock"))
			}
		}
		s.Shim = lab.StartShim(t, shimBin, sock, args...)
	}
	s.Apache.Start(t)
	return s
}

// ownPools returns php-fpm pool sections, one worker each, for the
// applications that need a pool of their own (App.OwnPool), listening
// on PACKAGE.sock in the php-fpm directory. Apache → php-fpm directly
// does not use them.
func ownPools(apps []App) string {
	var b strings.Builder
	for _, a := range apps {
		if a.OwnPool == "" {
			continue
		}
		fmt.Fprintf(&b, "[%s]\nlisten = {{Dir}}/%s.sock\nlisten.mode = 0666\npm = static\npm.max_children = 1\n", a.Package, a.Package)
		if os.Geteuid() == 0 {
			b.WriteString("user = www-data\ngroup = www-data\n")
		}
	}
	return b.String()
}

// includeModules returns Include lines for Debian's X.load of each
// module, then for X.conf where there is one.
func includeModules(t testing.TB, mods []string) string {
	t.Helper()
	var loads, confs strings.Builder
	for _, m := range mods {
		load := filepath.Join(debianModDir, m+".load")
		if _, err := os.Stat(load); err != nil {
			t.Fatalf("Apache module %s: %v", m, err)
		}
		fmt.Fprintf(&loads, "Include %s\n", load)
		if conf := filepath.Join(debianModDir, m+".conf"); exists(conf) {
			fmt.Fprintf(&confs, "Include %s\n", conf)
		}
	}
	return loads.String() + confs.String()
}

// phpModule returns the name of Debian's mod_php module file ("php8.2").
func phpModule(t testing.TB) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(debianModDir, "php*.load"))
	if len(m) == 0 {
		t.Fatalf("no %s/php*.load: libapache2-mod-php is not installed", debianModDir)
	}
	return strings.TrimSuffix(filepath.Base(m[len(m)-1]), ".load")
}

// phpINI returns the php.ini php-fpm runs with (lab.StartFPM's default).
func phpINI(t testing.TB) string {
	t.Helper()
	m, _ := filepath.Glob("/etc/php/*/fpm/php.ini")
	if len(m) == 0 {
		t.Fatal("no /etc/php/*/fpm/php.ini")
	}
	return m[len(m)-1]
}

// handlerConf writes Debian's php-fpm handler configuration with sock as
// its socket into the set-up's directory and returns its name in
// conf-available (php8.2-fpm.conf) and the path written.
func (s *Server) handlerConf(t testing.TB, sock string) (string, string) {
	t.Helper()
	m, _ := filepath.Glob(fpmHandlerConf)
	if len(m) == 0 {
		t.Fatalf("no %s: php-fpm is not installed", fpmHandlerConf)
	}
	body, err := os.ReadFile(m[len(m)-1])
	if err != nil {
		t.Fatal(err)
	}
	if !handlerSocket.Match(body) {
		t.Fatalf("%s has no SetHandler proxy:unix:…|", m[len(m)-1])
	}
	name := filepath.Base(m[len(m)-1])
	out := filepath.Join(s.Apache.Dir, name)
	conf := fmt.Sprintf("# %s with the lab's socket\n%s", m[len(m)-1], handlerSocket.ReplaceAll(body, []byte("proxy:unix:"+sock+"|")))
	if err := os.WriteFile(out, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return name, out
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// requestTimeout bounds one request; the applications answer in well
// under a second, the first request of each compiles its scripts.
const requestTimeout = 30 * time.Second

var client = &http.Client{
	Timeout: requestTimeout,
	// Redirects are answers to compare, not to follow.
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Result is what a set-up answered: the status, and for a redirect its
// Location with the set-up's own address cut ("/adminer/", not
// "http://127.0.0.1:PORT/adminer/").
type Result struct {
	Status   int
	Location string
	// Short is the body of an error answer shorter than shortBody bytes
	// (php-fpm's "File not found.\n"; Apache's error pages are longer).
	Short string
}

// shortBody is the size under which an error answer's body is kept.
const shortBody = 100

// Same reports whether r and o have the same status and Location.
func (r Result) Same(o Result) bool { return r.Status == o.Status && r.Location == o.Location }

// String returns "302 → /x", "404 \"File not found.\\n\"" or "200".
func (r Result) String() string {
	s := fmt.Sprint(r.Status)
	if r.Location != "" {
		s += " → " + r.Location
	}
	if r.Short != "" {
		s += fmt.Sprintf(" %q", r.Short)
	}
	return s
}

// Do sends r to the set-up, without cookies and without following
// redirects, and reads the whole answer.
func (s *Server) Do(t testing.TB, r Request) Result {
	t.Helper()
	method, body := "GET", ""
	if r.Method != "" {
		method = r.Method
	}
	if r.Form != nil {
		body = r.Form.Encode()
	}
	req, err := http.NewRequest(method, s.Apache.URL+r.Path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if r.Form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", s.Kind, r, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", s.Kind, r, err)
	}
	res := Result{Status: resp.StatusCode, Location: strings.TrimPrefix(resp.Header.Get("Location"), s.Apache.URL)}
	if res.Status >= 400 && len(answer) < shortBody {
		res.Short = string(answer)
	}
	return res
}
