package shim

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// The integration tests run Apache → shim → php-fpm for real (internal/lab)
// and replay the mod_php facts of docs/behaviour.md: every expected value below is the
// MP (mod_php) column. php-fpm runs one worker, so consecutive requests meet
// the same worker and any leak would show.

// iniKeys are what ini.php prints, one "key=var_export(ini_get(key))" line
// each, then error_reporting(), the SAPI and the pid.
var iniKeys = []string{
	"memory_limit", "display_errors", "include_path", "max_file_uploads", "upload_max_filesize",
	"expose_php", "allow_url_fopen", "open_basedir", "auto_prepend_file", "user_agent", "error_reporting",
}

const iniPHP = `<?php
header('Content-Type: text/plain');
foreach (['memory_limit','display_errors','include_path','max_file_uploads','upload_max_filesize','expose_php','allow_url_fopen','open_basedir','auto_prepend_file','user_agent','error_reporting'] as $k) {
  echo $k, '=', var_export(ini_get($k), true), "\n";
}
echo 'error_reporting()=', error_reporting(), "\n";
echo 'sapi=', PHP_SAPI, "\n";
echo 'pid=', getmypid(), "\n";
`

// baseline is what Debian's php.ini-production gives (docs/behaviour.md#b-php-ini), with error_reporting as php.ini's E_ALL & ~E_DEPRECATED & ~E_STRICT.
var baseline = map[string]string{
	"memory_limit": "'128M'", "display_errors": "''", "include_path": "'.:/usr/share/php'",
	"max_file_uploads": "'20'", "upload_max_filesize": "'2M'", "expose_php": "''", "allow_url_fopen": "'1'",
	"open_basedir": "''", "auto_prepend_file": "''", "user_agent": "''", "error_reporting": "'22527'",
	"error_reporting()": "22527",
}

// iniSet is the lab's INI_SET (docs/behaviour.md#b-modphp-system) and its MP result.
const iniSet = `php_value memory_limit 77M
php_flag display_errors on
php_value include_path ".:/tmp/lab/inc"
php_value max_file_uploads 7
php_value upload_max_filesize 5M
php_value expose_php 1
php_flag allow_url_fopen off
`

var iniSetMP = map[string]string{
	"memory_limit": "'77M'", "display_errors": "'1'", "include_path": "'.:/tmp/lab/inc'",
	"max_file_uploads": "'7'", "upload_max_filesize": "'5M'",
}

