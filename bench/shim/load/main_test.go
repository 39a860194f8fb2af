package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestRun: every request the server answered 200 is counted as done, the
// others as failed, over kept-alive connections.
func TestRun(t *testing.T) {
	var served, newConns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1)%2 == 0 {
			http.Error(w, "no", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("hello"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	ok, failed, took := run(srv.URL, 3, 200*time.Millisecond)
	if ok == 0 || failed == 0 || ok+failed > served.Load() || served.Load()-(ok+failed) > 3 {
		t.Errorf("ok %d failed %d, server answered %d (at most 3 cut off by the end)", ok, failed, served.Load())
	}
	if n := newConns.Load(); n*10 > ok+failed {
		t.Errorf("%d connections for %d requests, want them kept alive", n, ok+failed)
	}
	if took < 200*time.Millisecond {
		t.Errorf("took %v, want at least the duration", took)
	}
}
