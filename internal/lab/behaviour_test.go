package lab_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// Tests of real Apache behaviour that docs/behaviour.md cites and that no
// other package's tests show.

// TestApacheWithoutModPHPHtaccess: Apache without mod_php answers 500 for
// every request whose directory walk reads a .htaccess with an unguarded
// php_value — a static file and a sub-directory too — and logs the file
// with "Invalid command"; the same line inside <IfModule mod_php.c> is
// skipped, and AllowOverride Nonfatal=Unknown turns the error into a
// logged warning (AH02296) and a 200.
func TestApacheWithoutModPHPHtaccess(t *testing.T) {
	a := lab.StartApache(t, `
<Directory {{DocRoot}}>
    AllowOverride All
</Directory>
<Directory {{DocRoot}}/nonfatal>
    AllowOverride All Nonfatal=Unknown
</Directory>`)
	files := map[string]string{
		"plain/.htaccess":    "php_value memory_limit 64M\n",
		"plain/style.css":    "css\n",
		"plain/sub/x.txt":    "sub\n",
		"guarded/.htaccess":  "<IfModule mod_php.c>\n    php_value memory_limit 64M\n</IfModule>\n",
		"guarded/style.css":  "css\n",
		"nonfatal/.htaccess": "php_flag display_errors on\n",
		"nonfatal/style.css": "css\n",
		"notphp7/.htaccess":  "<IfModule mod_php7.c>\n    php_value memory_limit 64M\n</IfModule>\n",
		"notphp7/style.css":  "css\n",
		"negated/.htaccess":  "<IfModule !mod_php.c>\n    php_value memory_limit 64M\n</IfModule>\n",
		"negated/style.css":  "css\n",
		"docroot-static.txt": "top\n",
	}
	for name, body := range files {
		p := filepath.Join(a.DocRoot, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/docroot-static.txt", 200},
		{"/plain/style.css", 500},
		{"/plain/sub/x.txt", 500},
		{"/plain/sub/", 500},
		{"/guarded/style.css", 200},
		{"/notphp7/style.css", 200},
		{"/negated/style.css", 500},
		{"/nonfatal/style.css", 200},
	} {
		resp, err := http.Get(a.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("GET %s: %d, want %d", tc.path, resp.StatusCode, tc.code)
		}
	}
	log := a.ErrorLogText()
	for _, want := range []string{
		filepath.Join(a.DocRoot, "plain/.htaccess") + ": Invalid command 'php_value', perhaps misspelled or defined by a module not included in the server configuration",
		"AH02296: Unknown directive php_flag perhaps misspelled or defined by a module not included in the server configuration",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("error log lacks %q:\n%s", want, log)
		}
	}
}

// TestApacheModPHPThreadedMPM: Debian's mod_php is not thread-safe, and
// apache2 -t refuses it under mpm_event.
func TestApacheModPHPThreadedMPM(t *testing.T) {
	bin := lab.FindBinary(t, "apache2", "/usr/sbin/apache2", "httpd")
	so := lab.FindBinary(t, "/usr/lib/apache2/modules/libphp8.2.so", "/usr/lib/apache2/modules/libphp*.so")
	dir := t.TempDir()
	conf := filepath.Join(dir, "httpd.conf")
	body := fmt.Sprintf("ServerRoot %s\nServerName 127.0.0.1\nListen 127.0.0.1:21100\nPidFile %s/httpd.pid\nErrorLog %s/error.log\n"+
		"LoadModule mpm_event_module %s/mod_mpm_event.so\nLoadModule php_module %s\n", dir, dir, dir, filepath.Dir(so), so)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-t", "-d", dir, "-f", conf).CombinedOutput()
	if err == nil {
		t.Fatalf("apache2 -t accepted mod_php under mpm_event:\n%s", out)
	}
	for _, want := range []string{
		"Apache is running a threaded MPM, but your PHP Module is not compiled to be threadsafe.  You need to recompile PHP.",
		"AH00013: Pre-configuration failed",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("apache2 -t output lacks %q:\n%s", want, out)
		}
	}
}
