package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerateShape(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tree")
	st, err := generate(options{vhosts: 20, htaccess: 5, docrootFiles: 700, modules: "/usr/lib/apache2/modules", out: out})
	if err != nil {
		t.Fatal(err)
	}

	sites, err := filepath.Glob(filepath.Join(out, "sites", "*.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sites) != 20 {
		t.Fatalf("%d vhost files, want 20", len(sites))
	}
	total := 0
	for _, f := range sites {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n := bytes.Count(data, []byte("\n"))
		if n != vhostLines {
			t.Errorf("%s: %d lines, want %d", filepath.Base(f), n, vhostLines)
		}
		total += n
		for _, want := range []string{"<VirtualHost *:${HTTP_PORT}>", "DocumentRoot \"${WWW}/", "<Directory ", "<IfModule mod_php.c>", "</VirtualHost>"} {
			if !bytes.Contains(data, []byte(want)) {
				t.Errorf("%s lacks %q", filepath.Base(f), want)
			}
		}
	}
	if st.VhostLines != total {
		t.Errorf("stats say %d vhost lines, files have %d", st.VhostLines, total)
	}
	// ~7 MB for 10,000 vhosts means 600-800 bytes per vhost file.
	if per := st.VhostBytes / 20; per < 600 || per > 800 {
		t.Errorf("%d bytes per vhost; 10,000 vhosts would not be ~7 MB", per)
	}

	main, err := os.ReadFile(filepath.Join(out, "httpd.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Define WWW", "IncludeOptional sites/*.conf", "PidFile run/httpd.pid", "DefaultRuntimeDir run", "ErrorLog logs/error.log", "LoadModule proxy_fcgi_module"} {
		if !bytes.Contains(main, []byte(want)) {
			t.Errorf("httpd.conf lacks %q", want)
		}
	}

	var htaccess, files, worldWritable int
	err = filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == ".htaccess" {
			htaccess++
			return nil
		}
		if !strings.Contains(path, filepath.Join("site00000", "public")) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files++
		}
		if info.Mode().Perm()&0o002 != 0 {
			worldWritable++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if htaccess != 5 || st.Htaccess != 5 {
		t.Errorf("%d .htaccess files (stats %d), want 5", htaccess, st.Htaccess)
	}
	if files != 700 || st.DocrootFiles != 700 {
		t.Errorf("%d docroot files (stats %d), want 700", files, st.DocrootFiles)
	}
	// 700 files: 7 with i%97 == 96, and leaf directory 12 (files 600-649) is 0777.
	if worldWritable != 8 || st.WorldWritable != 8 {
		t.Errorf("%d world-writable entries (stats %d), want 8", worldWritable, st.WorldWritable)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, out := range []string{a, b} {
		if _, err := generate(options{vhosts: 7, htaccess: 3, modules: "/m", out: out}); err != nil {
			t.Fatal(err)
		}
	}
	for _, rel := range []string{"sites/site00003.conf", "www/site00002/public/.htaccess", "conf.d/php-fpm.conf"} {
		x, err := os.ReadFile(filepath.Join(a, rel))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs", rel)
		}
	}
}

func TestGenerateRefusesNonEmptyDir(t *testing.T) {
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := generate(options{vhosts: 1, out: out}); err == nil {
		t.Fatal("generate wrote into a non-empty directory")
	}
}

// TestApacheAcceptsTree runs the real apache2 -t on a 20-vhost tree.
func TestApacheAcceptsTree(t *testing.T) {
	apache, err := exec.LookPath("apache2")
	if err != nil {
		apache, err = exec.LookPath("/usr/sbin/apache2")
	}
	if err != nil {
		if os.Getenv("MODPHP_MIGRATE_REAL") == "1" {
			t.Fatal("apache2 is missing and MODPHP_MIGRATE_REAL=1")
		}
		t.Skip("apache2 is missing")
	}
	out := filepath.Join(t.TempDir(), "tree")
	if _, err := generate(options{vhosts: 20, htaccess: 5, docrootFiles: 10, modules: "/usr/lib/apache2/modules", out: out}); err != nil {
		t.Fatal(err)
	}
	res, err := exec.Command(apache, "-d", out, "-f", filepath.Join(out, "httpd.conf"), "-t").CombinedOutput()
	if err != nil || strings.TrimSpace(string(res)) != "Syntax OK" {
		t.Fatalf("apache2 -t: %v\n%s", err, res)
	}
	// -S lists the vhosts Apache actually loaded through IncludeOptional.
	res, err = exec.Command(apache, "-d", out, "-f", filepath.Join(out, "httpd.conf"), "-S").CombinedOutput()
	if err != nil {
		t.Fatalf("apache2 -S: %v\n%s", err, res)
	}
	if n := strings.Count(string(res), "namevhost site"); n != 20 {
		t.Errorf("apache2 -S lists %d generated vhosts, want 20:\n%s", n, res)
	}
}
