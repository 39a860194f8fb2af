package shim

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// getResp is get with the Content-Type header.
func getResp(t *testing.T, url string) (int, string, string) {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Content-Type")
}

// serverKeys decodes server.php's JSON.
func serverKeys(t *testing.T, body string) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("server.php: %v: %q", err, body)
	}
	return m
}

// TestIntegrationIndexAndPathInfo replays docs/behaviour.md#b-directory-index (DirectoryIndex)
// and §3e (path-info, an upload that holds PHP) through the shim, under
// SetHandler and ProxyPassMatch. Where the table's SH and PPM columns differ
// from MP, the difference is Apache's routing before the shim is asked, and
// the shim changes nothing about it: the PPM column is what must come back.
func TestIntegrationIndexAndPathInfo(t *testing.T) {
	st := startStack(t, "sethandler", "proxypassmatch")
	evil := fixtures["uploads/evil.jpg"]
	type want struct {
		status int
		body   string
	}
	for _, tc := range []struct {
		path    string
		sh, ppm want
	}{
		// §3d: mod_dir accepts the proxied index.php sub-request under
		// ProxyPassMatch without a file check, so /di/ is php-fpm's 404.
		{"/di/", want{200, "STATIC-INDEX-HTML\n"}, want{404, "File not found.\n"}},
		{"/di_php/", want{200, "PHP-INDEX /di_php/index.php"}, want{200, "PHP-INDEX /di_php/index.php"}},
		{"/di_both/", want{200, "PHP-INDEX /di_both/index.php"}, want{200, "PHP-INDEX /di_both/index.php"}},
		// §3e.
		{"/uploads/evil.jpg", want{200, evil}, want{200, evil}},
		{"/uploads/ok.php/extra/path", want{200, "OK /uploads/ok.php /extra/path"}, want{200, "OK /uploads/ok.php /extra/path"}},
		{"/uploads/nonexistent.php", want{404, "File not found.\n"}, want{404, "File not found.\n"}},
		// php-fpm's security.limit_extensions (.php .phar) refuses the
		// image under ProxyPassMatch; under SetHandler Apache answers 404.
		{"/uploads/evil.jpg/x.php", want{404, ""}, want{403, "Access denied.\n"}},
	} {
		for _, name := range []string{"sethandler", "proxypassmatch"} {
			w := tc.sh
			if name == "proxypassmatch" {
				w = tc.ppm
			}
			code, body, ct := getResp(t, st.apaches[name].URL+tc.path)
			if strings.Contains(body, "EVIL-EXECUTED sapi=fpm") || strings.Contains(body, "EVIL-EXECUTED sapi=apache") {
				t.Errorf("%s %s: the upload ran as PHP: %q", name, tc.path, body)
			}
			if code != w.status || (w.body != "" && body != w.body) {
				t.Errorf("%s %s: %d %q, want %d %q", name, tc.path, code, body, w.status, w.body)
			}
			if tc.path == "/uploads/evil.jpg" && ct != "image/jpeg" {
				t.Errorf("%s %s: Content-Type %q, want image/jpeg", name, tc.path, ct)
			}
		}
	}
	// §3e $_SERVER for /server.php/extra/path?q=1: the same in all three
	// columns; PPM adds the ORIG_ pair from php-fpm's cgi.fix_pathinfo.
	for _, name := range []string{"sethandler", "proxypassmatch"} {
		a := st.apaches[name]
		code, body, _ := getResp(t, a.URL+"/server.php/extra/path?q=1")
		if code != 200 {
			t.Fatalf("%s: %d %s", name, code, body)
		}
		got := serverKeys(t, body)
		want := map[string]string{
			"SCRIPT_FILENAME": a.DocRoot + "/server.php", "SCRIPT_NAME": "/server.php", "PATH_INFO": "/extra/path",
			"PATH_TRANSLATED": a.DocRoot + "/extra/path", "PHP_SELF": "/server.php/extra/path",
		}
		if name == "proxypassmatch" {
			want["ORIG_SCRIPT_FILENAME"] = a.DocRoot + "/server.php/extra/path"
			want["ORIG_SCRIPT_NAME"] = "/server.php/extra/path"
		}
		for _, k := range []string{"SCRIPT_FILENAME", "SCRIPT_NAME", "PATH_INFO", "PATH_TRANSLATED", "PHP_SELF", "ORIG_SCRIPT_FILENAME", "ORIG_SCRIPT_NAME"} {
			if got[k] != want[k] {
				t.Errorf("%s $_SERVER[%s] = %q, want %q", name, k, got[k], want[k])
			}
		}
	}
}

