// Package sdnotify tells systemd about a service's state, as sd_notify(3)
// does: one datagram to the Unix socket that $NOTIFY_SOCKET names. A unit
// with Type=notify is started only once the service has sent READY=1, so
// units ordered after it (Apache after the shim) find its socket listening.
package sdnotify

import (
	"fmt"
	"net"
	"os"
)

// Socket is the environment variable systemd sets for Type=notify services.
const Socket = "NOTIFY_SOCKET"

// Notify sends state, e.g. "READY=1" or "STOPPING=1", to the socket named
// by $NOTIFY_SOCKET. It returns false and no error when the variable is not
// set: the process was not started by systemd with notification access.
func Notify(state string) (bool, error) {
	return notifyTo(os.Getenv(Socket), state)
}

// notifyTo sends state to the datagram socket at path: a file path, or an
// abstract socket written with a leading '@' (Go's net package maps it).
func notifyTo(path, state string) (bool, error) {
	if path == "" {
		return false, nil
	}
	if path[0] != '/' && path[0] != '@' {
		return false, fmt.Errorf("$%s=%q: only Unix socket paths are supported", Socket, path)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return false, fmt.Errorf("notifying systemd: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return false, fmt.Errorf("notifying systemd: %w", err)
	}
	return true, nil
}
