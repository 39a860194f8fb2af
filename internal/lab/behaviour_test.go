package lab_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// TestApacheFPMRedirectEnv: Apache in front of php-fpm directly, a
// .htaccess with SetEnv, an [E=HTTP_AUTHORIZATION:…] rule and a
// front-controller rewrite. Under SetHandler PHP sees the variables and,
// after the rewrite, their REDIRECT_ copies; under ProxyPassMatch Apache
// reads no .htaccess for .php URLs, so a direct request sees none of them
// and a rewritten one only the REDIRECT_ copies. Apache passes no
// Authorization header on its own.
func TestApacheFPMRedirectEnv(t *testing.T) {
	f := lab.StartFPM(t, lab.FPMConfig{})
	env := `<?php header('Content-Type: text/plain'); $k = [];
foreach ($_SERVER as $n => $v) if (preg_match('/^(REDIRECT_)*(FOO|HTTP_AUTHORIZATION|STATUS|URL)$/', $n)) $k[] = "$n=$v";
sort($k); echo implode(' ', $k);`
	htaccess := "RewriteEngine On\nRewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]\nSetEnv FOO bar\n" +
		"RewriteCond %{REQUEST_FILENAME} !-f\nRewriteCond %{REQUEST_FILENAME} !-d\nRewriteRule ^ index.php [L]\n"
	setups := map[string]string{
		"sethandler":     "<FilesMatch \\.php$>\n    SetHandler \"proxy:unix:" + f.Addr + "|fcgi://localhost\"\n</FilesMatch>",
		"proxypassmatch": "ProxyPassMatch ^/(.*\\.php(/.*)?)$ \"unix:" + f.Addr + "|fcgi://localhost{{DocRoot}}/$1\"",
	}
	want := map[string]map[string]string{
		"sethandler": {
			"/rw/some/route": "FOO=bar HTTP_AUTHORIZATION=Bearer x REDIRECT_FOO=bar REDIRECT_HTTP_AUTHORIZATION=Bearer x REDIRECT_STATUS=200 REDIRECT_URL=/rw/some/route",
			"/rw/index.php":  "FOO=bar HTTP_AUTHORIZATION=Bearer x",
			"/env.php":       "",
		},
		"proxypassmatch": {
			"/rw/some/route": "REDIRECT_FOO=bar REDIRECT_HTTP_AUTHORIZATION=Bearer x REDIRECT_STATUS=200 REDIRECT_URL=/rw/some/route",
			"/rw/index.php":  "",
			"/env.php":       "",
		},
	}
	for name, conf := range setups {
		a := lab.StartApache(t, "<Directory {{DocRoot}}>\n    AllowOverride All\n</Directory>\n"+conf)
		for file, body := range map[string]string{"rw/.htaccess": htaccess, "rw/index.php": env, "env.php": env} {
			p := filepath.Join(a.DocRoot, file)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for path, w := range want[name] {
			req, _ := http.NewRequest("GET", a.URL+path, nil)
			req.Header.Set("Authorization", "Bearer x")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != w {
				t.Errorf("%s %s: %d %q, want 200 %q\n%s", name, path, resp.StatusCode, b, w, a.ErrorLogText())
			}
		}
	}
}

// TestFPMUserINIOutsideDocumentRoot: php-fpm reads the .user.ini of
// every directory from DOCUMENT_ROOT down to a script's, but for a script
// outside DOCUMENT_ROOT (served through an Alias) only the one in the
// script's own directory: a parent directory's .user.ini reaches a script
// in a subdirectory of the DocumentRoot, not one in a subdirectory of the
// Alias target.
func TestFPMUserINIOutsideDocumentRoot(t *testing.T) {
	f := lab.StartFPM(t, lab.FPMConfig{})
	a := lab.StartApache(t, "Alias /app {{Dir}}/app\nAlias /other {{Dir}}/other\n"+
		"<Directory {{Dir}}/app>\n    Require all granted\n</Directory>\n<Directory {{Dir}}/other>\n    Require all granted\n</Directory>\n"+
		"<FilesMatch \\.php$>\n    SetHandler \"proxy:unix:"+f.Addr+"|fcgi://localhost\"\n</FilesMatch>")
	probe := "<?php echo ini_get('memory_limit');"
	files := map[string]string{
		a.DocRoot + "/.user.ini": "memory_limit = 64M\n", a.DocRoot + "/sub/p.php": probe,
		a.Dir + "/app/.user.ini": "memory_limit = 64M\n", a.Dir + "/app/p.php": probe, a.Dir + "/app/sub/p.php": probe,
		a.Dir + "/other/p.php": probe,
	}
	for p, body := range files {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	get := func(path string) string {
		resp, err := http.Get(a.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	php := get("/other/p.php") // no .user.ini on the way: php.ini's value
	if php == "64M" {
		t.Fatalf("php.ini's memory_limit is already 64M")
	}
	for path, want := range map[string]string{"/sub/p.php": "64M", "/app/p.php": "64M", "/app/sub/p.php": php} {
		if got := get(path); got != want {
			t.Errorf("GET %s: memory_limit %s, want %s", path, got, want)
		}
	}
}

// TestBehaviourReferences keeps docs/behaviour.md honest: every anchor the
// repository cites (#b-…) is defined there, and every test it names exists.
func TestBehaviourReferences(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "behaviour.md"))
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	for _, m := range regexp.MustCompile(`<a id="(b-[a-z0-9-]+)"></a>`).FindAllStringSubmatch(string(doc), -1) {
		if defined[m[1]] {
			t.Errorf("anchor %s defined twice", m[1])
		}
		defined[m[1]] = true
	}
	tests := map[string]bool{}
	cite := regexp.MustCompile(`behaviour\.md#(b-[a-z0-9-]+)((?:, #b-[a-z0-9-]+)*)`)
	more := regexp.MustCompile(`#(b-[a-z0-9-]+)`)
	funcs := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)\w+)\(`)
	cited := 0
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" && strings.Contains(p, "fuzz")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".txtar") || strings.HasSuffix(p, ".sh")) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range cite.FindAllStringSubmatch(string(b), -1) {
			for _, a := range append([]string{m[1]}, more.FindAllString(m[2], -1)...) {
				a = strings.TrimPrefix(a, "#")
				cited++
				if !defined[a] {
					t.Errorf("%s cites behaviour.md#%s, which is not defined", p, a)
				}
			}
		}
		if strings.HasSuffix(p, "_test.go") {
			for _, m := range funcs.FindAllStringSubmatch(string(b), -1) {
				tests[m[1]] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cited < 50 {
		t.Errorf("only %d citations of docs/behaviour.md found", cited)
	}
	for _, m := range regexp.MustCompile("`((?:Test|Fuzz)[A-Z]\\w+)`").FindAllStringSubmatch(string(doc), -1) {
		if !tests[m[1]] {
			t.Errorf("docs/behaviour.md names %s, which is no test of the repository", m[1])
		}
	}
}
