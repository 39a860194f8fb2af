package shim

import (
	"fmt"
	"os"
	"path/filepath"
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
// parsed and resolved by the shim, grow its peak RSS by less than 200 MB
// (a process-wide cache of lower-cased section names once kept a slice of
// every version of the file: 1.7 GB).
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
	}) {
		return
	}
	grow := childRSSGrowth(t, "TestAccessFileEditsMemory", "edits")
	t.Logf("peak RSS grew by %d MB", grow>>20)
	if grow > 200<<20 {
		t.Errorf("peak RSS grew by %d MB over 1,000 edits of a 1 MB .htaccess, want < 200 MB", grow>>20)
	}
}
