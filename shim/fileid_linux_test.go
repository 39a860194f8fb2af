package shim

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestStatID: statID agrees with os.Stat for short paths (C string on the
// stack), long ones (allocated) and what is not a regular file, and fails
// as stat(2) does.
func TestStatID(t *testing.T) {
	dir := t.TempDir()
	long := dir
	for len(long) < 700 {
		long = filepath.Join(long, strings.Repeat("d", 100))
	}
	if err := os.MkdirAll(long, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "f"), filepath.Join(long, "f")} {
		if err := os.WriteFile(p, []byte("php_value x 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		id, regular, err := statID(p)
		if err != nil || !regular || id != idOf(fi) {
			t.Errorf("statID(%d-byte path) = %+v, %v, %v; want %+v, true, nil", len(p), id, regular, err, idOf(fi))
		}
	}
	if _, regular, err := statID(long); err != nil || regular {
		t.Errorf("statID(directory) = regular %v, %v; want false, nil", regular, err)
	}
	if _, _, err := statID(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("statID(missing) = %v, want ErrNotExist", err)
	}
	if _, _, err := statID(filepath.Join(dir, "f", ".htaccess")); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("statID(below a file) = %v, want ENOTDIR", err)
	}
	if _, _, err := statID(dir + "/f\x00x"); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("statID(path with NUL) = %v, want EINVAL", err)
	}
}
