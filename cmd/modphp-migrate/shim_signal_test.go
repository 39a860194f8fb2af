package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls the log for s.
func waitFor(t *testing.T, log *lockedBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(log.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("log never showed %q:\n%s", s, log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestShimSignals runs the command against a real php-fpm configuration:
// SIGHUP reloads, SIGTERM drains and exits 0, and the socket is removed.
func TestShimSignals(t *testing.T) {
	fpm := lab.StartFPM(t, lab.FPMConfig{})
	sock := filepath.Join(t.TempDir(), "shim.sock")
	var stdout bytes.Buffer
	stderr := &lockedBuffer{}
	code := make(chan int, 1)
	go func() {
		code <- run(context.Background(), []string{"shim", "--listen", "unix:" + sock, "--pool", "unix:" + fpm.Addr, "--fpm-config", fpm.ConfPath, "--log-format", "json", "--procs", "1"}, &stdout, stderr)
	}()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	waitFor(t, stderr, `"msg":"listening"`)
	waitFor(t, stderr, `"workers":256,"procs":1}`)
	if c, err := net.Dial("unix", sock); err != nil {
		t.Fatalf("dial shim: %v", err)
	} else {
		c.Close()
	}
	syscall.Kill(syscall.Getpid(), syscall.SIGHUP)
	waitFor(t, stderr, `"msg":"reloaded"`)
	syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
	select {
	case c := <-code:
		if c != exitOK {
			t.Errorf("exit %d, want 0; log:\n%s", c, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10 s after SIGTERM; log:\n%s", stderr.String())
	}
	for _, want := range []string{`"msg":"stopping: draining requests; send the signal again to stop at once"`, `"msg":"stopped"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("log lacks %s", want)
		}
	}
	if _, err := net.Dial("unix", sock); err == nil {
		t.Error("socket still accepting after exit")
	}
}

// TestShimCheckUnresettable: --check prints the pools and each
// server-config setting PHP cannot reset on a pool that also serves other
// directories (phpMyAdmin's upload_tmp_dir), with the fix.
func TestShimCheckUnresettable(t *testing.T) {
	fpm := lab.StartFPM(t, lab.FPMConfig{})
	dir := t.TempDir()
	conf := filepath.Join(dir, "apache2.conf")
	if err := os.WriteFile(conf, []byte("ServerRoot "+dir+"\n<Directory /usr/share/phpmyadmin>\n    <IfModule mod_php.c>\n        php_admin_value upload_tmp_dir /var/lib/phpmyadmin/tmp\n    </IfModule>\n</Directory>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	args := []string{"shim", "--check", "--listen", "unix:" + filepath.Join(dir, "shim.sock"), "--pool", "unix:" + fpm.Addr, "--fpm-config", fpm.ConfPath, "--apache-config", conf, "--procs", "1"}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	if c := run(context.Background(), args, &stdout, &stderr); c != exitOK {
		t.Fatalf("exit %d\n%s", c, stderr.String())
	}
	want := "pool unix:" + fpm.Addr + " max_children=1\nproblem: " + conf + ":4:9: upload_tmp_dir cannot be reset by PHP to the empty value of pool unix:" + fpm.Addr +
		", which also serves requests outside /usr/share/phpmyadmin: they are answered 500; give /usr/share/phpmyadmin its own pool (--pool-for /usr/share/phpmyadmin=ADDR)\n"
	if stdout.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), want)
	}
}
