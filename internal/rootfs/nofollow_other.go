//go:build !unix

package rootfs

// oNoFollow is zero where open has no such flag: the last component is
// then followed like every other.
const oNoFollow = 0
