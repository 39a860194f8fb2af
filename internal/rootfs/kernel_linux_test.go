package rootfs

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// kernelResolve resolves p under dir with Linux's openat2(2)
// RESOLVE_IN_ROOT, the kernel's own "absolute links and .. stay inside
// dir": the real path of what it opens, or its error. ok is false when
// the kernel has no openat2.
func kernelResolve(t testing.TB, dir, p string, follow bool) (real string, err error, ok bool) {
	t.Helper()
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(root)
	flags := uint64(unix.O_PATH | unix.O_CLOEXEC)
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := unix.Openat2(root, "/"+strings.TrimLeft(p, "/"), &unix.OpenHow{Flags: flags, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS})
	if errors.Is(err, unix.ENOSYS) {
		return "", nil, false
	}
	if err != nil {
		return "", err, true
	}
	defer unix.Close(fd)
	real, err = os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		t.Fatal(err)
	}
	return real, nil, true
}

// agreeWithKernel checks Resolve against openat2 RESOLVE_IN_ROOT: where
// the kernel finds a file, Resolve finds the same; where the kernel fails,
// Resolve fails alike, or (for a missing last component, which Resolve
// accepts) names a path that does not exist. Resolve may succeed where
// the kernel reports ELOOP: it counts links per directory, not per path.
func agreeWithKernel(t testing.TB, r *Root, dir, p string, follow bool) {
	t.Helper()
	kreal, kerr, ok := kernelResolve(t, dir, p, follow)
	if !ok {
		t.Skip("no openat2 on this kernel")
	}
	got, err := r.Resolve(p, follow)
	switch {
	case kerr == nil && (err != nil || got != kreal):
		t.Errorf("Resolve(%q, %v) = %q, %v; the kernel opens %q", p, follow, got, err, kreal)
	case kerr == nil:
	case errors.Is(kerr, syscall.ELOOP) && err == nil:
	case err == nil:
		if _, lerr := os.Lstat(got); !errors.Is(kerr, syscall.ENOENT) || lerr == nil {
			t.Errorf("Resolve(%q, %v) = %q; the kernel: %v", p, follow, got, kerr)
		}
	case !errors.Is(err, kerr):
		t.Errorf("Resolve(%q, %v) error %v; the kernel's %v", p, follow, err, kerr)
	}
}

// asKernel is agreeWithKernel for the fuzz target.
func asKernel(t *testing.T, r *Root, dir, p string, follow bool) {
	agreeWithKernel(t, r, dir, p, follow)
}

// TestResolveAsKernel compares Resolve with the kernel on the tree of
// TestResolve's kind: absolute and relative links, escapes, loops, a link
// to a directory mid-path.
func TestResolveAsKernel(t *testing.T) {
	dir := tree(t, map[string]string{
		"etc/dokuwiki/htaccess": "", "etc/passwd": "", "srv/www/site/index.php": "",
	}, map[string]string{
		"usr/share/dokuwiki/.htaccess": "/etc/dokuwiki/htaccess",
		"escape":                       "../../../../../etc/passwd",
		"var/www":                      "/srv/www",
		"loop1":                        "loop2",
		"loop2":                        "/loop1",
		"updir":                        "..",
		"abs":                          "/",
		"tofile":                       "etc/passwd",
	})
	r := New(dir)
	for _, p := range []string{
		"/usr/share/dokuwiki/.htaccess", "/escape", "/var/www/site/index.php", "/var/www/../www/site",
		"/var/www/../etc/passwd", "/loop1", "/loop1/x", "/updir/updir/etc/passwd", "/abs/abs/var/www/site/",
		"/tofile/", "/tofile/..", "/missing", "/missing/x", "/etc/passwd/x", "/", "//etc//./passwd", "/var/www/",
	} {
		for _, follow := range []bool{true, false} {
			agreeWithKernel(t, r, dir, p, follow)
		}
	}
}
