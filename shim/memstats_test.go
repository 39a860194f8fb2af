package shim

import (
	"runtime"
	"testing"
)

// TestRuntimeMemory: the status endpoint's real memory figures are the
// runtime's: a live heap, at most what is held from the system.
func TestRuntimeMemory(t *testing.T) {
	runtime.GC() // the live heap is known after a collection
	live, held, _ := runtimeMemory()
	if live <= 0 || held < live {
		t.Errorf("live %d, held %d; want 0 < live <= held", live, held)
	}
	s := startShim(t, 1, nil)
	if snap := s.srv.Snapshot(); snap.HeapLiveBytes <= 0 || snap.MemoryBytes < snap.HeapLiveBytes {
		t.Errorf("snapshot: heap %d, memory %d", snap.HeapLiveBytes, snap.MemoryBytes)
	}
}
