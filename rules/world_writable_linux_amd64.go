package rules

import (
	"os"
	"syscall"
	"unsafe"
)

// lstatPerm returns the permission bits of dir/name without following a
// symbolic link. On Linux it calls fstatat(2) (newfstatat on amd64) on the
// open directory, which spares the kernel the path walk and Go the FileInfo
// allocation: the walk makes one such call per entry, as find -perm does.
func lstatPerm(d *os.File, dir, name string) (uint32, error) {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return 0, &os.PathError{Op: "fstatat", Path: dir + "/" + name, Err: err}
	}
	var st syscall.Stat_t
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_NEWFSTATAT, d.Fd(), uintptr(unsafe.Pointer(p)),
			uintptr(unsafe.Pointer(&st)), _AT_SYMLINK_NOFOLLOW, 0, 0)
		switch errno {
		case 0:
			return st.Mode & 0o7777, nil
		case syscall.EINTR:
			continue
		}
		return 0, &os.PathError{Op: "fstatat", Path: dir + "/" + name, Err: errno}
	}
}

// _AT_SYMLINK_NOFOLLOW is AT_SYMLINK_NOFOLLOW from <fcntl.h>.
const _AT_SYMLINK_NOFOLLOW = 0x100
