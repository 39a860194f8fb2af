package rootfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// tree makes files (path → content) and links (path → target) under a
// new directory and returns it.
func tree(t testing.TB, files, links map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, data := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for p, target := range links {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, full); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestResolve(t *testing.T) {
	host := tree(t, map[string]string{"secret": "host"}, nil)
	dir := tree(t, map[string]string{
		"etc/dokuwiki/htaccess":              "php_value x 1\n",
		"etc/apache2/sites-available/x.conf": "",
		"etc/passwd":                         "copy\n",
		"srv/www/site/index.php":             "",
		"opt/app/conf":                       "",
	}, map[string]string{
		"usr/share/dokuwiki/.htaccess":     "/etc/dokuwiki/htaccess",
		"etc/apache2/sites-enabled/x.conf": "../sites-available/x.conf",
		"escape":                           "../../../../../etc/passwd",
		"deep/escape":                      "/../../etc/passwd",
		"var/www":                          "/srv/www",
		"loop1":                            "loop2",
		"loop2":                            "/loop1",
		"self":                             "self",
		"hostlink":                         filepath.Join(host, "secret"),
		"dirlink":                          "opt/app",
	})
	r := New(dir)
	for _, c := range []struct {
		path   string
		follow bool
		want   string // server path under dir; "" when err is wanted
		err    error
	}{
		{"/usr/share/dokuwiki/.htaccess", true, "/etc/dokuwiki/htaccess", nil},
		{"/usr/share/dokuwiki/.htaccess", false, "/usr/share/dokuwiki/.htaccess", nil},
		{"/etc/apache2/sites-enabled/x.conf", true, "/etc/apache2/sites-available/x.conf", nil},
		{"/escape", true, "/etc/passwd", nil},
		{"/deep/escape", true, "/etc/passwd", nil},
		{"/../../etc/passwd", true, "/etc/passwd", nil},
		{"/var/www/site/index.php", true, "/srv/www/site/index.php", nil},
		{"/var/www/site/index.php", false, "/srv/www/site/index.php", nil},
		{"/var/www", false, "/var/www", nil},
		{"/var/www/", false, "/srv/www", nil},
		{"/var/www/../www/site", true, "/srv/www/site", nil},
		{"/var/www/../etc/passwd", true, "", syscall.ENOENT}, // /srv/etc is not there
		{"/dirlink/conf", true, "/opt/app/conf", nil},
		{"/etc/nope", true, "/etc/nope", nil},
		{"/hostlink", true, "", syscall.ENOENT}, // the host's directory is not in the root
		{"/hostlink", false, "/hostlink", nil},
		{"/", true, "/", nil},
		{"", true, "/", nil},
		{"/nope/x", true, "", syscall.ENOENT},
		{"/etc/dokuwiki/htaccess/x", true, "", syscall.ENOTDIR},
		{"/etc/dokuwiki/htaccess/", true, "", syscall.ENOTDIR},
		{"/loop1", true, "", syscall.ELOOP},
		{"/loop1", false, "/loop1", nil},
		{"/self/x", false, "", syscall.ELOOP},
	} {
		got, err := r.Resolve(c.path, c.follow)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("Resolve(%q, %v) = %q, %v; want error %v", c.path, c.follow, got, err, c.err)
			}
			continue
		}
		if err != nil || got != dir+c.want && !(c.want == "/" && got == dir) {
			t.Errorf("Resolve(%q, %v) = %q, %v; want %q", c.path, c.follow, got, err, dir+c.want)
		}
	}
	// The host's file at the link's absolute target is never reached.
	if _, err := r.ReadFile(filepath.Join(dir, "hostlink")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile through a link to a host path: %v, want not exist", err)
	}
	data, err := r.ReadFile(filepath.Join(dir, "usr/share/dokuwiki/.htaccess"))
	if string(data) != "php_value x 1\n" || err != nil {
		t.Errorf("ReadFile through an absolute link = %q, %v", data, err)
	}
	// Stat and Lstat of the same link; Stat of a directory reached by one.
	if fi, err := r.Stat(filepath.Join(dir, "usr/share/dokuwiki/.htaccess")); err != nil || fi.Size() != 14 {
		t.Errorf("Stat through an absolute link = %v, %v", fi, err)
	}
	if fi, err := r.Lstat(filepath.Join(dir, "usr/share/dokuwiki/.htaccess")); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Lstat of a link = %v, %v", fi, err)
	}
	if fi, err := r.Stat(filepath.Join(dir, "var/www")); err != nil || !fi.IsDir() {
		t.Errorf("Stat of a link to a directory = %v, %v", fi, err)
	}
	if _, err := r.Stat(filepath.Join(dir, "loop1")); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("Stat of a loop: %v, want ELOOP", err)
	}
	if _, err := r.Open(filepath.Join(dir, "self")); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("Open of a loop: %v, want ELOOP", err)
	}
}

