package shim

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// latencyWindow is how many recent request latencies the percentiles are
// computed from: enough for a stable p99, small enough to sort on demand.
const latencyWindow = 4096

// Stats are the shim's counters since start.
type Stats struct {
	Requests       atomic.Int64 // requests received from Apache
	Forwarded      atomic.Int64 // requests sent to php-fpm
	Forbidden      atomic.Int64 // 403 answers (engine off, unreadable access file)
	ServerErrors   atomic.Int64 // 500 answers (broken access file, unencodable value)
	Overloaded     atomic.Int64 // 503 answers (front or pool full)
	BackendErrors  atomic.Int64 // php-fpm unreachable or failed mid-request
	DroppedParams  atomic.Int64 // firewalled params removed
	RedirectCopies atomic.Int64 // params added by the REDIRECT_ fix
	KeptAlive      atomic.Int64 // requests on a connection Apache keeps (enablereuse=on)

	mu      sync.Mutex
	lat     [latencyWindow]time.Duration
	latN    int
	latNext int
}

func (s *Stats) observe(d time.Duration) {
	s.mu.Lock()
	s.lat[s.latNext] = d
	s.latNext = (s.latNext + 1) % latencyWindow
	s.latN = min(s.latN+1, latencyWindow)
	s.mu.Unlock()
}

// percentiles returns p50, p90 and p99 of the recent latencies.
func (s *Stats) percentiles() (p50, p90, p99 time.Duration) {
	s.mu.Lock()
	v := slices.Clone(s.lat[:s.latN])
	s.mu.Unlock()
	if len(v) == 0 {
		return 0, 0, 0
	}
	slices.Sort(v)
	at := func(q float64) time.Duration { return v[min(len(v)-1, int(q*float64(len(v))))] }
	return at(0.50), at(0.90), at(0.99)
}

// StatusSnapshot is the JSON form of the status endpoint.
type StatusSnapshot struct {
	Requests       int64        `json:"requests"`
	Forwarded      int64        `json:"forwarded"`
	Forbidden      int64        `json:"status_403"`
	ServerErrors   int64        `json:"status_500"`
	Overloaded     int64        `json:"status_503"`
	BackendErrors  int64        `json:"backend_errors"`
	DroppedParams  int64        `json:"dropped_params"`
	RedirectCopies int64        `json:"redirect_copies"`
	KeptAlive      int64        `json:"apache_keepalive_requests"`
	CacheHits      int64        `json:"cache_hits"`
	CacheMisses    int64        `json:"cache_misses"`
	LatencyP50ms   float64      `json:"latency_p50_ms"`
	LatencyP90ms   float64      `json:"latency_p90_ms"`
	LatencyP99ms   float64      `json:"latency_p99_ms"`
	Pools          []PoolStatus `json:"pools"`
}

// PoolStatus describes one pool in the status output.
type PoolStatus struct {
	Addr        string   `json:"addr"`
	MaxChildren int      `json:"max_children"`
	Open        int      `json:"connections_open"`
	Idle        int      `json:"connections_idle"`
	Dials       int64    `json:"dials"`
	Reuses      int64    `json:"reuses"`
	ManagedKeys []string `json:"managed_keys"`
}

// Snapshot returns the current counters.
func (s *Server) Snapshot() StatusSnapshot {
	st := &s.stats
	p50, p90, p99 := st.percentiles()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	snap := StatusSnapshot{
		Requests: st.Requests.Load(), Forwarded: st.Forwarded.Load(), Forbidden: st.Forbidden.Load(),
		ServerErrors: st.ServerErrors.Load(), Overloaded: st.Overloaded.Load(), BackendErrors: st.BackendErrors.Load(),
		DroppedParams: st.DroppedParams.Load(), RedirectCopies: st.RedirectCopies.Load(), KeptAlive: st.KeptAlive.Load(),
		LatencyP50ms: ms(p50), LatencyP90ms: ms(p90), LatencyP99ms: ms(p99),
	}
	if cur := s.state.Load(); cur != nil {
		snap.CacheHits, snap.CacheMisses = cur.resolver.Stats()
		snap.CacheHits += s.cacheBase[0].Load()
		snap.CacheMisses += s.cacheBase[1].Load()
	}
	s.mu.Lock()
	pools := make([]*poolRuntime, 0, len(s.pools))
	for _, p := range s.pools {
		pools = append(pools, p)
	}
	s.mu.Unlock()
	slices.SortFunc(pools, func(a, b *poolRuntime) int { return compareStrings(a.addr.String(), b.addr.String()) })
	for _, p := range pools {
		b := p.be.Load()
		if b == nil {
			continue
		}
		cs := b.client.Stats()
		snap.Pools = append(snap.Pools, PoolStatus{
			Addr: p.addr.String(), MaxChildren: b.info.MaxChildren, Open: cs.Open, Idle: cs.Idle,
			Dials: cs.Dials, Reuses: cs.Reuses, ManagedKeys: p.managedKeys(),
		})
	}
	return snap
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// writeText renders the snapshot as "name value" lines.
func (snap StatusSnapshot) writeText(w io.Writer) {
	fmt.Fprintf(w, "requests %d\nforwarded %d\nstatus_403 %d\nstatus_500 %d\nstatus_503 %d\n", snap.Requests, snap.Forwarded, snap.Forbidden, snap.ServerErrors, snap.Overloaded)
	fmt.Fprintf(w, "backend_errors %d\ndropped_params %d\nredirect_copies %d\ncache_hits %d\ncache_misses %d\n", snap.BackendErrors, snap.DroppedParams, snap.RedirectCopies, snap.CacheHits, snap.CacheMisses)
	fmt.Fprintf(w, "apache_keepalive_requests %d\n", snap.KeptAlive)
	fmt.Fprintf(w, "latency_p50_ms %.3f\nlatency_p90_ms %.3f\nlatency_p99_ms %.3f\n", snap.LatencyP50ms, snap.LatencyP90ms, snap.LatencyP99ms)
	for _, p := range snap.Pools {
		fmt.Fprintf(w, "pool %s max_children=%d open=%d idle=%d dials=%d reuses=%d managed_keys=%d\n", p.Addr, p.MaxChildren, p.Open, p.Idle, p.Dials, p.Reuses, len(p.ManagedKeys))
	}
}

// statusHandler serves the counters: text by default, JSON for
// ?format=json or Accept: application/json; and Go's profiles under
// /debug/pprof/ (the endpoint is loopback only).
func (s *Server) statusHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		snap := s.Snapshot()
		if r.URL.Query().Get("format") == "json" || r.Header.Get("Accept") == "application/json" {
			w.Header().Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			enc.Encode(snap)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		snap.writeText(w)
	})
	return mux
}

// CheckLoopback refuses a status address that is not on a loopback
// interface: the counters and pool names are for the operator only.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("status address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("status address %q: only loopback addresses (127.0.0.1, ::1) are allowed", addr)
	}
	return nil
}
