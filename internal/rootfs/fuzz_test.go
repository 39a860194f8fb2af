package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// FuzzResolve resolves fuzzed paths in a tree whose link "fz" points at
// a fuzzed target, beside links that loop, escape with ".." and point at
// absolute paths: resolution ends, what it returns lies in the root, is
// clean and no link when the last link was to be followed, and (on Linux)
// it agrees with the kernel's openat2 RESOLVE_IN_ROOT.
func FuzzResolve(f *testing.F) {
	f.Add("/fz", "/etc/dokuwiki/htaccess", true)
	f.Add("/fz/x", "../../..", true)
	f.Add("/a/b/../../fz", "fz", false)
	f.Add("/loop/x", "/fz/", true)
	f.Add("//fz/./../fz", "/var/www/../www", true)
	f.Add("/var/www/site", "/usr/share/../../../../etc", true)
	dir := tree(f, map[string]string{
		"etc/dokuwiki/htaccess": "", "srv/www/site/index.php": "",
	}, map[string]string{
		"var/www": "/srv/www", "loop": "loop", "up": "../../../..", "abs": "/", "a/b": "/fz",
	})
	r := New(dir)
	fz := filepath.Join(dir, "fz")
	f.Fuzz(func(t *testing.T, p, target string, follow bool) {
		if strings.ContainsRune(target, 0) || target == "" || len(target) > 4096 {
			return
		}
		_ = os.Remove(fz)
		if err := os.Symlink(target, fz); err != nil {
			return
		}
		r.dirs.Clear() // the tree changed
		if !strings.ContainsRune(p, 0) {
			asKernel(t, r, dir, p, follow)
		}
		got, err := r.Resolve(p, follow)
		if err != nil {
			var errno syscall.Errno
			if !errors.As(err, &errno) {
				t.Fatalf("Resolve(%q) error %v is not the kernel's", p, err)
			}
			return
		}
		if got != dir && (!strings.HasPrefix(got, dir+"/") || filepath.Clean(got) != got) {
			t.Fatalf("Resolve(%q) = %q: not a clean path under %s", p, got, dir)
		}
		if fi, err := os.Lstat(got); follow && err == nil && fi.Mode()&os.ModeSymlink != 0 {
			t.Fatalf("Resolve(%q) = %q: a link", p, got)
		}
	})
}

// FuzzGlob: in a tree without links, Glob inside the root finds what
// filepath.Glob finds, and fails where it fails.
func FuzzGlob(f *testing.F) {
	for _, p := range []string{"etc/php/*/fpm/*.conf", "etc/*/*", "etc/php/8.[0-9]/fpm/pool.d/*.conf", "*", "etc/php/[", "etc/php/\\*", "srv/www/?", ""} {
		f.Add(p)
	}
	dir := tree(f, map[string]string{
		"etc/php/8.2/fpm/php-fpm.conf": "", "etc/php/8.2/fpm/pool.d/www.conf": "", "etc/php/8.3/fpm/pool.d/.x.conf": "",
		"etc/apache2/apache2.conf": "", "srv/www/a": "", "srv/www/b/index.php": "",
	}, nil)
	r := New(dir)
	f.Fuzz(func(t *testing.T, p string) {
		if strings.Contains(p, "..") || strings.ContainsRune(p, 0) || strings.HasPrefix(p, "/") || len(p) > 256 {
			return // .. stops at the root there, not here
		}
		pattern := filepath.Join(dir, p)
		want, werr := filepath.Glob(pattern)
		got, gerr := r.Glob(pattern)
		if (werr == nil) != (gerr == nil) || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("Glob(%q) = %q, %v; filepath.Glob: %q, %v", p, got, gerr, want, werr)
		}
	})
}
