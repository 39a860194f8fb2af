package parser

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
)

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestParseRetainsNothing: parsing 1,000 distinct 1 MB .htaccess files
// (what the shim sees over months of tenants' edits), each with 200 section
// names of its own, and asking of every section whether it is a
// conditional (as the shim does), leaves no more than 64 MB live once the
// files are dropped. A process-wide cache of lower-cased names kept each
// new name, and through it the whole file it was sliced from: about 1 GB
// here.
func TestParseRetainsNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 1 GB")
	}
	const (
		files    = 1000
		size     = 1 << 20
		sections = 200
		limit    = 64 << 20
	)
	filler := "# " + string(bytes.Repeat([]byte("x"), 4000)) + "\n"
	before := heapInUse()
	var buf bytes.Buffer
	for i := 0; i < files; i++ {
		buf.Reset()
		for s := 0; s < sections; s++ {
			fmt.Fprintf(&buf, "<f%04ds%03d a>\nphp_value memory_limit 64M\n</f%04ds%03d>\n", i, s, i, s)
		}
		for buf.Len() < size {
			buf.WriteString(filler)
		}
		f, _ := Parse(fmt.Sprintf("/var/www/t%04d/.htaccess", i), buf.Bytes(), true)
		conds := 0
		Walk(f.Nodes, true, func(n *Node) bool {
			if IsConditional(n) {
				conds++
			}
			return true
		})
		if len(f.Nodes) < sections || conds != 0 {
			t.Fatalf("file %d: %d nodes (want at least %d), %d conditionals (want 0)", i, len(f.Nodes), sections, conds)
		}
	}
	after := heapInUse()
	if grown := int64(after) - int64(before); grown > limit {
		t.Errorf("live heap grew by %d MB after parsing %d files of 1 MB, want at most %d MB", grown>>20, files, limit>>20)
	}
}
