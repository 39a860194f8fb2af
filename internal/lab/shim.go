package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Shim is a running `modphp-migrate shim` started by StartShim.
type Shim struct {
	// Sock is the Unix socket Apache connects to; Log holds the shim's
	// stderr (its structured log).
	Sock, Log string

	p *process
}

// BuildCommand builds cmd/modphp-migrate from the module this test belongs
// to with the go command and returns the binary's path (in a directory
// removed when the test ends). Go's build cache makes repeated builds
// cheap. Without a go command the test is skipped, or fails when Real().
func BuildCommand(t testing.TB) string {
	t.Helper()
	goBin := FindBinary(t, "go", "/usr/local/go/bin/go", "/usr/lib/go/bin/go")
	root, err := exec.Command(goBin, "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("finding the module directory: %v", err)
	}
	bin := filepath.Join(TempDir(t), "modphp-migrate")
	cmd := exec.Command(goBin, "build", "-o", bin, "./cmd/modphp-migrate")
	cmd.Dir = strings.TrimSpace(string(root))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/modphp-migrate: %v\n%s", err, out)
	}
	return bin
}

// ShimSocket returns a path for a shim's Unix socket in a new directory
// that Apache's children can reach, for configurations written before the
// shim starts.
func ShimSocket(t testing.TB) string {
	t.Helper()
	return filepath.Join(TempDir(t), "shim.sock")
}

// StartShim runs bin (see BuildCommand) as `modphp-migrate shim`
// listening on the Unix socket sock (see ShimSocket), mode 0666 so that
// Apache's children (www-data when the test runs as root) connect, with
// args added (--pool, --fpm-config, --apache-config, ...). It waits until
// the socket accepts connections; the shim gets SIGTERM when the test
// ends.
func StartShim(t testing.TB, bin, sock string, args ...string) *Shim {
	t.Helper()
	s := &Shim{Sock: sock, Log: filepath.Join(filepath.Dir(sock), "shim.log")}
	argv := append([]string{bin, "shim", "--listen", "unix:" + s.Sock, "--listen-mode", "0666", "--procs", "1"}, args...)
	s.p = startProcess(t, "modphp-migrate shim", s.Log, argv...)
	t.Cleanup(s.Stop)
	if err := waitDial(s.p, "unix", s.Sock, s.Log); err != nil {
		s.Stop()
		t.Fatal(err)
	}
	return s
}

// Stop stops the shim (SIGTERM; it drains, then exits) and waits for it.
func (s *Shim) Stop() { s.p.stop() }

// LogText returns the shim's log so far.
func (s *Shim) LogText() string {
	b, err := os.ReadFile(s.Log)
	if err != nil {
		return fmt.Sprintf("reading the shim log: %v", err)
	}
	return string(b)
}
