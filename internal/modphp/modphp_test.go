package modphp

import (
	"errors"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/phpini"
)

// The cases here restate, without servers, answers TestIntegrationModPHP
// checks against real mod_php; they keep the package honest where Apache
// is not installed.

func TestDirective(t *testing.T) {
	for _, c := range []struct {
		name        string
		k           Kind
		admin, flag bool
	}{
		{"php_value", Value, false, false}, {"PHP_Flag", Flag, false, true},
		{"php_admin_value", AdminValue, true, false}, {"php_admin_FLAG", AdminFlag, true, true},
	} {
		k, ok := Directive(c.name)
		if !ok || k != c.k || k.Admin() != c.admin || k.IsFlag() != c.flag {
			t.Errorf("Directive(%q) = %v %v admin %v flag %v", c.name, k, ok, k.Admin(), k.IsFlag())
		}
	}
	if _, ok := Directive("php_values"); ok {
		t.Error("php_values is not a mod_php directive")
	}
	if got := AdminFlag.ArityError(); got != "php_admin_flag takes two arguments, PHP Flag Modifier (Admin)" {
		t.Errorf("ArityError = %q", got)
	}
}

func TestStored(t *testing.T) {
	for _, c := range []struct {
		k        Kind
		arg, out string
	}{
		{Flag, "On", "1"}, {Flag, "ON", "1"}, {Flag, "1", "1"}, {Flag, "yes", "0"}, {Flag, "true", "0"},
		{Flag, "2", "0"}, {AdminFlag, "on", "1"}, {Value, "none", ""}, {Value, "NONE", ""}, {Value, "nonE2", "nonE2"},
		{Value, "true", "true"}, {Value, "E_ALL & ~E_NOTICE", "E_ALL & ~E_NOTICE"}, {AdminValue, "None", ""},
	} {
		if got := Stored(c.k, c.arg); got != c.out {
			t.Errorf("Stored(%v, %q) = %q, want %q", c.k, c.arg, got, c.out)
		}
	}
}

func TestApplyAndMerge(t *testing.T) {
	sys, _ := phpini.Lookup("expose_php")
	perdir, _ := phpini.Lookup("upload_max_filesize")
	perdirOnly, _ := phpini.Lookup("session.upload_progress.name")
	if Applies(Value, sys, true) || !Applies(AdminValue, sys, true) || !Applies(Flag, perdir, true) || Applies(Value, phpini.ModeAll, false) ||
		!Applies(AdminValue, perdirOnly, true) {
		t.Error("Applies: php_value must skip PHP_INI_SYSTEM keys and unknown keys, php_admin_value set every known key")
	}
	if AppliesInAccessFile(AdminValue, perdirOnly, true) || !AppliesInAccessFile(AdminFlag, sys, true) ||
		!AppliesInAccessFile(Value, perdir, true) || AppliesInAccessFile(Value, sys, true) || AppliesInAccessFile(AdminValue, phpini.ModeAll, false) {
		t.Error("AppliesInAccessFile: every kind needs its own status in the mask")
	}
	if Overrides(AdminValue, Value) || !Overrides(Value, Value) || !Overrides(Value, AdminFlag) {
		t.Error("Overrides: only a php_admin_* value resists a deeper php_value")
	}
}

func TestEngineOff(t *testing.T) {
	for _, c := range []struct {
		k   Kind
		key string
		arg string
		off bool
	}{
		{Flag, "engine", "off", true}, {Flag, "engine", "yes", true}, {Flag, "engine", "On", false},
		{Value, "engine", "foo", true}, {Value, "engine", "yes", false}, {Value, "engine", "2", false},
		{Value, "engine", "-1", false}, {Value, "engine", "none", true}, {Value, "Engine", "off", false},
	} {
		if got := EngineOff(c.k, c.key, c.arg); got != c.off {
			t.Errorf("EngineOff(%v, %s, %q) = %v", c.k, c.key, c.arg, got)
		}
	}
}

func TestGuards(t *testing.T) {
	for _, n := range []string{"mod_php.c", "php_module"} {
		if !GuardMatches(n) || !IsGuardName(n) {
			t.Errorf("%s matches PHP 8's module", n)
		}
	}
	for _, n := range []string{"mod_php8.c", "php8_module", "mod_php7.c", "libphp8.2.so", "sapi_apache2.c", "mod_php8.2.c"} {
		if GuardMatches(n) || !IsGuardName(n) {
			t.Errorf("%s names PHP but never matches PHP 8's module", n)
		}
	}
	if name, neg, ok := Guard("!mod_php8.c"); name != "mod_php8.c" || !neg || !ok {
		t.Errorf("Guard(!mod_php8.c) = %q %v %v", name, neg, ok)
	}
	if g := GuardNames("php7_module"); !g["php7_module"] || !g["mod_php7.c"] || len(g) != 2 {
		t.Errorf("GuardNames(php7_module) = %v", g)
	}
	if g := GuardNames(""); !g["php_module"] || !g["mod_php.c"] {
		t.Errorf("GuardNames() = %v", g)
	}
	if !IsModule("php_module", "") || !IsModule("x_module", "/usr/lib/libphp8.2.so") || IsModule("phpx_module", "mod_x.so") {
		t.Error("IsModule")
	}
}

