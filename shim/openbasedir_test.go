package shim

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenBasedirAllowed pins PHP's tighten-only rule for open_basedir set
// at run time (php-src main/fopen_wrappers.c OnUpdateBaseDir and
// php_check_specific_open_basedir) on a real tree with symbolic links;
// TestIntegrationOpenBasedir runs the same kinds of values through real
// mod_php.
func TestOpenBasedirAllowed(t *testing.T) {
	tmp, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	site := filepath.Join(tmp, "site")
	for _, d := range []string{"site/sub", "site2", "outside"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"site/link":      "/",
		"site/inlink":    filepath.Join(site, "sub"),
		"site/rel":       "sub",
		"site/out":       filepath.Join(tmp, "outside"),
		"site/broken":    filepath.Join(tmp, "outside", "missing"),
		"site/relbroken": "nowhere",
	} {
		if err := os.Symlink(target, filepath.Join(tmp, link)); err != nil {
			t.Fatal(err)
		}
	}
	php, _ := exec.LookPath("php8.2")
	S := func(s string) string { return strings.ReplaceAll(s, "S", site) }
	for _, tc := range []struct {
		cur, next string
		want      bool
	}{
		{"", "/anything", true},
		{"", "", true},
		{"S", "", false},
		{"S", "S", true},
		{"S", "S/", true},
		{"S/", "S", true},
		{"S", "S/sub", true},
		{"S", "S/sub/", true},
		{"S", "S/sub/:S", true},
		{"S", "S/sub:", true},    // a trailing ':' ends the list
		{"S", "S/sub::S", false}, // an empty entry is checked, and fails
		{"S", ":S", false},
		{"S", "S/link/", false}, // link -> /: resolved, it is not within
		{"S", "S/link", false},
		{"S", "S/inlink/", true},
		{"S", "S/rel/", true},
		{"S", "S/out", false},
		{"S", "S/broken", false},   // a broken link counts as its target
		{"S", "S/relbroken", true}, // expanded to S/nowhere, which falls back on S
		{"S", "S/missing/deeper", true},
		{"S", "S2", false},      // a sibling sharing the prefix is not within
		{"S", "S/sub/..", true}, // folded: S itself
		{"S", "S/../site", true},
		{"S", "S/../site2", false},
		{"/", "../tmp", false}, // a leading ".." is refused before any check
		{"/", "./../tmp", true},
		{"S", "/etc", false},
		{"S", "/", false},
		{"S", "sub", false}, // relative to Apache's working directory, /
		{"S:/etc", "/etc/ssl", true},
		{"S::/etc", "/etc/ssl", true}, // an empty current entry holds nothing, the next one counts
		{".", "/etc", false},          // "." is the working directory, /, compared as "//"
		{"S/link", "/etc", false},     // link -> / is expanded to / and compared as "//"
		{"S/link/", "/etc", true},
		{"/", "/etc", true},
	} {
		cur, next := S(tc.cur), S(tc.next)
		if got := openBasedirAllowed(cur, next); got != tc.want {
			t.Errorf("openBasedirAllowed(%q, %q) = %v, want %v", tc.cur, tc.next, got, tc.want)
		}
		if php != "" {
			// ini_set() runs the same handler at run time, as mod_php
			// does at PHP_INI_STAGE_HTACCESS; from /, Apache's directory.
			cmd := exec.Command(php, "-n", "-d", "open_basedir="+cur, "-r", `echo ini_set("open_basedir", $argv[1]) === false ? "refused" : "set";`, next)
			cmd.Dir = "/"
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v", php, err)
			}
			if real := string(out) == "set"; real != tc.want {
				t.Errorf("PHP says %s for (%q, %q), the table %v", out, tc.cur, tc.next, tc.want)
			}
		}
	}
}

// FuzzOpenBasedir: whatever an access file proposes against whatever the
// pool holds, the decision never panics, anything goes while the pool has
// no open_basedir, and an accepted value has no empty entry, no entry
// starting with "..", and no entry outside the pool's value once resolved.
func FuzzOpenBasedir(f *testing.F) {
	f.Add("/var/www", "/var/www/site")
	f.Add("/var/www:/tmp", "/tmp/x::/etc")
	f.Add(".", "../etc")
	f.Add("/", "/proc/self/root/")
	f.Fuzz(func(t *testing.T, cur, next string) {
		ok := openBasedirAllowed(cur, next)
		if cur == "" && !ok {
			t.Fatalf("refused %q with no open_basedir", next)
		}
		if cur == "" || !ok {
			return
		}
		for _, e := range cEntries(next) {
			if e == "" || leadingDotDot(e) || !withinOpenBasedir(cur, e) {
				t.Fatalf("accepted %q against %q with entry %q", next, cur, e)
			}
		}
	})
}
