//go:build !unix

package fcgi

import "net"

// prober cannot peek without blocking on this platform; a dead kept
// connection is then caught by the retry in Client.Do.
type prober struct{}

func newProber(net.Conn) *prober { return nil }

func (*prober) check() bool { return true }

func isConnReset(error) bool { return false }

// peerDraining cannot tell a draining peer on this platform.
func peerDraining(net.Conn) bool { return false }
