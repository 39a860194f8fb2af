package lab

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RealEnv is the environment variable that turns a missing server binary
// from a skip into a failure.
const RealEnv = "MODPHP_MIGRATE_REAL"

// startTimeout bounds the wait for a started server to accept connections.
// php-fpm and Apache start in well under a second on the lab machine; the
// margin covers a loaded 2-core CI runner.
const startTimeout = 15 * time.Second

// stopTimeout bounds the wait for a server to exit after SIGTERM before it
// is killed; both exit at once on SIGTERM unless a child is stuck.
const stopTimeout = 10 * time.Second

// Real reports whether real-server tests are required
// (MODPHP_MIGRATE_REAL=1).
func Real() bool { return os.Getenv(RealEnv) == "1" }

// FindBinary returns the first of the candidates (names looked up in PATH,
// or absolute paths; globs allowed) that exists. When none does, it skips
// t, or fails it when Real() is true.
func FindBinary(t testing.TB, candidates ...string) string {
	t.Helper()
	for _, c := range candidates {
		if strings.ContainsAny(c, "*?[") {
			if m, _ := filepath.Glob(c); len(m) > 0 {
				return m[len(m)-1]
			}
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if Real() {
		t.Fatalf("none of %v found, and %s=1 requires the real servers", candidates, RealEnv)
	}
	t.Skipf("none of %v found (set %s=1 to make this a failure)", candidates, RealEnv)
	return ""
}

// TempDir returns a new directory that other users can traverse (0755),
// removed when the test ends. Apache's worker processes run as www-data
// and must reach sockets and document roots inside it, which t.TempDir's
// 0700 directories forbid.
func TempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "modphp-lab-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// serverEnv is the environment of every server the lab starts.
var serverEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"}

// process is a server started in its own process group.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startProcess(t testing.TB, name string, stdoutPath string, argv ...string) *process {
	t.Helper()
	out, err := os.Create(stdoutPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	// A fixed, minimal environment: Apache passes its own PATH to
	// FastCGI backends (docs/behaviour.md#b-apache-params), and tests must not depend on
	// whoever runs them.
	cmd.Env = serverEnv
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	return p
}

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits, then kills the whole process group.
func (p *process) stop() {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		p.kill()
	}
	// Children left behind (a worker stuck in a script) go with the group.
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}

// kill kills the process group at once and waits for the leader.
func (p *process) kill() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// waitDial waits until addr accepts a connection or the process exits.
func waitDial(p *process, network, addr, logPath string) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("%s exited during start (%v); log:\n%s", p.name, p.err, tail(logPath))
		}
		if c, err := net.DialTimeout(network, addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s not accepting on %s %s after %v; log:\n%s", p.name, network, addr, startTimeout, tail(logPath))
}

// tail returns the end of a log file for failure messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// workerUser is the unprivileged user servers started as root switch to.
func workerUser() string {
	for _, u := range []string{"www-data", "nobody"} {
		if _, err := user.Lookup(u); err == nil {
			return u
		}
	}
	return ""
}

// pollFile calls ok with the file's content until it returns true or the
// timeout passes; it returns the last content read.
func pollFile(path string, timeout time.Duration, ok func(string) bool) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		b, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		if ok(string(b)) {
			return string(b), nil
		}
		if time.Now().After(deadline) {
			return string(b), fmt.Errorf("%s: condition not met after %v", path, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
