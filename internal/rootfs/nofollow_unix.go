//go:build unix

package rootfs

import "syscall"

// oNoFollow makes open fail with ELOOP on a symbolic link.
const oNoFollow = syscall.O_NOFOLLOW
