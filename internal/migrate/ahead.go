package migrate

import (
	"sync"
	"sync/atomic"
)

// ahead answers lookups on the filesystem (a directory's owner, a file's
// contents) whose keys the builder knows before it needs them: one
// goroutine works through the keys in order while the builder goes on,
// and a key the builder asks for before its turn is looked up by the
// builder itself. Each key is looked up once either way. On a large tree
// this takes tens of thousands of system calls off the builder's path
// (lint waits for the plan before it can give its fixes).
type ahead[V any] struct {
	get  func(string) V
	m    map[string]*aheadEntry[V] // the builder's only
	stop atomic.Bool
	done sync.WaitGroup
}

type aheadEntry[V any] struct {
	key  string
	once sync.Once
	v    V
}

// lookAhead starts looking up keys with get. wait must be called before
// the builder returns.
func lookAhead[V any](keys []string, get func(string) V) *ahead[V] {
	a := &ahead[V]{get: get, m: make(map[string]*aheadEntry[V], len(keys))}
	list := make([]*aheadEntry[V], 0, len(keys))
	for _, k := range keys {
		if a.m[k] == nil {
			e := &aheadEntry[V]{key: k}
			a.m[k] = e
			list = append(list, e)
		}
	}
	a.done.Go(func() {
		for _, e := range list {
			if a.stop.Load() {
				return
			}
			e.once.Do(func() { e.v = a.get(e.key) })
		}
	})
	return a
}

// lookup returns get(k), looked up once. Only the builder calls it.
func (a *ahead[V]) lookup(k string) V {
	e := a.m[k]
	if e == nil {
		e = &aheadEntry[V]{key: k}
		a.m[k] = e
	}
	e.once.Do(func() { e.v = a.get(k) })
	return e.v
}

// wait stops the goroutine and waits for it.
func (a *ahead[V]) wait() {
	a.stop.Store(true)
	a.done.Wait()
}
