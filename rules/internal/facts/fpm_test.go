package facts

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFPMUnderRoot: php-fpm.conf is found and read inside the root, its
// version directory a link to an absolute path that exists only there.
func TestFPMUnderRoot(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"etc/php/8.2/fpm/php-fpm.conf":     "[old]\nlisten = /run/php/old.sock\npm = static\npm.max_children = 1\n",
		"opt/php-next/fpm/php-fpm.conf":    "include = /opt/php-next/fpm/pool.d/*.conf\n",
		"opt/php-next/fpm/pool.d/new.conf": "[new]\nlisten = /run/php/new.sock\npm = static\npm.max_children = 1\n",
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/opt/php-next", filepath.Join(root, "etc/php/8.3")); err != nil {
		t.Fatal(err)
	}
	path := FindFPMConfig(root)
	if want := filepath.Join(root, "etc/php/8.3/fpm/php-fpm.conf"); path != want {
		t.Fatalf("FindFPMConfig = %q, want %q", path, want)
	}
	fpm, err := LoadFPM(root, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(fpm.Config.Pools) != 1 || fpm.Config.Pools[0].Name != "new" {
		t.Errorf("pools %v, want [new]", fpm.Config.Pools)
	}
}
