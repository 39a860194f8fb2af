package facts

import (
	"os"
	"strings"
	"syscall"
	"unsafe"
)

// lstatEntry returns what the walks need of dir/name without following a
// symbolic link. On Linux it calls fstatat(2) (newfstatat on amd64) on the
// open directory, which spares the kernel the path walk and Go the FileInfo
// allocation: the walk makes one such call per entry, as find -perm does.
//
// scratch holds the NUL-terminated name between calls, so that the walk
// does not allocate one per entry.
func lstatEntry(d *os.File, dir, name string, scratch *[]byte) DirEntry {
	if strings.IndexByte(name, 0) >= 0 {
		return DirEntry{Name: name, Err: &os.PathError{Op: "fstatat", Path: dir + "/" + name, Err: syscall.EINVAL}}
	}
	*scratch = append(append((*scratch)[:0], name...), 0)
	p := &(*scratch)[0]
	var st syscall.Stat_t
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_NEWFSTATAT, d.Fd(), uintptr(unsafe.Pointer(p)),
			uintptr(unsafe.Pointer(&st)), _AT_SYMLINK_NOFOLLOW, 0, 0)
		switch errno {
		case 0:
			return DirEntry{
				Name:    name,
				Dir:     st.Mode&syscall.S_IFMT == syscall.S_IFDIR,
				Symlink: st.Mode&syscall.S_IFMT == syscall.S_IFLNK,
				Perm:    st.Mode & 0o7777,
			}
		case syscall.EINTR:
			continue
		}
		return DirEntry{Name: name, Err: &os.PathError{Op: "fstatat", Path: dir + "/" + name, Err: errno}}
	}
}

// _AT_SYMLINK_NOFOLLOW is AT_SYMLINK_NOFOLLOW from <fcntl.h>.
const _AT_SYMLINK_NOFOLLOW = 0x100
