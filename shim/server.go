package shim

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modphp-migrate/modphp-migrate/fcgi"
)

// DefaultShutdownGrace is how long a graceful shutdown waits for requests
// in flight. It matches systemd's default TimeoutStopSec (90 s) minus a
// margin, so the shim drains before systemd would kill it; PHP's
// max_execution_time (30 s in php.ini-production) ends most scripts sooner.
const DefaultShutdownGrace = 80 * time.Second

// DefaultWorkers bounds the requests the shim handles at once. Each one
// waits on php-fpm, so the bound only needs to exceed the pools' total
// pm.max_children with room for 403/500 answers that never reach php-fpm.
const DefaultWorkers = 256

// frontQueueWait is how long a request waits for a front worker before the
// shim answers 503. The front is sized above php-fpm's capacity, so a full
// front means the pools are saturated; a short wait absorbs bursts without
// building a queue.
const frontQueueWait = 100 * time.Millisecond

// statusReadTimeout bounds reading a status request's headers; the
// endpoint is local and tiny.
const statusReadTimeout = 5 * time.Second

// maxFrontConns bounds Apache's connections to the shim. With enablereuse=on
// Apache keeps connections open per child and thread; idle ones cost a
// goroutine each, so the bound is generous, and the request bound is
// Workers.
const maxFrontConns = 4096

// DefaultListenMode is the permission of a Unix listen socket: owner and
// group, like Debian's php-fpm listen.mode. Run the shim as Apache's user
// (or group) so that Apache can connect; anyone who can connect can run any
// PHP file the pool can read.
const DefaultListenMode fs.FileMode = 0o660

// Route sends requests under a document root to a pool (--pool-for).
type Route struct {
	DocRoot string
	Pool    Addr
}

// Config is the shim's configuration (the flags of modphp-migrate shim).
type Config struct {
	Listen       Addr
	Pool         Addr    // default pool
	Routes       []Route // per document root, longest prefix wins
	FPMConfig    string  // php-fpm.conf
	PHPINI       string  // php.ini of the pools ("" = beside FPMConfig)
	ApacheConfig string  // optional: AllowOverride, server-config php_* lines
	AccessNames  []string
	StatusListen string // loopback host:port, or ""
	// ListenMode is the permission of a Unix listen socket (Apache's
	// worker user must be able to connect); 0 means DefaultListenMode.
	ListenMode fs.FileMode
	// Workers bounds requests in progress (0 = DefaultWorkers).
	Workers int
	// ShutdownGrace bounds draining on shutdown (0 = DefaultShutdownGrace).
	ShutdownGrace time.Duration
	// Source loads pools and their baselines (nil = FPMPoolSource).
	Source PoolSource
	// DialTimeout bounds connecting to php-fpm; a pool that cannot be
	// reached within it is answered 503 (0 = fcgi.DefaultDialTimeout).
	DialTimeout time.Duration
	// ConfigCheckInterval is how often, at most, requests check whether
	// a configuration file changed and reload it (0 =
	// DefaultConfigCheckInterval, negative = never; SIGHUP still reloads).
	ConfigCheckInterval time.Duration
	// BackendTimeout bounds each wait for php-fpm's next response record
	// (and each write of the request); when it passes before any output
	// the shim answers 504 (0 = fcgi.DefaultReadTimeout).
	BackendTimeout time.Duration
	// Ready, when set, is called once Serve accepts on the listener and
	// the status listener (e.g. to tell systemd the service is ready).
	Ready func()
	// SpoolDir is where request bodies of unknown length (chunked) are
	// spooled to learn the CONTENT_LENGTH php-fpm needs ("" = $TMPDIR).
	SpoolDir string
	// MaxBody bounds a request body; a larger one is answered 413, as
	// Apache's LimitRequestBody would (0 = DefaultMaxBody, -1 = none).
	MaxBody int64
	// FPMReserve is how many of a pool's pm.max_children workers the
	// shim does not hold with an idle kept connection for longer than
	// fcgi's grace of 5 ms, for php-fpm's other clients
	// (0 = DefaultFPMReserve, -1 = none).
	FPMReserve int
}

// DefaultFPMReserve leaves one worker of every pool unpinned between
// requests: php-fpm's status page and health checks are then answered
// within 5 ms after the shim's load falls below pm.max_children − 1,
// instead of after the kept connections' idle timeout.
const DefaultFPMReserve = 1

// DefaultMaxBody is the body bound of a Config whose MaxBody is 0: 1 GiB,
// the default of Apache's LimitRequestBody since 2.4.54, so that the shim
// refuses nothing Apache's default let through.
const DefaultMaxBody = 1 << 30

// state is what a reload replaces at once.
type state struct {
	resolver *Resolver
	def      *poolRuntime
	routes   []routeRT
}

