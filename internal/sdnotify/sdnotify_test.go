package sdnotify

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// listen opens a datagram socket like systemd's notification socket.
func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func read(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestNotify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	c := listen(t, path)
	t.Setenv(Socket, path)
	for _, state := range []string{"READY=1", "RELOADING=1\nMONOTONIC_USEC=1", "STOPPING=1"} {
		if ok, err := Notify(state); !ok || err != nil {
			t.Fatalf("Notify(%q) = %v, %v", state, ok, err)
		}
		if got := read(t, c); got != state {
			t.Errorf("received %q, want %q", got, state)
		}
	}
}

func TestNotifyAbstract(t *testing.T) {
	name := "@modphp-migrate-sdnotify-test-" + strings.ReplaceAll(t.Name(), "/", "-")
	c := listen(t, name)
	if ok, err := notifyTo(name, "READY=1"); !ok || err != nil {
		t.Fatalf("notifyTo abstract = %v, %v", ok, err)
	}
	if got := read(t, c); got != "READY=1" {
		t.Errorf("received %q", got)
	}
}

func TestNotifyUnset(t *testing.T) {
	t.Setenv(Socket, "")
	if ok, err := Notify("READY=1"); ok || err != nil {
		t.Errorf("without $NOTIFY_SOCKET: %v, %v; want false, nil", ok, err)
	}
	if _, err := notifyTo("vsock:2:1", "READY=1"); err == nil {
		t.Error("a vsock address was accepted")
	}
	if _, err := notifyTo(filepath.Join(t.TempDir(), "absent"), "READY=1"); err == nil {
		t.Error("a missing socket was no error")
	}
}