// fixtures are the document-root files; ini.php is added to every
// directory named in a want row.
var fixtures = map[string]string{
	"ini/noadmin/.htaccess":   iniSet,
	"ini/sub/.htaccess":       iniSet + "php_admin_value open_basedir /tmp\n",
	"g/modphp/.htaccess":      "<IfModule mod_php.c>\n" + iniSet + "</IfModule>\n",
	"g/phpmodule/.htaccess":   "<IfModule php_module>\n" + iniSet + "</IfModule>\n",
	"g/php7/.htaccess":        "<IfModule mod_php7.c>\n" + iniSet + "</IfModule>\n<IfModule php8_module>\n" + iniSet + "</IfModule>\n",
	"g/notmodphp/.htaccess":   "<IfModule !mod_php.c>\n" + iniSet + "</IfModule>\n",
	"g/notphp8/.htaccess":     "<IfModule !mod_php8.c>\n" + iniSet + "</IfModule>\n",
	"nest/.htaccess":          "php_value memory_limit 64M\n",
	"nest/child/.htaccess":    "php_value memory_limit 96M\n",
	"files/.htaccess":         "php_value memory_limit 64M\n<Files x.php>\nphp_value memory_limit 55M\n</Files>\n<FilesMatch \"^z\\.php$\">\nphp_value memory_limit 33M\n</FilesMatch>\n",
	"files/sub/.htaccess":     "php_value memory_limit 99M\n",
	"mainval/.htaccess":       "php_value memory_limit 60M\n",
	"lock/.htaccess":          "php_value memory_limit 77M\n",
	"fc/a/.htaccess":          "php_value memory_limit 21M\nRewriteEngine On\nRewriteRule ^go$ /fc/b/ini.php\n",
	"fc/b/.htaccess":          "php_value memory_limit 22M\n",
	"fc/a2/.htaccess":         "php_value memory_limit 23M\nRewriteEngine On\nRewriteRule ^go$ /fc/c/ini.php\n",
	"q1/.htaccess":            "php_value user_agent \"a b c\"\n",
	"q2/.htaccess":            "php_value user_agent 'single q'\n",
	"q4/.htaccess":            "php_value user_agent \"semi;colon\"\n",
	"q5/.htaccess":            "php_value user_agent ${MODPHP_SHIM_IT_VAR}\n",
	"q6/.htaccess":            "php_value user_agent \"it's \\\"dq\\\"\"\n",
	"q7/.htaccess":            "php_flag display_errors off\n",
	"q8/.htaccess":            "php_flag display_errors yes\n",
	"q9/.htaccess":            "php_flag display_errors true\n",
	"q10/.htaccess":           "php_flag display_errors 1\n",
	"q11/.htaccess":           "php_flag display_errors ON\n",
	"q12/.htaccess":           "php_value user_agent NONE\n",
	"q13/.htaccess":           "php_value display_errors stderr\n",
	"q14/.htaccess":           "php_value error_reporting \"E_ALL & ~E_NOTICE\"\n",
	"q15/.htaccess":           "php_value error_reporting 32759\n",
	"q16/.htaccess":           "php_value memory_limit -1\n",
	"q17/.htaccess":           "php_value user_agent true\n",
	"q18/.htaccess":           "php_value user_agent\n",
	"q19/.htaccess":           "php_value user_agent ${HOME_NOT_SET_IN_SHIM}x\n",
	"e19/.htaccess":           "php_value user_agent \"${HOME} ;x 'q' \\\"d\\\"\"\n",
	"uploads_off/.htaccess":   "php_flag engine off\n",
	"uploads_off_g/.htaccess": "<IfModule mod_php.c>\nphp_flag engine off\n</IfModule>\n",
	"envinj/.htaccess":        "SetEnv PHP_ADMIN_VALUE \"open_basedir=/\"\nSetEnv PHP_VALUE \"auto_prepend_file={{DocRoot}}/prepend.php\"\nSetEnv REQUEST_BODY_FILE /etc/hostname\n",
	"envinj_ml/.htaccess":     "SetEnv PHP_VALUE \"memory_limit=41M\\ndisplay_errors=1\"\n",
	"rw/.htaccess": "RewriteEngine On\nRewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]\nSetEnv FOO bar\n" +
		"RewriteCond %{REQUEST_FILENAME} !-f\nRewriteCond %{REQUEST_FILENAME} !-d\nRewriteRule ^ index.php [L]\n",
	"rw/index.php":          envPHP,
	"env.php":               envPHP,
	"prepend.php":           "<?php echo 'PREPENDED;';\n",
	"uploads_off/run.php":   "<?php echo 'PHP-RAN';\n",
	"uploads_off_g/run.php": "<?php echo 'PHP-RAN';\n",
	"hello.php":             "<?php echo 'hello';\n",
	"echo.php":              "<?php $b = file_get_contents('php://input'); echo strlen($b), ' ', md5($b), ' ', $_SERVER['CONTENT_LENGTH'] ?? '-';\n",
	// docs/behaviour.md#b-htaccess-500 (a static file beside php_value lines),
	// #b-directory-index and #b-path-info.
	"ini/noadmin/style.css": "body { color: red }\n",
	"di/index.html":         "STATIC-INDEX-HTML\n",
	"di_php/index.php":      "<?php echo 'PHP-INDEX ', $_SERVER['SCRIPT_NAME'];\n",
	"di_both/index.php":     "<?php echo 'PHP-INDEX ', $_SERVER['SCRIPT_NAME'];\n",
	"di_both/index.html":    "STATIC-INDEX-HTML\n",
	"uploads/evil.jpg":      "<?php echo \"EVIL-EXECUTED sapi=\", PHP_SAPI; ?>\n",
	"uploads/ok.php":        "<?php echo 'OK ', $_SERVER['SCRIPT_NAME'], ' ', $_SERVER['PATH_INFO'] ?? '-';\n",
	"server.php":            serverPHP,
	"sha.php":               "<?php $h = hash_init('sha256'); $in = fopen('php://input', 'rb'); $n = 0; while (!feof($in)) { $b = fread($in, 1 << 16); $n += strlen($b); hash_update($h, $b); } echo $n, ' ', hash_final($h);\n",
	"slow.php":              "<?php if (isset($_GET['m'])) { file_put_contents($_GET['m'], getmypid()); } sleep((int)($_GET['s'] ?? 2)); echo 'SLOW-DONE';\n",
}

