package facts

import (
	"os"

	"golang.org/x/sys/unix"
)

// lstatEntry returns what the walks need of dir/name without following a
// symbolic link. On Linux it calls fstatat(2) on the open directory, which
// spares the kernel the path walk and Go the FileInfo: the walk makes one
// such call per entry, as find -perm does.
func lstatEntry(d *os.File, dir, name string) DirEntry {
	var st unix.Stat_t
	for {
		err := unix.Fstatat(int(d.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW)
		switch err {
		case nil:
			return DirEntry{
				Name:    name,
				Dir:     st.Mode&unix.S_IFMT == unix.S_IFDIR,
				Symlink: st.Mode&unix.S_IFMT == unix.S_IFLNK,
				Perm:    st.Mode & 0o7777,
			}
		case unix.EINTR:
			continue
		}
		return DirEntry{Name: name, Err: &os.PathError{Op: "fstatat", Path: dir + "/" + name, Err: err}}
	}
}
