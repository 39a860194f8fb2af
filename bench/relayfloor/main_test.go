package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/fcgi"
	"github.com/modphp-migrate/modphp-migrate/shim"
)

// TestRelay: requests from Apache reach the backend
// whole, on one kept backend connection with FCGI_KEEP_CONN set, and every
// answer comes back byte for byte, its stderr and app status included.
func TestRelay(t *testing.T) {
	dir := t.TempDir()
	backend, front := filepath.Join(dir, "fpm.sock"), filepath.Join(dir, "relay.sock")

	var conns atomic.Int32
	bl, err := net.Listen("unix", backend)
	if err != nil {
		t.Fatal(err)
	}
	srv := &fcgi.Server{Handler: fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		body, _ := io.ReadAll(r.Stdin)
		script, _ := r.Params.Lookup("SCRIPT_FILENAME")
		fmt.Fprintf(w, "Content-Type: text/plain\r\n\r\n%s keep=%v body=%q", script, r.KeepConn, body)
		fmt.Fprint(w.Stderr(), "note from "+script)
		w.SetAppStatus(7)
	})}
	go srv.Serve(countingListener{bl, &conns})
	t.Cleanup(func() { srv.Close() })

	l, err := shim.Listen(shim.Addr{Network: "unix", Address: front}, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	r := newRelay(shim.Addr{Network: "unix", Address: backend}, 2)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()

	// Without FCGI_KEEP_CONN, as Apache without enablereuse: the relay
	// sets it towards the backend all the same.
	apache := &fcgi.Client{Network: "unix", Addr: front, MaxConns: 1}
	t.Cleanup(func() { apache.Close() })
	for i, body := range []string{"", "a=1&b=2", strings.Repeat("x", 200000), ""} {
		script := fmt.Sprintf("/srv/%d.php", i)
		var out strings.Builder
		req := &fcgi.Request{Params: fcgi.Params{{Name: "SCRIPT_FILENAME", Value: script}}, Body: strings.NewReader(body), ContentLength: int64(len(body))}
		res, err := apache.Do(context.Background(), req, &out)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		want := fmt.Sprintf("Content-Type: text/plain\r\n\r\n%s keep=true body=%q", script, body)
		if out.String() != want {
			t.Errorf("request %d: stdout %.80q, want %.80q", i, out.String(), want)
		}
		if string(res.Stderr) != "note from "+script || res.AppStatus != 7 {
			t.Errorf("request %d: stderr %q, app status %d; want %q, 7", i, res.Stderr, res.AppStatus, "note from "+script)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("backend connections: %d, want 1 (kept)", n)
	}
}

// TestRunArgs: the shim-style command line is checked before anything
// listens.
func TestRunArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"shim", "--pool", "unix:/x"}, "usage: relayfloor shim --listen ADDR --pool ADDR [--conns N]"},
		{[]string{"shim", "--listen", "unix:/x", "--pool", "unix:/y", "--conns", "0"}, `--conns "0": want a positive number`},
	} {
		if err := run(tc.args); err == nil || err.Error() != tc.want {
			t.Errorf("run(%q) = %v, want %q", tc.args, err, tc.want)
		}
	}
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}
