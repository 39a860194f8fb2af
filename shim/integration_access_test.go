package shim

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// accessDirs are the <Directory> sections of TestIntegrationAccessFiles,
// written for Apache without mod_php (the shim's Apache: Nonfatal=Unknown
// lets it skip the php_* lines it does not know) and for mod_php.
func accessDirs(withoutModPHP bool) string {
	unknown, none := "", "None"
	if withoutModPHP {
		unknown, none = " Nonfatal=Unknown", "Nonfatal=Unknown"
	}
	return fmt.Sprintf(`
<Directory {{DocRoot}}/nofollow>
    Options -FollowSymLinks
</Directory>
<Directory {{DocRoot}}/own>
    Options -FollowSymLinks +SymLinksIfOwnerMatch
</Directory>
<Directory {{DocRoot}}/nf>
    AllowOverride AuthConfig Nonfatal=Override%[1]s
</Directory>
<Directory {{DocRoot}}/nfall>
    AllowOverride AuthConfig Nonfatal=All
</Directory>
<Directory {{DocRoot}}/nfnone>
    AllowOverride AuthConfig%[1]s
</Directory>
<Directory {{DocRoot}}/nfadm>
    AllowOverride All Nonfatal=Override%[1]s
</Directory>
<Directory {{DocRoot}}/aol>
    AllowOverride %[2]s
    AllowOverrideList php_value
</Directory>
<Directory {{DocRoot}}/aolnf>
    AllowOverride Nonfatal=Override%[1]s
    AllowOverrideList php_value
</Directory>
<Directory {{DocRoot}}/aoladm>
    AllowOverride %[2]s
    AllowOverrideList php_admin_value
</Directory>
`, unknown, none)
}

func init() {
	apacheConfs["sethandler-access"] = apacheConfs["sethandler"] + accessDirs(true)
}

// writeAccessFixtures builds, under root, access files reached through
// symbolic links (to a file and to a directory in outside, as Debian's
// dokuwiki and roundcube ship them), special files named .htaccess, and
// the Nonfatal=Override directories. It returns the paths compared.
func writeAccessFixtures(t *testing.T, root, outside string) []string {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		t.Helper()
		must(os.MkdirAll(filepath.Dir(p), 0o755))
		must(os.WriteFile(p, []byte(s), 0o644))
	}
	link := func(target, p string) {
		t.Helper()
		must(os.MkdirAll(filepath.Dir(p), 0o755))
		must(os.Symlink(target, p))
	}
	write(filepath.Join(outside, "etc", "htaccess"), "php_value memory_limit 77M\nphp_flag display_errors on\n")
	write(filepath.Join(outside, "d", ".htaccess"), "php_value memory_limit 88M\n")
	write(filepath.Join(outside, "d", "ini.php"), iniPHP)
	write(filepath.Join(outside, "d", "sub", ".htaccess"), "php_value user_agent deep\n")
	write(filepath.Join(outside, "d", "sub", "ini.php"), iniPHP)
	paths := []string{"/fl/ini.php", "/dl/ini.php", "/dl/sub/ini.php", "/dang/ini.php", "/dir/ini.php", "/dev/ini.php",
		"/nofollow/ini.php", "/nofollow/dl/ini.php", "/own/ini.php", "/own/dd/ini.php",
		"/nf/ini.php", "/nfall/ini.php", "/nfnone/ini.php", "/nfadm/ini.php", "/aol/ini.php", "/aolnf/ini.php", "/aoladm/ini.php"}
	for _, p := range paths {
		if !strings.Contains(p, "dl/") && !strings.HasPrefix(p, "/own/dd/") {
			write(filepath.Join(root, p), iniPHP)
		}
	}
	link(filepath.Join(outside, "etc", "htaccess"), filepath.Join(root, "fl", ".htaccess"))
	link(filepath.Join(outside, "d"), filepath.Join(root, "dl"))
	link(filepath.Join(outside, "nothing"), filepath.Join(root, "dang", ".htaccess"))
	must(os.Mkdir(filepath.Join(root, "dir", ".htaccess"), 0o755))
	link("/dev/null", filepath.Join(root, "dev", ".htaccess"))
	link(filepath.Join(outside, "etc", "htaccess"), filepath.Join(root, "nofollow", ".htaccess"))
	link(filepath.Join(outside, "d"), filepath.Join(root, "nofollow", "dl"))
	link(filepath.Join(outside, "etc", "htaccess"), filepath.Join(root, "own", ".htaccess"))
	link(filepath.Join(outside, "d"), filepath.Join(root, "own", "dd"))
	if os.Geteuid() == 0 {
		// SymLinksIfOwnerMatch: a link to a directory of another owner.
		write(filepath.Join(outside, "o", ".htaccess"), "php_value memory_limit 99M\n")
		write(filepath.Join(outside, "o", "ini.php"), iniPHP)
		if u, err := user.Lookup("www-data"); err == nil {
			uid, _ := strconv.Atoi(u.Uid)
			for _, p := range []string{"o", "o/.htaccess", "o/ini.php"} {
				must(os.Chown(filepath.Join(outside, p), uid, -1))
			}
			link(filepath.Join(outside, "o"), filepath.Join(root, "own", "dl"))
			paths = append(paths, "/own/dl/ini.php")
		}
	}
	for _, d := range []string{"nf", "nfall", "nfnone"} {
		write(filepath.Join(root, d, ".htaccess"), "php_value memory_limit 66M\nphp_value user_agent xyz\n")
	}
	write(filepath.Join(root, "nfadm", ".htaccess"), "php_admin_value memory_limit 55M\nphp_value user_agent abc\n")
	for _, d := range []string{"aol", "aolnf"} {
		write(filepath.Join(root, d, ".htaccess"), "php_value user_agent abc\nphp_flag display_errors on\nphp_value memory_limit 33M\n")
	}
	write(filepath.Join(root, "aoladm", ".htaccess"), "php_admin_value memory_limit 31M\n")
	return paths
}

