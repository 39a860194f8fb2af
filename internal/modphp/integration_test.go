package modphp_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
	"github.com/modphp-migrate/modphp-migrate/internal/phpini"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// probe prints ini_get() of the key named by ?k= as JSON (false for an
// unknown key).
const probe = `<?php echo json_encode(ini_get($_GET["k"] ?? "user_agent"));`

// dir is one directory of the test server: its .htaccess, the server
// configuration of its <Directory> section, and its AllowOverride.
type dir struct {
	htaccess string
	conf     string
	override string // "" means All
	files    []string
}

// server is Apache prefork with PHP 8's mod_php serving one directory per
// case.
type server struct {
	t    *testing.T
	a    *lab.Apache
	dirs map[string]dir
}

// startServer starts Apache prefork + mod_php (Debian's libapache2-mod-php)
// with Debian's php8.2.conf handler and the given directories.
func startServer(t *testing.T, dirs map[string]dir) *server {
	t.Helper()
	so := lab.FindBinary(t, "/usr/lib/apache2/modules/libphp8.2.so", "/usr/lib/apache2/modules/libphp*.so")
	a := lab.NewApache(t)
	var b strings.Builder
	b.WriteString(a.BaseConf(t))
	for _, m := range []string{"mpm_prefork", "authz_core", "mime", "dir"} {
		fmt.Fprintf(&b, "LoadModule %s_module %s/mod_%s.so\n", m, filepath.Dir(so), m)
	}
	fmt.Fprintf(&b, "LoadModule php_module %s\n%s", so, lab.PreforkLimits)
	b.WriteString("TypesConfig /etc/mime.types\n")
	fmt.Fprintf(&b, "DocumentRoot %s\n<Directory />\n    AllowOverride None\n    Require all denied\n</Directory>\n", a.DocRoot)
	fmt.Fprintf(&b, "<Directory %s>\n    AllowOverride All\n    Require all granted\n</Directory>\n", a.DocRoot)
	b.WriteString("<FilesMatch \".+\\.ph(?:ar|p|tml)$\">\n    SetHandler application/x-httpd-php\n</FilesMatch>\n")
	write(t, filepath.Join(a.DocRoot, "p.php"), probe)
	for name, d := range dirs {
		path := filepath.Join(a.DocRoot, name)
		if err := os.MkdirAll(path, 0o755); err != nil {
			t.Fatal(err)
		}
		if d.htaccess != "" {
			write(t, filepath.Join(path, ".htaccess"), d.htaccess)
		}
		for _, f := range append([]string{"p.php"}, d.files...) {
			write(t, filepath.Join(path, f), probe)
		}
		override := d.override
		if override == "" {
			override = "AllowOverride All"
		}
		fmt.Fprintf(&b, "<Directory %s>\n    %s\n%s\n</Directory>\n", path, override, d.conf)
	}
	a.WriteConf(t, b.String())
	a.Start(t)
	return &server{t: t, a: a, dirs: dirs}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// get requests a path and returns the status and body.
func (s *server) get(path string) (int, string) {
	s.t.Helper()
	resp, err := http.Get(s.a.URL + path)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// ini returns ini_get(key) as the script at path sees it, and the status.
func (s *server) ini(path, key string) (string, int) {
	s.t.Helper()
	code, body := s.get(path + "?k=" + key)
	if code != http.StatusOK {
		return "", code
	}
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		s.t.Fatalf("GET %s?k=%s: %q is not the probe's output: %v", path, key, body, err)
	}
	str, _ := v.(string)
	return str, code
}

// line is one php_* directive as httpd's parser reads it.
type line struct {
	kind     modphp.Kind
	name     string
	key, arg string
}

// parseLine reads the first php_* directive of text with the project's
// parser (httpd's quoting rules).
func parseLine(t *testing.T, text string) line {
	t.Helper()
	f, _ := parser.Parse("case", []byte(text), true)
	var found *line
	var walk func([]*parser.Node)
	walk = func(nodes []*parser.Node) {
		for _, n := range nodes {
			if k, ok := modphp.Directive(n.Name); ok && found == nil && n.Kind == parser.KindDirective {
				l := line{kind: k, name: n.Name}
				if len(n.Args) == 2 {
					l.key, l.arg = n.Args[0], n.Args[1]
				}
				found = &l
			}
			walk(n.Children)
		}
	}
	walk(f.Nodes)
	if found == nil {
		t.Fatalf("no php_* directive in %q", text)
	}
	return *found
}

// valueLines are php_* lines whose stored value the test reads back with
// ini_get(): quoting, none, flags, constants not evaluated, SYSTEM keys
// that mod_php ignores in php_value.
var valueLines = []string{
	`php_value user_agent "a b c"`,
	`php_value user_agent 'single q'`,
	`php_value user_agent "semi;colon"`,
	`php_value user_agent "it's \"dq\""`,
	`php_value user_agent NONE`,
	`php_value user_agent none`,
	`php_value user_agent nonE2`,
	`php_value user_agent true`,
	`php_value user_agent On`,
	`php_value user_agent "${x}"`,
	`php_value user_agent "a|b&c~!"`,
	`php_value user_agent E_ALL`,
	`php_value error_reporting "E_ALL & ~E_NOTICE"`,
	`php_value memory_limit -1`,
	`php_value include_path ".:/srv/lib"`,
	`php_flag display_errors off`,
	`php_flag display_errors yes`,
	`php_flag display_errors true`,
	`php_flag display_errors 1`,
	`php_flag display_errors ON`,
	`php_flag display_errors 2`,
	`php_flag user_agent on`,
	`php_value display_errors stderr`,
	`php_value expose_php 1`,
	`php_flag allow_url_fopen off`,
	`php_flag session.upload_progress.enabled on`,
	`php_value session.upload_progress.name probe`,
}

// TestIntegrationModPHP runs the package's answers through real Apache
// prefork + mod_php 8: every expectation below is computed by the
// package and compared with what PHP reports or httpd answers.
func TestIntegrationModPHP(t *testing.T) {
	dirs := map[string]dir{}
	for i, l := range valueLines {
		dirs[fmt.Sprintf("v%d", i)] = dir{htaccess: l + "\n"}
		dirs[fmt.Sprintf("c%d", i)] = dir{conf: "    " + l}
		admin := strings.Replace(strings.Replace(l, "php_value", "php_admin_value", 1), "php_flag", "php_admin_flag", 1)
		dirs[fmt.Sprintf("a%d", i)] = dir{conf: "    " + admin}
	}
	for i, c := range mergeCases {
		dirs[fmt.Sprintf("m%d", i)] = dir{conf: "    " + c.outer, htaccess: c.inner + "\n"}
	}
	for i, l := range engineLines {
		dirs[fmt.Sprintf("e%d", i)] = dir{htaccess: l + "\n"}
	}
	for i, g := range guardNames {
		dirs[fmt.Sprintf("g%d", i)] = dir{htaccess: "<IfModule " + g + ">\nphp_value user_agent guarded\n</IfModule>\n"}
	}
	for i, f := range filesSections {
		section := f + "\nphp_value user_agent hit\n</" + sectionName(f) + ">\n"
		dirs[fmt.Sprintf("f%d", i)] = dir{htaccess: section, files: fileNames}
		dirs[fmt.Sprintf("sf%d", i)] = dir{conf: section, files: fileNames}
	}
	for i, c := range accessCases {
		dirs[fmt.Sprintf("o%d", i)] = dir{override: c.override, htaccess: c.line + "\n"}
	}
	s := startServer(t, dirs)
	t.Run("values", func(t *testing.T) { s.t = t; testValues(t, s) })
	t.Run("merge", func(t *testing.T) { s.t = t; testMerge(t, s) })
	t.Run("engine", func(t *testing.T) { s.t = t; testEngine(t, s) })
	t.Run("guards", func(t *testing.T) { s.t = t; testGuards(t, s) })
	t.Run("files", func(t *testing.T) { s.t = t; testFiles(t, s) })
	t.Run("access", func(t *testing.T) { s.t = t; testAccess(t, s) })
}

// want is what ini_get() returns for l's key after l, read from a scope
// that sets it with status kind, given the baseline.
func want(l line, baseline string) string {
	mode, known := phpini.Lookup(l.key)
	if !modphp.Applies(l.kind, mode, known) {
		return baseline
	}
	return modphp.Stored(l.kind, l.arg)
}

func testValues(t *testing.T, s *server) {
	for i, text := range valueLines {
		l := parseLine(t, text)
		base, _ := s.ini("/p.php", l.key)
		for _, where := range []string{"v", "c", "a"} {
			d := fmt.Sprintf("%s%d", where, i)
			ll := parseLine(t, s.dirs[d].htaccess+s.dirs[d].conf)
			got, code := s.ini("/"+d+"/p.php", l.key)
			if w := want(ll, base); code != http.StatusOK || got != w {
				t.Errorf("%s (%s): ini_get(%s) = %q (status %d), package says %q", strings.TrimSpace(s.dirs[d].htaccess+s.dirs[d].conf), d, l.key, got, code, w)
			}
		}
		checkINILiteral(t, l.key, modphp.Stored(l.kind, l.arg))
	}
	for _, v := range []string{"", "On", "yes", "null", "E_ALL", "a'b", "''", `"q"`, "${HOME}", "$x", "x;y", "1.5", "0x10", "64M",
		"/tmp", ".:/usr/share/php", "-1", "+1", "1e3", "-", "--1", "a=b", "[x]", "{x}", `\`, `a\'b`, " lead", "trail ", "~1", "!1", "(1)", "1|2"} {
		checkINILiteral(t, "user_agent", v)
	}
}

// checkINILiteral writes key = INILiteral(v), and key = INIQuoted(v),
// into an INI file and checks that PHP's INI scanner (the one of php.ini,
// .user.ini and php-fpm pools) gives back exactly v.
func checkINILiteral(t *testing.T, key, v string) {
	t.Helper()
	php := lab.FindBinary(t, "php", "/usr/bin/php")
	for name, write1 := range map[string]func(string) (string, error){"INILiteral": modphp.INILiteral, "INIQuoted": modphp.INIQuoted} {
		lit, err := write1(v)
		if err != nil {
			t.Errorf("%s(%q): %v", name, v, err)
			continue
		}
		ini := filepath.Join(t.TempDir(), "php.ini")
		write(t, ini, key+" = "+lit+"\n")
		out, err := exec.Command(php, "-n", "-c", ini, "-r", `echo json_encode(ini_get($argv[1]));`, key).Output()
		if err != nil {
			t.Fatalf("php: %v", err)
		}
		var got string
		if err := json.Unmarshal(out, &got); err != nil || got != v {
			t.Errorf("%s: %s = %s reads back as %s, want %q", name, key, lit, out, v)
		}
	}
}

// mergeCases set one key in the server configuration and again in the
// .htaccess of the same directory.
var mergeCases = []struct{ outer, inner string }{
	{"php_value memory_limit 50M", "php_value memory_limit 60M"},
	{"php_admin_value memory_limit 200M", "php_value memory_limit 77M"},
	{"php_admin_flag display_errors on", "php_flag display_errors off"},
	{"php_flag display_errors on", "php_flag display_errors off"},
}

func testMerge(t *testing.T, s *server) {
	for i, c := range mergeCases {
		outer, inner := parseLine(t, c.outer), parseLine(t, c.inner)
		w := modphp.Stored(outer.kind, outer.arg)
		if modphp.Overrides(outer.kind, inner.kind) {
			w = modphp.Stored(inner.kind, inner.arg)
		}
		if got, code := s.ini(fmt.Sprintf("/m%d/p.php", i), outer.key); got != w {
			t.Errorf("%s then .htaccess %s: ini_get = %q (status %d), package says %q", c.outer, c.inner, got, code, w)
		}
	}
}

// engineLines switch the engine in a .htaccess.
var engineLines = []string{
	"php_flag engine off", "php_flag engine on", "php_flag engine yes", "php_flag engine 1",
	"php_value engine off", "php_value engine 0", "php_value engine none", "php_value engine foo",
	"php_value engine yes", "php_value engine true", "php_value engine 2", "php_value engine On",
	"php_value engine -1", "php_value Engine off",
}

func testEngine(t *testing.T, s *server) {
	for i, text := range engineLines {
		l := parseLine(t, text)
		code, body := s.get(fmt.Sprintf("/e%d/p.php", i))
		off := strings.HasPrefix(body, "<?php")
		if code != http.StatusOK || off != modphp.EngineOff(l.kind, l.key, l.arg) {
			t.Errorf("%s: status %d, source sent %v; package says engine off %v", text, code, off, !off)
		}
	}
}

// guardNames are <IfModule> arguments seen around php_* lines.
var guardNames = []string{
	"mod_php.c", "php_module", "mod_php8.c", "php8_module", "mod_php7.c", "php7_module", "mod_php5.c",
	"php5_module", "mod_php8.2.c", "libphp8.2.so", "sapi_apache2.c", "MOD_PHP.C", "Php_Module",
	"!mod_php.c", "!php_module", "!mod_php8.c", "!php7_module",
}

func testGuards(t *testing.T, s *server) {
	for i, g := range guardNames {
		name, neg, _ := modphp.Guard(g)
		got, code := s.ini(fmt.Sprintf("/g%d/p.php", i), "user_agent")
		applied := got == "guarded"
		if code != http.StatusOK || applied != (modphp.GuardMatches(name) != neg) {
			t.Errorf("<IfModule %s>: status %d, body applied %v; package says %v", g, code, applied, !applied)
		}
	}
	for _, g := range guardNames[:11] {
		if name, _, ok := modphp.Guard(g); !ok {
			t.Errorf("Guard(%q) does not see a PHP guard name (%s)", g, name)
		}
	}
}

// filesSections open a <Files>/<FilesMatch> section in a .htaccess;
// fileNames are the scripts requested in each of those directories.
var (
	filesSections = []string{
		`<Files x.php>`, `<Files "*.php">`, `<Files "[!x]*.php">`, `<Files "[^x]*.php">`, `<Files ?.php>`,
		`<Files "\x.php">`, `<Files "\x*">`, `<Files "x\*">`, `<Files X*>`, `<Files .h*>`, `<Files "[a-x]?.php">`, `<Files "[]x]*">`, `<Files ~ "^x">`,
		`<FilesMatch "^x">`, `<FilesMatch "\.php$">`, `<FilesMatch "(?i)^X">`, `<FilesMatch "^[xy]\.php$">`,
		`<Files X.PHP>`, `<Files "x.php/extra">`,
		`<FilesMatch "(?<!x)\.php$">`, `<FilesMatch "(?<!\.h)\.php$">`, `<FilesMatch "(?<=x)y\.php$">`, `<Files ~ "(?<=X)a\.php$">`,
	}
	fileNames = []string{"x.php", "y.php", "xy.php", ".h.php", "Xa.php", "]a.php"}
)

func sectionName(open string) string {
	return strings.Fields(strings.TrimPrefix(open, "<"))[0]
}

func testFiles(t *testing.T, s *server) {
	for i, open := range filesSections {
		f, _ := parser.Parse("case", []byte(open+"\n</"+sectionName(open)+">\n"), true)
		sec := f.Nodes[0]
		m, err := modphp.CompileFiles(sec.Name, sec.Args)
		if err != nil {
			t.Errorf("%s: %v", open, err)
			continue
		}
		for _, where := range []string{"f", "sf"} { // .htaccess, <Directory>
			for _, name := range append(fileNames, "x.php/extra") {
				base := strings.TrimSuffix(name, "/extra")
				got, code := s.ini(fmt.Sprintf("/%s%d/%s", where, i, name), "user_agent")
				if hit := got == "hit"; code != http.StatusOK || hit != m.Match(base) {
					t.Errorf("%s (%s%d) against %s: status %d, applied %v; package says %v", open, where, i, name, code, hit, m.Match(base))
				}
			}
		}
	}
}

// accessCases put one php_* line in a .htaccess under an AllowOverride.
var accessCases = []struct {
	override string
	o        modphp.Override
	line     string
}{
	{"AllowOverride All", modphp.Override{Options: true}, "php_value user_agent ok"},
	{"AllowOverride Options", modphp.Override{Options: true}, "php_value user_agent ok"},
	{"AllowOverride Options=Indexes", modphp.Override{Options: true}, "php_flag user_agent on"},
	{"AllowOverride FileInfo", modphp.Override{}, "php_value user_agent ok"},
	{"AllowOverride FileInfo", modphp.Override{}, "<IfModule mod_php.c>\nphp_flag user_agent on\n</IfModule>"},
	{"AllowOverride None\n    AllowOverrideList php_value", modphp.Override{Listed: true}, "php_value user_agent ok"},
	{"AllowOverride FileInfo\n    AllowOverrideList php_flag", modphp.Override{}, "php_value user_agent ok"},
	{"AllowOverride FileInfo Nonfatal=Override", modphp.Override{Nonfatal: true}, "php_value user_agent ok"},
	{"AllowOverride All", modphp.Override{Options: true}, "php_admin_value user_agent ok"},
	{"AllowOverride All", modphp.Override{Options: true}, "<IfModule mod_php.c>\nphp_admin_flag user_agent on\n</IfModule>"},
	{"AllowOverride None\n    AllowOverrideList php_admin_value", modphp.Override{Listed: true}, "php_admin_value user_agent ok"},
	{"AllowOverride All Nonfatal=All", modphp.Override{Options: true, Nonfatal: true}, "php_admin_value user_agent ok"},
	{"AllowOverride FileInfo Nonfatal=Override", modphp.Override{Nonfatal: true}, "php_admin_flag user_agent on"},
	{"AllowOverride None\n    AllowOverrideList php_admin_value", modphp.Override{Listed: true}, "php_admin_value session.upload_progress.name listed"},
	{"AllowOverride None\n    AllowOverrideList php_admin_value", modphp.Override{Listed: true}, "php_admin_value memory_limit 71M"},
}

func testAccess(t *testing.T, s *server) {
	for i, c := range accessCases {
		l := parseLine(t, c.line)
		v := modphp.InAccessFile(l.kind, c.o)
		base, _ := s.ini("/p.php", l.key)
		got, code := s.ini(fmt.Sprintf("/o%d/p.php", i), l.key)
		mode, known := phpini.Lookup(l.key)
		var ok bool
		switch {
		case v == modphp.Accepted && modphp.AppliesInAccessFile(l.kind, mode, known):
			ok = code == http.StatusOK && got == modphp.Stored(l.kind, l.arg)
		case v == modphp.Accepted, v == modphp.Skipped:
			ok = code == http.StatusOK && got == base
		case v == modphp.Refused:
			ok = code == http.StatusInternalServerError &&
				strings.Contains(s.a.ErrorLogText(), fmt.Sprintf("/o%d/.htaccess: %s", i, modphp.NotAllowedError(l.name)))
		}
		if !ok {
			t.Errorf("%s with %q: status %d, ini_get %q; package says %s", strings.ReplaceAll(c.override, "\n    ", "; "), c.line, code, got, v)
		}
	}
}
