package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// interruptBound is how soon lint must exit after SIGINT (issue 15: within
// 1 s; the work itself stops at the next file, directory or rule).
const interruptBound = time.Second

// TestLintInterrupt runs the built command on a large generated tree
// (bench/gentree, 10,000 vhosts and 2,000 .htaccess files: a few seconds of
// work), sends SIGINT while it reads, and wants exit 130 within
// interruptBound, no finding or summary on stdout, and "interrupted" on
// stderr.
func TestLintInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and a 10,000-vhost tree")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "modphp-migrate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tree := filepath.Join(dir, "tree")
	if out, err := exec.Command("go", "run", "../../bench/gentree", "-vhosts", "10000", "-htaccess", "2000", "-out", tree).CombinedOutput(); err != nil {
		t.Fatalf("gentree: %v\n%s", err, out)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "lint", tree)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		t.Fatalf("lint ended before the signal (%v): the tree is too small for this test\n%s", err, stderr.String())
	case <-time.After(500 * time.Millisecond):
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("lint still running 10 s after SIGINT")
	}
	took := time.Since(sent)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted {
		t.Errorf("exit %v, want %d", err, exitInterrupted)
	}
	if took > interruptBound {
		t.Errorf("exited %v after SIGINT, want within %v", took, interruptBound)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout after SIGINT is not empty:\n%.500s", stdout.String())
	}
	if got, want := stderr.String(), "modphp-migrate lint: interrupted\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}

// TestLintCanceled runs lint in-process with a context that is already
// done: exit 130, nothing on stdout.
func TestLintCanceled(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "apache2.conf"), []byte("php_value memory_limit 1G\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"lint", dir}, &stdout, &stderr); code != exitInterrupted {
		t.Errorf("exit %d, want %d", code, exitInterrupted)
	}
	if stdout.Len() != 0 || stderr.String() != "modphp-migrate lint: interrupted\n" {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}
