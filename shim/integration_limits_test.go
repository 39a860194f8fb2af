package shim

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// onceScript appends a line to the file named by ?f= (a side effect), then
// works for three seconds before it answers. It waits in short sleeps: a
// signal that interrupts one (php-fpm's SIGQUIT to its workers on reload)
// does not end the wait.
const onceScript = `<?php file_put_contents($_GET['f'], "run\n", FILE_APPEND);
$end = microtime(true) + 3; while (microtime(true) < $end) { usleep(10000); }
echo 'ONCE-DONE';`

// waitServed polls path on a until it answers 200: php-fpm back after a
// reload.
func waitServed(t *testing.T, a *lab.Apache, path string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if code, _ := get(t, a, path); code == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered 200 again", path)
		}
	}
}

// TestIntegrationReloadRunsOnce: php-fpm reloaded gracefully (kill -USR2)
// while a GET with a side effect runs: its worker is stopped mid-script.
// Apache → php-fpm directly and Apache → shim → php-fpm both run the
// script exactly once and give the same answer; the shim does not send the
// request again on a fresh connection, although it went over a kept one
// and nothing came back (issue 14 point 3).
func TestIntegrationReloadRunsOnce(t *testing.T) {
	st := startStackFPM(t, lab.FPMConfig{Children: 2}, "sethandler")
	shimA := st.apaches["sethandler"]
	direct := lab.StartApache(t, fmt.Sprintf(`
<Proxy "unix:%s|fcgi://localhost">
    ProxySet enablereuse=on
</Proxy>
<FilesMatch "\.php$">
    SetHandler "proxy:unix:%s|fcgi://localhost"
</FilesMatch>
`, st.fpm.Addr, st.fpm.Addr))
	dir := lab.TempDir(t)
	os.Chmod(dir, 0o777) // php-fpm's workers run as www-data
	codes := map[string]int{}
	for _, tc := range []struct {
		name string
		a    *lab.Apache
	}{{"direct", direct}, {"shim", shimA}} {
		for name, body := range map[string]string{"once.php": onceScript, "hello.php": "<?php echo 'hello';\n"} {
			if err := os.WriteFile(filepath.Join(tc.a.DocRoot, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// A first request leaves a kept connection (and its worker)
		// behind, for the next request to go over.
		waitServed(t, tc.a, "/hello.php")
		count := filepath.Join(dir, tc.name+".count")
		type result struct {
			code int
			body string
		}
		done := make(chan result, 1)
		go func() {
			code, body := get(t, tc.a, "/once.php?f="+count)
			done <- result{code, body}
		}()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if b, _ := os.ReadFile(count); len(b) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: once.php never started", tc.name)
			}
		}
		st.fpm.Reload(t)
		r := <-done
		time.Sleep(3500 * time.Millisecond) // a second run would have ended by now
		if b, _ := os.ReadFile(count); string(b) != "run\n" {
			t.Errorf("%s: once.php ran %d times (answer %d %q)", tc.name, strings.Count(string(b), "run"), r.code, r.body)
		}
		if strings.Contains(r.body, "ONCE-DONE") {
			t.Errorf("%s: the reload did not stop the script: %d %q", tc.name, r.code, r.body)
		}
		codes[tc.name] = r.code
		waitServed(t, tc.a, "/hello.php")
	}
	if codes["direct"] != 503 || codes["shim"] != codes["direct"] {
		t.Errorf("answers: Apache → php-fpm %d, Apache → shim %d; want both 503", codes["direct"], codes["shim"])
	}
}
