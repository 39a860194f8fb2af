package phpini

import (
	"bytes"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestLookup pins values PHP 8.2 reports from ini_get_all(null, true), and the
// behaviour observed for them under mod_php (docs/behaviour.md#b-modphp-system): memory_limit and
// upload_max_filesize applied from .htaccess, expose_php and allow_url_fopen
// silently ignored.
func TestLookup(t *testing.T) {
	tests := []struct {
		name       string
		mode       Mode
		perDir     bool
		systemOnly bool
		str        string
		sapi       string
	}{
		{"memory_limit", ModeAll, true, false, "PHP_INI_ALL", ""},
		{"display_errors", ModeAll, true, false, "PHP_INI_ALL", ""},
		{"include_path", ModeAll, true, false, "PHP_INI_ALL", ""},
		{"open_basedir", ModeAll, true, false, "PHP_INI_ALL", ""},
		{"upload_max_filesize", ModePerDir | ModeSystem, true, false, "PHP_INI_PERDIR|PHP_INI_SYSTEM", ""},
		{"post_max_size", ModePerDir | ModeSystem, true, false, "PHP_INI_PERDIR|PHP_INI_SYSTEM", ""},
		{"auto_prepend_file", ModePerDir | ModeSystem, true, false, "PHP_INI_PERDIR|PHP_INI_SYSTEM", ""},
		{"short_open_tag", ModePerDir | ModeSystem, true, false, "PHP_INI_PERDIR|PHP_INI_SYSTEM", ""},
		// Observed under mod_php: php_value max_file_uploads 7 gave 7 (§3a).
		{"max_file_uploads", ModePerDir | ModeSystem, true, false, "PHP_INI_PERDIR|PHP_INI_SYSTEM", ""},
		{"session.auto_start", ModePerDir, true, false, "PHP_INI_PERDIR", ""},
		{"expose_php", ModeSystem, false, true, "PHP_INI_SYSTEM", ""},
		{"allow_url_fopen", ModeSystem, false, true, "PHP_INI_SYSTEM", ""},
		{"allow_url_include", ModeSystem, false, true, "PHP_INI_SYSTEM", ""},
		{"disable_functions", ModeSystem, false, true, "PHP_INI_SYSTEM", ""},
		{"opcache.enable", ModeAll, true, false, "PHP_INI_ALL", ""},
		{"engine", ModeAll, true, false, "PHP_INI_ALL", "apache2handler"},
		{"xbithack", ModeAll, true, false, "PHP_INI_ALL", "apache2handler"},
		{"last_modified", ModeAll, true, false, "PHP_INI_ALL", "apache2handler"},
		{"cgi.fix_pathinfo", ModeSystem, false, true, "PHP_INI_SYSTEM", "fpm-fcgi"},
		{"cgi.rfc2616_headers", ModeAll, true, false, "PHP_INI_ALL", "fpm-fcgi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := Lookup(tt.name)
			if !ok {
				t.Fatalf("Lookup(%q) not found", tt.name)
			}
			if m != tt.mode {
				t.Errorf("Lookup(%q) = %d, want %d", tt.name, m, tt.mode)
			}
			if got := m.PerDir(); got != tt.perDir {
				t.Errorf("PerDir() = %v, want %v", got, tt.perDir)
			}
			if got := m.SystemOnly(); got != tt.systemOnly {
				t.Errorf("SystemOnly() = %v, want %v", got, tt.systemOnly)
			}
			if got := m.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := SAPI(tt.name); got != tt.sapi {
				t.Errorf("SAPI(%q) = %q, want %q", tt.name, got, tt.sapi)
			}
		})
	}
}

func TestLookupUnknown(t *testing.T) {
	for _, name := range []string{"", "no_such.key", "MEMORY_LIMIT", "child_terminate", "cli_server.color"} {
		if m, ok := Lookup(name); ok {
			t.Errorf("Lookup(%q) = %v, true; want not found", name, m)
		}
	}
}

