// Command relayfloor is the least a FastCGI process between Apache and
// php-fpm can do: it forwards each request's records to a kept php-fpm
// connection and the answer's records back, and nothing else — no
// .htaccess, no PHP_VALUE, no firewall, no timeouts, no abort handling. It
// measures the cost of the extra hop itself, the floor under
// modphp-migrate shim's per-request cost:
//
//	bench/shim/compare.sh -F -s hello -E -m       # relayfloor in place of the shim
//	bench/shim/ab.sh -E ./modphp-migrate /tmp/relayfloor:1
//
// It takes the shim's command line so that the benchmark scripts can start
// it in the shim's place: `relayfloor shim --listen ADDR --pool ADDR
// [--conns N] [other shim flags, ignored]`, ADDR being unix:/path or
// host:port. --conns bounds the php-fpm connections (8, compare.sh's
// pm.max_children). Like the shim, it runs on a quarter of the CPUs unless
// $GOMAXPROCS says otherwise. Not for production use.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"

	"github.com/modphp-migrate/modphp-migrate/shim"
)

func main() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(max(1, (runtime.NumCPU()+3)/4))
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "relayfloor:", err)
		os.Exit(1)
	}
}

// run parses the shim-style arguments and serves until the listener fails.
func run(args []string) error {
	listen, pool, conns := "", "", 8
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "--listen":
			listen = args[i+1]
		case "--pool":
			pool = args[i+1]
		case "--conns":
			n, err := strconv.Atoi(args[i+1])
			if err != nil || n < 1 {
				return fmt.Errorf("--conns %q: want a positive number", args[i+1])
			}
			conns = n
		}
	}
	if listen == "" || pool == "" {
		return errors.New("usage: relayfloor shim --listen ADDR --pool ADDR [--conns N]")
	}
	la, err := shim.ParseAddr(listen)
	if err != nil {
		return err
	}
	pa, err := shim.ParseAddr(pool)
	if err != nil {
		return err
	}
	l, err := shim.Listen(la, 0o666)
	if err != nil {
		return err
	}
	r := newRelay(pa, conns)
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go r.serve(c)
	}
}

// relay holds the kept php-fpm connections: at most cap(slots) in use, an
// idle one preferred to dialling a new one.
type relay struct {
	nw, addr string
	slots    chan struct{}
	idle     chan *backend
}

// backend is one kept php-fpm connection.
type backend struct {
	net.Conn
	br *bufio.Reader
}

func newRelay(pool shim.Addr, conns int) *relay {
	return &relay{nw: pool.Network, addr: pool.Address, slots: make(chan struct{}, conns), idle: make(chan *backend, conns)}
}

// take waits for a slot and returns an idle connection, or nil.
func (r *relay) take() *backend {
	r.slots <- struct{}{}
	select {
	case b := <-r.idle:
		return b
	default:
		return nil
	}
}

// put frees the slot; b, unless nil, is kept for the next request.
func (r *relay) put(b *backend) {
	if b != nil {
		r.idle <- b
	}
	<-r.slots
}

// FastCGI record types and the FCGI_KEEP_CONN flag (FastCGI spec §8).
const (
	typeBeginRequest = 1
	typeEndRequest   = 3
	typeStdin        = 5
	flagKeepConn     = 1
)

// serve relays the requests of one Apache connection until it ends.
func (r *relay) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 64<<10)
	var req, resp []byte
	for {
		var err error
		if req, err = readRequest(br, req[:0]); err != nil {
			return
		}
		b := r.take()
		if b, resp, err = r.roundTrip(b, req, resp[:0]); err != nil {
			if b != nil {
				b.Close()
			}
			r.put(nil)
			return
		}
		r.put(b)
		if _, err := c.Write(resp); err != nil {
			return
		}
	}
}

// roundTrip sends req on b (dialled when nil) and appends the answer's
// records, up to END_REQUEST, to resp.
func (r *relay) roundTrip(b *backend, req, resp []byte) (*backend, []byte, error) {
	if b == nil {
		nc, err := net.Dial(r.nw, r.addr)
		if err != nil {
			return nil, resp, err
		}
		b = &backend{Conn: nc, br: bufio.NewReaderSize(nc, 64<<10)}
	}
	if _, err := b.Write(req); err != nil {
		return b, resp, err
	}
	for {
		var t byte
		var err error
		if resp, t, err = appendRecord(b.br, resp); err != nil {
			return b, resp, err
		}
		if t == typeEndRequest {
			return b, resp, nil
		}
	}
}

// readRequest appends one request's records to req, up to its empty STDIN
// record, with FCGI_KEEP_CONN set so that php-fpm keeps the connection.
func readRequest(br *bufio.Reader, req []byte) ([]byte, error) {
	for {
		start := len(req)
		var t byte
		var err error
		if req, t, err = appendRecord(br, req); err != nil {
			return req, err
		}
		content := req[start+8:]
		switch {
		case t == typeBeginRequest && len(content) >= 3:
			content[2] |= flagKeepConn
		case t == typeStdin && len(content) == 0:
			return req, nil
		}
	}
}

// appendRecord reads one record (header, content, padding) from br and
// appends it to b, padding dropped; it returns the record's type.
func appendRecord(br *bufio.Reader, b []byte) ([]byte, byte, error) {
	var h [8]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return b, 0, err
	}
	n := int(binary.BigEndian.Uint16(h[4:6]))
	pad := int(h[6])
	h[6] = 0
	b = append(b, h[:]...)
	start := len(b)
	b = append(b, make([]byte, n)...)
	if _, err := io.ReadFull(br, b[start:]); err != nil {
		return b, 0, err
	}
	if _, err := br.Discard(pad); err != nil {
		return b, 0, err
	}
	return b, h[1], nil
}
