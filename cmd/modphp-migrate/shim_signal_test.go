package main

import (
	"bytes"
	"context"
	"io"
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

// TestShimNotifiesSystemd runs the command as systemd runs a Type=notify
// service: READY=1 arrives once the socket accepts, SIGHUP sends RELOADING=1
// then READY=1, SIGTERM sends STOPPING=1.
func TestShimNotifiesSystemd(t *testing.T) {
	fpm := lab.StartFPM(t, lab.FPMConfig{})
	dir := t.TempDir()
	sock, notify := filepath.Join(dir, "shim.sock"), filepath.Join(dir, "notify")
	nc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notify, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	t.Setenv("NOTIFY_SOCKET", notify)
	next := func() string {
		t.Helper()
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 512)
		n, err := nc.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v", err)
		}
		return string(buf[:n])
	}
	stderr := &lockedBuffer{}
	code := make(chan int, 1)
	go func() {
		code <- run(context.Background(), []string{"shim", "--listen", "unix:" + sock, "--pool", "unix:" + fpm.Addr, "--fpm-config", fpm.ConfPath, "--procs", "1"}, io.Discard, stderr)
	}()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	if got := next(); got != "READY=1" {
		t.Fatalf("first notification %q, want READY=1", got)
	}
	if c, err := net.Dial("unix", sock); err != nil {
		t.Fatalf("READY=1 before the socket accepts: %v", err)
	} else {
		c.Close()
	}
	syscall.Kill(syscall.Getpid(), syscall.SIGHUP)
	for _, want := range []string{"RELOADING=1", "READY=1"} {
		if got := next(); got != want {
			t.Errorf("after SIGHUP: %q, want %q", got, want)
		}
	}
	syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
	if got := next(); got != "STOPPING=1" {
		t.Errorf("after SIGTERM: %q, want STOPPING=1", got)
	}
	select {
	case c := <-code:
		if c != exitOK {
			t.Errorf("exit %d; log:\n%s", c, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10 s after SIGTERM; log:\n%s", stderr.String())
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