// TestMaxLinks follows a chain of exactly MaxLinks links, and refuses one
// more, as Linux does.
func TestMaxLinks(t *testing.T) {
	links := map[string]string{}
	for i := 0; i <= MaxLinks; i++ {
		links["l"+strconv.Itoa(i)] = "/l" + strconv.Itoa(i+1)
	}
	dir := tree(t, map[string]string{"l" + strconv.Itoa(MaxLinks+1): "end"}, links)
	r := New(dir)
	if got, err := r.Resolve("/l1", true); err != nil || got != dir+"/l"+strconv.Itoa(MaxLinks+1) {
		t.Errorf("Resolve of %d links = %q, %v", MaxLinks, got, err)
	}
	if _, err := r.Resolve("/l0", true); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("Resolve of %d links: %v, want ELOOP", MaxLinks+1, err)
	}
	// The kernel agrees on the host (the chain there is relative to /,
	// so build a relative one).
	rel := tree(t, map[string]string{"end": ""}, nil)
	prev := "end"
	for i := 0; i < MaxLinks; i++ {
		name := "r" + strconv.Itoa(i)
		if err := os.Symlink(prev, filepath.Join(rel, name)); err != nil {
			t.Fatal(err)
		}
		prev = name
	}
	if _, err := os.Stat(filepath.Join(rel, prev)); err != nil {
		t.Errorf("kernel: %d links: %v", MaxLinks, err)
	}
	if err := os.Symlink(prev, filepath.Join(rel, "over")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(rel, "over")); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("kernel: %d links: %v, want ELOOP", MaxLinks+1, err)
	}
}

func TestNilRoot(t *testing.T) {
	var r *Root
	if got, err := r.Resolve("/a/b", true); got != "/a/b" || err != nil {
		t.Errorf("nil Resolve = %q, %v", got, err)
	}
	if r.Opened("/a") != "/a" || r.Dir() != "" {
		t.Error("nil root maps paths")
	}
	dir := tree(t, map[string]string{"f": "x"}, map[string]string{"l": "f"})
	if data, err := r.ReadFile(filepath.Join(dir, "l")); string(data) != "x" || err != nil {
		t.Errorf("nil ReadFile = %q, %v", data, err)
	}
}