type routeRT struct {
	root string
	pool *poolRuntime
}

// Server is the running shim.
type Server struct {
	cfg   Config
	log   *slog.Logger
	state atomic.Pointer[state]
	stats Stats
	front chan struct{}

	watch    configWatch // configuration files, for reloads on change
	reloadMu sync.Mutex  // one reload at a time (SIGHUP, a changed file)

	mu        sync.Mutex
	pools     map[string]*poolRuntime // by Addr.String(); kept across reloads
	cacheBase [2]atomic.Int64         // cache counters of replaced resolvers

	fs     *fcgi.Server
	status *http.Server
}

// New checks the configuration, loads the pools and the access file rules,
// and returns a server ready to Run.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = DefaultShutdownGrace
	}
	if cfg.Source == nil {
		cfg.Source = &FPMPoolSource{Warn: log.Warn}
	}
	if cfg.ListenMode == 0 {
		cfg.ListenMode = DefaultListenMode
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.FPMReserve == 0 {
		cfg.FPMReserve = DefaultFPMReserve
	}
	if err := checkSpoolDir(cfg.SpoolDir); err != nil {
		if cfg.SpoolDir != "" {
			return nil, err
		}
		log.Warn("request bodies without a length (chunked) over 1 MiB will fail: set --spool-dir", "err", err)
	}
	if cfg.StatusListen != "" {
		if err := CheckLoopback(cfg.StatusListen); err != nil {
			return nil, err
		}
	}
	if cfg.ConfigCheckInterval == 0 {
		cfg.ConfigCheckInterval = DefaultConfigCheckInterval
	}
	s := &Server{cfg: cfg, log: log, front: make(chan struct{}, cfg.Workers), pools: map[string]*poolRuntime{}}
	s.watch.interval.Store(int64(cfg.ConfigCheckInterval))
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	s.fs = &fcgi.Server{
		Handler:  s,
		MaxConns: maxFrontConns,
		// Apache then reads the response exactly as it reads php-fpm's.
		PHPFPMEnding: true,
		ConnError: func(err error) {
			s.log.Warn("apache connection failed", "err", err)
		},
	}
	return s, nil
}

