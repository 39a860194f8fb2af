package shim

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modphp-migrate/modphp-migrate/fcgi"
)

// poolQueueWait bounds how long a request waits for one of the pool's
// pm.max_children connections. php-fpm itself would hold a request in its
// listen backlog; the shim answers 503 instead of letting requests pile up
// behind a saturated pool, and a pool that frees no worker within this time
// is not keeping up.
const poolQueueWait = 5 * time.Second

// backend is one generation of a pool's connection settings; a reload that
// changes pm.max_children replaces it while requests in flight finish on
// the old one.
type backend struct {
	info   *Pool
	client *fcgi.Client // its MaxConns is the pool's one bound on connections
	// roots are the document roots routed to the pool: its --pool-for
	// roots, and / when it is the default pool.
	roots []string
}

// poolRuntime is a php-fpm pool as the shim drives it. It outlives
// reloads: the keys the shim has ever set on the pool's workers stay set in
// them (docs/behaviour.md#b-fpm-php-value), so the shim keeps resetting them.
type poolRuntime struct {
	addr  Addr
	opts  clientOptions
	be    atomic.Pointer[backend]
	stats poolStats

	mu      sync.Mutex
	managed map[string]bool
	list    []string // managed keys, sorted
	ver     uint64   // bumped when list grows
	warned  map[string]bool

	noScript atomic.Pointer[encoded] // PHP_VALUE of requests without settings
}

// encoded is a PHP_VALUE computed for one resolution, valid while the
// pool's backend (baselines) and managed keys are the same: every managed
// key, at the resolution's value or the pool's baseline.
type encoded struct {
	pool     *poolRuntime
	be       *backend
	ver      uint64
	obd      bool // openBasedirDecision when it was made
	settings []Setting
	bases    []string // the pool's baseline of each setting's key
	value    string   // PHP_VALUE for a worker in an unknown state: lines(nil)
	nfull    int      // len(lines(nil))
	err      error
}

// newEncoded prepares the PHP_VALUE of settings whose keys have the
// baselines bases.
func newEncoded(settings []Setting, bases []string) *encoded {
	e := &encoded{settings: settings, bases: bases}
	if len(settings) > 0 {
		full := e.lines(nil)
		e.nfull = len(full)
		e.value, e.err = EncodePHPValue(full)
	}
	return e
}

// lines returns the PHP_VALUE lines that give a worker which holds sent
// (nil: unknown) every setting of e. A setting away from its baseline
// follows a line that sets the baseline, unless the worker is known to
// hold it: php-fpm applies the lines in order and keeps the old value
// when a directive's handler refuses the new one
// (fpm_php_zend_ini_alter_master), so a value PHP refuses (date.timezone
// Bogus/Zone, memory_limit 1) leaves the baseline, as mod_php leaves
// php.ini's value, never what an earlier request set.
func (e *encoded) lines(sent map[string]string) []Setting {
	var out []Setting
	for i, st := range e.settings {
		held, known := sent[st.Key]
		if known && held == st.Value {
			continue
		}
		if base := e.bases[i]; st.Value != base && (!known || held != base) {
			out = append(out, Setting{Key: st.Key, Value: base})
		}
		out = append(out, st)
	}
	return out
}

// workerState is what the shim has set in the php-fpm worker behind one
// kept-alive connection (fcgi.Request.ConnParams): the value last sent for
// each key, and the full set last asked for. A value the worker refused
// is recorded all the same: the worker then holds the baseline, which is
// what the same value gives again (see encoded.lines).
type workerState struct {
	last *encoded
	sent map[string]string
}

