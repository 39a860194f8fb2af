package facts

import (
	"sync"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// TestConcurrentFacts: rules ask for the shared answers concurrently; each
// is built once and every caller gets the same values (run with -race).
func TestConcurrentFacts(t *testing.T) {
	dir := func(line int, name string, args ...string) *parser.Node {
		return &parser.Node{Kind: parser.KindDirective, Name: name, Args: args, Pos: parser.Pos{File: "a.conf", Line: line, Col: 1}, Active: true}
	}
	cfg := &parser.Config{Main: &parser.File{Path: "a.conf", Nodes: []*parser.Node{
		dir(1, "ProxyPassMatch", `^/(.*\.php)$`, "fcgi://127.0.0.1:9000/var/www/site/$1"),
		dir(2, "SetHandler", "proxy:unix:/run/php/site.sock|fcgi://localhost"),
		dir(3, "Require", "all", "denied"),
		dir(4, "Timeout", "30"),
	}}}
	f := New(cfg, cfg, nil, nil, nil)
	var wg sync.WaitGroup
	results := make([][3]int, 8)
	var first []*Route
	var mu sync.Mutex
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs := f.Routes()
			results[i] = [3]int{len(rs), len(f.Handlers()), len(f.Restrictive()) + len(f.Index().Named("timeout"))}
			mu.Lock()
			if first == nil {
				first = rs
			} else if len(rs) > 0 && rs[0] != first[0] {
				t.Error("Routes built twice")
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r != [3]int{1, 2, 2} {
			t.Fatalf("routes, handlers, restrictive+timeout = %v, want [1 2 2]", r)
		}
	}
	if r := first[0]; r.Dest != "/var/www/site" || !r.Backref || r.Handler != "proxy:fcgi://127.0.0.1:9000" {
		t.Errorf("route = %+v", r)
	}
}
