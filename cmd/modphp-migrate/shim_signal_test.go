package main

import (
	"bytes"
	"context"
	"net"
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