// connParams returns the PHP_VALUE param that gives the worker behind a
// connection every setting of e: the keys whose value there is unknown or
// different, nothing when it holds them all. php-fpm applies PHP_VALUE
// before anything else in every request it reads (fpm_main.c
// init_request_info) and keeps it (docs/behaviour.md#b-fpm-php-value), so a value sent
// on the connection is the worker's value until the shim sends another or
// the connection closes, which drops the state.
func (e *encoded) connParams(state *any) fcgi.Params {
	ws, _ := (*state).(*workerState)
	if ws == nil {
		ws = &workerState{sent: make(map[string]string, len(e.settings))}
		*state = ws
	}
	if ws.last == e || len(e.settings) == 0 {
		return nil
	}
	delta := e.lines(ws.sent)
	value := e.value
	if len(delta) < e.nfull {
		var err error
		if value, err = EncodePHPValue(delta); err != nil {
			// Cannot happen: each setting encoded within e. Send all.
			value, delta = e.value, e.lines(nil)
		}
	}
	for _, st := range delta {
		ws.sent[st.Key] = st.Value // the last line of a key wins
	}
	ws.last = e
	if len(delta) == 0 {
		return nil
	}
	return fcgi.Params{{Name: "PHP_VALUE", Value: value}}
}

// clientOptions are the settings of a pool's php-fpm client (zero
// durations: fcgi's defaults).
type clientOptions struct {
	dial, backend time.Duration
	spoolDir      string // for bodies of unknown length
	maxBody       int64  // 0: no bound
	reserve       int    // workers not held by an idle connection beyond fcgi's grace
}

func newPoolRuntime(addr Addr, opts clientOptions) *poolRuntime {
	return &poolRuntime{addr: addr, opts: opts, managed: map[string]bool{}, warned: map[string]bool{}}
}

// setPool installs the pool's (re)loaded settings and returns the backend
// it replaced, if any, for the caller to close.
func (p *poolRuntime) setPool(info *Pool, roots []string) *backend {
	old := p.be.Load()
	if old != nil && old.info.MaxChildren == info.MaxChildren {
		p.be.Store(&backend{info: info, client: old.client, roots: roots})
		return nil
	}
	n := max(info.MaxChildren, 1)
	p.be.Store(&backend{
		info: info,
		client: &fcgi.Client{
			Network:   p.addr.Network,
			Addr:      p.addr.Address,
			KeepAlive: true,
			// Requests beyond pm.max_children wait for a connection, at
			// most poolQueueWait (then 503, fcgi.ErrPoolBusy).
			MaxConns:     n,
			QueueTimeout: poolQueueWait,
			// php-fpm's own clients (status page, health checks) need a
			// worker no idle kept connection pins.
			Reserve: p.opts.reserve,
			// The backend timeout bounds each wait for php-fpm's next
			// record and each write of the request (progress, not the
			// whole request; docs/behaviour.md#b-fpm-connections).
			DialTimeout:  p.opts.dial,
			ReadTimeout:  p.opts.backend,
			WriteTimeout: p.opts.backend,
			SpoolDir:     p.opts.spoolDir,
			MaxBody:      p.opts.maxBody,
		},
		roots: roots,
	})
	return old
}

// phpValue builds the settings the request's worker must hold: the
// request's own, and for every other key the shim has ever set on this
// pool, the pool's baseline, so that nothing a previous request set
// survives in the worker (docs/behaviour.md#b-fpm-php-value). A setting whose key has
// no known baseline is not sent (it could never be reset), and neither is
// one the pool locks with php_admin_value. The result's connParams picks
// what a given connection's worker still needs.
func (p *poolRuntime) phpValue(b *backend, res *Resolution, log *slog.Logger) (*encoded, error) {
	slot := &p.noScript
	if res != nil {
		slot = &res.enc
	}
	p.mu.Lock()
	ver := p.ver
	p.mu.Unlock()
	obd := openBasedirDecision(b, res)
	if e := slot.Load(); e != nil && e.pool == p && e.be == b && e.ver == ver && e.obd == obd {
		return e, e.err
	}
	settings, ver, err := p.settingsFor(b, res, obd, log)
	if err != nil {
		e := &encoded{pool: p, be: b, ver: ver, obd: obd, err: err}
		slot.Store(e)
		return e, err
	}
	bases := make([]string, len(settings))
	for i, st := range settings {
		bases[i] = b.info.Baseline[st.Key]
	}
	e := newEncoded(settings, bases)
	e.pool, e.be, e.ver, e.obd = p, b, ver, obd
	slot.Store(e)
	return e, e.err
}

