package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/modphp-migrate/modphp-migrate/fcgi"
	"github.com/modphp-migrate/modphp-migrate/internal/sdnotify"
	"github.com/modphp-migrate/modphp-migrate/shim"
)

const shimUsage = `usage: modphp-migrate shim --listen ADDR --pool ADDR --fpm-config PATH [flags]
       modphp-migrate shim --check --fpm-config PATH [--pool ADDR] [flags]

Runs the FastCGI shim between Apache's mod_proxy_fcgi and php-fpm. For every
request it applies .htaccess php_value/php_flag exactly as mod_php did,
resets every setting it ever sent to a pool so nothing leaks into later
requests, drops PHP_VALUE, PHP_ADMIN_VALUE and REQUEST_BODY_FILE params that
.htaccess SetEnv can inject, restores variables Apache only passed as
REDIRECT_*, answers 403 for php_flag engine off and 500 for a broken
.htaccess. See docs/shim.md.

ADDR is unix:/path or host:port. Apache side:
  SetHandler "proxy:unix:/run/modphp-migrate/shim.sock|fcgi://localhost"

Signals: SIGTERM or SIGINT drains requests (up to --shutdown-grace), a second
one stops at once; SIGHUP re-reads --fpm-config, --php-ini and
--apache-config without dropping requests. An edit of any file these read
(includes, conf.d) is noticed by the first request after it, within
--watch-interval, and reloaded the same way; a configuration that
fails to load keeps the previous one, and the shim logs why.

--config FILE holds flags one per line ("name = value" or "name value",
# comments); flags given on the command line win.

Exit codes: 0 stopped cleanly, 2 usage error, 3 could not start or failed.

Flags:
`

// shimGCPercent is the shim's GOGC unless the environment sets one.
const shimGCPercent = 400

// shimMemoryLimit is the shim's soft memory limit (GOMEMLIMIT) unless the
// environment sets one. Its live heap is bounded by the two caches (64 MiB
// each, counted from measured per-item costs) plus the requests in
// flight; without a limit, GOGC=400 would let the heap grow to five times
// that before collecting.
const shimMemoryLimit = 384 << 20

func shimCommand() command {
	return command{"shim", "run the FastCGI shim that applies .htaccess php_value/php_flag under php-fpm", runShim}
}