func TestOpenedServer(t *testing.T) {
	r := New("copy/")
	if got := r.Opened("/etc/apache2"); got != "copy/etc/apache2" {
		t.Errorf("Opened = %q", got)
	}
	abs, _ := filepath.Abs("copy/etc/x")
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"copy/etc/apache2", "/etc/apache2", true},
		{"copy", "/", true},
		{abs, "/etc/x", true},
		{"copyist/x", "copyist/x", false},
		{"/etc/x", "/etc/x", false},
	} {
		if got, ok := r.Server(c.in); got != c.want || ok != c.ok {
			t.Errorf("Server(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	dot := New(".")
	for in, want := range map[string]string{"etc/x": "/etc/x", ".": "/", "./etc": "/etc"} {
		if got, ok := dot.Server(in); got != want || !ok {
			t.Errorf(". Server(%q) = %q, %v", in, got, ok)
		}
	}
	if got, ok := dot.Server("../x"); ok {
		t.Errorf(". Server(../x) = %q, %v", got, ok)
	}
	if got, ok := New("/").Server("/etc/x"); got != "/etc/x" || !ok {
		t.Errorf("root / Server = %q, %v", got, ok)
	}
}

// TestErrorsNameTheOpenedPath: errors name the path as the caller gave
// it, not where resolution led.
func TestErrorsNameTheOpenedPath(t *testing.T) {
	dir := tree(t, nil, map[string]string{"a": "/missing", "loop": "loop"})
	r := New(dir)
	for _, name := range []string{"a", "loop", "nope/x"} {
		_, err := r.Stat(filepath.Join(dir, name))
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Path != filepath.Join(dir, name) {
			t.Errorf("Stat(%s) error = %v", name, err)
		}
	}
}

func TestWalkDir(t *testing.T) {
	dir := tree(t, map[string]string{"srv/www/a/x.php": "", "srv/www/a/b": ""}, map[string]string{
		"var/www": "/srv/www", "srv/www/a/c": "/etc",
	})
	r := New(dir)
	walk := func(name string) []string {
		var got []string
		err := r.WalkDir(filepath.Join(dir, name), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			got = append(got, rel)
			return nil
		})
		if err != nil {
			t.Errorf("WalkDir(%s): %v", name, err)
		}
		return got
	}
	// A link mid-path is followed inside the root; links below are
	// reported, not followed.
	if got, want := walk("var/www/a"), "[var/www/a var/www/a/b var/www/a/c var/www/a/x.php]"; fmt.Sprint(got) != want {
		t.Errorf("WalkDir = %v, want %v", got, want)
	}
	// A root that cannot be resolved is reported to fn, and skipping
	// it ends the walk without an error, as filepath.WalkDir does.
	for _, name := range []string{"nope/x", "srv/www/a/x.php/y"} {
		var seen error
		err := r.WalkDir(filepath.Join(dir, name), func(p string, d fs.DirEntry, err error) error {
			seen = err
			return fs.SkipAll
		})
		if err != nil || seen == nil {
			t.Errorf("WalkDir(%s) = %v, fn saw %v", name, err, seen)
		}
	}
	// The link walked is reported alone, as filepath.WalkDir does.
	if got, want := walk("var/www"), "[var/www]"; fmt.Sprint(got) != want {
		t.Errorf("WalkDir of a link = %v, want %v", got, want)
	}
}

// TestGlob: a pattern's directories are listed inside the root, through
// links that point inside it; a nil root globs this machine.
func TestGlob(t *testing.T) {
	dir := tree(t, map[string]string{
		"etc/php/8.2/fpm/php-fpm.conf":     "",
		"etc/php/8.2/fpm/pool.d/a.conf":    "",
		"etc/php/8.2/fpm/pool.d/.x.conf":   "",
		"etc/php/8.2/fpm/pool.d/a.conf.bk": "",
		"real/b.conf":                      "",
	}, map[string]string{
		"etc/php/8.3":                   "/etc/php/8.2", // absolute: inside the root
		"etc/php/8.2/fpm/pool.d/b.conf": "/real/b.conf",
		"etc/php/9.0":                   "/usr/lib", // not in the root: no match
		"etc/php/8.2/fpm/pool.d/c.conf": "/nowhere", // dangling: matched, as filepath.Glob does
	})
	r := New(dir)
	glob := func(p string) []string {
		ms, err := r.Glob(filepath.Join(dir, p))
		if err != nil {
			t.Fatalf("Glob(%s): %v", p, err)
		}
		var out []string
		for _, m := range ms {
			rel, _ := filepath.Rel(dir, m)
			out = append(out, rel)
		}
		return out
	}
	for _, c := range []struct{ pattern, want string }{
		{"etc/php/*/fpm/php-fpm.conf", "[etc/php/8.2/fpm/php-fpm.conf etc/php/8.3/fpm/php-fpm.conf]"},
		{"etc/php/8.3/fpm/pool.d/*.conf", "[etc/php/8.3/fpm/pool.d/.x.conf etc/php/8.3/fpm/pool.d/a.conf etc/php/8.3/fpm/pool.d/b.conf etc/php/8.3/fpm/pool.d/c.conf]"},
		{"etc/php/9.0/*", "[]"},
		{"etc/php/8.2/fpm/php-fpm.conf", "[etc/php/8.2/fpm/php-fpm.conf]"},
		{"etc/php/8.2/fpm/nope.conf", "[]"},
	} {
		if got := glob(c.pattern); fmt.Sprint(got) != c.want {
			t.Errorf("Glob(%s) = %v, want %v", c.pattern, got, c.want)
		}
	}
	if _, err := r.Glob(filepath.Join(dir, "[")); err == nil {
		t.Error("Glob([) gave no error")
	}
	var nilRoot *Root
	want, _ := filepath.Glob(filepath.Join(dir, "etc/php/*/fpm/pool.d/*.conf"))
	if got, err := nilRoot.Glob(filepath.Join(dir, "etc/php/*/fpm/pool.d/*.conf")); err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("nil root: Glob = %v, %v, want %v", got, err, want)
	}
}