// modPHP is Apache prefork with mod_php (Debian's libapache2-mod-php), the
// reference every shim answer is compared with.
type modPHP struct {
	url, dir string
	cmd      *exec.Cmd
}

// startModPHP starts Apache prefork + mod_php on docRoot, like
// the mod_php set-up of docs/behaviour.md (Debian's php8.2.conf handler,
// AllowOverride All, DirectoryIndex index.php index.html, the main-config
// php_value/php_admin_value of docs/behaviour.md#b-modphp-precedence), in the environment
// Debian's apache2ctl gives it: a fixed PATH and LANG plus stackEnvvars
// (Apache expands ${VAR} in .htaccess from its environment; the shim from
// the envvars beside the configuration it reads). extra is appended to the
// configuration.
func startModPHP(t *testing.T, docRoot string, extra ...string) *modPHP {
	t.Helper()
	dir, addr := lab.TempDir(t), fmt.Sprintf("127.0.0.1:%d", lab.FreePort(t))
	var b strings.Builder
	b.WriteString(modPHPHead(t, dir, addr, "mpm_prefork", "authz_core", "authz_host", "mime", "dir", "env", "setenvif", "headers", "rewrite", "alias"))
	b.WriteString("StartServers 2\nMinSpareServers 1\nMaxSpareServers 4\nMaxRequestWorkers 8\nKeepAlive On\nTypesConfig /etc/mime.types\n")
	fmt.Fprintf(&b, "DocumentRoot %s\n<Directory />\n    AllowOverride None\n    Require all denied\n</Directory>\n", docRoot)
	fmt.Fprintf(&b, "<Directory %s>\n    AllowOverride All\n    Options FollowSymLinks\n    Require all granted\n</Directory>\n", docRoot)
	fmt.Fprintf(&b, "DirectoryIndex index.php index.html\n<FilesMatch \".+\\.ph(?:ar|p|tml)$\">\n    SetHandler application/x-httpd-php\n</FilesMatch>\n")
	fmt.Fprintf(&b, "<Directory %s/mainval>\n    php_value memory_limit 50M\n</Directory>\n<Directory %s/lock>\n    php_admin_value memory_limit 200M\n</Directory>\n", docRoot, docRoot)
	for _, e := range extra {
		b.WriteString(strings.ReplaceAll(e, "{{DocRoot}}", docRoot) + "\n")
	}
	conf := filepath.Join(dir, "httpd.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return runModPHP(t, dir, addr, conf, stackEnvvars)
}

// modPHPHead is the start of a mod_php Apache configuration in dir
// listening on addr: paths, logs, the user when root, and the modules
// (mod_MODULE.so from Apache's module directory, then mod_php).
func modPHPHead(t *testing.T, dir, addr string, modules ...string) string {
	t.Helper()
	so := lab.FindBinary(t, "/usr/lib/apache2/modules/libphp8.2.so", "/usr/lib/apache2/modules/libphp*.so")
	os.Mkdir(filepath.Join(dir, "run"), 0o755)
	var b strings.Builder
	fmt.Fprintf(&b, "ServerRoot %s\nServerName 127.0.0.1\nListen %s\nPidFile %s/httpd.pid\nDefaultRuntimeDir %s/run\nMutex file:%s/run default\nErrorLog %s/error.log\nLogLevel warn\n", dir, addr, dir, dir, dir, dir)
	if os.Geteuid() == 0 {
		b.WriteString("User www-data\nGroup www-data\n")
	}
	for _, m := range modules {
		fmt.Fprintf(&b, "LoadModule %s_module %s/mod_%s.so\n", m, filepath.Dir(so), m)
	}
	fmt.Fprintf(&b, "LoadModule php_module %s\n", so)
	return b.String()
}

// runModPHP starts Apache on conf, with envvars beside it as apache2ctl
// would, stops it when the test ends, and waits until addr accepts.
func runModPHP(t *testing.T, dir, addr, conf, envvars string) *modPHP {
	t.Helper()
	bin := lab.FindBinary(t, "apache2", "/usr/sbin/apache2", "httpd")
	out, _ := os.Create(filepath.Join(dir, "stdout.log"))
	m := &modPHP{url: "http://" + addr, dir: dir, cmd: envvarsCommand(t, dir, envvars, bin, "-d", dir, "-f", conf, "-DFOREGROUND")}
	m.cmd.Stdout, m.cmd.Stderr = out, out
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { m.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		out.Close()
	})
	for range 400 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return m
		}
		time.Sleep(25 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
	t.Fatalf("mod_php Apache did not start:\n%s", log)
	return nil
}

