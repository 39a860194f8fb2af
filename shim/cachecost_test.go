package shim

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// cacheShapes are access files of the shapes real hosts have, for the
// cache cost measurements.
var cacheShapes = map[string]string{
	"small": "php_value memory_limit 64M\n",
	"regex": "<IfModule mod_php.c>\nphp_value memory_limit 64M\n<FilesMatch \"\\.(php|inc)$\">\nphp_flag display_errors off\n</FilesMatch>\n</IfModule>\n",
	"files": "<Files x.php>\nphp_value memory_limit 64M\n</Files>\n",
	"lines": strings.Repeat("php_value user_agent abcdefghijklmnop\n", 20),
	"nophp": "RewriteEngine On\nRewriteRule ^ index.php [L]\n",
	"bigre": "<FilesMatch \"^(wp-config|xmlrpc|install|setup|readme|license)\\.(php|txt|html?)$\">\nphp_flag engine off\n</FilesMatch>\n",
}

// fillCache writes n access files of src, at depth deep below n site
// directories, resolves one script in each, and returns the growth of the
// live heap and the caches' estimate.
func fillCache(t *testing.T, r *Resolver, src, deep string, n int) (heap, estimate int64) {
	t.Helper()
	root := t.TempDir()
	for i := range n {
		d := filepath.Join(root, fmt.Sprintf("site%05d", i), deep)
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, ".htaccess"), []byte(src), 0o644)
	}
	runtime.GC()
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	for i := range n {
		r.Resolve(Request{DocRoot: root, Script: filepath.Join(root, fmt.Sprintf("site%05d", i), deep, "index.php")})
	}
	runtime.GC()
	runtime.ReadMemStats(&b)
	_, est, _ := r.CacheUsage()
	runtime.KeepAlive(r)
	return int64(b.HeapAlloc) - int64(a.HeapAlloc), est
}

// TestCacheCostMeasured: for every shape, the caches' estimate is at
// least the live heap they really hold (so the bound is a bound in bytes)
// and at most 2.5 times it (so the bound is not wasted). It was a tenth of
// the real figure for files with a <FilesMatch> before the costs counted
// compiled expressions and kept lines.
func TestCacheCostMeasured(t *testing.T) {
	if raceEnabled {
		t.Skip("memory is not measurable under the race detector")
	}
	for name, src := range cacheShapes {
		for _, deep := range []string{"", "a/b/c/d"} {
			heap, est := fillCache(t, mustResolver(t, nil), src, deep, 500)
			ratio := float64(est) / float64(heap)
			t.Logf("%s deep=%q: heap %d B, estimate %d B, estimate/heap %.2f", name, deep, heap/500, est/500, ratio)
			if ratio < 1 || ratio > 2.5 {
				t.Errorf("%s deep=%q: estimate/heap %.2f, want 1 to 2.5 (heap %d, estimate %d)", name, deep, ratio, heap, est)
			}
		}
	}
}

// TestCacheBoundMeasured: with the byte bound at 2 MiB per cache, 6,000
// access files of 10 KB each in memory (60 MB unbounded) leave the live
// heap under the two bounds.
func TestCacheBoundMeasured(t *testing.T) {
	if raceEnabled {
		t.Skip("memory is not measurable under the race detector")
	}
	r := mustResolver(t, nil)
	const bound = 2 << 20
	r.setLimits(1_000_000, bound)
	heap, est := fillCache(t, r, cacheShapes["bigre"], "", 6000)
	_, _, evicted := r.CacheUsage()
	t.Logf("heap %d KB, estimate %d KB, evicted %d", heap>>10, est>>10, evicted)
	if heap > 2*bound || est > 2*bound || evicted == 0 {
		t.Errorf("heap %d KB, estimate %d KB, evicted %d; want both under %d KB, with evictions", heap>>10, est>>10, evicted, 2*bound>>10)
	}
}