func runShim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, f := newShimFlags()
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "modphp-migrate shim: "+format+"\n\n%s%s", append(a, shimUsage, fs.FlagUsages())...)
		return exitUsage
	}
	if err := fs.Parse(args); err != nil {
		return usageErr("%v", err)
	}
	if *f.help {
		fmt.Fprint(stdout, shimUsage+fs.FlagUsages())
		return exitOK
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	if *f.configFile != "" {
		if err := applyConfigFile(fs, *f.configFile); err != nil {
			fmt.Fprintf(stderr, "modphp-migrate shim: %v\n", err)
			return exitUsage
		}
	}
	for _, req := range []struct{ name, v string }{{"listen", *f.listen}, {"pool", *f.pool}, {"fpm-config", *f.fpmConfig}} {
		if req.v == "" && !(*f.check && req.name != "fpm-config") { // --check: see checkAllPools
			return usageErr("--%s is required", req.name)
		}
	}
	log, err := newShimLogger(stderr, *f.logFormat, *f.logLevel)
	if err != nil {
		return usageErr("%v", err)
	}
	cfg := shim.Config{
		FPMConfig: *f.fpmConfig, PHPINI: *f.phpINI, ApacheConfig: *f.apacheConfig, AccessNames: *f.access,
		StatusListen: *f.status, Workers: *f.workers, ShutdownGrace: *f.grace,
		DialTimeout: *f.dialTimeout, BackendTimeout: *f.backendTimeout, ConfigCheckInterval: *f.configCheck,
		SpoolDir: *f.spoolDir, MaxBody: *f.maxBody, FPMReserve: *f.fpmReserve,
		Source: &shim.FPMPoolSource{PHP: *f.phpBin, ScanDir: *f.scanDir, Prefix: *f.fpmPrefix},
	}
	if *f.listen != "" {
		if cfg.Listen, err = shim.ParseAddr(*f.listen); err != nil {
			return usageErr("--listen: %v", err)
		}
	}
	if *f.pool != "" || !*f.check {
		if cfg.Pool, err = shim.ParseAddr(*f.pool); err != nil {
			return usageErr("--pool: %v", err)
		}
	}
	for _, pf := range *f.poolFor {
		root, addr, ok := strings.Cut(pf, "=")
		if !ok || !strings.HasPrefix(root, "/") {
			return usageErr("--pool-for %q: want /document/root=ADDR", pf)
		}
		a, err := shim.ParseAddr(addr)
		if err != nil {
			return usageErr("--pool-for: %v", err)
		}
		cfg.Routes = append(cfg.Routes, shim.Route{DocRoot: root, Pool: a})
	}
	mode, err := strconv.ParseUint(*f.listenMode, 8, 32)
	if err != nil || mode > 0o777 {
		return usageErr("--listen-mode %q: want an octal mode such as 0660", *f.listenMode)
	}
	cfg.ListenMode = os.FileMode(mode)
	if *f.status != "" {
		if err := shim.CheckLoopback(*f.status); err != nil {
			return usageErr("--status-listen: %v", err)
		}
	}
	if *f.workers < 1 {
		return usageErr("--workers must be at least 1")
	}
	switch {
	case *f.configCheck < 0:
		return usageErr("--watch-interval must be 0 or more")
	case *f.configCheck == 0:
		cfg.ConfigCheckInterval = -1 // shim.Config: negative is never
	}
	if *f.procs < 0 {
		return usageErr("--procs must be 0 (the default) or more")
	}
	// Apache and php-fpm run beside the shim and need the CPUs more: fewer
	// Go threads mean fewer thread wake-ups per request (docs/shim.md,
	// "Performance").
	if procs := shimProcs(*f.procs, os.Getenv("GOMAXPROCS") != "", runtime.GOMAXPROCS(0)); procs > 0 {
		runtime.GOMAXPROCS(procs)
	}
	if *f.dialTimeout <= 0 || *f.backendTimeout <= 0 {
		return usageErr("--dial-timeout and --backend-timeout must be positive")
	}
	switch {
	case *f.maxBody < 0:
		return usageErr("--max-body must be 0 (no limit) or a number of bytes")
	case *f.maxBody == 0:
		cfg.MaxBody = -1 // explicitly unlimited
	}
	switch {
	case *f.fpmReserve < 0:
		return usageErr("--fpm-reserve must be 0 or more")
	case *f.fpmReserve == 0:
		cfg.FPMReserve = -1 // explicitly none
	}

	if os.Getenv("GOGC") == "" {
		// The shim's live heap is small (parsed access files, a few
		// buffers per connection) while it allocates per request; collecting
		// at 4× the live heap instead of 2× halves the collector's CPU
		// share on the request path at a cost of a few megabytes.
		debug.SetGCPercent(shimGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(shimMemoryLimit)
	}
	cfg.Source.(*shim.FPMPoolSource).Warn = log.Warn
	if *f.check && *f.pool == "" {
		return checkAllPools(ctx, cfg, stdout, log)
	}
	cfg.Ready = func() { notifySystemd(log, "READY=1") }
	srv, err := shim.New(ctx, cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return exitInternal
	}
	if *f.check {
		snap := srv.Snapshot()
		for _, p := range snap.Pools {
			fmt.Fprintf(stdout, "pool %s max_children=%d\n", p.Addr, p.MaxChildren)
		}
		for _, p := range srv.UnresettableProblems() {
			fmt.Fprintf(stdout, "problem: %s\n", p)
		}
		return exitOK
	}
	return serveShim(ctx, srv, log)
}

// serveShim runs srv until ctx ends (the first SIGTERM/SIGINT, through
// main's signal.NotifyContext), forces a stop on the second signal and
// reloads on SIGHUP.
func serveShim(ctx context.Context, srv *shim.Server, log *slog.Logger) int {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	stops := 0
	for {
		select {
		case err := <-done:
			if err != nil {
				log.Error("shim stopped", "err", err)
				return exitInternal
			}
			return exitOK
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				log.Info("SIGHUP: reloading")
				notifySystemd(log, "RELOADING=1")
				srv.Reload(ctx)
				notifySystemd(log, "READY=1")
				continue
			}
			stops++
			if stops == 1 {
				notifySystemd(log, "STOPPING=1")
				log.Info("stopping: draining requests; send the signal again to stop at once", "signal", sig.String())
				cancel()
				continue
			}
			log.Warn("second signal: stopping at once", "signal", sig.String())
			srv.Close()
		}
	}
}

