//go:build !linux

package fcgi

import "net"

// fastConn returns nc: raw socket calls are used on Linux only.
func fastConn(nc net.Conn) net.Conn { return nc }