func TestGuard(t *testing.T) {
	for _, tc := range []struct {
		arg     string
		name    string
		negated bool
		ok      bool
	}{
		{"mod_php.c", "mod_php.c", false, true},
		{"!mod_php8.c", "mod_php8.c", true, true},
		{"php7_module", "php7_module", false, true},
		{"mod_php8.2.c", "mod_php8.2.c", false, true},
		{"sapi_apache2.c", "sapi_apache2.c", false, true},
		{"mod_rewrite.c", "mod_rewrite.c", false, false},
		{"!proxy_fcgi_module", "proxy_fcgi_module", true, false},
	} {
		name, neg, ok := Guard(tc.arg)
		if name != tc.name || neg != tc.negated || ok != tc.ok {
			t.Errorf("Guard(%q) = %q, %v, %v", tc.arg, name, neg, ok)
		}
	}
}

func TestFiles(t *testing.T) {
	for _, c := range []struct {
		sec  string
		args []string
		yes  []string
		no   []string
	}{
		{"Files", []string{"x.php"}, []string{"x.php"}, []string{"X.php", "xx.php"}},
		{"Files", []string{"[!x]*.php"}, []string{"y.php", ".h.php"}, []string{"x.php"}},
		{"Files", []string{"[^x]*.php"}, []string{"y.php"}, []string{"xy.php"}},
		{"Files", []string{`\x.php`}, []string{`\x.php`}, []string{"x.php"}},
		{"Files", []string{`\x*`}, []string{"x.php"}, []string{`\x.php`}},
		{"Files", []string{"[]x]*"}, []string{"]a.php", "x.php"}, []string{"y.php"}},
		{"Files", []string{"[a-x]?.php"}, []string{"xy.php"}, []string{"y.php", "]a.php"}},
		{"Files", []string{"[ab"}, []string{"[ab"}, []string{"a"}},
		{"Files", []string{`x\*`}, []string{`x\*`}, []string{"x*", "xy"}},
		{"Files", []string{"*"}, []string{".htaccess", ""}, []string{"a/b"}},
		{"Files", []string{"~", "^x"}, []string{"xy.php"}, []string{"yx.php"}},
		{"FilesMatch", []string{`\.php$`}, []string{"a.php"}, []string{"a.phps"}},
		// Literal look-behinds before a literal end (PCRE's answers:
		// TestIntegrationModPHP, TestLookbehindAgainstPCRE).
		{"FilesMatch", []string{`(?<!\.min)\.js$`}, []string{"a.js", ".js", "min.js", "a.mjn.js"}, []string{"a.min.js", ".min.js", "a.js.map", "a.jsx"}},
		{"FilesMatch", []string{`(?<=x)y\.php$`}, []string{"xy.php", "axy.php"}, []string{"y.php", "xy.phps", "xyy.php"}},
		{"Files", []string{"~", `(?<!\.)$`}, []string{"a", "a.php", ""}, []string{"a."}},
		{"FilesMatch", []string{`(?<![\\])x$`}, nil, nil},
	} {
		if c.yes == nil && c.no == nil {
			if _, err := CompileFiles(c.sec, c.args); err == nil {
				t.Errorf("%s %v: a look-behind that is not a literal must stay an error", c.sec, c.args)
			}
			continue
		}
		m, err := CompileFiles(c.sec, c.args)
		if err != nil {
			t.Fatalf("%s %v: %v", c.sec, c.args, err)
		}
		for _, n := range c.yes {
			if !m.Match(n) {
				t.Errorf("<%s %s> does not match %q", c.sec, strings.Join(c.args, " "), n)
			}
		}
		for _, n := range c.no {
			if m.Match(n) {
				t.Errorf("<%s %s> matches %q", c.sec, strings.Join(c.args, " "), n)
			}
		}
	}
	if _, err := CompileFiles("FilesMatch", []string{`(a)\1`}); err == nil {
		t.Error("a back-reference cannot be evaluated and must be an error")
	}
	if _, err := CompileFiles("Files", []string{"a", "b"}); err == nil {
		t.Error("<Files a b> must be an error")
	}
	a, _ := CompileFiles("Files", []string{"*.php"})
	b, _ := CompileFiles("files", []string{"*.php"})
	re, _ := CompileFiles("FilesMatch", []string{"*.php"[1:]})
	exact, _ := CompileFiles("Files", []string{".php"})
	if !a.Same(b) || a.Same(re) || re.Same(exact) || a.Same(Files{}) {
		t.Error("Same must compare the pattern and how it is tested")
	}
	if re.Regexp() == nil || re.Regexp().String() != ".php" || a.Regexp() != nil {
		t.Error("Regexp returns the expression of regex sections only")
	}
	if !(Files{}).Match("anything") {
		t.Error("the zero Files matches every name")
	}
}

