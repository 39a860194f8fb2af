package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/migrate"
)

// Names of the files --out writes beside the after-state.
const (
	permissionsScript = "permissions.sh"
	removeList        = "remove.list"
)

// writeOut writes the after-state of every created or changed file under
// dir at its absolute path, the planned symlinks, DIR/remove.list (the
// files to delete, one a line) and DIR/permissions.sh.
func writeOut(dir string, p *migrate.Plan) error {
	var removed []string
	for _, f := range p.Changed() {
		dst := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("writing %s: %w", dst, err)
		}
		var err error
		switch f.Action {
		case "remove":
			removed = append(removed, f.Path)
		case "symlink":
			if err = os.Remove(dst); err != nil && !os.IsNotExist(err) {
				break
			}
			err = os.Symlink(f.Link, dst)
		default:
			err = os.WriteFile(dst, []byte(f.After), 0o644)
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", dst, err)
		}
	}
	list := strings.Join(removed, "\n")
	if list != "" {
		list += "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, removeList), []byte(list), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", removeList, err)
	}
	if err := os.WriteFile(filepath.Join(dir, permissionsScript), []byte(p.PermissionsScript()), 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", permissionsScript, err)
	}
	return nil
}