// openBasedirDecision reports whether an open_basedir from an access file
// takes effect on the pool, as PHP decides it at PHP_INI_STAGE_HTACCESS
// against the pool's baseline (openBasedirAllowed). It reads the file
// system, so it is made for every request: a symbolic link may have been
// re-pointed since the access file was read.
func openBasedirDecision(b *backend, res *Resolution) bool {
	if res == nil || !res.OpenBasedirFromAccess {
		return false
	}
	for _, s := range res.Settings {
		if s.Key == "open_basedir" {
			return openBasedirAllowed(b.info.Baseline["open_basedir"], s.Value)
		}
	}
	return false
}

func (p *poolRuntime) settingsFor(b *backend, res *Resolution, obdAllowed bool, log *slog.Logger) ([]Setting, uint64, error) {
	desired := map[string]string{}
	if res != nil {
		for _, s := range res.Settings {
			base, known := b.info.Baseline[s.Key]
			switch {
			case b.info.Locked[s.Key]:
				p.warnOnce(log, "locked:"+s.Key, "setting not sent: the pool sets it with php_admin_value", "key", s.Key)
				continue
			case !known:
				p.warnOnce(log, "unknown:"+s.Key, "setting not sent: its baseline value is unknown, so it could not be reset for later requests", "key", s.Key)
				continue
			case s.Key == "open_basedir" && res.OpenBasedirFromAccess && !obdAllowed:
				// mod_php fails the change silently (OnUpdateBaseDir at
				// PHP_INI_STAGE_HTACCESS only tightens); the pool's value
				// stays.
				p.warnOnce(log, "open_basedir:"+s.Value, "open_basedir from an access file not sent: PHP refuses it (not within the pool's open_basedir, resolved)", "value", s.Value, "pool_value", base)
				continue
			}
			if _, err := encodeINIValue(base); err != nil {
				p.warnOnce(log, "baseline:"+s.Key, "setting not sent: its baseline value cannot be encoded", "key", s.Key)
				continue
			}
			if why := b.info.refusedHint(s.Key, s.Value); why != "" {
				p.warnOnce(log, "refused:"+s.Key+"="+s.Value, "PHP will refuse this value: the pool's baseline applies, as under mod_php", "key", s.Key, "value", s.Value, "why", why, "baseline", base)
			}
			desired[s.Key] = s.Value
		}
	}
	if res != nil {
		if err := checkUnresettable(b, res, desired, p.managedKeys()); err != nil {
			p.mu.Lock()
			ver := p.ver
			p.mu.Unlock()
			return nil, ver, err
		}
	}
	p.mu.Lock()
	for k := range desired {
		if !p.managed[k] {
			p.managed[k] = true
			p.list = append(slices.Clone(p.list), k)
			slices.Sort(p.list)
			p.ver++
		}
	}
	list, ver := p.list, p.ver
	p.mu.Unlock()
	settings := make([]Setting, 0, len(list))
	for _, k := range list {
		v, ok := desired[k]
		if !ok {
			v = b.info.Baseline[k]
		}
		settings = append(settings, Setting{Key: k, Value: v})
	}
	return settings, ver, nil
}

func (p *poolRuntime) warnOnce(log *slog.Logger, id, msg string, args ...any) {
	p.mu.Lock()
	seen := p.warned[id]
	p.warned[id] = true
	p.mu.Unlock()
	if !seen {
		log.Warn(msg, append([]any{"pool", p.addr.String()}, args...)...)
	}
}

// managedKeys returns the keys the shim has set on the pool.
func (p *poolRuntime) managedKeys() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.list)
}

// String names the pool for logs.
func (p *poolRuntime) String() string { return fmt.Sprintf("pool %s", p.addr) }
