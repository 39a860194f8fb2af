package shim

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestResolverSymlinks: access files are read by the path Apache built,
// following symbolic links as httpd does — an access file that is a link
// to a file outside the document root (Debian's dokuwiki and roundcube),
// a directory link to an outside directory holding one, and a link that
// is retargeted is read again. A dangling link is no access file.
func TestResolverSymlinks(t *testing.T) {
	outside := t.TempDir()
	root := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, p string) {
		t.Helper()
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(outside, "htaccess"), "php_value memory_limit 77M\n")
	write(filepath.Join(outside, "other"), "php_value memory_limit 79M\n")
	os.Mkdir(filepath.Join(outside, "d"), 0o755)
	write(filepath.Join(outside, "d", ".htaccess"), "php_value memory_limit 88M\n")
	link(filepath.Join(outside, "htaccess"), filepath.Join(root, "fl", ".htaccess"))
	link(filepath.Join(outside, "d"), filepath.Join(root, "dl"))
	link(filepath.Join(outside, "nothing"), filepath.Join(root, "dang", ".htaccess"))
	write(filepath.Join(root, ".htaccess"), "php_value user_agent top\n")

	r := mustResolver(t, nil)
	for _, tc := range []struct{ script, want string }{
		{"fl/x.php", `memory_limit="77M" user_agent="top"`},
		{"dl/x.php", `memory_limit="88M" user_agent="top"`},
		{"dang/x.php", `user_agent="top"`},
		// The outside directory by its own path is outside the root.
		{filepath.Join(outside, "d", "x.php"), "-"},
	} {
		script := tc.script
		if !filepath.IsAbs(script) {
			script = filepath.Join(root, script)
		}
		if got := describe(r.Resolve(Request{DocRoot: root, Script: script})); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.script, got, tc.want)
		}
	}
	// Retargeting the link is a new file (another inode).
	os.Remove(filepath.Join(root, "fl", ".htaccess"))
	link(filepath.Join(outside, "other"), filepath.Join(root, "fl", ".htaccess"))
	if got := describe(r.Resolve(Request{DocRoot: root, Script: filepath.Join(root, "fl", "x.php")})); got != `memory_limit="79M" user_agent="top"` {
		t.Errorf("retargeted link: got %s", got)
	}
	// Editing the target through the link is seen too.
	write(filepath.Join(outside, "other"), "php_value memory_limit 80M\n")
	if got := describe(r.Resolve(Request{DocRoot: root, Script: filepath.Join(root, "fl", "x.php")})); got != `memory_limit="80M" user_agent="top"` {
		t.Errorf("edited target: got %s", got)
	}
}

// TestResolverSpecialFiles: an access file that is a FIFO, a directory or
// a device gets httpd's 403 (AH00554 "not a regular file"), and a FIFO
// never blocks the resolver, even when it replaces a cached regular file.
func TestResolverSpecialFiles(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"fifo", "dir", "dev", "swap"} {
		os.Mkdir(filepath.Join(root, d), 0o755)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo", ".htaccess"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	os.Mkdir(filepath.Join(root, "dir", ".htaccess"), 0o755)
	os.Symlink("/dev/null", filepath.Join(root, "dev", ".htaccess"))
	os.WriteFile(filepath.Join(root, "swap", ".htaccess"), []byte("php_value memory_limit 5M\n"), 0o644)

	r := mustResolver(t, nil)
	resolve := func(d string) string {
		t.Helper()
		done := make(chan string, 1)
		go func() { done <- describe(r.Resolve(Request{DocRoot: root, Script: filepath.Join(root, d, "x.php")})) }()
		select {
		case s := <-done:
			return s
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the resolver blocked", d)
			return ""
		}
	}
	for _, d := range []string{"fifo", "dir", "dev"} {
		want := "error 403 " + filepath.Join(root, d, ".htaccess") + ": access to file denied by server: not a regular file"
		if got := resolve(d); got != want {
			t.Errorf("%s: got %s\nwant %s", d, got, want)
		}
	}
	if got := resolve("swap"); got != `memory_limit="5M"` {
		t.Fatalf("swap: got %s", got)
	}
	// A cached file replaced by a FIFO.
	os.Remove(filepath.Join(root, "swap", ".htaccess"))
	syscall.Mkfifo(filepath.Join(root, "swap", ".htaccess"), 0o644)
	if got, want := resolve("swap"), "error 403 "+filepath.Join(root, "swap", ".htaccess")+": access to file denied by server: not a regular file"; got != want {
		t.Errorf("swap to a FIFO: got %s\nwant %s", got, want)
	}
}

// TestReadAccessBytesFIFO: the open itself never blocks on a FIFO (the
// race where a regular file becomes one between the stat and the open).
func TestReadAccessBytesFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".htaccess")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, _, err := readAccessBytes(p); done <- err }()
	select {
	case err := <-done:
		if err != errNotRegular {
			t.Errorf("got %v, want errNotRegular", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("readAccessBytes blocked on a FIFO")
	}
}

// TestResolverUnreadable: an access file the shim may not read is httpd's
// 403 (AH00529), as is a directory it may not search.
func TestResolverUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every file")
	}
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "a"), 0o755)
	os.WriteFile(filepath.Join(root, "a", ".htaccess"), []byte("php_value memory_limit 5M\n"), 0o000)
	r := mustResolver(t, nil)
	want := "error 403 " + filepath.Join(root, "a", ".htaccess") + ": unable to check htaccess file, ensure it is readable: permission denied"
	if got := describe(r.Resolve(Request{DocRoot: root, Script: filepath.Join(root, "a", "x.php")})); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}