// normINI drops the lines of ini.php that name the SAPI and the process.
func normINI(body string) string {
	var b strings.Builder
	for line := range strings.Lines(body) {
		if !strings.HasPrefix(line, "sapi=") && !strings.HasPrefix(line, "pid=") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// TestIntegrationModPHPDifferential runs real mod_php (Apache prefork +
// libapache2-mod-php) on the very document root the shim serves and
// compares, request by request, the status, every ini_get() value ini.php
// prints and the $_SERVER keys env.php and server.php print, with Apache
// (SetHandler) → shim → php-fpm, and with ProxyPassMatch for the requests
// that do not depend on the server configuration. The one intended
// difference is php_flag engine off: mod_php sends the PHP source, the
// shim answers 403.
func TestIntegrationModPHPDifferential(t *testing.T) {
	st := startStack(t, "sethandler", "proxypassmatch")
	sh := st.apaches["sethandler"]
	ref := startModPHP(t, sh.DocRoot)
	paths := []string{
		"/clean/ini.php", "/envinj/ini.php", "/clean/ini.php", "/envinj_ml/ini.php", "/ini.php",
		"/rw/some/route", "/rw/index.php", "/env.php", "/server.php/extra/path?q=1", "/server.php",
		"/uploads/ok.php/extra/path", "/di_php/", "/di_both/", "/di/", "/uploads/nonexistent.php",
		// Without mod_php this is a 500 for Apache (docs/behaviour.md#b-htaccess-500);
		// with Nonfatal=Unknown it is served, as mod_php serves it.
		"/ini/noadmin/style.css",
	}
	for _, r := range a3Rows {
		paths = append(paths, r.path)
	}
	for _, r := range a3Rows {
		paths = append(paths, r.path) // again: now after other requests on the one worker
	}
	serverOnly := func(p string) bool {
		return strings.HasPrefix(p, "/mainval") || p == "/lock/ini.php" || strings.HasPrefix(p, "/fc/") ||
			strings.HasPrefix(p, "/rw/") || strings.HasPrefix(p, "/di") || strings.HasPrefix(p, "/server.php") ||
			p == "/uploads/nonexistent.php"
	}
	compared := 0
	for _, p := range paths {
		mc, mb := getAuth(t, ref.url+p)
		for _, name := range []string{"sethandler", "proxypassmatch"} {
			if name == "proxypassmatch" && serverOnly(p) {
				// Rewrites, main-config php_value, DirectoryIndex and
				// PATH_INFO depend on how Apache routes (docs/behaviour.md
				// #b-ppm-no-htaccess, #b-directory-index, #b-path-info):
				// compared under SetHandler only.
				continue
			}
			sc, sb := getAuth(t, st.apaches[name].URL+p)
			compared++
			if strings.HasPrefix(p, "/uploads_off") {
				// mod_php: 200 with the source; the shim: 403.
				if mc != 200 || !strings.Contains(mb, "<?php echo 'PHP-RAN';") || sc != 403 {
					t.Errorf("%s %s: mod_php %d %q, shim %d; want 200 with the source, and 403", name, p, mc, mb, sc)
				}
				continue
			}
			if mc != sc {
				t.Errorf("%s %s: status mod_php %d, shim %d\nmod_php: %s\nshim: %s", name, p, mc, sc, mb, sb)
				continue
			}
			if mc != 200 {
				continue // error pages: the status is the behaviour
			}
			switch {
			case strings.Contains(mb, "sapi=apache2handler"):
				if normINI(mb) != normINI(sb) {
					t.Errorf("%s %s: ini_get() differs\nmod_php:\n%s\nshim:\n%s", name, p, normINI(mb), normINI(sb))
				}
			case strings.HasPrefix(p, "/server.php"):
				m, s := serverKeys(t, mb), serverKeys(t, sb)
				for _, k := range []string{"SCRIPT_FILENAME", "SCRIPT_NAME", "PATH_INFO", "PATH_TRANSLATED", "PHP_SELF", "REQUEST_URI", "QUERY_STRING", "DOCUMENT_ROOT", "CONTEXT_DOCUMENT_ROOT", "REQUEST_METHOD", "GATEWAY_INTERFACE", "SERVER_PROTOCOL", "SERVER_NAME", "REMOTE_ADDR", "REQUEST_SCHEME", "HTTPS"} {
					if m[k] != s[k] {
						t.Errorf("%s %s: $_SERVER[%s] mod_php %q, shim %q", name, p, k, m[k], s[k])
					}
				}
			default:
				if mb != sb {
					t.Errorf("%s %s:\nmod_php: %q\nshim:    %q", name, p, mb, sb)
				}
			}
		}
	}
	if compared < 100 {
		t.Errorf("compared %d responses, want every row", compared)
	}
}

// getAuth is a GET with the Authorization header of
// docs/behaviour.md#b-redirect-env.
func getAuth(t *testing.T, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer x")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// restartFPM starts php-fpm again with the stopped master's configuration
// (same socket, same pool), as an init system would after a crash.
func restartFPM(t *testing.T, f *lab.FPM) {
	t.Helper()
	bin := lab.FindBinary(t, "php-fpm", "/usr/sbin/php-fpm*")
	argv := []string{"--nodaemonize", "-y", f.ConfPath}
	if m, _ := filepath.Glob("/etc/php/*/fpm/php.ini"); len(m) > 0 {
		argv = append(argv, "-c", m[len(m)-1])
	}
	if os.Geteuid() == 0 {
		argv = append(argv, "-R")
	}
	cmd := exec.Command(bin, argv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	for range 200 {
		if c, err := net.Dial(f.Network, f.Addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("php-fpm did not come back:\n%s", f.ErrorLogText())
}

// TestIntegrationFaults: php-fpm killed in the middle of a request (the
// shim answers 503, as mod_proxy_fcgi would), requests while it is down
// (503 at once: nothing listens on the socket), and after it is restarted
// the shim serves again with the right settings on fresh workers, without
// being restarted itself.
func TestIntegrationFaults(t *testing.T) {
	st := startStack(t, "sethandler")
	a := st.apaches["sethandler"]
	checkRow(t, a, row{"/nest/ini.php", 200, mp("memory_limit", "'64M'")})
	type result struct {
		code int
		body string
	}
	// slow.php writes the marker once it runs, then sleeps.
	mdir := lab.TempDir(t)
	os.Chmod(mdir, 0o777) // php-fpm's worker runs as www-data
	marker := filepath.Join(mdir, "running")
	slow := make(chan result, 1)
	go func() {
		resp, err := httpClient.Get(a.URL + "/slow.php?s=5&m=" + marker)
		if err != nil {
			slow <- result{0, err.Error()}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- result{resp.StatusCode, string(b)}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("slow.php never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	st.fpm.Kill()
	r := <-slow
	// The connection ended before any output: 503, as Apache answers
	// (AH01075), and never a second run on a new connection.
	if r.code != 503 || strings.Contains(r.body, "SLOW-DONE") || !strings.Contains(r.body, "<title>") {
		t.Errorf("request in flight when php-fpm died: %d %q, want the shim's 503", r.code, r.body)
	}
	start := time.Now()
	if code, body := get(t, a, "/ini.php"); code != 503 {
		t.Errorf("php-fpm down: %d %q, want 503", code, body)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("php-fpm down: answered after %v, want at once", d)
	}
	restartFPM(t, st.fpm)
	// Fresh workers: the shim's settings apply, and no stale kept
	// connection turns into an error.
	checkRow(t, a, row{"/nest/child/ini.php", 200, mp("memory_limit", "'96M'")})
	checkRow(t, a, row{"/ini.php", 200, nil})
	checkRow(t, a, row{"/q1/ini.php", 200, mp("user_agent", "'a b c'")})
	snap := st.srv.Snapshot()
	if snap.BadGateway != 0 || snap.Overloaded != 2 || snap.Pools[0].Answers["503"] != 2 {
		t.Errorf("502s %d, 503s %d, pool answers %v; want the in-flight 503 and one more", snap.BadGateway, snap.Overloaded, snap.Pools[0].Answers)
	}
}

// TestIntegrationUpload100MB: a 100 MB upload through Apache → shim →
// php-fpm arrives whole (SHA-256 computed by PHP while reading
// php://input), while the shim's heap stays small: it streams the body
// record by record and never holds it.
func TestIntegrationUpload100MB(t *testing.T) {
	// post_max_size (8M in php.ini-production) would make PHP discard the
	// body; the pool raises it, as a site taking such uploads does.
	st := startStackFPM(t, lab.FPMConfig{Children: 1, Pool: "php_admin_value[post_max_size] = 200M"}, "sethandler")
	a := st.apaches["sethandler"]
	const size = 100 << 20
	body := make([]byte, size)
	rand.Read(body)
	sum := sha256.Sum256(body)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
		}
	}()
	for _, chunked := range []bool{false, true} {
		var r io.Reader = &slowReader{b: body}
		req, _ := http.NewRequestWithContext(context.Background(), "POST", a.URL+"/sha.php", r)
		req.Header.Set("Content-Type", "application/octet-stream")
		if !chunked {
			req.ContentLength = size
		}
		resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("%d %x", size, sum); resp.StatusCode != 200 || string(b) != want {
			t.Errorf("chunked=%v: %d %q, want %q", chunked, resp.StatusCode, b, want)
		}
	}
	close(stop)
	<-sampled
	// The test's own 100 MB body is part of base; what the shim (in this
	// process) adds on top must stay far below the body's size.
	if grow := int64(peak.Load()) - int64(base); grow > 32<<20 {
		t.Errorf("heap grew by %d MB during the uploads, want < 32 MB (the body is 100 MB)", grow>>20)
	} else {
		t.Logf("heap: base %d MB, peak %d MB", base>>20, peak.Load()>>20)
	}
}

// slowReader hands out the body in 64 KiB pieces and hides its type, so
// that net/http streams it instead of seeing a bytes.Reader.
type slowReader struct {
	b   []byte
	off int
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 64<<10)], r.b[r.off:])
	r.off += n
	return n, nil
}