// TestIntegrationAccessFiles compares Apache (SetHandler) → shim → php-fpm
// with real mod_php, request by request (status, and every ini_get() value
// when 200), for access files reached through symbolic links — a
// .htaccess that links to a file outside the document root, a directory
// link to an outside directory holding one, under Options FollowSymLinks,
// -FollowSymLinks and SymLinksIfOwnerMatch —, a dangling link, a directory
// and /dev/null named .htaccess, AllowOverride Nonfatal=Override/All, and
// AllowOverrideList naming php_value only (php_flag refused, or skipped
// under Nonfatal=Override) or php_admin_value (then applied from the
// .htaccess).
// Then, under ProxyPassMatch (where Apache reads no access file itself),
// 300 requests to a directory whose .htaccess is a FIFO, on which httpd
// blocks in open(2) for good: each is answered 403 at once, and the shim
// still serves every other directory.
func TestIntegrationAccessFiles(t *testing.T) {
	st := startStack(t, "sethandler-access", "proxypassmatch")
	sh := st.apaches["sethandler-access"]
	ppm := st.apaches["proxypassmatch"]
	if err := syscall.Mkfifo(filepath.Join(ppm.DocRoot, "q1", ".htaccess.fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Rename(filepath.Join(ppm.DocRoot, "q1", ".htaccess.fifo"), filepath.Join(ppm.DocRoot, "q1", ".htaccess"))
	outside := lab.TempDir(t)
	paths := writeAccessFixtures(t, sh.DocRoot, outside)
	ref := startModPHP(t, sh.DocRoot, accessDirs(false))
	want := map[string]int{
		"/fl/ini.php": 200, "/dl/ini.php": 200, "/dl/sub/ini.php": 200, "/dang/ini.php": 200,
		"/dir/ini.php": 403, "/dev/ini.php": 403, "/nofollow/ini.php": 200, "/nofollow/dl/ini.php": 403,
		"/own/ini.php": 200, "/own/dd/ini.php": 200, "/own/dl/ini.php": 403,
		"/nf/ini.php": 200, "/nfall/ini.php": 200, "/nfnone/ini.php": 500, "/nfadm/ini.php": 200,
		"/aol/ini.php": 500, "/aolnf/ini.php": 200, "/aoladm/ini.php": 200,
	}
	for _, p := range append(paths, paths...) {
		mc, mb := getAuth(t, ref.url+p)
		sc, sb := getAuth(t, sh.URL+p)
		if mc != want[p] {
			t.Errorf("%s: mod_php answered %d, the test expects %d\n%s", p, mc, want[p], mb)
		}
		if mc != sc {
			t.Errorf("%s: status mod_php %d, shim %d\nmod_php: %s\nshim: %s", p, mc, sc, mb, sb)
			continue
		}
		if mc == 200 && normINI(mb) != normINI(sb) {
			t.Errorf("%s: ini_get() differs\nmod_php:\n%s\nshim:\n%s", p, normINI(mb), normINI(sb))
		}
	}
	// The values themselves, so that a test where both sides ignore the
	// access files cannot pass.
	for p, w := range map[string]string{"/fl/ini.php": "memory_limit='77M'", "/dl/sub/ini.php": "user_agent='deep'", "/nfadm/ini.php": "user_agent='abc'",
		"/aolnf/ini.php": "memory_limit='33M'", "/aoladm/ini.php": "memory_limit='31M'"} {
		if _, b := getAuth(t, sh.URL+p); !strings.Contains(b, w) {
			t.Errorf("%s: want %s in\n%s", p, w, b)
		}
	}
	if logs := st.logs.String(); !strings.Contains(logs, "key=user_agent where="+sh.DocRoot+"/nf/.htaccess:2:1") {
		t.Errorf("shim log lacks the Nonfatal=Override warning:\n%s", logs)
	}

	// FIFO: more requests than the shim has workers (DefaultWorkers).
	var wg sync.WaitGroup
	codes := make(chan int, 300)
	start := time.Now()
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < 300; i += 6 {
				c, _ := getAuth(t, ppm.URL+"/q1/ini.php")
				codes <- c
			}
		}()
	}
	wg.Wait()
	close(codes)
	n := 0
	for c := range codes {
		if c != 403 {
			t.Errorf("FIFO .htaccess: %d, want 403", c)
		}
		n++
	}
	if code, body := getAuth(t, ppm.URL+"/nest/ini.php"); n != 300 || code != 200 || !strings.Contains(body, "memory_limit='64M'") {
		t.Errorf("after %d FIFO requests in %v: %d %q", n, time.Since(start), code, body)
	}
	if !strings.Contains(st.logs.String(), `error="access to file denied by server: not a regular file" status=403`) {
		t.Error("shim log lacks the FIFO refusal")
	}
}
