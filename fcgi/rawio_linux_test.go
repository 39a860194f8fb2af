package fcgi

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// sysConnPair returns a sysConn and its peer over a Unix socket.
func sysConnPair(t *testing.T) (*sysConn, net.Conn) {
	t.Helper()
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "p.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	nc, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	sc, ok := fastConn(nc).(*sysConn)
	if !ok {
		t.Fatalf("fastConn(%T) is not a sysConn", nc)
	}
	t.Cleanup(func() { sc.Close(); peer.Close() })
	return sc, peer
}

// TestSysConn: raw reads and writes keep net.Conn's contract — whole
// writes however slowly the peer reads, io.EOF, deadlines, resets, Close
// and CloseWrite.
func TestSysConn(t *testing.T) {
	t.Run("whole write to a slow reader", func(t *testing.T) {
		sc, peer := sysConnPair(t)
		data := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB: many EAGAIN waits
		got := make(chan []byte)
		go func() {
			var buf bytes.Buffer
			chunk := make([]byte, 1000)
			for {
				n, err := peer.Read(chunk)
				buf.Write(chunk[:n])
				if err != nil {
					got <- buf.Bytes()
					return
				}
			}
		}()
		n, err := sc.Write(data)
		if n != len(data) || err != nil {
			t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(data))
		}
		if err := sc.CloseWrite(); err != nil {
			t.Fatalf("CloseWrite: %v", err)
		}
		if b := <-got; !bytes.Equal(b, data) {
			t.Errorf("peer read %d bytes, not the %d written", len(b), len(data))
		}
	})
	t.Run("read then EOF", func(t *testing.T) {
		sc, peer := sysConnPair(t)
		peer.Write([]byte("abc"))
		peer.Close()
		b, err := io.ReadAll(sc)
		if string(b) != "abc" || err != nil {
			t.Errorf("ReadAll = %q, %v; want \"abc\", nil", b, err)
		}
		if n, err := sc.Read(make([]byte, 4)); n != 0 || err != io.EOF {
			t.Errorf("Read after EOF = %d, %v; want 0, io.EOF", n, err)
		}
	})
	t.Run("read deadline", func(t *testing.T) {
		sc, _ := sysConnPair(t)
		sc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		_, err := sc.Read(make([]byte, 4))
		var ne net.Error
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("Read past the deadline: %v, want a timeout", err)
		}
	})
	t.Run("write to a closed peer", func(t *testing.T) {
		sc, peer := sysConnPair(t)
		peer.Close()
		var err error
		for i := 0; i < 100 && err == nil; i++ {
			_, err = sc.Write(make([]byte, 64<<10))
		}
		if !isConnReset(err) {
			t.Errorf("Write to a closed peer: %v, want EPIPE or ECONNRESET", err)
		}
	})
	t.Run("close during read", func(t *testing.T) {
		sc, _ := sysConnPair(t)
		go func() { time.Sleep(20 * time.Millisecond); sc.Close() }()
		if _, err := sc.Read(make([]byte, 4)); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Read on a closed conn: %v, want net.ErrClosed", err)
		}
	})
	t.Run("empty read", func(t *testing.T) {
		sc, _ := sysConnPair(t)
		if n, err := sc.Read(nil); n != 0 || err != nil {
			t.Errorf("Read(nil) = %d, %v", n, err)
		}
	})
}
