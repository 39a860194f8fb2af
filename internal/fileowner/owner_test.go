//go:build unix

package fileowner

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOf: a file this process creates is owned by its effective user and
// group.
func TestOf(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	uid, gid, ok := Of(fi)
	if !ok || int(uid) != os.Geteuid() || int(gid) != os.Getegid() {
		t.Errorf("Of = %d, %d, %v; want %d, %d, true", uid, gid, ok, os.Geteuid(), os.Getegid())
	}
}