func TestModeString(t *testing.T) {
	for m, want := range map[Mode]string{
		ModeUser:              "PHP_INI_USER",
		ModeUser | ModeSystem: "PHP_INI_USER|PHP_INI_SYSTEM",
		0:                     "Mode(0)",
		8:                     "Mode(8)",
		ModeAll | 8:           "Mode(15)",
		ModePerDir | ModeUser: "PHP_INI_USER|PHP_INI_PERDIR",
	} {
		if got := m.String(); got != want {
			t.Errorf("Mode(%d).String() = %q, want %q", m, got, want)
		}
	}
}

func TestTableSortedAndUnique(t *testing.T) {
	names := Names()
	if len(names) < 200 {
		t.Fatalf("only %d directives; the generator lost most of ini_get_all()", len(names))
	}
	if !slices.IsSorted(names) {
		t.Fatal("modes is not sorted; Lookup's binary search would miss entries")
	}
	for i := 1; i < len(names); i++ {
		if names[i] == names[i-1] {
			t.Errorf("duplicate directive %q", names[i])
		}
	}
	for _, e := range modes {
		if _, ok := Lookup(e.name); !ok {
			t.Errorf("Lookup(%q) misses a table entry", e.name)
		}
	}
}

// fpmPHPIni is the php.ini the table is generated with (see doc.go).
const fpmPHPIni = "/etc/php/8.2/fpm/php.ini"

// requireReal skips the test when a real peer is missing, unless
// MODPHP_MIGRATE_REAL=1 demands it.
func requireReal(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("MODPHP_MIGRATE_REAL") == "1" {
		t.Fatalf("%s is missing and MODPHP_MIGRATE_REAL=1", what)
	}
	t.Skipf("%s is missing", what)
}

// TestGeneratedFileIsCurrent reruns gen/gen.php with the installed php-cli
// and compares its output with modes_gen.go byte for byte.
func TestGeneratedFileIsCurrent(t *testing.T) {
	php, err := exec.LookPath("php")
	if err != nil {
		requireReal(t, "php")
	}
	if _, err := os.Stat(fpmPHPIni); err != nil {
		requireReal(t, fpmPHPIni)
	}
	cmd := exec.Command(php, "-c", fpmPHPIni, "gen/gen.php")
	cmd.Env = append(os.Environ(), "PHP_INI_SCAN_DIR=/etc/php/8.2/fpm/conf.d")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("php gen/gen.php: %v\n%s", err, stderr.String())
	}
	have, err := os.ReadFile("modes_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, have) {
		t.Errorf("modes_gen.go is stale for the installed PHP; run go generate ./internal/phpini\n%s", firstDiff(string(have), string(out)))
	}
}

// TestFPMDirectivesCovered checks the table against the directive names
// php-fpm itself lists in php-fpm -i, so the SAPI-only rows in gen.php cannot
// drift from the real fpm build.
func TestFPMDirectivesCovered(t *testing.T) {
	fpm, err := exec.LookPath("php-fpm8.2")
	if err != nil {
		if fpm, err = exec.LookPath("/usr/sbin/php-fpm8.2"); err != nil {
			requireReal(t, "php-fpm8.2")
		}
	}
	out, err := exec.Command(fpm, "-c", fpmPHPIni, "-i").Output()
	if err != nil {
		t.Fatalf("php-fpm -i: %v", err)
	}
	n := 0
	for line := range strings.Lines(string(out)) {
		// Directive rows are "name => local value => master value".
		f := strings.SplitN(line, " => ", 3)
		if len(f) != 3 || f[0] == "Directive" || strings.ContainsAny(f[0], " \t") {
			continue
		}
		n++
		if _, ok := Lookup(f[0]); !ok {
			t.Errorf("php-fpm registers %q but the table lacks it", f[0])
		}
	}
	if n < 200 {
		t.Fatalf("parsed only %d directives from php-fpm -i", n)
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n  file: " + x + "\n  php:  " + y
		}
	}
	return ""
}