// serverPHP prints the $_SERVER keys that locate the script
// (docs/behaviour.md#b-path-info), as JSON.
const serverPHP = `<?php
header('Content-Type: application/json');
$out = [];
foreach (['SCRIPT_FILENAME','SCRIPT_NAME','PATH_INFO','PATH_TRANSLATED','PHP_SELF','REQUEST_URI','QUERY_STRING','DOCUMENT_ROOT','CONTEXT_DOCUMENT_ROOT','REQUEST_METHOD','GATEWAY_INTERFACE','SERVER_PROTOCOL','SERVER_NAME','REMOTE_ADDR','REQUEST_SCHEME','ORIG_SCRIPT_FILENAME','ORIG_SCRIPT_NAME','ORIG_PATH_INFO','REDIRECT_STATUS','HTTPS'] as $k) {
  if (isset($_SERVER[$k])) { $out[$k] = $_SERVER[$k]; }
}
echo json_encode((object)$out);
`

// envPHP prints the $_SERVER keys docs/behaviour.md#b-redirect-env compares.
const envPHP = `<?php
header('Content-Type: application/json');
$out = [];
foreach ($_SERVER as $k => $v) {
  if (preg_match('/^(REDIRECT_)*(FOO|HTTP_AUTHORIZATION|STATUS|URL|PHP_VALUE|PHP_ADMIN_VALUE|REQUEST_BODY_FILE)$/', $k)) { $out[$k] = $v; }
}
ksort($out);
echo json_encode((object)$out);
`

// row is one request and its mod_php result: settings that differ from
// baseline, or a status.
type row struct {
	path   string
	status int
	diff   map[string]string
}

