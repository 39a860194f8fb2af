package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		writeFile(t, filepath.Join(dir, name), body)
	}
	return dir
}

// writeFile writes body to p, making its directories.
func writeFile(t *testing.T, p, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
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
	dir := writeTree(t, map[string]string{"etc/apache2/apache2.conf": `DocumentRoot /var/www/html
Alias /icons /usr/share/icons
<IfModule nothing_module>
  ServerAdmin never@example.test
</IfModule>
<Directory />
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
	if got := strings.Join(names, " "); got != "Directory:14 FilesMatch:17 Location:20" {
		t.Errorf("sections = %s", got)
	}
	if cfg.DocumentRoot != "/var/www/html" || len(cfg.Aliases) != 1 || cfg.Aliases[0].Path != "/usr/share/icons" || cfg.Aliases[0].VHost != nil {
		t.Errorf("main DocumentRoot %q, aliases %+v", cfg.DocumentRoot, cfg.Aliases)
	}
	var handler, admin *Node
	cfg.Walk(func(n *Node) bool {
		if n.Name == "SetHandler" {
			handler = n
		}
		return true
	})
	Walk(cfg.Main.Nodes, true, func(n *Node) bool {
		if n.Name == "ServerAdmin" {
			admin = n
		}
		return true
	})
	if handler == nil || cfg.VHostOf(handler) != vh || cfg.VHostOf(cfg.Main.Nodes[0]) != nil {
		t.Errorf("VHostOf(SetHandler) wrong")
	}
	if admin == nil || InEffect(admin) || !InEffect(handler) {
		t.Errorf("InEffect wrong")
	}
}

// TestUnreadableInputs: a FIFO where a configuration file is expected is
// refused as httpd refuses it ("not a regular file"), and loading goes on
// with the rest; so does an access file httpd cannot read.
func TestUnreadableInputs(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"httpd.conf":     "Include conf.d/*.conf\nDocumentRoot " + "/www\n<Directory /www>\n  AllowOverride All\n</Directory>\n",
		"conf.d/b.conf":  "ServerAdmin b@example.test\n",
		"www/index.html": "x\n",
	})
	if err := syscall.Mkfifo(filepath.Join(dir, "conf.d", "a.conf"), 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "www", ".htaccess"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadView(filepath.Join(dir, "httpd.conf"), Today, LoadOptions{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range cfg.Diagnostics {
		got = append(got, strings.ReplaceAll(d.Pos.String()+": "+d.Message, dir, ""))
	}
	want := []string{
		"/httpd.conf:1:1: Access to file /conf.d/a.conf denied by server: not a regular file",
		"/www/.htaccess: /www/.htaccess: not a regular file (httpd answers 403 for every request here)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(cfg.Files) != 2 || !strings.HasSuffix(cfg.Files[1].Path, "b.conf") {
		t.Errorf("files after the FIFO were not read: %d", len(cfg.Files))
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"2.4.9", "2.4.10", -1}, {"2.4", "2.4.0", 0}, {"8.3", "8.2", 1}, {"2.4.71", "2.4.71", 0},
		{"2.4.71-dev", "2.4.71", 0}, {"10", "9.9.9", 1}, {"", "0", 0},
	} {
		if got := CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	for _, tc := range []struct {
		op, cur, ver string
		ok, known    bool
	}{
		{">=", "2.4.71", "2.4.10", true, true}, {"<", "2.4.71", "2.4", false, true}, {"==", "2.4.0", "2.4", true, true},
		{"=", "2.4.1", "2.4", false, true}, {"<=", "2.2", "2.4", true, true}, {"~", "2.4", "2", false, false},
	} {
		ok, known := VersionCompare(tc.op, tc.cur, tc.ver)
		if ok != tc.ok || known != tc.known {
			t.Errorf("VersionCompare(%q, %q, %q) = %v, %v", tc.op, tc.cur, tc.ver, ok, known)
		}
	}
}

func TestExpandVarsAndSplitArgs(t *testing.T) {
	lookup := func(n string) (string, bool) {
		v, ok := map[string]string{"A": "x y", "HOME": "/root"}[n]
		return v, ok
	}
	for in, want := range map[string]string{
		"${A}":            "x y",
		"a${HOME}b":       "a/rootb",
		"${NOPE} $A ${A":  "${NOPE} $A ${A",
		"${map:key}${A}":  "${map:key}x y",
		"no vars at all":  "no vars at all",
		"${A}${A}${HOME}": "x yx y/root",
	} {
		if got := ExpandVars(in, lookup); got != want {
			t.Errorf("ExpandVars(%q) = %q, want %q", in, got, want)
		}
	}
	if got := SplitArgs(ExpandVars(`user_agent "${A}" ${A}`, lookup)); strings.Join(got, "|") != "user_agent|x y|x|y" {
		t.Errorf("SplitArgs after ExpandVars = %q", got)
	}
}

// TestInEffect: a node is in effect when no conditional section around it
// (nor itself, when it is one) is false; other sections do not count.
func TestInEffect(t *testing.T) {
	guard := &Node{Kind: KindSection, Name: "IfModule", Args: []string{"mod_php.c"}, Active: false}
	dir := &Node{Kind: KindSection, Name: "Directory", Parent: guard} // Active unset: not a conditional
	n := &Node{Kind: KindDirective, Name: "php_value", Parent: dir}
	if InEffect(n) || InEffect(guard) {
		t.Error("node under a false <IfModule> is in effect")
	}
	guard.Active = true
	if !InEffect(n) || !InEffect(guard) {
		t.Error("node under a true <IfModule> is not in effect")
	}
}

// TestAliases: the four mod_alias directives with their kind, the Match
// forms cut at the first $N, the one-argument form inside <Location>, and
// nothing from a false conditional.
func TestAliases(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"httpd.conf": "ServerRoot /etc/httpd\nAlias /icons/ /usr/share/icons/\n" +
			"<VirtualHost *:80>\nScriptAlias /cgi-bin/ cgi-bin/\nAliasMatch ^/u/(\\w+)/(.*) /home/$1/www/$2\n" +
			"ScriptAliasMatch ^/x/(.*) /srv/x$1\n<Location /docs>\nAlias /usr/share/doc\n</Location>\n" +
			"<IfModule nosuch_module>\nAlias /gone /gone\n</IfModule>\n</VirtualHost>\n",
	})
	cfg, err := LoadView(filepath.Join(dir, "httpd.conf"), Today, LoadOptions{NoAccessFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range cfg.Aliases {
		got = append(got, fmt.Sprintf("%s %s %s vhost=%v", a.Kind, a.URL, a.Path, a.VHost != nil))
	}
	want := []string{
		"Alias /icons/ /usr/share/icons vhost=false",
		"ScriptAlias /cgi-bin/ /etc/httpd/cgi-bin vhost=true",
		"AliasMatch ^/u/(\\w+)/(.*) /home vhost=true",
		"ScriptAliasMatch ^/x/(.*) /srv vhost=true",
		"Alias /docs /usr/share/doc vhost=true",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("aliases:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !cfg.Aliases[2].Kind.Regex() || cfg.Aliases[1].Kind.Regex() {
		t.Error("Regex wrong")
	}
}
