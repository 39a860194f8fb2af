package fcgi

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
)

// sysConn is a socket whose reads and writes are made as raw system calls
// between the runtime's readiness waits. A read or write on a
// non-blocking socket never blocks, so it does not need the scheduler's
// system-call bookkeeping, and skipping it matters on a busy machine: each
// ordinary socket call wakes the runtime's monitor thread and lets it hand
// the processor to another thread whenever the calling thread is
// descheduled mid-call, which costs more than the call itself on a short
// request. Deadlines and Close work as on the wrapped connection. (Builds
// with the race detector make the calls through package syscall instead:
// rawio_race_linux.go.)
type sysConn struct {
	net.Conn
	rc syscall.RawConn

	rmu    sync.Mutex // one read at a time owns r
	r      rawOp
	readFn func(fd uintptr) bool

	wmu     sync.Mutex // one write at a time owns w
	w       rawOp
	writeFn func(fd uintptr) bool
}

// rawOp is the state of one read or write, kept in the connection so that
// the function handed to the runtime is made once, not per call.
type rawOp struct {
	b     []byte
	n     int
	errno syscall.Errno
}

// fastConn returns nc with raw reads and writes when it is a socket that
// allows them, and nc itself otherwise.
func fastConn(nc net.Conn) net.Conn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nc
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nc
	}
	c := &sysConn{Conn: nc, rc: rc}
	c.readFn = func(fd uintptr) bool { return c.r.step(fd, syscall.SYS_READ, false) }
	c.writeFn = func(fd uintptr) bool { return c.w.step(fd, syscall.SYS_WRITE, true) }
	return c
}

// step makes read(2) (trap SYS_READ) or write(2) calls on op.b[op.n:],
// adding to op.n: one call that moves bytes, or with whole as many as it
// takes to move all of op.b. It returns false to ask the runtime to wait
// for readiness (EAGAIN), true when done or failed (op.errno).
func (op *rawOp) step(fd, trap uintptr, whole bool) bool {
	for {
		k, e := sysRW(trap, fd, op.b[op.n:])
		switch e {
		case 0:
			op.n += int(k)
			if !whole || op.n == len(op.b) || k == 0 {
				return true
			}
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			op.errno = e
			return true
		}
	}
}

func (c *sysConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, err := c.do(&c.rmu, &c.r, b, c.rc.Read, c.readFn, "read")
	if err == nil && n == 0 {
		return 0, io.EOF
	}
	return n, err
}

func (c *sysConn) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, err := c.do(&c.wmu, &c.w, b, c.rc.Write, c.writeFn, "write")
	if err == nil && n < len(b) {
		return n, c.opError("write", io.ErrShortWrite)
	}
	return n, err
}

// do runs one read or write of b: fn inside the runtime's readiness loop
// wait (RawConn.Read or Write), with op holding its state under mu. Errors
// are what net.Conn returns.
func (c *sysConn) do(mu *sync.Mutex, op *rawOp, b []byte, wait func(func(uintptr) bool) error, fn func(uintptr) bool, name string) (int, error) {
	mu.Lock()
	defer mu.Unlock()
	*op = rawOp{b: b}
	err := wait(fn)
	n, errno := op.n, op.errno
	*op = rawOp{}
	switch {
	case err != nil:
		return n, c.opError(name, err)
	case errno != 0:
		return n, c.opError(name, os.NewSyscallError(name, errno))
	}
	return n, nil
}

func (c *sysConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

// CloseWrite shuts down the writing side, as the wrapped connection does.
func (c *sysConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// SyscallConn is the wrapped connection's.
func (c *sysConn) SyscallConn() (syscall.RawConn, error) { return c.rc, nil }
