// Tests that keep docs/examples/legacy-server honest: a tree real Apache
// accepts as it stands, that stops loading once mod_php is gone (the point of
// the example), and whose world-writable files can be recreated.
package examples_test

import (
	"bufio"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const tree = "legacy-server"

// requireReal skips when a real peer is missing, unless MODPHP_MIGRATE_REAL=1.
func requireReal(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("MODPHP_MIGRATE_REAL") == "1" {
		t.Fatalf("%s is missing and MODPHP_MIGRATE_REAL=1", what)
	}
	t.Skipf("%s is missing", what)
}

// copyTree copies src to dst keeping symlinks as symlinks, like cp -a.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		default:
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readModes parses legacy-server.modes.
func readModes(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("legacy-server.modes")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	modes := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		mode, path, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("bad line in legacy-server.modes: %q", line)
		}
		modes[path] = mode
	}
	return modes
}

// TestEnabledLinksAreRelative checks the Debian a2enmod/a2ensite shape: every
// entry of a *-enabled directory is a relative symlink into the matching
// *-available directory of the same tree, so the tree works wherever it is.
func TestEnabledLinksAreRelative(t *testing.T) {
	for _, kind := range []string{"mods", "conf", "sites"} {
		dir := filepath.Join(tree, "etc/apache2", kind+"-enabled")
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			t.Errorf("%s is empty", dir)
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			link, err := os.Readlink(p)
			if err != nil {
				t.Errorf("%s: not a symlink: %v", p, err)
				continue
			}
			if want := "../" + kind + "-available/" + e.Name(); link != want {
				t.Errorf("%s -> %s, want %s", p, link, want)
			}
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s: dangling link: %v", p, err)
			}
		}
	}
}

// TestApplyModes runs apply-modes.sh on a copy and checks that exactly the
// listed paths end up writable by others.
func TestApplyModes(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "ls")
	copyTree(t, tree, dst)
	out, err := exec.Command("sh", "apply-modes.sh", dst).CombinedOutput()
	if err != nil {
		t.Fatalf("apply-modes.sh: %v\n%s", err, out)
	}
	var got []string
	err = filepath.WalkDir(dst, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o002 != 0 {
			rel, _ := filepath.Rel(dst, path)
			got = append(got, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for p := range readModes(t) {
		want = append(want, p)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("world-writable after apply-modes.sh:\n got %q\nwant %q", got, want)
	}
}

// apacheTest runs apache2 -t on the etc/apache2 of root with Debian's
// envvars pointed into a temporary directory.
func apacheTest(t *testing.T, root string) (string, error) {
	t.Helper()
	apache, err := exec.LookPath("apache2")
	if err != nil {
		if apache, err = exec.LookPath("/usr/sbin/apache2"); err != nil {
			requireReal(t, "apache2")
		}
	}
	if _, err := os.Stat("/usr/lib/apache2/modules/libphp8.2.so"); err != nil {
		requireReal(t, "libphp8.2.so (libapache2-mod-php8.2)")
	}
	run := t.TempDir()
	conf, err := filepath.Abs(filepath.Join(root, "etc/apache2"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(apache, "-d", conf, "-f", "apache2.conf", "-t")
	cmd.Env = append(os.Environ(),
		"APACHE_RUN_USER=www-data", "APACHE_RUN_GROUP=www-data",
		"APACHE_RUN_DIR="+run, "APACHE_PID_FILE="+run+"/apache2.pid",
		"APACHE_LOCK_DIR="+run, "APACHE_LOG_DIR="+run, "LANG=C")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestApacheAcceptsTree: the example is a working mod_php server.
func TestApacheAcceptsTree(t *testing.T) {
	out, err := apacheTest(t, tree)
	if err != nil || !strings.Contains(out, "Syntax OK") {
		t.Fatalf("apache2 -t on %s: %v\n%s", tree, err, out)
	}
}

// TestApacheRejectsTreeWithoutModPHP swaps mod_php and prefork for
// mpm_event, as a2dismod php8.2 mpm_prefork && a2enmod mpm_event would, and
// checks Apache refuses the config at the unguarded php_value in the blog's
// included wp-admin.conf (docs/behaviour.md#b-conf-invalid).
func TestApacheRejectsTreeWithoutModPHP(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "ls")
	copyTree(t, tree, dst)
	en := filepath.Join(dst, "etc/apache2/mods-enabled")
	for _, f := range []string{"php8.2.load", "php8.2.conf", "mpm_prefork.load", "mpm_prefork.conf"} {
		if err := os.Remove(filepath.Join(en, f)); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"mpm_event.load", "mpm_event.conf"} {
		if err := os.Symlink("../mods-available/"+f, filepath.Join(en, f)); err != nil {
			t.Fatal(err)
		}
	}
	out, err := apacheTest(t, dst)
	if err == nil {
		t.Fatalf("apache2 -t accepted the tree without mod_php:\n%s", out)
	}
	for _, want := range []string{
		"Syntax error on line 3 of " + filepath.Join(dst, "etc/apache2/includes/blog/wp-admin.conf"),
		"Invalid command 'php_value'",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("apache2 -t output lacks %q:\n%s", want, out)
		}
	}
}
