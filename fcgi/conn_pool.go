package fcgi

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"
)

// connPool holds a Client's connections to php-fpm: the idle kept ones,
// the count of all open ones (MaxConns is the one bound on them), and the
// requests waiting for one.
type connPool struct {
	mu        sync.Mutex
	idle      []*clientConn // most recently used last
	open      int
	waiters   []chan struct{}
	closed    bool
	reapArmed bool
	stats     ClientStats

	// trimTimer closes the connections beyond MaxConns−Reserve left idle
	// for reserveGrace; made once, re-armed (trimArmed) when one is left.
	trimTimer *time.Timer
	trimArmed bool
}

// reserveGrace is how long a connection beyond MaxConns−Reserve stays idle
// when its request ends with nobody waiting, before it is closed and its
// php-fpm worker freed. A busy client's next request usually comes within
// microseconds and takes it instead of dialling again; when the load
// drops, the reserve's workers are free this long after. Measured on a
// loaded 2-core machine at saturation (docs/benchmarks.md, shim): with
// 2 ms about 1 % of requests still dialled (the load's next request can
// be descheduled for that long), with 5 or 10 ms 0.1–0.3 %, against 9 %
// closing at once. A variable for tests.
var reserveGrace = 5 * time.Millisecond

// clientConn is one connection to php-fpm.
type clientConn struct {
	nc       net.Conn
	probe    *prober
	rr       recordReader
	wbuf     []byte // request head and STDIN records
	lastUsed time.Time
	state    any // Request.ConnParams's

	// The deadlines set on nc, zero for none or unknown.
	rdl, wdl time.Time
}

// setReadDeadline bounds the next read to timeout from now.
func (cc *clientConn) setReadDeadline(timeout time.Duration) {
	cc.rdl = time.Now().Add(timeout)
	if cc.nc.SetReadDeadline(cc.rdl) != nil {
		cc.rdl = time.Time{}
	}
}

// setWriteDeadline bounds the next write to timeout from now.
func (cc *clientConn) setWriteDeadline(timeout time.Duration) {
	cc.wdl = time.Now().Add(timeout)
	if cc.nc.SetWriteDeadline(cc.wdl) != nil {
		cc.wdl = time.Time{}
	}
}

// clearDeadlines removes nc's deadlines if one has passed by now, so that
// a probe of an idle connection does not fail on a deadline of its last
// request.
func (cc *clientConn) clearDeadlines(now time.Time) {
	if !cc.rdl.IsZero() && cc.rdl.Before(now) || !cc.wdl.IsZero() && cc.wdl.Before(now) {
		cc.nc.SetDeadline(time.Time{})
		cc.rdl, cc.wdl = time.Time{}, time.Time{}
	}
}

// get returns a connection: the most recently used idle one that is still
// alive (probed: see Do), a new one when fewer than MaxConns are open, or
// the next one freed. With forceDial it returns a new connection.
func (c *Client) get(ctx context.Context, forceDial bool) (*clientConn, bool, error) {
	p := &c.pool
	var timer *time.Timer // QueueTimeout's, made only when a request waits
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		p.mu.Lock()
		switch {
		case p.closed:
			p.mu.Unlock()
			return nil, false, ErrClientClosed
		case !forceDial && len(p.idle) > 0:
			cc := p.idle[len(p.idle)-1]
			p.idle = p.idle[:len(p.idle)-1]
			p.mu.Unlock()
			if c.alive(cc) {
				return cc, true, nil
			}
			c.put(cc, false)
		case c.MaxConns == 0 || p.open < c.MaxConns:
			p.open++
			p.stats.Dials++
			p.stats.Requests++
			p.mu.Unlock()
			cc, err := c.dialCounted(ctx)
			return cc, false, err
		case forceDial && len(p.idle) > 0:
			// Every slot is taken and one is idle: give it up for the
			// fresh connection the retry needs.
			cc := p.idle[0]
			p.idle = p.idle[1:]
			p.mu.Unlock()
			c.put(cc, false)
		default:
			ch := make(chan struct{}, 1)
			p.waiters = append(p.waiters, ch)
			p.mu.Unlock()
			if err := c.await(ctx, ch, &timer); err != nil {
				return nil, false, err
			}
		}
	}
}