func TestINILiteral(t *testing.T) {
	for v, want := range map[string]string{
		"64M": "64M", "/tmp": "/tmp", "-1": "-1", "": `""`, "On": "'On'", "a'b": `'a'"'"'b'`,
		"E_ALL & ~E_NOTICE": "'E_ALL & ~E_NOTICE'", "${HOME}": "'${HOME}'", "'": `"'"`,
	} {
		if got, err := INILiteral(v); err != nil || got != want {
			t.Errorf("INILiteral(%q) = %s, %v; want %s", v, got, err, want)
		}
	}
	if _, err := INILiteral("a\nb"); !errors.Is(err, ErrINIUnwritable) {
		t.Errorf("a newline cannot be written on one INI line: %v", err)
	}
}

func TestINIQuoted(t *testing.T) {
	for v, want := range map[string]string{
		"64M": "'64M'", "-1": "'-1'", "": `""`, "On": "'On'", "a'b": `'a'"'"'b'`, "''": `"'""'"`,
		"${HOME};x": "'${HOME};x'",
	} {
		if got, err := INIQuoted(v); err != nil || got != want {
			t.Errorf("INIQuoted(%q) = %s, %v; want %s", v, got, err, want)
		}
	}
	for _, v := range []string{"a\rb", "a\x00", "\n"} {
		if got, err := INIQuoted(v); !errors.Is(err, ErrINIUnwritable) {
			t.Errorf("INIQuoted(%q) = %q, %v; want ErrINIUnwritable", v, got, err)
		}
	}
}

func TestInAccessFile(t *testing.T) {
	for _, c := range []struct {
		k    Kind
		o    Override
		want Verdict
	}{
		{Value, Override{Options: true}, Accepted}, {Flag, Override{}, Refused}, {Value, Override{Listed: true}, Accepted},
		{Value, Override{Nonfatal: true}, Skipped}, {AdminValue, Override{Options: true}, Refused},
		{AdminFlag, Override{Listed: true}, Accepted}, {AdminValue, Override{Options: true, Nonfatal: true}, Skipped},
	} {
		if got := InAccessFile(c.k, c.o); got != c.want {
			t.Errorf("InAccessFile(%v, %+v) = %v, want %v", c.k, c.o, got, c.want)
		}
	}
}

// FuzzFiles checks that any section pattern compiles or fails cleanly and
// that matching never panics and agrees with itself.
func FuzzFiles(f *testing.F) {
	for _, s := range []string{"x.php", "[!x]*.php", `\x.php`, "[]x]*", "[ab", "*a*a*a*b", "[a-\\]]?"} {
		f.Add("Files", s, "x.php")
	}
	f.Add("FilesMatch", `\.ph(?:ar|p|tml)$`, "a.phtml")
	f.Add("FilesMatch", `(?<!\.min)\.js$`, "a.min.js")
	f.Add("FilesMatch", `(?<=\(x\))\.php$`, "(x).php")
	f.Fuzz(func(t *testing.T, sec, pat, name string) {
		m, err := CompileFiles(sec, []string{pat})
		if err != nil {
			return
		}
		if m.Match(name) != m.Match(name) {
			t.Fatal("Match is not deterministic")
		}
		if m.test == testExact && m.Match(name) != (pat == name) {
			t.Fatalf("exact pattern %q against %q", pat, name)
		}
	})
}

// FuzzINILiteral checks that every value without a line break is written
// by INILiteral and INIQuoted, that the result never holds one, and that
// INIQuoted's always starts with a quote.
func FuzzINILiteral(f *testing.F) {
	for _, s := range []string{"", "64M", "a'b", "E_ALL", "${x}", `"`, "On"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		lit, err := INILiteral(v)
		if strings.ContainsAny(v, "\n\r\x00") {
			if err == nil {
				t.Fatalf("%q written as %q", v, lit)
			}
			return
		}
		if err != nil || strings.ContainsAny(lit, "\n\r\x00") || lit == "" {
			t.Fatalf("INILiteral(%q) = %q, %v", v, lit, err)
		}
		q, err := INIQuoted(v)
		if err != nil || strings.ContainsAny(q, "\n\r\x00") || !strings.HasPrefix(q, "'") && !strings.HasPrefix(q, `"`) {
			t.Fatalf("INIQuoted(%q) = %q, %v", v, q, err)
		}
	})
}

func TestProtection(t *testing.T) {
	for _, c := range []struct {
		key, stored string
		want        bool
	}{
		{"open_basedir", "/var/www", true},
		{"Disable_Functions", "exec", true},
		{"upload_tmp_dir", "/var/lib/x/tmp", true},
		{"engine", "0", true},
		{"engine", "1", false},
		{"allow_url_include", "0", true},
		{"allow_url_include", "1", false},
		{"memory_limit", "1G", false},
		{"display_errors", "0", false},
	} {
		if _, got := Protection(c.key, c.stored); got != c.want {
			t.Errorf("Protection(%q, %q) = %v, want %v", c.key, c.stored, got, c.want)
		}
	}
}
