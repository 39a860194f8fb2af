//go:build !unix

package fcgi

import "net"

// connAlive cannot peek without blocking on this platform; a dead kept
// connection is then caught by the retry in Client.Do.
func connAlive(net.Conn) bool { return true }

func isConnReset(error) bool { return false }

// peerDraining cannot tell a draining peer on this platform.
func peerDraining(net.Conn) bool { return false }