// alive reports whether the idle connection cc can carry a request: not
// idle too long, nothing unread, and open on php-fpm's side. A usable one
// is counted as reused.
func (c *Client) alive(cc *clientConn) bool {
	now := time.Now()
	cc.clearDeadlines(now)
	if now.Sub(cc.lastUsed) >= c.timeout(c.IdleTimeout, DefaultIdleTimeout) || cc.rr.buffered() != 0 || !cc.probe.check() {
		return false
	}
	c.pool.mu.Lock()
	c.pool.stats.Reuses++
	c.pool.stats.Requests++
	c.pool.mu.Unlock()
	return true
}

// dialCounted dials a connection already counted as open, and uncounts it
// when the dial fails.
func (c *Client) dialCounted(ctx context.Context) (*clientConn, error) {
	cc, err := c.dial(ctx)
	if err != nil {
		p := &c.pool
		p.mu.Lock()
		p.open--
		p.stats.Dials--
		p.stats.Requests--
		p.wakeLocked()
		p.mu.Unlock()
		return nil, err
	}
	return cc, nil
}

// await waits on ch, a place in the queue for a connection, until it is
// woken, ctx ends, or QueueTimeout passes since the request began waiting
// (*timer, made on the first wait).
func (c *Client) await(ctx context.Context, ch chan struct{}, timer **time.Timer) error {
	var expired <-chan time.Time
	if c.QueueTimeout > 0 {
		if *timer == nil {
			*timer = time.NewTimer(c.QueueTimeout)
		}
		expired = (*timer).C
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		c.pool.leave(ch)
		return fmt.Errorf("waiting for a connection to php-fpm %s (%d open): %w", c.Addr, c.MaxConns, context.Cause(ctx))
	case <-expired:
		c.pool.leave(ch)
		return fmt.Errorf("no connection to php-fpm %s freed within %v (%d open): %w", c.Addr, c.QueueTimeout, c.MaxConns, ErrPoolBusy)
	}
}

// leave takes ch out of the queue, passing on a wake-up that arrived
// meanwhile.
func (p *connPool) leave(ch chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, w := range p.waiters {
		if w == ch {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			break
		}
	}
	select {
	case <-ch:
		p.wakeLocked()
	default:
	}
}

// wakeLocked wakes the longest waiting get.
func (p *connPool) wakeLocked() {
	if len(p.waiters) > 0 {
		ch := p.waiters[0]
		p.waiters = p.waiters[1:]
		ch <- struct{}{}
	}
}

// put returns cc to the idle list when reusable and closes it otherwise.
// One beyond MaxConns less Reserve is kept only for a request waiting for
// it, which takes it at once, or for reserveGrace (see trim), so that the
// reserve pins no idle worker for longer.
func (c *Client) put(cc *clientConn, reusable bool) {
	p := &c.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	if !reusable || p.closed {
		cc.discard()
		p.open--
		p.wakeLocked()
		return
	}
	cc.lastUsed = time.Now()
	p.idle = append(p.idle, cc)
	if p.open > c.MaxConns-c.Reserve && len(p.waiters) == 0 {
		c.armTrimLocked(reserveGrace)
	}
	if !p.reapArmed {
		p.reapArmed = true
		time.AfterFunc(c.timeout(c.IdleTimeout, DefaultIdleTimeout), c.reap)
	}
	p.wakeLocked()
}

// armTrimLocked makes trim run after d unless it is due already; the
// timer is made once, so that releasing a connection allocates nothing.
func (c *Client) armTrimLocked(d time.Duration) {
	p := &c.pool
	if p.trimArmed {
		return
	}
	p.trimArmed = true
	if p.trimTimer == nil {
		p.trimTimer = time.AfterFunc(d, c.trim)
	} else {
		p.trimTimer.Reset(d)
	}
}

