package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// isTerminal reports whether w is a terminal. It asks the terminal driver
// (term.IsTerminal, an ioctl), so /dev/null and other character devices
// are not mistaken for one.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress shows a status line on a terminal stderr once the run has taken
// longer than progressDelay, so that a long run does not look hung: the
// phase, the path and what has been counted so far, cut to the terminal's
// width so that the line never wraps (a wrapped line would stay behind
// when the next one is drawn).
type progress struct {
	mu     sync.Mutex
	kind   string // phaseReading or phaseChecking
	path   string
	w      io.Writer
	fd     int
	load   *parser.Progress
	walked *atomic.Int64
	done   chan struct{}
	wg     sync.WaitGroup
	shown  bool
}

// progressDelay is how long lint stays silent before showing progress: a
// run that ends sooner needs none. Tests shorten it.
var progressDelay = time.Second

// progressInterval is how often the line is redrawn: often enough to
// look alive, rarely enough to cost nothing.
const progressInterval = 200 * time.Millisecond

// defaultWidth is assumed when the terminal does not tell its width.
const defaultWidth = 80

// startProgress starts the status line on w when w is a terminal; load
// and walked are the counters it shows.
func startProgress(w io.Writer, load *parser.Progress, walked *atomic.Int64) *progress {
	p := &progress{w: w, load: load, walked: walked, done: make(chan struct{})}
	f, ok := w.(*os.File)
	if !ok || !isTerminal(w) {
		return p
	}
	p.fd = int(f.Fd())
	p.wg.Add(1)
	go p.loop()
	return p
}

func (p *progress) loop() {
	defer p.wg.Done()
	select {
	case <-p.done:
		return
	case <-time.After(progressDelay):
	}
	t := time.NewTicker(progressInterval)
	defer t.Stop()
	for {
		width, _, err := term.GetSize(p.fd)
		if err != nil || width <= 0 {
			width = defaultWidth
		}
		p.mu.Lock()
		fmt.Fprint(p.w, "\r\x1b[K"+fitWidth(p.line(), width))
		p.shown = true
		p.mu.Unlock()
		select {
		case <-p.done:
			return
		case <-t.C:
		}
	}
}

// The phases of a lint run the progress line names.
const (
	phaseReading  = "reading"  // loading a tree: files read, directories searched
	phaseChecking = "checking" // running the rules: paths the permission walk checked
)

// phase says what lint does now, and to which path.
func (p *progress) phase(kind, path string) {
	p.mu.Lock()
	p.kind, p.path = kind, path
	p.mu.Unlock()
}

// line is the status line (without width limit) with the counts of the
// current phase; p.mu is held.
func (p *progress) line() string {
	var counts []string
	if p.load != nil && p.kind == phaseReading {
		if n := p.load.Files.Load(); n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s read", n, plural(int(n), "file", "files")))
		}
		if n := p.load.Dirs.Load(); n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s searched for .htaccess", n, plural(int(n), "directory", "directories")))
		}
	}
	if p.walked != nil && p.kind == phaseChecking {
		if n := p.walked.Load(); n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s checked for permissions", n, plural(int(n), "path", "paths")))
		}
	}
	s := "modphp-migrate: " + p.kind + " " + p.path
	if len(counts) > 0 {
		s += " (" + strings.Join(counts, ", ") + ")"
	}
	return s
}

// fitWidth cuts s to fewer than width columns (a character in the last
// column would make some terminals wrap), ending a cut line with "…". It
// counts runes: lint's paths and words are not wide characters.
func fitWidth(s string, width int) string {
	limit := width - 1
	if limit < 1 || utf8.RuneCountInString(s) <= limit {
		if limit < 1 {
			return ""
		}
		return s
	}
	r := []rune(s)
	return string(r[:limit-1]) + "…"
}

// stop removes the line, if it was shown, and ends the redraws.
func (p *progress) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	close(p.done)
	p.wg.Wait()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
