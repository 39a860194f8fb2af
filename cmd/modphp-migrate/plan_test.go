package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestPlanHelp compares plan -h with its golden file.
func TestPlanHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"plan", "-h"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	golden := filepath.Join("testdata", "plan.help.golden")
	if updating() {
		if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if stdout.String() != string(want) {
		t.Errorf("-h output differs from %s (go test -update to refresh):\n%s", golden, stdout.String())
	}
}

// legacyCopy copies docs/examples/legacy-server to a temporary directory.
func legacyCopy(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	if err := copyDir("../../docs/examples/legacy-server", dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

// treeSum hashes every path, mode, link and content under dir.
func treeSum(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %v\n", p, fi.Mode())
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			fmt.Fprintln(h, l)
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// applyOut applies an --out directory to root as an administrator would:
// copy the overlay, delete what remove.list names.
func applyOut(t *testing.T, out, root string) {
	t.Helper()
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		if rel == permissionsScript || rel == removeList {
			return nil
		}
		f := &planFile{path: filepath.Join(root, rel)}
		if d.Type()&fs.ModeSymlink != 0 {
			f.link, _ = os.Readlink(p)
		} else if f.data, err = os.ReadFile(p); err != nil {
			return err
		}
		return f.write()
	})
	if err != nil {
		t.Fatal(err)
	}
	list, err := os.ReadFile(filepath.Join(out, removeList))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range strings.Fields(string(list)) {
		if err := os.Remove(filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
}

type planFile struct {
	path, link string
	data       []byte
}

func (f *planFile) write() error {
	if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
		return err
	}
	_ = os.Remove(f.path)
	if f.link != "" {
		return os.Symlink(f.link, f.path)
	}
	return os.WriteFile(f.path, f.data, 0o644)
}

// TestPlanOutIdempotent plans the example server with --out, checks that
// nothing outside --out was written, applies the overlay and plans again:
// no change is left, in both --htaccess modes.
func TestPlanOutIdempotent(t *testing.T) {
	for _, mode := range []string{"shim", "user-ini"} {
		t.Run(mode, func(t *testing.T) {
			root := legacyCopy(t)
			out := t.TempDir()
			before := treeSum(t, root)
			var stdout, stderr bytes.Buffer
			args := []string{"plan", "--htaccess=" + mode, "--out", out, "--root", root, filepath.Join(root, "etc/apache2")}
			if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			if treeSum(t, root) != before {
				t.Fatal("plan --out changed the planned tree")
			}
			for _, p := range []string{"etc/apache2/conf-available/modphp-migrate-fpm.conf", "etc/php/8.2/fpm/pool.d/modphp-migrate-shop-example-test.conf", permissionsScript, removeList} {
				if _, err := os.Stat(filepath.Join(out, p)); err != nil {
					t.Errorf("--out lacks %s: %v", p, err)
				}
			}
			if link, err := os.Readlink(filepath.Join(out, "etc/apache2/conf-enabled/modphp-migrate-fpm.conf")); err != nil || link != "../conf-available/modphp-migrate-fpm.conf" {
				t.Errorf("conf-enabled link: %q, %v", link, err)
			}
			applyOut(t, out, root)
			stdout.Reset()
			stderr.Reset()
			args = []string{"plan", "--htaccess=" + mode, "--root", root, filepath.Join(root, "etc/apache2")}
			if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
				t.Fatalf("second plan: exit %d: %s", code, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("planning the applied tree prints changes:\n%s", stdout.String())
			}
		})
	}
}

// TestPlanCheck runs plan --check on the example server and on the tree
// with the plan applied: apache2 -t and php-fpm -t accept both.
func TestPlanCheck(t *testing.T) {
	if findBinary(apacheBinaries) == "" || findBinary(fpmBinaries) == "" {
		if os.Getenv("MODPHP_MIGRATE_REAL") == "1" {
			t.Fatal("apache2 and php-fpm are required (MODPHP_MIGRATE_REAL=1)")
		}
		t.Skip("apache2 or php-fpm not installed")
	}
	root := legacyCopy(t)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"plan", "--check", "--out", out, "--root", root, filepath.Join(root, "etc/apache2")}
	if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"check: apache2 -t: ", "Syntax OK", "check: php-fpm -t: ", "test is successful"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	applyOut(t, out, root)
	stderr.Reset()
	args = []string{"plan", "--check", "--root", root, filepath.Join(root, "etc/apache2")}
	if code := run(context.Background(), args, &stdout, &stderr); code != exitOK || !strings.Contains(stderr.String(), "Syntax OK") ||
		!strings.Contains(stderr.String(), "test is successful") {
		t.Fatalf("applied tree: exit %d: %s", code, stderr.String())
	}
}

// TestPlanCheckFails shows --check reporting apache2 -t's error and
// exiting 1 on a tree Apache refuses (a directive of a module that is not
// loaded), with the plan applied to a temporary copy only.
func TestPlanCheckFails(t *testing.T) {
	if findBinary(apacheBinaries) == "" {
		if os.Getenv("MODPHP_MIGRATE_REAL") == "1" {
			t.Fatal("apache2 is required (MODPHP_MIGRATE_REAL=1)")
		}
		t.Skip("apache2 not installed")
	}
	root := legacyCopy(t)
	conf := filepath.Join(root, "etc/apache2/sites-available/blog.conf")
	data, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, append(data, "NoSuchDirective on\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"plan", "--check", "--root", root, filepath.Join(root, "etc/apache2")}, &stdout, &stderr)
	if code != exitFindings {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitFindings, stderr.String())
	}
	if !strings.Contains(stderr.String(), "check: apache2 -t failed: exit status 1\n") || !strings.Contains(stderr.String(), "Invalid command 'NoSuchDirective'") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

// TestPlanTreeFlags checks that plan takes lint's tree flags, declared
// once for both: the same flags in the same order in both commands' help,
// a --max-files that stops reading the legacy example fails the plan at
// the Include that crossed it (exit 3), a search for .htaccess files it
// stops is a note, and a bound that is not positive is a usage error.
func TestPlanTreeFlags(t *testing.T) {
	want := []string{"root", "fpm-config", "define", "access-file-name", "httpd-version", "max-files", "max-bytes", "max-walk"}
	tree := pflag.NewFlagSet("tree", pflag.ContinueOnError)
	tree.SortFlags = false
	addTreeFlags(tree, &treeFlags{}, treeFlagUse{})
	lintFS, _ := newLintFlags()
	planFS, _ := newPlanFlags()
	for name, fs := range map[string]*pflag.FlagSet{"tree": tree, "lint": lintFS, "plan": planFS} {
		var got []string
		fs.VisitAll(func(f *pflag.Flag) {
			if slices.Contains(want, f.Name) {
				got = append(got, f.Name)
			}
		})
		if !slices.Equal(got, want) {
			t.Errorf("%s's tree flags: %v, want %v", name, got, want)
		}
	}

	root := legacyCopy(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"plan", "--root", root, "--max-files", "3", filepath.Join(root, "etc/apache2")}, &stdout, &stderr)
	wantErr := "modphp-migrate plan: " + filepath.Join(root, "etc/apache2/apache2.conf") + ":146:1: reading stopped here: mods-enabled/*.load names more than 3 files and directories"
	if code != exitInternal || stdout.Len() != 0 || !strings.HasPrefix(stderr.String(), wantErr) {
		t.Errorf("--max-files 3: exit %d, stdout %q, stderr %q; want exit %d, no output, stderr starting %q", code, stdout.String(), stderr.String(), exitInternal, wantErr)
	}
	// The search for .htaccess files stopped by --max-walk is a note; the
	// plan is made of what was read.
	walk := t.TempDir()
	write(t, filepath.Join(walk, "apache2.conf"), "ServerRoot /etc/apache2\nDocumentRoot "+walk+"/www\n<Directory "+walk+"/www>\n    AllowOverride All\n</Directory>\n")
	for i := range 60 {
		if err := os.MkdirAll(filepath.Join(walk, "www", fmt.Sprint("d", i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stdout.Reset()
	stderr.Reset()
	code = run(context.Background(), []string{"plan", "--fpm-config", "none", "--max-walk", "30", walk}, &stdout, &stderr)
	wantNote := "note: " + filepath.Join(walk, "apache2.conf") + ":2:1: the search for access files stopped under " + walk + "/www: the document roots hold more than 30 directory entries"
	if code != exitOK || !strings.Contains(stderr.String(), wantNote) {
		t.Errorf("--max-walk 30 on a document root of 60 directories: exit %d, stderr %q; want exit 0 and %q", code, stderr.String(), wantNote)
	}
	for _, arg := range []string{"--max-files=0", "--max-walk=-1", "--max-bytes=0"} {
		stdout.Reset()
		stderr.Reset()
		if code := run(context.Background(), []string{"plan", arg, filepath.Join(root, "etc/apache2")}, &stdout, &stderr); code != exitUsage {
			t.Errorf("plan %s: exit %d, want %d (stderr %q)", arg, code, exitUsage, stderr.String())
		}
	}
}

// TestPlanCheckAbsoluteLink plans a tree under --root whose conf-enabled
// holds an absolute link out of the Apache directory, as Debian's
// phpmyadmin package makes to /etc/modphp-migrate-test-app/apache.conf (here to a
// directory this machine has not, so that a write through the link would
// show): the diff changes the link's target inside the root and says so,
// and --check tests the changed file in place of the link, writing
// nothing through it.
func TestPlanCheckAbsoluteLink(t *testing.T) {
	if findBinary(apacheBinaries) == "" {
		if os.Getenv("MODPHP_MIGRATE_REAL") == "1" {
			t.Fatal("apache2 is required (MODPHP_MIGRATE_REAL=1)")
		}
		t.Skip("apache2 not installed")
	}
	if _, err := os.Lstat("/etc/modphp-migrate-test-app"); err == nil {
		t.Skip("this machine has /etc/modphp-migrate-test-app")
	}
	root := legacyCopy(t)
	conf := filepath.Join(root, "etc/modphp-migrate-test-app/apache.conf")
	if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("Alias /phpmyadmin /usr/share/phpmyadmin\n<Directory /usr/share/phpmyadmin>\n\tphp_value upload_max_filesize 8M\n</Directory>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/modphp-migrate-test-app/apache.conf", filepath.Join(root, "etc/apache2/conf-enabled/phpmyadmin.conf")); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"plan", "--check", "--root", root, filepath.Join(root, "etc/apache2")}, &stdout, &stderr)
	if code != exitOK || !strings.Contains(stderr.String(), "Syntax OK") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	want := "# /etc/apache2/conf-enabled/phpmyadmin.conf is a symbolic link to /etc/modphp-migrate-test-app/apache.conf: the change is made there\n" +
		"--- /etc/modphp-migrate-test-app/apache.conf\n+++ /etc/modphp-migrate-test-app/apache.conf\n"
	if !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
	}
	if !strings.Contains(stdout.String(), "+\t<IfModule mod_php.c>\n \tphp_value upload_max_filesize 8M\n+\t</IfModule>\n") {
		t.Errorf("the php_value is not wrapped:\n%s", stdout.String())
	}
	if _, err := os.Lstat("/etc/modphp-migrate-test-app"); err == nil {
		os.RemoveAll("/etc/modphp-migrate-test-app")
		t.Error("--check wrote through the link to this machine's /etc/modphp-migrate-test-app")
	}
}