// trim closes idle connections beyond MaxConns−Reserve that have been idle
// for reserveGrace, oldest first, and runs again for any still younger.
func (c *Client) trim() {
	p := &c.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trimArmed = false
	now := time.Now()
	excess := p.open - max(c.MaxConns-c.Reserve, 0)
	n := 0
	for n < len(p.idle) && n < excess && now.Sub(p.idle[n].lastUsed) >= reserveGrace {
		p.idle[n].discard()
		p.open--
		p.wakeLocked()
		n++
	}
	m := copy(p.idle, p.idle[n:])
	clear(p.idle[m:])
	p.idle = p.idle[:m]
	if excess > n && len(p.idle) > 0 && !p.closed {
		c.armTrimLocked(p.idle[0].lastUsed.Add(reserveGrace).Sub(now))
	}
}

// reap closes idle connections older than the idle timeout, so that kept
// connections release their php-fpm workers when traffic stops.
func (c *Client) reap() {
	idleTimeout := c.timeout(c.IdleTimeout, DefaultIdleTimeout)
	p := &c.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reapArmed = false
	now := time.Now()
	keep := p.idle[:0]
	var oldest time.Time
	for _, cc := range p.idle {
		if now.Sub(cc.lastUsed) >= idleTimeout {
			cc.discard()
			p.open--
			p.wakeLocked()
			continue
		}
		if oldest.IsZero() || cc.lastUsed.Before(oldest) {
			oldest = cc.lastUsed
		}
		keep = append(keep, cc)
	}
	clear(p.idle[len(keep):])
	p.idle = keep
	if len(p.idle) > 0 {
		p.reapArmed = true
		time.AfterFunc(oldest.Add(idleTimeout).Sub(now), c.reap)
	}
}

func (c *Client) dial(ctx context.Context) (*clientConn, error) {
	d := net.Dialer{Timeout: c.timeout(c.DialTimeout, DefaultDialTimeout)}
	nc, err := d.DialContext(ctx, c.Network, c.Addr)
	if err != nil {
		return nil, fmt.Errorf("dialing php-fpm pool %s %s: %w: %w", c.Network, c.Addr, ErrBackendUnavailable, err)
	}
	nc = fastConn(nc)
	return &clientConn{
		nc:    nc,
		probe: newProber(nc),
		rr:    newRecordReader(nc),
		wbuf:  takeWbuf(),
	}, nil
}

// wbufSize holds a request head of whole records, or a STDIN record.
const wbufSize = headerLen + maxContent + 8

// freeWbufs recycles the write buffers of closed connections, as
// freeReaders recycles their read buffers: with Reserve, a busy pool
// closes the connection beyond MaxConns−Reserve and dials it again, and
// each dial took two fresh 64 KiB buffers, zeroed, and left them to the
// garbage collector.
var freeWbufs = make(chan []byte, maxFreeReaders)

func takeWbuf() []byte {
	select {
	case b := <-freeWbufs:
		return b
	default:
		return make([]byte, 0, wbufSize)
	}
}

// discard closes cc's connection and recycles its buffers; cc must not
// be used again.
func (cc *clientConn) discard() {
	cc.nc.Close()
	cc.rr.release()
	if cap(cc.wbuf) == wbufSize {
		select {
		case freeWbufs <- cc.wbuf[:0]:
		default:
		}
	}
	cc.wbuf = nil
}

// close closes the idle connections, wakes every waiting request and makes
// later ones fail.
func (p *connPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.trimTimer != nil {
		p.trimTimer.Stop()
	}
	for _, cc := range p.idle {
		cc.discard()
		p.open--
	}
	p.idle = nil
	for len(p.waiters) > 0 {
		p.wakeLocked()
	}
}
