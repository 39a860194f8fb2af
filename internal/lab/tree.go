package lab

import (
	"path/filepath"
	"testing"
)

// Proc is a server started by StartServer from the caller's own
// configuration (a whole Apache tree, a php-fpm.conf with its pools).
type Proc struct {
	// Log holds the process's standard output and error.
	Log string
	p   *process
}

// StartServer starts argv in its own process group with the lab's fixed
// environment, its output in dir/name.log, and waits until network addr
// accepts connections (a start that fails is fatal, with the log). The
// process is stopped when the test ends.
func StartServer(t testing.TB, dir, name, network, addr string, argv ...string) *Proc {
	t.Helper()
	s := &Proc{Log: filepath.Join(dir, name+".log")}
	s.p = startProcess(t, name, s.Log, argv...)
	t.Cleanup(s.Stop)
	if err := waitDial(s.p, network, addr, s.Log); err != nil {
		s.Stop()
		t.Fatal(err)
	}
	return s
}

// Stop stops the server and waits for it; safe to call more than once.
func (s *Proc) Stop() { s.p.stop() }
