package main

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
)

// TestLintLeavesGCAlone: lint collects garbage with Go's defaults. It once
// switched collection off up to a 1 GiB heap, which took 530 MB on the
// 10,000-vhost benchmark tree where apache2 -t takes 220 MB
// (docs/benchmarks.md, "Memory, without deferring garbage collection").
func TestLintLeavesGCAlone(t *testing.T) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOGC or GOMEMLIMIT set in the environment")
	}
	percent, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })
	if code, _, stderr := runLintArgs(t, "--no-permissions", "../../docs/examples/legacy-server/etc/apache2"); code > exitFindings {
		t.Fatalf("lint exited %d: %s", code, stderr)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent after lint: %d, want 100", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("memory limit after lint: %d, want none (%d)", got, int64(math.MaxInt64))
	}
}
