package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestIncludeDepth: a chain of 130 distinct files stops at httpd's
// AP_MAX_INCLUDE_DEPTH with its message, without hanging.
func TestIncludeDepth(t *testing.T) {
	files := map[string]string{"httpd.conf": "Include f000.conf\n"}
	for i := 0; i < 130; i++ {
		files[fmt.Sprintf("f%03d.conf", i)] = fmt.Sprintf("Include f%03d.conf\n", i+1)
	}
	files["f130.conf"] = "ServerAdmin deep@example.test\n"
	dir := writeTree(t, files)
	cfg, err := LoadView(filepath.Join(dir, "httpd.conf"), Today, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, d := range cfg.Diagnostics {
		msgs = append(msgs, fmt.Sprintf("%s: %s", strings.TrimPrefix(d.Pos.String(), dir+"/"), d.Message))
	}
	want := "f127.conf:1:1: Exceeded maximum include depth of 128, There appears to be a recursion."
	if len(msgs) != 1 || msgs[0] != want {
		t.Errorf("diagnostics = %q, want [%q]", msgs, want)
	}
	if len(cfg.Files) != 129 {
		t.Errorf("read %d files, want 129 (main + 128 levels)", len(cfg.Files))
	}
}

// TestAllowOverrideForAndSections checks the model's per-directory
// override (shortest path first, vhost sections only for their vhost) and
// the sections listed per vhost.
func TestAllowOverrideForAndSections(t *testing.T) {
	dir := writeTree(t, map[string]string{"etc/apache2/apache2.conf": `<Directory />
  AllowOverride None
</Directory>
<Directory /var/www>
  AllowOverride FileInfo
</Directory>
<VirtualHost *:80>
  ServerName a
  <Directory /var/www/a>
    AllowOverride All
  </Directory>
  <FilesMatch "\.php$">
    SetHandler "proxy:unix:/run/php/a.sock|fcgi://localhost"
  </FilesMatch>
  <Location /status>
    Require local
  </Location>
</VirtualHost>
`})
	cfg, err := LoadView(filepath.Join(dir, "etc/apache2"), Today, LoadOptions{Root: dir, NoAccessFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	vh := cfg.VHosts[0]
	for _, tc := range []struct {
		dir  string
		vh   *VHost
		mask uint
	}{
		{"/", nil, 0},
		{"/srv", nil, 0},
		{"/var/www/b", nil, OverrideFileInfo},
		{"/var/www/a/sub", nil, OverrideFileInfo},
		{"/var/www/a/sub", vh, OverrideAll},
	} {
		o := cfg.AllowOverrideFor(tc.dir, tc.vh)
		if !o.Set || o.Mask != tc.mask {
			t.Errorf("AllowOverrideFor(%s, vhost=%v) = %+v, want mask %d", tc.dir, tc.vh != nil, o, tc.mask)
		}
	}
	var names []string
	for _, s := range vh.Sections {
		names = append(names, fmt.Sprintf("%s:%d", s.Name, s.Pos.Line))
	}
	if got := strings.Join(names, " "); got != "Directory:9 FilesMatch:12 Location:15" {
		t.Errorf("sections = %s", got)
	}
}
