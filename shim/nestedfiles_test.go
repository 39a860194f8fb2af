package shim

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// nestedFiles is the hostile access file of issue 16: <IfModule mod_php.c>
// then n nested <Files a> sections, each with a php_value, left open
// (a true conditional may stay open) or closed.
func nestedFiles(n int, closed bool) []byte {
	var b strings.Builder
	b.WriteString("<IfModule mod_php.c>\n")
	for range n {
		b.WriteString("<Files a>\nphp_value memory_limit 1M\n")
	}
	if closed {
		for range n {
			b.WriteString("</Files>\n")
		}
		b.WriteString("</IfModule>\n")
	}
	return []byte(b.String())
}

// procStatusKB reads a field of /proc/self/status in kB.
func procStatusKB(field string) (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/self/status", field)
}

// childRSSGrowth runs the test named run in a child process with
// MODPHP_SHIM_MEMCHILD=arg and returns what it printed: the growth of its
// peak RSS (VmHWM) over its RSS before the work, in bytes.
func childRSSGrowth(t *testing.T, run, arg string) int64 {
	return childMemory(t, run, arg)["rss-growth"]
}

// childMemory runs the test named run as childRSSGrowth does and returns
// every "name number" line the child printed (rss-growth, and what the
// work printed itself).
func childMemory(t *testing.T, run, arg string) map[string]int64 {
	t.Helper()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+run+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MODPHP_SHIM_MEMCHILD="+arg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	got := map[string]int64{}
	for line := range strings.Lines(string(out)) {
		name, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if n, err := strconv.ParseInt(v, 10, 64); ok && err == nil && (name == "rss-growth" || name == "heap-live") {
			got[name] = n
		}
	}
	if _, ok := got["rss-growth"]; !ok {
		t.Fatalf("child printed no rss-growth:\n%s", out)
	}
	return got
}

// memChild runs work and prints its peak RSS growth when the test runs as
// childRSSGrowth's child; it reports whether it did.
func memChild(t *testing.T, work func(arg string)) bool {
	arg := os.Getenv("MODPHP_SHIM_MEMCHILD")
	if arg == "" {
		return false
	}
	before, err := procStatusKB("VmRSS")
	if err != nil {
		t.Fatal(err)
	}
	work(arg)
	peak, err := procStatusKB("VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("rss-growth %d\n", (peak-before)<<10)
	return true
}

// TestNestedFilesMemory: the 492 KB access file of 14,000 nested <Files a>
// sections, each with a php_value, is read, parsed and resolved with its
// process's peak RSS growing by less than 64 MB (it took 3.3 GB when every
// nested section copied its parents' matchers), and the result is
// mod_php's: every section matches a script named a, none matches b.php.
func TestNestedFilesMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("memory is not measurable under the race detector")
	}
	if memChild(t, func(arg string) {
		root := t.TempDir()
		os.WriteFile(filepath.Join(root, ".htaccess"), nestedFiles(14000, arg == "closed"), 0o644)
		r := mustResolver(t, nil)
		gotA := describe(r.Resolve(Request{DocRoot: root, Script: filepath.Join(root, "a")}))
		gotB := describe(r.Resolve(Request{DocRoot: root, Script: filepath.Join(root, "b.php")}))
		if gotA != `memory_limit="1M"` || gotB != "-" {
			t.Errorf("wrong result: a: %s, b.php: %s", gotA, gotB)
		}
	}) {
		return
	}
	for _, arg := range []string{"open", "closed"} {
		grow := childRSSGrowth(t, "TestNestedFilesMemory", arg)
		t.Logf("%s: peak RSS grew by %d MB", arg, grow>>20)
		if grow > 64<<20 {
			t.Errorf("%s: peak RSS grew by %d MB, want < 64 MB", arg, grow>>20)
		}
	}
}

// TestNestedFilesResult: nested sections must all match, whatever their
// depth; a nested section with the same test as its parent adds nothing.
func TestNestedFilesResult(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want map[string]string
	}{
		{"<Files *.php>\n<FilesMatch ^a>\n<Files a*>\n<Files ab.php>\nphp_value memory_limit 9M\n</Files>\n</Files>\n</FilesMatch>\n</Files>\n",
			map[string]string{"ab.php": `memory_limit="9M"`, "ac.php": "-", "b.php": "-"}},
		{"<Files a.php>\n<Files a.php>\n<Files b.php>\nphp_value memory_limit 9M\n</Files>\n</Files>\n</Files>\n",
			map[string]string{"a.php": "-", "b.php": "-"}},
	} {
		root := t.TempDir()
		os.WriteFile(filepath.Join(root, ".htaccess"), []byte(tc.src), 0o644)
		r := mustResolver(t, nil)
		for script, want := range tc.want {
			if got := describe(r.Resolve(Request{DocRoot: root, Script: filepath.Join(root, script)})); got != want {
				t.Errorf("%q %s: got %s, want %s", tc.src, script, got, want)
			}
		}
	}
	// Deep chains use the remembered results; both paths agree.
	src := string(nestedFiles(50, true))
	src = strings.Replace(src, "<Files a>", "<Files b>", 1)
	af := parseAccessFile("/x/.htaccess", []byte(src), evalEnv{})
	cm := &chainMatcher{base: "a"}
	for i := range af.files {
		if af.files[i].matches("a") || cm.matches(af.files[i].chain) {
			t.Fatalf("block %d matches a inside <Files b>", i)
		}
	}
}
