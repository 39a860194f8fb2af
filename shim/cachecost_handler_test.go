package shim

import (
	"fmt"
	"runtime"
	"testing"
)

// TestResolutionCostMeasured: resolutions cached through the handler —
// one per URL, each with the PHP_VALUE its pool encoded for it — are
// counted at least at the live heap they hold (1M URLs under one script
// held six times the cache metric before).
func TestResolutionCostMeasured(t *testing.T) {
	if raceEnabled {
		t.Skip("memory is not measurable under the race detector")
	}
	s := startShim(t, 4, map[string]string{
		"a/x.php":     "",
		"a/.htaccess": "php_value memory_limit 64M\nphp_flag display_errors on\nphp_value user_agent \"some agent\"\n",
	})
	const n = 3000
	forget := func() {
		s.fpm.mu.Lock()
		s.fpm.params = nil
		s.fpm.mu.Unlock()
	}
	s.do(t, "/a/x.php", "PATH_INFO", "/warm")
	forget()
	runtime.GC()
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	_, est0, _ := s.srv.state.Load().resolver.CacheUsage()
	for i := range n {
		s.do(t, "/a/x.php", "PATH_INFO", fmt.Sprintf("/article/%d", i))
		if i%256 == 0 {
			forget()
		}
	}
	forget()
	runtime.GC()
	runtime.ReadMemStats(&b)
	_, est1, _ := s.srv.state.Load().resolver.CacheUsage()
	heap, est := int64(b.HeapAlloc)-int64(a.HeapAlloc), est1-est0
	t.Logf("per URL: heap %d B, estimate %d B", heap/n, est/n)
	if ratio := float64(est) / float64(heap); ratio < 1 || ratio > 2.5 {
		t.Errorf("estimate/heap %.2f, want 1 to 2.5 (heap %d, estimate %d)", ratio, heap, est)
	}
}
