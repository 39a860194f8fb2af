package main

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// openPTY opens a pseudo-terminal pair with the given width; the caller
// reads what is written to the terminal from the controller.
func openPTY(t *testing.T, cols uint16) (controller, term *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: 24}); err != nil {
		t.Fatal(err)
	}
	return m, s
}

// TestIsTerminal: a pseudo-terminal is a terminal; /dev/null, a character
// device too, is not.
func TestIsTerminal(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if isTerminal(null) {
		t.Error("/dev/null is taken for a terminal")
	}
	_, pty := openPTY(t, 80)
	if !isTerminal(pty) {
		t.Error("a pseudo-terminal is not taken for a terminal")
	}
}

// TestProgressLine: the line names the phase and the counts so far, and
// leaves out counts that are still zero.
func TestProgressLine(t *testing.T) {
	load := &parser.Progress{}
	walked := &atomic.Int64{}
	p := &progress{load: load, walked: walked, kind: phaseReading, path: "/etc/apache2"}
	if got, want := p.line(), "modphp-migrate: reading /etc/apache2"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	load.Files.Store(1)
	load.Dirs.Store(250)
	if got, want := p.line(), "modphp-migrate: reading /etc/apache2 (1 file read, 250 directories searched for .htaccess)"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	p.kind = phaseChecking
	if got, want := p.line(), "modphp-migrate: checking /etc/apache2"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	walked.Store(12345)
	if got, want := p.line(), "modphp-migrate: checking /etc/apache2 (12345 paths checked for permissions)"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
}

func TestFitWidth(t *testing.T) {
	for _, tc := range []struct {
		s     string
		width int
		want  string
	}{
		{"abc", 80, "abc"},
		{"abcd", 5, "abcd"},
		{"abcde", 5, "abc…"},
		{"abcdé", 5, "abc…"},
		{"abc", 1, ""},
		{"abc", 0, ""},
	} {
		if got := fitWidth(tc.s, tc.width); got != tc.want {
			t.Errorf("fitWidth(%q, %d) = %q, want %q", tc.s, tc.width, got, tc.want)
		}
	}
}

// TestProgressOnTerminal draws the line on a 40-column pseudo-terminal:
// every frame clears the line and fits in 39 columns, so nothing wraps,
// and stop clears it.
func TestProgressOnTerminal(t *testing.T) {
	ctl, pty := openPTY(t, 40)
	old := progressDelay
	progressDelay = 0
	defer func() { progressDelay = old }()
	load := &parser.Progress{}
	load.Files.Store(10000)
	p := startProgress(pty, load, nil)
	p.phase(phaseReading, "/srv/copies/www1.example.com/etc/apache2")
	got := make(chan string, 1)
	go func() {
		var b strings.Builder
		buf := make([]byte, 4096)
		for !strings.Contains(b.String(), "…") || strings.Count(b.String(), "\r\x1b[K") < 2 {
			n, err := ctl.Read(buf)
			if err != nil {
				break
			}
			b.Write(buf[:n])
		}
		got <- b.String()
	}()
	var out string
	select {
	case out = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no progress line on the terminal")
	}
	p.stop()
	frames := strings.Split(out, "\r\x1b[K")
	if frames[0] != "" {
		t.Errorf("output does not start by clearing the line: %q", out)
	}
	for _, f := range frames[1:] {
		if f == "" {
			continue
		}
		if n := utf8.RuneCountInString(f); n > 39 {
			t.Errorf("frame of %d columns on a 40-column terminal: %q", n, f)
		}
		if !strings.HasPrefix(f, "modphp-migrate: reading /srv/copies/") {
			t.Errorf("frame %q", f)
		}
	}
}
