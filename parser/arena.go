package parser

import (
	"sync"
	"unsafe"
)

// nodeArena hands out node slices from shared chunks, for trees that live
// and die together (the views of one load). A slice of its own per file or
// section rounds up to the allocator's next size class: a 17-node vhost file
// takes 4096 bytes for 3536. The zero value is ready; a nil arena allocates
// each slice on its own (Parse, whose files the shim keeps one by one).
type nodeArena struct {
	mu   sync.Mutex
	free []Node
}

// arenaChunk is the number of nodes in a chunk: 64 KiB, a whole number of
// the runtime's pages.
const arenaChunk = 64 << 10 / int(unsafe.Sizeof(Node{}))

// alloc returns n zero nodes.
func (a *nodeArena) alloc(n int) []Node {
	if a == nil || n > arenaChunk/8 {
		return make([]Node, n)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if n > len(a.free) {
		a.free = make([]Node, arenaChunk)
	}
	s := a.free[:n:n]
	a.free = a.free[n:]
	return s
}
