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
		touch(a.free)
	}
	s := a.free[:n:n]
	a.free = a.free[n:]
	return s
}

// pageNodes is a step through a chunk that meets every page of it.
const pageNodes = 4096 / int(unsafe.Sizeof(Node{}))

// touch writes to every page of a fresh chunk before any node is stored
// in it. While the collector runs, storing a node (a copy with pointers)
// first reads the pointers it replaces (the write barrier); a page whose
// first access is a read is mapped to the kernel's zero page and then
// copied on the write that follows: a second fault, and with threads on
// other CPUs an interrupt to each of them to flush its TLB. A write first
// takes one fault.
func touch(nodes []Node) {
	for i := 0; i < len(nodes); i += pageNodes {
		nodes[i].Kind = 0
	}
}
