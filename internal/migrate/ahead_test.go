package migrate

import (
	"strconv"
	"sync"
	"testing"
)

// TestAheadOnce: each key is looked up once, whether the goroutine or
// the builder gets to it first, and a key not announced is looked up
// once too; wait returns with the goroutine stopped.
func TestAheadOnce(t *testing.T) {
	for round := 0; round < 50; round++ {
		var mu sync.Mutex
		calls := map[string]int{}
		get := func(k string) string {
			mu.Lock()
			calls[k]++
			mu.Unlock()
			return "v" + k
		}
		var keys []string
		for i := 0; i < 200; i++ {
			keys = append(keys, strconv.Itoa(i%150)) // some announced twice
		}
		a := lookAhead(keys, get)
		for i := 199; i >= 0; i -= 3 { // from the other end, racing the goroutine
			if got := a.lookup(strconv.Itoa(i)); got != "v"+strconv.Itoa(i) {
				t.Fatalf("lookup(%d) = %q", i, got)
			}
		}
		a.lookup("150") // announced? no: 150-199 were not
		a.wait()
		mu.Lock()
		for k, n := range calls {
			if n != 1 {
				t.Errorf("round %d: %s looked up %d times", round, k, n)
			}
		}
		mu.Unlock()
	}
}
