package shim

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// latencyWindow is how many recent request latencies the percentiles are
// computed from: enough for a stable p99, small enough to sort on demand.
const latencyWindow = 4096

// latencyBuckets are the upper bounds of the latency histogram, from the
// shim's own cost (well under a millisecond) to PHP's max_execution_time
// (30 s in php.ini-production).
var latencyBuckets = []time.Duration{
	500 * time.Microsecond, time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2500 * time.Millisecond,
	5 * time.Second, 10 * time.Second, 30 * time.Second,
}

// answerCodes are the statuses the shim answers itself instead of php-fpm.
var answerCodes = []int{
	http.StatusForbidden, http.StatusRequestEntityTooLarge, http.StatusInternalServerError, http.StatusBadGateway,
	http.StatusServiceUnavailable, http.StatusGatewayTimeout,
}

// histogram counts latencies per bucket (non-cumulative; the last slot is
// +Inf) with their sum, lock-free.
type histogram struct {
	counts [16]atomic.Int64 // len(latencyBuckets)+1
	sum    atomic.Int64     // nanoseconds
}

func (h *histogram) observe(d time.Duration) {
	i, _ := slices.BinarySearch(latencyBuckets, d)
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// Stats are the shim's counters since start.
type Stats struct {
	Requests        atomic.Int64 // requests received from Apache
	Forwarded       atomic.Int64 // requests sent to php-fpm
	Forbidden       atomic.Int64 // 403 answers (engine off, unreadable access file)
	BodyTooLarge    atomic.Int64 // 413 answers (body over Config.MaxBody)
	ServerErrors    atomic.Int64 // 500 answers (broken access file, unencodable value)
	Overloaded      atomic.Int64 // 503 answers (front or pool full, php-fpm unreachable)
	BadGateway      atomic.Int64 // 502 answers (php-fpm failed before any output)
	GatewayTimeouts atomic.Int64 // 504 answers (php-fpm sent nothing within the backend timeout)
	BackendErrors   atomic.Int64 // php-fpm unreachable or failed mid-request
	DroppedParams   atomic.Int64 // firewalled params removed
	RedirectCopies  atomic.Int64 // params added by the REDIRECT_ fix
	KeptAlive       atomic.Int64 // requests on a connection Apache keeps (enablereuse=on)

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

// poolStats are one pool's counters: every request routed to the pool,
// whether or not it reached php-fpm.
type poolStats struct {
	requests, forwarded, backendErrors, drops, redirects atomic.Int64
	answers                                              [6]atomic.Int64 // by answerCodes
	lat                                                  histogram
}

func (p *poolStats) answered(code int) {
	if i := slices.Index(answerCodes, code); i >= 0 {
		p.answers[i].Add(1)
	}
}

// StatusSnapshot is the JSON form of the status endpoint.
type StatusSnapshot struct {
	Requests        int64 `json:"requests"`
	Forwarded       int64 `json:"forwarded"`
	Forbidden       int64 `json:"status_403"`
	BodyTooLarge    int64 `json:"status_413"`
	ServerErrors    int64 `json:"status_500"`
	BadGateway      int64 `json:"status_502"`
	Overloaded      int64 `json:"status_503"`
	GatewayTimeouts int64 `json:"status_504"`
	BackendErrors   int64 `json:"backend_errors"`
	DroppedParams   int64 `json:"dropped_params"`
	RedirectCopies  int64 `json:"redirect_copies"`
	KeptAlive       int64 `json:"apache_keepalive_requests"`
	CacheHits       int64 `json:"cache_hits"`
	CacheMisses     int64 `json:"cache_misses"`
	CacheEntries    int   `json:"cache_entries"`
	CacheBytes      int64 `json:"cache_bytes"`
	CacheEvictions  int64 `json:"cache_evictions"`
	// HeapLiveBytes, MemoryBytes and MemoryLimitBytes are the Go
	// runtime's own figures (runtime/metrics): the heap the last
	// collection found live (caches, connections, requests), the memory
	// mapped from the system minus what was returned to it (close to the
	// RSS), and the soft memory limit the collector works to keep under.
	HeapLiveBytes    int64        `json:"heap_live_bytes"`
	MemoryBytes      int64        `json:"memory_bytes"`
	MemoryLimitBytes int64        `json:"memory_limit_bytes"`
	LatencyP50ms     float64      `json:"latency_p50_ms"`
	LatencyP90ms     float64      `json:"latency_p90_ms"`
	LatencyP99ms     float64      `json:"latency_p99_ms"`
	Pools            []PoolStatus `json:"pools"`
	// Apache's side: connections open, waiting ones closed to make room
	// at the connection bound or for not starting a request in time, and
	// the params held (and requests refused) under its memory bound.
	FrontConns         int   `json:"front_connections"`
	FrontEvicted       int64 `json:"front_evicted"`
	FrontHeadTimeouts  int64 `json:"front_head_timeouts"`
	FrontParamsBytes   int64 `json:"front_params_bytes"`
	FrontParamsRefused int64 `json:"front_params_refused"`
}

// PoolStatus describes one pool in the status output.
type PoolStatus struct {
	Addr          string   `json:"addr"`
	MaxChildren   int      `json:"max_children"`
	Open          int      `json:"connections_open"`
	Idle          int      `json:"connections_idle"`
	Dials         int64    `json:"dials"`
	Reuses        int64    `json:"reuses"`
	ManagedKeys   []string `json:"managed_keys"`
	Requests      int64    `json:"requests"`
	Forwarded     int64    `json:"forwarded"`
	BackendErrors int64    `json:"backend_errors"`
	FirewallDrops int64    `json:"firewall_drops"`
	// RedirectCopies counts params the REDIRECT_ fix added.
	RedirectCopies int64 `json:"redirect_copies"`
	// Answers counts the shim's own answers by status code ("403", "413",
	// "500", "502", "503", "504").
	Answers map[string]int64 `json:"answers"`
	// Latency is the histogram of the handler's latency.
	Latency Histogram `json:"latency"`
	// The pool's workers as the shim holds them: running a request of
	// the shim, pinned idle by a kept connection, and not held by the
	// shim (pm.max_children minus its connections: free, or serving
	// php-fpm's other clients). Reserve is --fpm-reserve.
	WorkersBusy int `json:"workers_busy"`
	WorkersKept int `json:"workers_kept_idle"`
	WorkersFree int `json:"workers_free"`
	Reserve     int `json:"reserve"`
}

// Histogram is a latency histogram: Counts[i] requests took at most
// Bounds[i] seconds (cumulative, as in Prometheus); Count includes those
// above the last bound.
type Histogram struct {
	Bounds     []float64 `json:"le_seconds"`
	Counts     []int64   `json:"counts"`
	Count      int64     `json:"count"`
	SumSeconds float64   `json:"sum_seconds"`
}

func (h *histogram) snapshot() Histogram {
	out := Histogram{Bounds: make([]float64, len(latencyBuckets)), Counts: make([]int64, len(latencyBuckets))}
	var cum int64
	for i, b := range latencyBuckets {
		cum += h.counts[i].Load()
		out.Bounds[i] = b.Seconds()
		out.Counts[i] = cum
	}
	out.Count = cum + h.counts[len(latencyBuckets)].Load()
	out.SumSeconds = time.Duration(h.sum.Load()).Seconds()
	return out
}

// Snapshot returns the current counters.
func (s *Server) Snapshot() StatusSnapshot {
	st := &s.stats
	p50, p90, p99 := st.percentiles()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	snap := StatusSnapshot{
		Requests: st.Requests.Load(), Forwarded: st.Forwarded.Load(), Forbidden: st.Forbidden.Load(), BodyTooLarge: st.BodyTooLarge.Load(),
		ServerErrors: st.ServerErrors.Load(), BadGateway: st.BadGateway.Load(), Overloaded: st.Overloaded.Load(),
		GatewayTimeouts: st.GatewayTimeouts.Load(), BackendErrors: st.BackendErrors.Load(),
		DroppedParams: st.DroppedParams.Load(), RedirectCopies: st.RedirectCopies.Load(), KeptAlive: st.KeptAlive.Load(),
		LatencyP50ms: ms(p50), LatencyP90ms: ms(p90), LatencyP99ms: ms(p99),
	}
	if s.fs != nil {
		fst := s.fs.Stats()
		snap.FrontConns, snap.FrontEvicted, snap.FrontHeadTimeouts = fst.Conns, fst.Evicted, fst.HeadTimeouts
		snap.FrontParamsBytes, snap.FrontParamsRefused = fst.ParamsHeld, fst.ParamsRefused
	}
	if cur := s.state.Load(); cur != nil {
		snap.CacheHits, snap.CacheMisses = cur.resolver.Stats()
		snap.CacheHits += s.cacheBase[0].Load()
		snap.CacheMisses += s.cacheBase[1].Load()
		snap.CacheEntries, snap.CacheBytes, snap.CacheEvictions = cur.resolver.CacheUsage()
	}
	snap.HeapLiveBytes, snap.MemoryBytes, snap.MemoryLimitBytes = runtimeMemory()
	s.mu.Lock()
	pools := make([]*poolRuntime, 0, len(s.pools))
	for _, p := range s.pools {
		pools = append(pools, p)
	}
	s.mu.Unlock()
	slices.SortFunc(pools, func(a, b *poolRuntime) int { return strings.Compare(a.addr.String(), b.addr.String()) })
	for _, p := range pools {
		b := p.be.Load()
		if b == nil {
			continue
		}
		cs := b.client.Stats()
		ps := PoolStatus{
			Addr: p.addr.String(), MaxChildren: b.info.MaxChildren, Open: cs.Open, Idle: cs.Idle,
			Dials: cs.Dials, Reuses: cs.Reuses, ManagedKeys: p.managedKeys(),
			Requests: p.stats.requests.Load(), Forwarded: p.stats.forwarded.Load(),
			BackendErrors: p.stats.backendErrors.Load(), FirewallDrops: p.stats.drops.Load(),
			RedirectCopies: p.stats.redirects.Load(), Answers: map[string]int64{},
			Latency:     p.stats.lat.snapshot(),
			WorkersBusy: cs.Open - cs.Idle, WorkersKept: cs.Idle, WorkersFree: max(b.info.MaxChildren-cs.Open, 0),
			Reserve: b.client.Reserve,
		}
		for i, c := range answerCodes {
			ps.Answers[strconv.Itoa(c)] = p.stats.answers[i].Load()
		}
		snap.Pools = append(snap.Pools, ps)
	}
	return snap
}

// promLabel quotes a label value as the Prometheus text format requires.
func promLabel(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v) + `"`
}

// promFloat formats a sample value or bound.
func promFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// writePrometheus renders the snapshot in the Prometheus text exposition
// format (version 0.0.4): shim-wide counters, then per pool.
func (snap StatusSnapshot) writePrometheus(w io.Writer) {
	metric := func(name, typ, help string) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	single := func(name, typ, help string, v int64) {
		metric(name, typ, help)
		fmt.Fprintf(w, "%s %d\n", name, v)
	}
	single("modphp_shim_apache_keepalive_requests_total", "counter", "Requests that arrived on a connection Apache keeps open (enablereuse=on).", snap.KeptAlive)
	single("modphp_shim_cache_hits_total", "counter", "Access file lookups answered from the cache.", snap.CacheHits)
	single("modphp_shim_cache_misses_total", "counter", "Access file lookups that read the file system.", snap.CacheMisses)
	single("modphp_shim_cache_entries", "gauge", "Entries in the access file cache.", int64(snap.CacheEntries))
	single("modphp_shim_cache_bytes", "gauge", "Memory held by the access file and resolution caches, from per-item costs measured against the live heap.", snap.CacheBytes)
	single("modphp_shim_cache_evictions_total", "counter", "Cache entries evicted to stay within the memory bound.", snap.CacheEvictions)
	single("modphp_shim_heap_live_bytes", "gauge", "Go heap found live by the last garbage collection.", snap.HeapLiveBytes)
	single("modphp_shim_memory_bytes", "gauge", "Memory the shim holds from the system (mapped minus returned; close to its RSS).", snap.MemoryBytes)
	single("modphp_shim_memory_limit_bytes", "gauge", "Soft memory limit the garbage collector keeps the shim under.", snap.MemoryLimitBytes)
	single("modphp_shim_front_connections", "gauge", "Connections from Apache open now.", int64(snap.FrontConns))
	single("modphp_shim_front_evictions_total", "counter", "Waiting Apache-side connections closed to make room at the connection bound.", snap.FrontEvicted)
	single("modphp_shim_front_head_timeouts_total", "counter", "Apache-side connections closed for not starting their request in time.", snap.FrontHeadTimeouts)
	single("modphp_shim_front_params_bytes", "gauge", "Params bytes held by requests from Apache (bounded in total).", snap.FrontParamsBytes)
	single("modphp_shim_front_params_refused_total", "counter", "Requests refused FCGI_OVERLOADED because the params of all requests reached their bound.", snap.FrontParamsRefused)
	perPool := func(name, typ, help string, v func(PoolStatus) string) {
		metric(name, typ, help)
		for _, p := range snap.Pools {
			fmt.Fprintf(w, "%s{pool=%s} %s\n", name, promLabel(p.Addr), v(p))
		}
	}
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	perPool("modphp_shim_requests_total", "counter", "Requests received from Apache.", func(p PoolStatus) string { return i64(p.Requests) })
	perPool("modphp_shim_forwarded_total", "counter", "Requests sent to php-fpm.", func(p PoolStatus) string { return i64(p.Forwarded) })
	metric("modphp_shim_errors_total", "counter", "Requests the shim answered itself, by status (403 engine off, 413 body over --max-body, 500 broken access file, 502 php-fpm failed, 503 overloaded or php-fpm down, 504 php-fpm timed out).")
	for _, p := range snap.Pools {
		for _, c := range answerCodes {
			code := strconv.Itoa(c)
			fmt.Fprintf(w, "modphp_shim_errors_total{pool=%s,code=%q} %d\n", promLabel(p.Addr), code, p.Answers[code])
		}
	}
	perPool("modphp_shim_backend_errors_total", "counter", "Requests php-fpm could not serve (unreachable, failed or timed out).", func(p PoolStatus) string { return i64(p.BackendErrors) })
	perPool("modphp_shim_firewall_drops_total", "counter", "PHP_VALUE, PHP_ADMIN_VALUE and REQUEST_BODY_FILE params from Apache dropped before php-fpm.", func(p PoolStatus) string { return i64(p.FirewallDrops) })
	perPool("modphp_shim_redirect_copies_total", "counter", "Unprefixed copies of REDIRECT_ params added.", func(p PoolStatus) string { return i64(p.RedirectCopies) })
	metric("modphp_shim_request_duration_seconds", "histogram", "Time from Apache's request to the end of the shim's answer.")
	for _, p := range snap.Pools {
		l := promLabel(p.Addr)
		for i, b := range p.Latency.Bounds {
			fmt.Fprintf(w, "modphp_shim_request_duration_seconds_bucket{pool=%s,le=%q} %d\n", l, promFloat(b), p.Latency.Counts[i])
		}
		fmt.Fprintf(w, "modphp_shim_request_duration_seconds_bucket{pool=%s,le=\"+Inf\"} %d\n", l, p.Latency.Count)
		fmt.Fprintf(w, "modphp_shim_request_duration_seconds_sum{pool=%s} %s\n", l, promFloat(p.Latency.SumSeconds))
		fmt.Fprintf(w, "modphp_shim_request_duration_seconds_count{pool=%s} %d\n", l, p.Latency.Count)
	}
	perPool("modphp_shim_pool_max_children", "gauge", "pm.max_children of the pool: the bound on connections.", func(p PoolStatus) string { return strconv.Itoa(p.MaxChildren) })
	metric("modphp_shim_pool_connections", "gauge", "Connections to php-fpm open now, by state.")
	for _, p := range snap.Pools {
		fmt.Fprintf(w, "modphp_shim_pool_connections{pool=%s,state=\"busy\"} %d\n", promLabel(p.Addr), p.Open-p.Idle)
		fmt.Fprintf(w, "modphp_shim_pool_connections{pool=%s,state=\"idle\"} %d\n", promLabel(p.Addr), p.Idle)
	}
	metric("modphp_shim_pool_workers", "gauge", "php-fpm workers of the pool as the shim holds them: busy with its request, kept (pinned idle by a kept connection), free (not held by the shim).")
	for _, p := range snap.Pools {
		for _, st := range []struct {
			name string
			n    int
		}{{"busy", p.WorkersBusy}, {"kept", p.WorkersKept}, {"free", p.WorkersFree}} {
			fmt.Fprintf(w, "modphp_shim_pool_workers{pool=%s,state=%q} %d\n", promLabel(p.Addr), st.name, st.n)
		}
	}
	perPool("modphp_shim_pool_reserve", "gauge", "Workers the shim never holds with an idle connection (--fpm-reserve).", func(p PoolStatus) string { return strconv.Itoa(p.Reserve) })
	perPool("modphp_shim_pool_dials_total", "counter", "Connections opened to php-fpm.", func(p PoolStatus) string { return i64(p.Dials) })
	perPool("modphp_shim_pool_reuses_total", "counter", "Requests sent over a kept-alive php-fpm connection.", func(p PoolStatus) string { return i64(p.Reuses) })
	perPool("modphp_shim_pool_managed_keys", "gauge", "INI keys the shim sets, and resets, on the pool.", func(p PoolStatus) string { return strconv.Itoa(len(p.ManagedKeys)) })
}

// statusHandler serves the counters: Prometheus text by default (also at
// /metrics), JSON for ?format=json or Accept: application/json; and Go's
// profiles under /debug/pprof/ (the endpoint is loopback only).
func (s *Server) statusHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" && r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		snap := s.Snapshot()
		if r.URL.Query().Get("format") == "json" || r.Header.Get("Accept") == "application/json" {
			w.Header().Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			enc.Encode(snap)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		snap.writePrometheus(w)
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
