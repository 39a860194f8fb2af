package shim

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// editedAccessFile is a 1 MB access file of <Files> sections whose names
// are distinct in every edit (round), each with a php_value: what a tenant
// who rewrites their .htaccess in a loop hands the shim.
func editedAccessFile(round int) []byte {
	var b strings.Builder
	for i := 0; b.Len() < 1<<20-100; i++ { // under the 1 MiB bound
		fmt.Fprintf(&b, "<Files r%dsection%d.php>\nphp_value memory_limit %dM\n</Files>\n", round, i, 64+i%64)
	}
	return []byte(b.String())
}

// TestAccessFileEditsMemory: 1,000 edits of a 1 MB .htaccess, each read,
// parsed and resolved by the shim, leave less than 64 MB live with the
// resolver's caches full (7 MB measured; a process-wide cache of
// lower-cased section names once kept a slice of every version of the
// file, 1.7 GB, and cached resolutions each edit's bytes) and grow its peak
// RSS by less than 400 MB (72–212 MB measured: how far the peak goes past
// what is live depends on the collector's pace on a loaded machine).
func TestAccessFileEditsMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("memory is not measurable under the race detector")
	}
	if testing.Short() {
		t.Skip("parses 1 GB of access files")
	}
	if memChild(t, func(string) {
		root := t.TempDir()
		r := mustResolver(t, nil)
		r.setLimits(1_000, 8<<20) // the cache holds what its bound says, not every version
		ht := filepath.Join(root, ".htaccess")
		for round := range 1000 {
			if err := os.WriteFile(ht, editedAccessFile(round), 0o644); err != nil {
				t.Fatal(err)
			}
			script := filepath.Join(root, fmt.Sprintf("r%dsection7.php", round))
			if got := describe(r.Resolve(Request{DocRoot: root, Script: script})); got != `memory_limit="71M"` {
				t.Fatalf("edit %d: %s, want memory_limit=\"71M\"", round, got)
			}
		}
		// What the resolver still holds after the edits, its caches full.
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Printf("heap-live %d\n", ms.HeapAlloc)
		runtime.KeepAlive(r)
	}) {
		return
	}
	m := childMemory(t, "TestAccessFileEditsMemory", "edits")
	grow, live := m["rss-growth"], m["heap-live"]
	t.Logf("peak RSS grew by %d MB; live heap after the edits %d MB", grow>>20, live>>20)
	if live > 64<<20 {
		t.Errorf("live heap after 1,000 edits of a 1 MB .htaccess: %d MB, want < 64 MB", live>>20)
	}
	if grow > 400<<20 {
		t.Errorf("peak RSS grew by %d MB over 1,000 edits of a 1 MB .htaccess, want < 400 MB", grow>>20)
	}
}
