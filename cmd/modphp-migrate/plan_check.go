package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/migrate"
)

// apacheBinaries and fpmBinaries are looked up for --check, in order.
var (
	apacheBinaries = []string{"apache2", "/usr/sbin/apache2", "httpd", "/usr/sbin/httpd"}
	fpmBinaries    = []string{"php-fpm8.2", "/usr/sbin/php-fpm8.2", "php-fpm", "/usr/sbin/php-fpm"}
)

func findBinary(names []string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// checkPlan runs apache2 -t on a temporary copy of the Apache tree with
// the plan applied, and php-fpm -t on the planned pools (those the tree
// already holds as planned too, so that an applied tree is checked as
// well). Missing binaries
// are reported and skipped; a failing check exits 1.
func checkPlan(ctx context.Context, p *migrate.Plan, root string, stderr io.Writer) int {
	tmp, err := os.MkdirTemp("", "modphp-migrate-check-")
	if err != nil {
		fmt.Fprintf(stderr, "modphp-migrate plan: --check: %v\n", err)
		return exitInternal
	}
	defer os.RemoveAll(tmp)
	code := exitOK
	if bin := findBinary(apacheBinaries); bin == "" {
		fmt.Fprintln(stderr, "check: apache2 is not installed; skipped")
	} else if out, err := checkApache(ctx, bin, p, root, tmp); err != nil {
		fmt.Fprintf(stderr, "check: apache2 -t failed: %v\n%s", err, out)
		code = exitFindings
	} else {
		fmt.Fprintf(stderr, "check: apache2 -t: %s", out)
	}
	if bin := findBinary(fpmBinaries); bin == "" {
		fmt.Fprintln(stderr, "check: php-fpm is not installed; skipped")
	} else if out, err := checkFPM(ctx, bin, p, tmp); err != nil {
		fmt.Fprintf(stderr, "check: php-fpm -t failed: %v\n%s", err, out)
		code = exitFindings
	} else {
		fmt.Fprintf(stderr, "check: php-fpm -t: %s", out)
	}
	return code
}

// apacheConfDir returns the server path of the Apache configuration
// directory the plan writes to (the directory of conf-available or
// conf.d).
func apacheConfDir(p *migrate.Plan) string {
	for _, f := range p.Files {
		if filepath.Base(f.Path) == migrate.ConfName && f.Action != "symlink" {
			return filepath.Dir(filepath.Dir(f.Path))
		}
	}
	return "/etc/apache2"
}

func checkApache(ctx context.Context, bin string, p *migrate.Plan, root, tmp string) ([]byte, error) {
	confDir := apacheConfDir(p)
	dst := filepath.Join(tmp, "apache2")
	if err := copyDir(filepath.Join(root, confDir), dst); err != nil {
		return nil, err
	}
	for _, f := range p.Changed() {
		rel, ok := below(confDir, f.Path)
		if !ok && f.Via != "" {
			// A link of the tree to a file outside it: the copy's link
			// gives way to the changed file.
			rel, ok = below(confDir, f.Via)
		}
		if !ok {
			continue
		}
		if err := applyFile(filepath.Join(dst, rel), f); err != nil {
			return nil, err
		}
	}
	run := filepath.Join(tmp, "run")
	if err := os.MkdirAll(run, 0o755); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "-d", dst, "-f", filepath.Join(dst, "apache2.conf"), "-t")
	cmd.Env = append(os.Environ(), "APACHE_RUN_USER=www-data", "APACHE_RUN_GROUP=www-data",
		"APACHE_RUN_DIR="+run, "APACHE_PID_FILE="+run+"/apache2.pid",
		"APACHE_LOCK_DIR="+run, "APACHE_LOG_DIR="+run, "LANG=C")
	if _, err := os.Stat(filepath.Join(dst, "apache2.conf")); err != nil {
		cmd.Args[4] = filepath.Join(dst, "httpd.conf")
	}
	out, err := cmd.CombinedOutput()
	return out, err
}

func checkFPM(ctx context.Context, bin string, p *migrate.Plan, tmp string) ([]byte, error) {
	dir := filepath.Join(tmp, "fpm")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var conf bytes.Buffer
	fmt.Fprintf(&conf, "[global]\npid = %s/php-fpm.pid\nerror_log = %s/error.log\n", dir, dir)
	n := 0
	for _, f := range p.Files { // with the pool files that need no change
		if f.Action == "remove" || f.Action == "symlink" || !strings.Contains(f.Path, "/pool.d/") {
			continue
		}
		n++
		pool := filepath.Join(dir, fmt.Sprintf("pool%d.conf", n))
		if err := os.WriteFile(pool, []byte(f.After), 0o644); err != nil {
			return nil, err
		}
		fmt.Fprintf(&conf, "include = %s\n", pool)
	}
	if n == 0 {
		return []byte("no pool to check\n"), nil
	}
	main := filepath.Join(dir, "php-fpm.conf")
	if err := os.WriteFile(main, conf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return exec.CommandContext(ctx, bin, "-t", "-y", main).CombinedOutput()
}

// applyFile makes one planned change at dst.
func applyFile(dst string, f *migrate.File) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	switch f.Action {
	case "remove":
		return os.Remove(dst)
	case "symlink":
		_ = os.Remove(dst)
		return os.Symlink(f.Link, dst)
	}
	// A link copied from the tree is replaced, never written through: its
	// target may be a file of this machine.
	if fi, err := os.Lstat(dst); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if err := os.Remove(dst); err != nil {
			return err
		}
	}
	return os.WriteFile(dst, []byte(f.After), 0o644)
}

// below returns p relative to dir when it lies under it.
func below(dir, p string) (string, bool) {
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return rel, true
}

// copyDir copies a directory tree, symlinks as links.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, to)
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o644)
	})
}
