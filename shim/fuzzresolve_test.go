package shim

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/tools/txtar"
)

// fuzzMaxFiles bounds the tree one fuzz input builds.
const fuzzMaxFiles = 12

// buildFuzzTree writes the txtar archive ar under dir: "www/..." files,
// an optional "apache2.conf" ({{ROOT}} is dir), "NAME@link" entries that
// become symbolic links to the content (a path under dir, or /dev/null),
// and "NAME@fifo" entries that become FIFOs. It returns the Apache
// configuration's path ("" if none) and false when the input describes no
// usable tree.
func buildFuzzTree(dir string, ar *txtar.Archive) (string, bool) {
	if len(ar.Files) > fuzzMaxFiles {
		return "", false
	}
	conf := ""
	for _, f := range ar.Files {
		name, kind, _ := strings.Cut(f.Name, "@")
		clean := path.Clean(name)
		if name == "" || path.IsAbs(name) || clean != name || strings.HasPrefix(clean, "..") || strings.Count(clean, "/") > 6 || strings.ContainsRune(clean, 0) {
			return "", false
		}
		p := filepath.Join(dir, clean)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", false
		}
		data := strings.ReplaceAll(string(f.Data), "{{ROOT}}", dir)
		var err error
		switch kind {
		case "link":
			target := strings.TrimSpace(data)
			if target != "/dev/null" {
				t := path.Clean(target)
				if target == "" || path.IsAbs(t) || strings.HasPrefix(t, "..") {
					return "", false
				}
				target = filepath.Join(dir, t)
			}
			err = os.Symlink(target, p)
		case "fifo":
			err = syscall.Mkfifo(p, 0o644)
		case "":
			err = os.WriteFile(p, []byte(data), 0o644)
			if clean == "apache2.conf" {
				conf = p
			}
		default:
			return "", false
		}
		if err != nil {
			return "", false
		}
	}
	return conf, true
}

// FuzzResolve drives the shim's access-file resolution over a generated
// tree — access files, symbolic links to files and directories, FIFOs,
// an Apache configuration with AllowOverride and Nonfatal — and a script
// path. It must never panic or block, and it must be deterministic: the
// same request resolved again (from the caches) and by a fresh resolver
// gives the same answer.
func FuzzResolve(f *testing.F) {
	for _, s := range []struct{ tree, script string }{
		{"-- www/.htaccess --\nphp_value memory_limit 64M\n", "www/x.php"},
		{"-- etc/htaccess --\nphp_value memory_limit 77M\n-- www/fl/.htaccess@link --\netc/htaccess\n", "www/fl/x.php"},
		{"-- out/d/.htaccess --\nphp_value user_agent d\n-- www/dl@link --\nout/d\n", "www/dl/x.php"},
		{"-- www/f/.htaccess@fifo --\n", "www/f/x.php"},
		{"-- www/n/.htaccess@link --\n/dev/null\n", "www/n/x.php"},
		{"-- www/g/.htaccess@link --\nnothing\n", "www/g/x.php"},
		{"-- apache2.conf --\nDocumentRoot {{ROOT}}/www\n<Directory {{ROOT}}/www>\n    AllowOverride AuthConfig Nonfatal=Override\n</Directory>\n-- www/.htaccess --\nphp_value memory_limit 1M\nphp_admin_value x y\n", "www/x.php"},
		{"-- www/.htaccess --\n<IfModule mod_php.c>\n<Files a>\nphp_value memory_limit 1M\n<Files a>\n<FilesMatch ^a$>\nphp_flag display_errors on\n", "www/a"},
	} {
		f.Add(s.tree, s.script)
	}
	f.Fuzz(func(t *testing.T, tree, script string) {
		ar := txtar.Parse([]byte(tree))
		dir := t.TempDir()
		conf, ok := buildFuzzTree(dir, ar)
		if !ok || !path.IsAbs("/"+script) || strings.ContainsRune(script, 0) {
			return
		}
		req := Request{DocRoot: filepath.Join(dir, "www"), Script: path.Join(dir, path.Clean("/"+script)), URI: "/" + script}
		r1, err := NewResolver(nil, conf)
		if err != nil {
			return
		}
		first := describe(r1.Resolve(req))
		if again := describe(r1.Resolve(req)); again != first {
			t.Fatalf("cached answer %q, first %q", again, first)
		}
		r2, _ := NewResolver(nil, conf)
		if fresh := describe(r2.Resolve(req)); fresh != first {
			t.Fatalf("fresh resolver %q, first %q", fresh, first)
		}
	})
}
