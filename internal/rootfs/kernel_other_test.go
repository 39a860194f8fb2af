//go:build !linux

package rootfs

import "testing"

// asKernel has no kernel to compare with off Linux.
func asKernel(*testing.T, *Root, string, string, bool) {}