// checkSpoolDir makes sure request bodies can be spooled in dir ("" =
// os.TempDir()): under systemd's ProtectSystem=strict without PrivateTmp,
// /tmp is read-only.
func checkSpoolDir(dir string) error {
	f, err := os.CreateTemp(dir, "spool-check-*")
	if err != nil {
		if dir == "" {
			dir = os.TempDir()
		}
		return fmt.Errorf("spool directory %s: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// load reads the php-fpm, php.ini and Apache configuration and installs
// them; on error the previous state stays.
func (s *Server) load(ctx context.Context) error {
	pools, err := s.cfg.Source.LoadPools(ctx, s.cfg.FPMConfig, s.cfg.PHPINI)
	if err != nil {
		return fmt.Errorf("loading php-fpm pools: %w", err)
	}
	res, err := NewResolver(s.cfg.AccessNames, s.cfg.ApacheConfig)
	if err != nil {
		return err
	}
	type install struct {
		rt   *poolRuntime
		info *Pool
	}
	var todo []install
	get := func(a Addr) (*poolRuntime, error) {
		info, err := FindPool(pools, a)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		rt := s.pools[a.String()]
		if rt == nil {
			rt = newPoolRuntime(a, clientOptions{
				dial: s.cfg.DialTimeout, backend: s.cfg.BackendTimeout,
				spoolDir: s.cfg.SpoolDir, maxBody: max(s.cfg.MaxBody, 0),
				reserve: max(s.cfg.FPMReserve, 0),
			})
			s.pools[a.String()] = rt
		}
		s.mu.Unlock()
		todo = append(todo, install{rt, info})
		return rt, nil
	}
	st := &state{resolver: res}
	if st.def, err = get(s.cfg.Pool); err != nil {
		return err
	}
	for _, r := range s.cfg.Routes {
		rt, err := get(r.Pool)
		if err != nil {
			return err
		}
		st.routes = append(st.routes, routeRT{root: path.Clean(r.DocRoot), pool: rt})
	}
	// Longest document root first.
	slices.SortStableFunc(st.routes, func(a, b routeRT) int { return len(b.root) - len(a.root) })
	roots := map[*poolRuntime][]string{st.def: {"/"}}
	for _, r := range st.routes {
		roots[r.pool] = append(roots[r.pool], r.root)
	}
	for _, in := range todo {
		if old := in.rt.setPool(in.info, roots[in.rt]); old != nil {
			old.client.Close()
		}
		s.log.Info("pool", "addr", in.rt.addr.String(), "name", in.info.Name, "max_children", in.info.MaxChildren, "baseline_keys", len(in.info.Baseline), "locked_keys", len(in.info.Locked))
	}
	for _, pr := range st.unresettableProblems() {
		s.log.Warn("setting PHP cannot reset: its requests will be answered 500", "problem", pr.String())
	}
	// Files edited while they were read are seen at the next change.
	s.watch.stampFiles(s.configFiles(st))
	if old := s.state.Swap(st); old != nil {
		h, m := old.resolver.Stats()
		s.cacheBase[0].Add(h)
		s.cacheBase[1].Add(m)
	}
	return nil
}

// UnresettableProblems lists the server-config lines that set a directive
// PHP cannot reset on a pool that also serves requests outside their
// scope (modphp-migrate shim --check prints them).
func (s *Server) UnresettableProblems() []UnresettableProblem {
	return s.state.Load().unresettableProblems()
}

// Reload re-reads --fpm-config, --php-ini and --apache-config. Requests in
// flight finish with the old settings; new ones use the new. On error the
// old configuration stays in force.
func (s *Server) Reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if err := s.load(ctx); err != nil {
		s.log.Error("reload failed; keeping the previous configuration", "err", err)
		return err
	}
	s.log.Info("reloaded")
	return nil
}

// Listen opens the configured listener; a stale Unix socket file is
// replaced.
func Listen(a Addr, mode fs.FileMode) (net.Listener, error) {
	if a.Network == "unix" {
		if fi, err := os.Lstat(a.Address); err == nil && fi.Mode()&fs.ModeSocket != 0 {
			if c, err := net.Dial("unix", a.Address); err == nil {
				c.Close()
				return nil, fmt.Errorf("listening on %s: another process is serving it", a)
			}
			os.Remove(a.Address)
		}
		l, err := net.Listen("unix", a.Address)
		if err != nil {
			return nil, fmt.Errorf("listening on %s: %w", a, err)
		}
		if err := os.Chmod(a.Address, mode); err != nil {
			l.Close()
			return nil, fmt.Errorf("setting the mode of %s: %w", a.Address, err)
		}
		return l, nil
	}
	l, err := net.Listen("tcp", a.Address)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", a, err)
	}
	return l, nil
}

// Run serves until ctx ends, then shuts down gracefully: it stops
// accepting, waits up to ShutdownGrace for requests in flight, and closes
// what is left. Close forces an immediate stop (a second signal).
func (s *Server) Run(ctx context.Context) error {
	l, err := Listen(s.cfg.Listen, s.cfg.ListenMode)
	if err != nil {
		return err
	}
	return s.Serve(ctx, l)
}

// Serve is Run on an open listener.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	errc := make(chan error, 2)
	go func() { errc <- s.fs.Serve(l) }()
	if s.cfg.StatusListen != "" {
		sl, err := net.Listen("tcp", s.cfg.StatusListen)
		if err != nil {
			s.fs.Close()
			return fmt.Errorf("listening for status on %s: %w", s.cfg.StatusListen, err)
		}
		s.status = &http.Server{Handler: s.statusHandler(), ReadHeaderTimeout: statusReadTimeout}
		go s.status.Serve(sl)
		s.log.Info("status", "addr", sl.Addr().String())
	}
	s.log.Info("listening", "addr", s.cfg.Listen.String(), "workers", s.cfg.Workers, "procs", runtime.GOMAXPROCS(0))
	if s.cfg.Ready != nil {
		s.cfg.Ready()
	}
	select {
	case err := <-errc:
		s.closePools()
		if errors.Is(err, fcgi.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serving %s: %w", s.cfg.Listen, err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", s.cfg.ShutdownGrace.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	err := s.fs.Shutdown(sctx)
	if s.status != nil {
		s.status.Close()
	}
	s.closePools()
	if s.cfg.Listen.Network == "unix" {
		os.Remove(s.cfg.Listen.Address)
	}
	if err != nil && !errors.Is(err, fcgi.ErrServerClosed) {
		s.log.Warn("shutdown did not drain every request", "err", err)
		return fmt.Errorf("draining requests: %w", err)
	}
	s.log.Info("stopped")
	return nil
}

// Close stops serving at once; requests in flight are cut off.
func (s *Server) Close() error {
	err := s.fs.Close()
	if s.status != nil {
		s.status.Close()
	}
	return err
}

func (s *Server) closePools() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pools {
		if b := p.be.Load(); b != nil {
			b.client.Close()
		}
	}
}

// route picks the pool of a request by its document root or script path.
func (st *state) route(docRoot, script string) *poolRuntime {
	for _, r := range st.routes {
		for _, p := range []string{docRoot, script} {
			if p != "" && (p == r.root || strings.HasPrefix(p, r.root+"/")) {
				return r.pool
			}
		}
	}
	return st.def
}