// notifySystemd tells systemd the shim's state when it runs as a
// Type=notify service (docs/shim.md, systemd); elsewhere it does nothing.
func notifySystemd(log *slog.Logger, state string) {
	if _, err := sdnotify.Notify(state); err != nil {
		log.Warn("cannot notify systemd", "state", state, "err", err)
	}
}

// secretAttrs are attribute keys whose values never reach the log.
var secretAttrs = []string{"authorization", "cookie", "php_auth_pw"}

// newShimLogger builds the one logger the shim uses, redacting secrets.
func newShimLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		k := strings.ToLower(a.Key)
		for _, s := range secretAttrs {
			if strings.Contains(k, s) {
				return slog.String(a.Key, "[redacted]")
			}
		}
		return a
	}}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// applyConfigFile sets every flag named in file that the command line did
// not set. Lines are "name = value" or "name value"; # starts a comment.
func applyConfigFile(fs *pflag.FlagSet, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	defer f.Close()
	fromCLI := map[string]bool{}
	fs.Visit(func(fl *pflag.Flag) { fromCLI[fl.Name] = true })
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, val, ok := strings.Cut(line, "=")
		if !ok {
			name, val, _ = strings.Cut(line, " ")
		}
		name, val = strings.TrimPrefix(strings.TrimSpace(name), "--"), strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		if name == "config" || name == "help" {
			return fmt.Errorf("%s:%d: --%s cannot be set in a config file", file, n, name)
		}
		if fs.Lookup(name) == nil {
			return fmt.Errorf("%s:%d: unknown flag %q", file, n, name)
		}
		if fromCLI[name] {
			continue
		}
		if err := fs.Set(name, val); err != nil {
			return fmt.Errorf("%s:%d: %s: %w", file, n, name, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", file, err)
	}
	return nil
}

// shimFlags holds the values of the shim's flags.
type shimFlags struct {
	listen, pool, fpmConfig, phpINI, scanDir, fpmPrefix, phpBin       *string
	apacheConfig, status, listenMode, logFormat, logLevel, configFile *string
	spoolDir                                                          *string
	maxBody                                                           *int64
	poolFor, access                                                   *[]string
	workers, procs, fpmReserve                                        *int
	grace, dialTimeout, backendTimeout, configCheck                   *time.Duration
	check, help                                                       *bool
}

// newShimFlags defines the shim's flags.
func newShimFlags() (*pflag.FlagSet, *shimFlags) {
	fs := pflag.NewFlagSet("shim", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := &shimFlags{}
	f.listen = fs.String("listen", "", "where Apache connects: `ADDR` unix:/path or host:port (required)")
	f.pool = fs.String("pool", "", "default php-fpm pool `ADDR`: unix:/path or host:port (required)")
	f.poolFor = fs.StringArray("pool-for", nil, "send requests under document root `DOCROOT=ADDR` to another pool; repeatable")
	f.fpmConfig = fs.String("fpm-config", "", "php-fpm.conf `PATH` (pools, pm.max_children, php_value[...]) (required)")
	f.phpINI = fs.String("php-ini", "", "php.ini `PATH` of the pools (default: php.ini beside --fpm-config)")
	f.scanDir = fs.String("php-ini-scan-dir", "", "INI scan `DIR` (default: $PHP_INI_SCAN_DIR, else conf.d beside php.ini)")
	f.fpmPrefix = fs.String("fpm-prefix", "", "php-fpm's -p `DIR` for relative include= and listen paths (default /usr)")
	f.phpBin = fs.String("php", "", "PHP command-line `BINARY` used to read the INI baseline (default: php8.2, else php)")
	f.apacheConfig = fs.String("apache-config", "", "Apache configuration `PATH` (AllowOverride, AccessFileName, server-config php_value)")
	f.access = fs.StringArray("access-file-name", nil, "access file `NAME` (default: AccessFileName, else .htaccess); repeatable")
	f.status = fs.String("status-listen", "", "serve counters on `127.0.0.1:PORT` (loopback only; Prometheus text, or JSON with ?format=json)")
	f.listenMode = fs.String("listen-mode", "0660", "permission `MODE` of a Unix listen socket (Apache's user or group must connect)")
	f.workers = fs.Int("workers", shim.DefaultWorkers, "`N` requests handled at once; more are answered 503")
	f.procs = fs.Int("procs", 0, "run the shim's Go code on at most `N` CPUs at once (GOMAXPROCS; 0: $GOMAXPROCS if set, else a quarter of the CPUs, at least 1)")
	f.grace = fs.Duration("shutdown-grace", shim.DefaultShutdownGrace, "how long (`DURATION`) SIGTERM waits for requests in flight")
	f.dialTimeout = fs.Duration("dial-timeout", fcgi.DefaultDialTimeout, "answer 503 when php-fpm does not accept a connection within `DURATION`")
	f.backendTimeout = fs.Duration("backend-timeout", fcgi.DefaultReadTimeout, "answer 504 when php-fpm sends nothing for `DURATION` (per read, not per request)")
	f.configCheck = fs.Duration("watch-interval", shim.DefaultConfigCheckInterval, "reload when a configuration file changed, checked at most every `DURATION` (0: only on SIGHUP)")
	f.fpmReserve = fs.Int("fpm-reserve", shim.DefaultFPMReserve, "leave `N` workers of each pool unpinned by idle kept connections, for php-fpm's status page and other clients")
	f.spoolDir = fs.String("spool-dir", "", "`DIR` where request bodies without a length (chunked) are spooled (default: $TMPDIR, else /tmp)")
	f.maxBody = fs.Int64("max-body", shim.DefaultMaxBody, "answer 413 to a request body over `BYTES`, as LimitRequestBody (0: no limit)")
	f.logFormat = fs.String("log-format", "text", "log `FORMAT` on stderr: text or json")
	f.logLevel = fs.String("log-level", "info", "log `LEVEL`: debug, info, warn or error")
	f.configFile = fs.String("config", "", "read flags from `FILE`")
	f.check = fs.Bool("check", false, "load the configuration, print the pools and exit (needs only --fpm-config; with --pool, checks that php-fpm has that pool)")
	f.help = fs.BoolP("help", "h", false, "show this help")
	return fs, f
}

// shimProcs is the GOMAXPROCS the shim runs with, 0 to leave it: --procs
// when given, else $GOMAXPROCS when set, else a quarter of the CPUs Go
// would use (cpus), at least one. The shim's work per request is a few
// tens of microseconds of system calls; one CPU's worth serves some 25,000
// short requests a second, and each idle processor Go keeps costs thread
// wake-ups on every request, paid in CPU that PHP needs.
func shimProcs(flag int, envSet bool, cpus int) int {
	switch {
	case flag > 0:
		return flag
	case envSet:
		return 0
	}
	return max(1, (cpus+3)/4)
}
