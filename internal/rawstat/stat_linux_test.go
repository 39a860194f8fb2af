package rawstat

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestStat: Stat gives what syscall.Stat gives, for a path whose C string
// fits on the stack and for a longer one, and fails with the bare errno.
func TestStat(t *testing.T) {
	dir := t.TempDir()
	long := dir
	for len(long) < 700 {
		long = filepath.Join(long, strings.Repeat("d", 100))
	}
	if err := os.MkdirAll(long, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "f"), filepath.Join(long, "f")} {
		if err := os.WriteFile(p, []byte("12345"), 0o644); err != nil {
			t.Fatal(err)
		}
		var got, want syscall.Stat_t
		if err := Stat(p, &got); err != nil {
			t.Fatalf("Stat(%d-byte path): %v", len(p), err)
		}
		if err := syscall.Stat(p, &want); err != nil {
			t.Fatal(err)
		}
		if got != want || got.Size != 5 {
			t.Errorf("Stat(%d-byte path) = %+v, want %+v", len(p), got, want)
		}
	}
	var st syscall.Stat_t
	err := Stat(filepath.Join(dir, "missing"), &st)
	if err != syscall.ENOENT || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want ENOENT", err)
	}
	if err := Stat("a\x00b", &st); err == nil {
		t.Error("path with a NUL byte: no error")
	}
}
