package shim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// TestResolverScenarios replays txtar scenarios: files under www/ (and an
// optional apache2.conf with {{ROOT}} for the scenario directory), and a
// "want" file with one line per request:
//
//	/dir/script.php key="value" key2="value2"   settings, sorted by key
//	/dir/script.php -                            no settings
//	/dir/script.php engine-off
//	/dir/script.php error 500 www/dir/.htaccess:3:1: message
//
// Each line is checked exactly, so both a missing and an unexpected
// setting fail.
func TestResolverScenarios(t *testing.T) {
	files, _ := filepath.Glob("testdata/resolver/*.txtar")
	if len(files) == 0 {
		t.Fatal("no scenarios")
	}
	t.Setenv("MODPHP_SHIM_TEST_VAR", "/from/env")
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var want string
			conf := ""
			for _, af := range ar.Files {
				if af.Name == "want" {
					want = string(af.Data)
					continue
				}
				p := filepath.Join(dir, af.Name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				data := strings.ReplaceAll(string(af.Data), "{{ROOT}}", dir)
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
				if af.Name == "apache2.conf" {
					conf = p
				}
			}
			r, err := NewResolver(nil, conf)
			if err != nil {
				t.Fatal(err)
			}
			docRoot := filepath.Join(dir, "www")
			for _, line := range strings.Split(strings.TrimSpace(want), "\n") {
				script, exp, _ := strings.Cut(line, " ")
				// Twice: the second run is served from the cache.
				for pass := range 2 {
					got := describe(r.Resolve(Request{DocRoot: docRoot, Script: docRoot + script, URI: script}))
					got = strings.ReplaceAll(got, dir+"/", "")
					if got != exp {
						t.Errorf("%s (pass %d):\n got %s\nwant %s", script, pass, got, exp)
					}
				}
			}
		})
	}
}

func describe(res *Resolution, err error) string {
	var ae *AccessError
	if errors.As(err, &ae) {
		return fmt.Sprintf("error %d %s", ae.Status, ae.Error())
	}
	if err != nil {
		return "unexpected error " + err.Error()
	}
	if res.EngineOff {
		return "engine-off"
	}
	if len(res.Settings) == 0 {
		return "-"
	}
	var parts []string
	for _, s := range res.Settings {
		parts = append(parts, s.Key+"="+strconv.Quote(s.Value))
	}
	return strings.Join(parts, " ")
}

// TestResolverCache: an edited access file is read again (size, mtime,
// ctime or inode changed), a new one is found, an unchanged one is not
// re-read.
func TestResolverCache(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "a")
	os.MkdirAll(sub, 0o755)
	r, _ := NewResolver(nil, "")
	req := Request{DocRoot: root, Script: filepath.Join(sub, "x.php")}
	check := func(want string) {
		t.Helper()
		if got := describe(r.Resolve(req)); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
	check("-")
	h0, m0 := r.Stats()
	check("-")
	h1, m1 := r.Stats()
	if h1-h0 != 2 || m1 != m0 {
		t.Errorf("negative entries: hits %d→%d misses %d→%d; want 2 more hits, no miss", h0, h1, m0, m1)
	}
	os.WriteFile(filepath.Join(sub, ".htaccess"), []byte("php_value memory_limit 64M\n"), 0o644)
	check(`memory_limit="64M"`)
	os.WriteFile(filepath.Join(sub, ".htaccess"), []byte("php_value memory_limit 65M\n"), 0o644)
	check(`memory_limit="65M"`)
	// Same size, new content: mtime/ctime tell.
	os.WriteFile(filepath.Join(sub, ".htaccess"), []byte("php_value memory_limit 66M\n"), 0o644)
	check(`memory_limit="66M"`)
	// Replaced by rename (new inode).
	tmp := filepath.Join(sub, ".new")
	os.WriteFile(tmp, []byte("php_value memory_limit 67M\n"), 0o644)
	os.Rename(tmp, filepath.Join(sub, ".htaccess"))
	check(`memory_limit="67M"`)
	h2, m2 := r.Stats()
	check(`memory_limit="67M"`)
	h3, m3 := r.Stats()
	if h3-h2 != 2 || m3 != m2 {
		t.Errorf("unchanged files: hits %d→%d misses %d→%d; want 2 more hits, no miss", h2, h3, m2, m3)
	}
	os.Remove(filepath.Join(sub, ".htaccess"))
	check("-")
}

func TestAccessNames(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, ".htaccess"), []byte("php_value memory_limit 1M\n"), 0o644)
	os.WriteFile(filepath.Join(root, ".acl"), []byte("php_value memory_limit 2M\n"), 0o644)
	for _, tc := range []struct {
		names []string
		want  string
	}{
		{nil, `memory_limit="1M"`},
		{[]string{".acl"}, `memory_limit="2M"`},
		{[]string{".none", ".acl", ".htaccess"}, `memory_limit="2M"`},
	} {
		r, _ := NewResolver(tc.names, "")
		if got := describe(r.Resolve(Request{DocRoot: root, Script: filepath.Join(root, "x.php")})); got != tc.want {
			t.Errorf("%v: got %s, want %s", tc.names, got, tc.want)
		}
	}
	if !slices.Equal(mustResolver(t, nil).AccessNames, []string{".htaccess"}) {
		t.Error("default access name")
	}
}

func mustResolver(t *testing.T, names []string) *Resolver {
	r, err := NewResolver(names, "")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSplitRoot: the directory relative to the document root, as
// filepath.Rel gives it for paths inside, and nothing outside.
func TestSplitRoot(t *testing.T) {
	for _, tc := range []struct {
		root, dir  string
		wantRoot   string
		wantRel    string
		wantInside bool
	}{
		{"/srv/www", "/srv/www", "/srv/www", ".", true},
		{"/srv/www/", "/srv/www/a/b", "/srv/www", "a/b", true},
		{"/srv/www", "/srv/www//a/./b/", "/srv/www", "a/b", true},
		{"/srv/./www/..//www", "/srv/www/a", "/srv/www", "a", true},
		{"/", "/a/b", "/", "a/b", true},
		{"/", "/", "/", ".", true},
		{"/srv/www", "/srv/wwwx/a", "/srv/www", "", false},
		{"/srv/www", "/srv", "/srv/www", "", false},
		{"/srv/www", "/srv/www/../x", "/srv/www", "", false},
		{"/srv/www", ".", "/srv/www", "", false},
		{"/srv/www", "", "/srv/www", "", false},
		{"srv/www", "/srv/www/a", "", "", false},
		{"", "/srv/www/a", "", "", false},
	} {
		root, rel, in := splitRoot(tc.root, tc.dir)
		if root != tc.wantRoot || rel != tc.wantRel || in != tc.wantInside {
			t.Errorf("splitRoot(%q, %q) = %q, %q, %v; want %q, %q, %v", tc.root, tc.dir, root, rel, in, tc.wantRoot, tc.wantRel, tc.wantInside)
		}
		if in {
			if want, err := filepath.Rel(tc.wantRoot, tc.dir); err != nil || want != rel {
				t.Errorf("splitRoot(%q, %q) rel %q, filepath.Rel says %q (%v)", tc.root, tc.dir, rel, want, err)
			}
		}
	}
}