func mp(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// a3Rows are the mod_php rows of docs/behaviour.md (#b-guard, #b-modphp-system,
// #b-modphp-admin, #b-modphp-precedence, #b-modphp-values, #b-modphp-engine).
var a3Rows = []row{
	{"/ini.php", 200, nil},
	{"/ini/noadmin/ini.php", 200, iniSetMP},
	{"/ini/sub/ini.php", 500, nil},
	{"/g/modphp/ini.php", 200, iniSetMP},
	{"/g/phpmodule/ini.php", 200, iniSetMP},
	{"/g/php7/ini.php", 200, nil},
	{"/g/notmodphp/ini.php", 200, nil},
	{"/g/notphp8/ini.php", 200, iniSetMP},
	{"/nest/ini.php", 200, mp("memory_limit", "'64M'")},
	{"/nest/child/ini.php", 200, mp("memory_limit", "'96M'")},
	{"/nest/child/grand/ini.php", 200, mp("memory_limit", "'96M'")},
	{"/nest/sib/ini.php", 200, mp("memory_limit", "'64M'")},
	{"/files/x.php", 200, mp("memory_limit", "'55M'")},
	{"/files/y.php", 200, mp("memory_limit", "'64M'")},
	{"/files/z.php", 200, mp("memory_limit", "'33M'")},
	{"/files/sub/x.php", 200, mp("memory_limit", "'55M'")},
	{"/files/sub/y.php", 200, mp("memory_limit", "'99M'")},
	{"/mainval/ini.php", 200, mp("memory_limit", "'60M'")},
	{"/mainval/sub/ini.php", 200, mp("memory_limit", "'60M'")},
	{"/lock/ini.php", 200, mp("memory_limit", "'200M'")},
	{"/fc/a/go", 200, mp("memory_limit", "'22M'")},
	{"/fc/a2/go", 200, nil},
	{"/q1/ini.php", 200, mp("user_agent", "'a b c'")},
	{"/q2/ini.php", 200, mp("user_agent", "'single q'")},
	{"/q4/ini.php", 200, mp("user_agent", "'semi;colon'")},
	{"/q5/ini.php", 200, mp("user_agent", "'/from/apache/envvars'")},
	{"/q6/ini.php", 200, mp("user_agent", `'it\'s "dq"'`)},
	{"/q7/ini.php", 200, mp("display_errors", "'0'")},
	{"/q8/ini.php", 200, mp("display_errors", "'0'")},
	{"/q9/ini.php", 200, mp("display_errors", "'0'")},
	{"/q10/ini.php", 200, mp("display_errors", "'1'")},
	{"/q11/ini.php", 200, mp("display_errors", "'1'")},
	{"/q12/ini.php", 200, nil}, // user_agent NONE → '' (the baseline)
	{"/q13/ini.php", 200, mp("display_errors", "'stderr'")},
	{"/q14/ini.php", 200, mp("error_reporting", "'E_ALL & ~E_NOTICE'", "error_reporting()", "0")},
	{"/q15/ini.php", 200, mp("error_reporting", "'32759'", "error_reporting()", "32759")},
	{"/q16/ini.php", 200, mp("memory_limit", "'-1'")},
	{"/q17/ini.php", 200, mp("user_agent", "'true'")},
	{"/q18/ini.php", 500, nil},
	{"/q19/ini.php", 200, mp("user_agent", "'${HOME_NOT_SET_IN_SHIM}x'")},
	{"/e19/ini.php", 200, mp("user_agent", `'${HOME} ;x \'q\' "d"'`)},
	{"/uploads_off/run.php", 403, nil},
	{"/uploads_off_g/run.php", 403, nil},
}

// stackEnvvars is the Debian-style envvars beside the Apache configuration
// the stack's shim reads, and the environment startModPHP gives mod_php's
// Apache (as apache2ctl does): ${MODPHP_SHIM_IT_VAR} is defined there,
// HOME is not (Debian's envvars unsets it).
const stackEnvvars = "unset HOME\nexport MODPHP_SHIM_IT_VAR=/from/apache/envvars\n"

// stack is one php-fpm, one shim and Apache instances in front of it.
type stack struct {
	fpm     *lab.FPM
	srv     *Server
	sock    string
	logs    *syncBuffer
	apaches map[string]*lab.Apache
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// apacheConfs are the Apache set-ups the shim must serve alike: SetHandler
// with and without connection reuse, and ProxyPassMatch. AllowOverride
// Nonfatal=Unknown lets Apache without mod_php skip the php_* lines it does
// not know; the shim applies them (docs/shim.md).
var apacheConfs = map[string]string{
	"sethandler": `
<Directory {{DocRoot}}>
    AllowOverride All Nonfatal=Unknown
    Options FollowSymLinks
</Directory>
DirectoryIndex index.php index.html
<IfModule mod_php.c>
    <Directory {{DocRoot}}/mainval>
        php_value memory_limit 50M
    </Directory>
    <Directory {{DocRoot}}/lock>
        php_admin_value memory_limit 200M
    </Directory>
</IfModule>
<FilesMatch "\.php$">
    SetHandler "proxy:unix:{{Shim}}|fcgi://localhost"
</FilesMatch>
`,
	"sethandler-reuse": `
<Directory {{DocRoot}}>
    AllowOverride All Nonfatal=Unknown
    Options FollowSymLinks
</Directory>
<Proxy "unix:{{Shim}}|fcgi://localhost">
    ProxySet enablereuse=on max=4
</Proxy>
<FilesMatch "\.php$">
    SetHandler "proxy:unix:{{Shim}}|fcgi://localhost"
</FilesMatch>
`,
	"proxypassmatch": `
<Directory {{DocRoot}}>
    AllowOverride All Nonfatal=Unknown
    Options FollowSymLinks
</Directory>
DirectoryIndex index.php index.html
ProxyPassMatch "^/(.*\.php(/.*)?)$" "unix:{{Shim}}|fcgi://localhost{{DocRoot}}/$1"
`,
	// The other form: ProxyPassMatch to the shim's TCP address.
	"proxypassmatch-tcp": `
<Directory {{DocRoot}}>
    AllowOverride All Nonfatal=Unknown
    Options FollowSymLinks
</Directory>
ProxyPassMatch "^/(.*\.php(/.*)?)$" "fcgi://{{ShimTCP}}{{DocRoot}}/$1"
`,
}

// startStack starts php-fpm (one worker), the Apache instances named, and
// one shim they all use. The shim reads the first Apache's configuration,
// which is started last and also allows overrides in the other instances'
// document roots (one shim per pool: two shims would each reset only the
// keys they set themselves).
func startStack(t *testing.T, names ...string) *stack {
	t.Helper()
	return startStackFPM(t, lab.FPMConfig{Children: 1}, names...)
}

// startStackFPM is startStack with a php-fpm configuration.
func startStackFPM(t *testing.T, fc lab.FPMConfig, names ...string) *stack {
	t.Helper()
	return startStackConfig(t, fc, nil, names...)
}

// startStackConfig is startStackFPM with a change to the shim's
// configuration (nil: none).
func startStackConfig(t *testing.T, fc lab.FPMConfig, change func(*Config), names ...string) *stack {
	t.Helper()
	lab.FindBinary(t, "apache2", "/usr/sbin/apache2", "httpd")
	st := &stack{fpm: lab.StartFPM(t, fc), logs: &syncBuffer{}, apaches: map[string]*lab.Apache{}}
	dir := lab.TempDir(t)
	st.sock = filepath.Join(dir, "shim.sock")
	listen := Addr{Network: "unix", Address: st.sock}
	tcp := fmt.Sprintf("127.0.0.1:%d", lab.FreePort(t))
	if strings.HasSuffix(names[0], "-tcp") {
		listen = Addr{Network: "tcp", Address: tcp}
	}
	extra := ""
	for i := len(names) - 1; i >= 0; i-- {
		n := names[i]
		conf := strings.NewReplacer("{{Shim}}", st.sock, "{{ShimTCP}}", tcp).Replace(apacheConfs[n])
		if i == 0 {
			conf += extra
		}
		a := lab.StartApache(t, conf)
		writeFixtures(t, a.DocRoot)
		st.apaches[n] = a
		extra += fmt.Sprintf("<Directory %s>\n    AllowOverride All Nonfatal=Unknown\n</Directory>\n", a.DocRoot)
	}
	// ${VAR} in access files comes from Apache's Defines and envvars
	// beside its configuration, never from the shim's environment.
	if err := os.WriteFile(filepath.Join(filepath.Dir(st.apaches[names[0]].ConfPath), "envvars"), []byte(stackEnvvars), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MODPHP_SHIM_IT_VAR", "/from/shim/env")
	t.Setenv("HOME", "/from/shim/home")
	log := slog.New(slog.NewTextHandler(st.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := Config{
		Listen:        listen,
		ListenMode:    0o666, // the test runs as root, Apache as www-data
		Pool:          Addr{Network: st.fpm.Network, Address: st.fpm.Addr},
		FPMConfig:     st.fpm.ConfPath,
		ApacheConfig:  st.apaches[names[0]].ConfPath,
		ShutdownGrace: 5 * time.Second,
	}
	if change != nil {
		change(&cfg)
	}
	srv, err := New(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("shim: %v", err)
	}
	st.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shim Run: %v", err)
		}
		if t.Failed() {
			t.Logf("shim log:\n%s", st.logs.String())
		}
	})
	for range 100 {
		if c, err := net.Dial(listen.Network, listen.Address); err == nil {
			c.Close()
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return st
}

func writeFixtures(t *testing.T, root string) {
	t.Helper()
	files := map[string]string{}
	for k, v := range fixtures {
		files[k] = strings.ReplaceAll(v, "{{DocRoot}}", root)
	}
	for _, r := range a3Rows {
		if strings.HasSuffix(r.path, ".php") && files[strings.TrimPrefix(r.path, "/")] == "" {
			files[strings.TrimPrefix(r.path, "/")] = iniPHP
		}
	}
	for _, p := range []string{"fc/b/ini.php", "fc/c/ini.php", "clean/ini.php", "envinj/ini.php", "envinj_ml/ini.php"} {
		files[p] = iniPHP
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// requestTimeout bounds one HTTP request in the tests; the scripts answer
// in milliseconds.
const requestTimeout = 20 * time.Second

var httpClient = &http.Client{Timeout: requestTimeout}

func get(t *testing.T, a *lab.Apache, p string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", a.URL+p, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", p, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// wantINI renders the exact ini.php output for baseline plus diff.
func wantINI(diff map[string]string) string {
	var b strings.Builder
	for _, k := range iniKeys {
		v := baseline[k]
		if d, ok := diff[k]; ok {
			v = d
		}
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	er := baseline["error_reporting()"]
	if d, ok := diff["error_reporting()"]; ok {
		er = d
	}
	fmt.Fprintf(&b, "error_reporting()=%s\nsapi=fpm-fcgi\n", er)
	return b.String()
}

// cutPID splits the pid line off ini.php's output.
func cutPID(body string) (string, string) {
	i := strings.LastIndex(body, "pid=")
	if i < 0 {
		return body, ""
	}
	return body[:i], strings.TrimSpace(body[i+4:])
}

func checkRow(t *testing.T, a *lab.Apache, r row) string {
	t.Helper()
	code, body := get(t, a, r.path)
	if code != r.status {
		t.Errorf("%s: status %d, want %d\n%s", r.path, code, r.status, body)
		return ""
	}
	if r.status != 200 {
		return ""
	}
	got, pid := cutPID(body)
	if want := wantINI(r.diff); got != want {
		t.Errorf("%s:\n got %s\nwant %s", r.path, got, want)
	}
	return pid
}

// TestIntegrationA3 replays a3Rows through Apache
// (SetHandler) → shim → php-fpm and asserts the exact ini_get() values of
// the MP column; then the same rows again in reverse order (different
// predecessors on the one worker: no value may leak), and through Apache
// with enablereuse=on and with ProxyPassMatch.
func TestIntegrationA3(t *testing.T) {
	st := startStack(t, "sethandler", "sethandler-reuse", "proxypassmatch")
	a := st.apaches["sethandler"]
	pids := map[string]bool{}
	for _, r := range a3Rows {
		if pid := checkRow(t, a, r); pid != "" {
			pids[pid] = true
		}
	}
	if len(pids) != 1 {
		t.Errorf("requests met %d php-fpm workers, want 1 (the leak checks need one)", len(pids))
	}
	for _, r := range slices.Backward(a3Rows) {
		checkRow(t, a, r)
	}
	// The shim's 500s name the file and line; Apache's error log does not
	// know of them, the shim's log does.
	for _, want := range []string{
		a.DocRoot + "/ini/sub/.htaccess:8:1", "php_admin_value not allowed here",
		a.DocRoot + "/q18/.htaccess:1:1", "php_value takes two arguments, PHP Value Modifier",
	} {
		if !strings.Contains(st.logs.String(), want) {
			t.Errorf("shim log lacks %q", want)
		}
	}
	// engine off: 403 without contacting php-fpm (its access log has no
	// run.php line).
	if b, _ := os.ReadFile(st.fpm.AccessLog); strings.Contains(string(b), "run.php") {
		t.Errorf("php-fpm ran run.php:\n%s", b)
	}

	if n := st.srv.Snapshot().KeptAlive; n != 0 {
		t.Errorf("Apache without enablereuse kept %d connections, want 0", n)
	}
	// Connection reuse from Apache (enablereuse=on) and ProxyPassMatch,
	// which does not read .htaccess for PHP URLs but the shim does.
	for _, name := range []string{"sethandler-reuse", "proxypassmatch"} {
		t.Run(name, func(t *testing.T) {
			a := st.apaches[name]
			before := st.srv.Snapshot().KeptAlive
			defer func() {
				kept := st.srv.Snapshot().KeptAlive - before
				if name == "sethandler-reuse" && kept == 0 {
					t.Error("enablereuse=on: no request arrived on a kept connection")
				}
				if name != "sethandler-reuse" && kept != 0 {
					t.Errorf("%d requests on kept connections, want 0", kept)
				}
			}()
			for _, r := range a3Rows {
				if strings.HasPrefix(r.path, "/mainval") || r.path == "/lock/ini.php" || strings.HasPrefix(r.path, "/fc/") {
					// Server-config values live in the first Apache's
					// configuration; rewrites differ under ProxyPassMatch.
					continue
				}
				checkRow(t, a, r)
			}
		})
	}
}

// TestIntegrationLeak replays docs/behaviour.md#b-env-to-fpm through the shim, under
// SetHandler and ProxyPassMatch, on one php-fpm worker: the injected
// PHP_VALUE/PHP_ADMIN_VALUE never reach php-fpm, and values the shim itself
// set are reset for the next request on the same worker (the MP column:
// "unchanged" in every row).
func TestIntegrationLeak(t *testing.T) {
	st := startStack(t, "sethandler", "proxypassmatch")
	var pids []string
	for _, name := range []string{"sethandler", "proxypassmatch"} {
		a := st.apaches[name]
		for i, r := range []row{
			{"/clean/ini.php", 200, nil},
			{"/envinj/ini.php", 200, nil},
			{"/clean/ini.php", 200, nil},
			{"/ini.php", 200, nil},
			{"/envinj_ml/ini.php", 200, nil},
			{"/nest/child/ini.php", 200, mp("memory_limit", "'96M'")},
			{"/ini.php", 200, nil},
			{"/q13/ini.php", 200, mp("display_errors", "'stderr'")},
			{"/q1/ini.php", 200, mp("user_agent", "'a b c'")},
			{"/clean/ini.php", 200, nil},
		} {
			code, body := get(t, a, r.path)
			if strings.Contains(body, "PREPENDED") {
				t.Errorf("%s step %d %s: auto_prepend_file injected: %s", name, i+1, r.path, body)
			}
			if code != 200 {
				t.Fatalf("%s step %d %s: status %d", name, i+1, r.path, code)
			}
			got, pid := cutPID(body)
			pids = append(pids, pid)
			if want := wantINI(r.diff); got != want {
				t.Errorf("%s step %d %s:\n got %s\nwant %s", name, i+1, r.path, got, want)
			}
		}
	}
	if len(slices.Compact(slices.Clone(pids))) != 1 {
		t.Errorf("pids %v: want one worker", pids)
	}
	snap := st.srv.Snapshot()
	// SetHandler: PHP_ADMIN_VALUE, PHP_VALUE, REQUEST_BODY_FILE, then
	// PHP_VALUE. ProxyPassMatch: Apache does not read .htaccess for PHP
	// URLs, so SetEnv never happens (docs/behaviour.md#b-ppm-no-htaccess).
	if snap.DroppedParams != 4 || snap.Pools[0].FirewallDrops != 4 {
		t.Errorf("dropped params = %d (pool %d), want 4", snap.DroppedParams, snap.Pools[0].FirewallDrops)
	}
	if len(snap.Pools) != 1 || !slices.Equal(snap.Pools[0].ManagedKeys, []string{"display_errors", "memory_limit", "user_agent"}) {
		t.Errorf("pools = %+v", snap.Pools)
	}
}

// TestIntegrationRedirectEnv replays docs/behaviour.md#b-redirect-env: after the shim,
// PHP sees what mod_php showed, under SetHandler and ProxyPassMatch.
func TestIntegrationRedirectEnv(t *testing.T) {
	st := startStack(t, "sethandler", "proxypassmatch")
	want := map[string]map[string]string{
		"/rw/some/route": {
			"FOO": "bar", "HTTP_AUTHORIZATION": "Bearer x", "REDIRECT_FOO": "bar",
			"REDIRECT_HTTP_AUTHORIZATION": "Bearer x", "REDIRECT_STATUS": "200", "REDIRECT_URL": "/rw/some/route",
		},
		"/env.php": {},
	}
	for _, name := range []string{"sethandler", "proxypassmatch"} {
		for p, w := range want {
			code, body := get(t, st.apaches[name], p, "Authorization", "Bearer x")
			var got map[string]string
			if code != 200 || json.Unmarshal([]byte(body), &got) != nil {
				t.Errorf("%s %s: %d %s", name, p, code, body)
				continue
			}
			if fmt.Sprint(got) != fmt.Sprint(w) {
				t.Errorf("%s %s:\n got %v\nwant %v", name, p, got, w)
			}
		}
	}
	// SetHandler direct request: FOO from SetEnv, no REDIRECT_ (MP row 2).
	code, body := get(t, st.apaches["sethandler"], "/rw/index.php", "Authorization", "Bearer x")
	if w := `{"FOO":"bar","HTTP_AUTHORIZATION":"Bearer x"}`; code != 200 || body != w {
		t.Errorf("/rw/index.php: %d %s, want %s", code, body, w)
	}
}

// TestIntegrationBody: request bodies reach PHP whole, with a length
// (Content-Length) and without one (chunked, which Apache may stream
// without CONTENT_LENGTH; the shim must then measure it,
// docs/behaviour.md#b-apache-body), and a GET has an empty body.
func TestIntegrationBody(t *testing.T) {
	st := startStack(t, "sethandler")
	a := st.apaches["sethandler"]
	body := strings.Repeat("0123456789abcdef", 20000) // 320,000 bytes
	sum := fmt.Sprintf("%x", md5.Sum([]byte(body)))
	for _, chunked := range []bool{false, true} {
		var r io.Reader = strings.NewReader(body)
		if chunked {
			r = io.MultiReader(strings.NewReader(body)) // hides the length: chunked
		}
		req, _ := http.NewRequest("POST", a.URL+"/echo.php", r)
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("%d %s %d", len(body), sum, len(body)); resp.StatusCode != 200 || string(b) != want {
			t.Errorf("chunked=%v: %d %q, want %q", chunked, resp.StatusCode, b, want)
		}
	}
	// A GET carries no CONTENT_LENGTH, as with mod_php and Apache →
	// php-fpm directly.
	if code, b := get(t, a, "/echo.php"); code != 200 || b != "0 d41d8cd98f00b204e9800998ecf8427e -" {
		t.Errorf("GET: %d %q", code, b)
	}
}

// TestIntegrationTCP: ProxyPassMatch to the shim listening on TCP (the
// issue's second Apache form): the A.3a/A.3b rows that do not depend on
// server config or rewrites, then the leak sequence.
func TestIntegrationTCP(t *testing.T) {
	st := startStack(t, "proxypassmatch-tcp")
	a := st.apaches["proxypassmatch-tcp"]
	for _, r := range a3Rows {
		if strings.HasPrefix(r.path, "/mainval") || r.path == "/lock/ini.php" || strings.HasPrefix(r.path, "/fc/") {
			continue
		}
		checkRow(t, a, r)
	}
	for _, r := range []row{{"/envinj/ini.php", 200, nil}, {"/nest/ini.php", 200, mp("memory_limit", "'64M'")}, {"/ini.php", 200, nil}} {
		checkRow(t, a, r)
	}
}
