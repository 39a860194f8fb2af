package fcgi

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// heapAlloc returns the live heap after a collection.
func heapAlloc() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// openConns waits until the server has at most n connections.
func (ts *testServer) waitConns(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		ts.mu.Lock()
		k := len(ts.conns)
		ts.mu.Unlock()
		if k <= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open, want at most %d", k, n)
		}
	}
}

// TestServerParamsBudget: many connections that each send nearly
// MaxParamsBytes of params and never end them hold no more than
// MaxParamsTotal together: the request that would pass it is refused with
// END_REQUEST FCGI_OVERLOADED and its connection closed. The memory is
// measured (the live heap), and it is all returned once the connections
// close (issue 16 point 7: 1,500 such connections took 3.5 GB).
func TestServerParamsBudget(t *testing.T) {
	const (
		budget = 8 << 20
		conns  = 200
		each   = DefaultMaxParamsBytes - 4096 // per connection, under MaxParamsBytes
	)
	var refused atomic.Int32
	srv := &Server{Handler: HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {}), MaxConns: conns + 8, MaxParamsTotal: budget}
	srv.ConnError = func(err error) {
		if errors.Is(err, ErrParamsTooLarge) {
			refused.Add(1)
		}
	}
	ts := startServerWith(t, srv)
	base := heapAlloc()

	chunk := appendRecord(nil, typeParams, 1, make([]byte, 65528))
	begin := appendBeginRequest(nil, 1, RoleResponder, false)
	var overloaded atomic.Int32
	var wg sync.WaitGroup
	ncs := make([]net.Conn, conns)
	for i := range ncs {
		nc, err := net.Dial("unix", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		ncs[i] = nc
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc.SetDeadline(time.Now().Add(20 * time.Second))
			if _, err := nc.Write(begin); err != nil {
				return
			}
			for sent := 0; sent+65528 <= each; sent += 65528 {
				if _, err := nc.Write(chunk); err != nil {
					break // refused: the server closed the connection
				}
			}
			// A refused connection has its END_REQUEST to read; a held one
			// has nothing to read until the deadline.
			nc.SetReadDeadline(time.Now().Add(time.Second))
			rr := newRecordReader(nc)
			defer rr.release()
			if h, content, err := rr.next(); err == nil && h.Type == typeEndRequest && ProtocolStatus(content[4]) == StatusOverloaded {
				overloaded.Add(1)
			}
		}()
	}
	wg.Wait()
	held := ts.ParamsHeld()
	grown := int64(heapAlloc()) - int64(base)
	t.Logf("%d connections: params held %d KiB, heap grown by %d MiB, %d refused (%d saw FCGI_OVERLOADED)", conns, held>>10, grown>>20, refused.Load(), overloaded.Load())
	if held > budget || held < budget-2*each {
		t.Errorf("params held %d, want at most the budget %d and near it", held, budget)
	}
	// The budget, plus per connection a record buffer and a goroutine.
	if limit := int64(budget + conns*(readerBufSize+32<<10) + 8<<20); grown > limit {
		t.Errorf("heap grew by %d MiB with %d connections holding params, want under %d MiB", grown>>20, conns, limit>>20)
	}
	if n := refused.Load(); n < conns-budget/each-1 || n != overloaded.Load() {
		t.Errorf("%d connections refused, %d saw FCGI_OVERLOADED; want the same, about %d", n, overloaded.Load(), conns-budget/each)
	}
	for _, nc := range ncs {
		nc.Close()
	}
	ts.waitConns(t, 0)
	if held := ts.ParamsHeld(); held != 0 {
		t.Errorf("params held after every connection closed: %d", held)
	}
	// What is left: the bounded free list of record buffers.
	if grown := int64(heapAlloc()) - int64(base); grown > maxFreeReaders*readerBufSize+4<<20 {
		t.Errorf("heap still %d MiB above its start after the connections closed", grown>>20)
	}
}
