package shim

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResolverCacheBound: the access file cache and the resolution cache
// stay within their entry and byte bounds while requests walk more
// directories than fit; evicted entries are read again and still give the
// right settings, and an edit applies on the next request.
func TestResolverCacheBound(t *testing.T) {
	root := t.TempDir()
	const dirs = 40
	pad := "# " + strings.Repeat("x", 1000) + "\n" // 1,003 bytes: cost 2×1,003+path+overhead
	for i := range dirs {
		d := filepath.Join(root, fmt.Sprintf("d%02d", i))
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, ".htaccess"), []byte(fmt.Sprintf("%sphp_value memory_limit %dM\n", pad, i+1)), 0o644)
	}
	for _, tc := range []struct {
		name       string
		maxEntries int
		maxBytes   int64
	}{
		{"entries", 10, 1 << 30},
		{"bytes", 1 << 30, 12_000}, // about five parsed files
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustResolver(t, nil)
			r.setLimits(tc.maxEntries, tc.maxBytes)
			for round := range 2 {
				for i := range dirs {
					script := filepath.Join(root, fmt.Sprintf("d%02d", i), "x.php")
					got := describe(r.Resolve(Request{DocRoot: root, Script: script}))
					if want := fmt.Sprintf(`memory_limit="%dM"`, i+1); got != want {
						t.Fatalf("round %d d%02d: got %s, want %s", round, i, got, want)
					}
					r.cache.mu.RLock()
					n, b := len(r.cache.m), r.cache.bytes
					r.cache.mu.RUnlock()
					r.rmu.RLock()
					rn, rb := len(r.resolved), r.resBytes
					r.rmu.RUnlock()
					if n > tc.maxEntries || b > tc.maxBytes || rn > tc.maxEntries || rb > tc.maxBytes {
						t.Fatalf("round %d d%02d: access cache %d entries %d bytes, resolutions %d entries %d bytes; bounds %d entries %d bytes",
							round, i, n, b, rn, rb, tc.maxEntries, tc.maxBytes)
					}
				}
			}
			// The byte count is the sum of the entries' costs.
			var sum int64
			for _, e := range r.cache.m {
				sum += e.size
			}
			if sum != r.cache.bytes {
				t.Errorf("access cache bytes %d, sum of entries %d", r.cache.bytes, sum)
			}
			_, _, ev := r.CacheUsage()
			// 2 rounds × 40 directories × (1 root negative entry shared, 1
			// file) cannot fit: evictions must have happened.
			if ev == 0 {
				t.Error("no evictions")
			}
			// An edit applies on the next request, evicted or not.
			os.WriteFile(filepath.Join(root, "d00", ".htaccess"), []byte("php_value memory_limit 500M\n"), 0o644)
			if got := describe(r.Resolve(Request{DocRoot: root, Script: filepath.Join(root, "d00", "x.php")})); got != `memory_limit="500M"` {
				t.Errorf("after edit: %s", got)
			}
			os.WriteFile(filepath.Join(root, "d00", ".htaccess"), []byte(pad+"php_value memory_limit 1M\n"), 0o644)
		})
	}
}

// TestEvict: eviction brings a full cache to three quarters of its bounds
// and counts what it dropped.
func TestEvict(t *testing.T) {
	m := map[string]*cacheEntry{}
	var bytes int64
	for i := range 8 {
		m[fmt.Sprint(i)] = &cacheEntry{size: 100}
		bytes += 100
	}
	if n := evict(m, &bytes, 100, 9, 1000); n != 0 || len(m) != 8 {
		t.Errorf("room left: evicted %d, %d entries", n, len(m))
	}
	if n := evict(m, &bytes, 100, 8, 1000); n != 2 || len(m) != 6 || bytes != 600 {
		t.Errorf("entry bound: evicted %d, %d entries, %d bytes; want 2, 6, 600", n, len(m), bytes)
	}
	if n := evict(m, &bytes, 300, 100, 800); n != 3 || len(m) != 3 || bytes != 300 {
		t.Errorf("byte bound: evicted %d, %d entries, %d bytes; want 3, 3, 300 (≤ 800×3/4−300)", n, len(m), bytes)
	}
}
