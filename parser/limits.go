package parser

import (
	"errors"
	"fmt"
)

// Default bounds of what one load reads (LoadOptions.MaxFiles, MaxBytes,
// MaxWalk). A tree of 41 tiny files each including the next twice asks
// for 2^41 file reads: httpd never finishes it either, and an unbounded
// loader ran out of memory at 24 GB. The file and byte bounds are about
// ten times the 10,000-vhost benchmark tree (10,501 files, 7 MB) and far
// above Debian's own trees; the walk bound, 300 times its 30,000
// directory entries, leaves room for document roots full of
// applications. At the defaults a hostile tree costs about 1 GB and 2 s.
const (
	// DefaultMaxFiles is how many files one view reads, configuration and
	// access files, a file counting each time an Include reads it.
	DefaultMaxFiles = 100_000
	// DefaultMaxBytes is how many bytes those files may hold in total.
	DefaultMaxBytes = 64 << 20
	// DefaultMaxWalk is how many directory entries may be looked at: by
	// the Includes of a view, and by each walk of the document roots (the
	// search for access files here, the permission walk of the rules).
	DefaultMaxWalk = 10_000_000
)

// maxFiles returns MaxFiles or its default.
func (o *LoadOptions) maxFiles() int {
	if o.MaxFiles > 0 {
		return o.MaxFiles
	}
	return DefaultMaxFiles
}

// maxBytes returns MaxBytes or its default.
func (o *LoadOptions) maxBytes() int64 {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return DefaultMaxBytes
}

// maxWalk returns MaxWalk or its default.
func (o *LoadOptions) maxWalk() int64 {
	if o.MaxWalk > 0 {
		return o.MaxWalk
	}
	return DefaultMaxWalk
}

// tooLargeError is a file bigger than all the bytes a load may read.
type tooLargeError struct {
	size, max int64
}

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("%s, more than the %s a load reads in all", FormatBytes(e.size), FormatBytes(e.max))
}

// admit counts a file about to be evaluated against the view's limits.
// At the first limit passed it reports it at pos (the Include, or the
// file) and stops the loader: every later Include and access file is
// skipped, so that a tree that multiplies its reads fails fast.
func (l *loader) admit(pos Pos, f *File) bool {
	if l.stopped {
		return false
	}
	l.filesRead++
	l.bytesRead += f.size
	switch {
	case l.filesRead > l.opt.maxFiles():
		l.stop(pos, fmt.Sprintf("more than %d files to read (a file counts each time an Include reads it, as httpd reads it again)", l.opt.maxFiles()), "--max-files")
	case l.bytesRead > l.opt.maxBytes():
		l.stop(pos, fmt.Sprintf("more than %s of files to read (a file counts each time an Include reads it, as httpd reads it again)", FormatBytes(l.opt.maxBytes())), "--max-bytes")
	}
	return !l.stopped
}

// stop reports a limit and stops reading.
func (l *loader) stop(pos Pos, what, flag string) {
	l.stopped = true
	l.diag(pos, SevError, "limit", "reading stopped here: %s; the rest of the tree and its .htaccess files are not checked; raise the limit with %s if the tree is genuine", what, flag)
}

// tooLarge reports a file bigger than MaxBytes on its own, and stops.
func (l *loader) tooLarge(pos Pos, path string, err error) bool {
	var tl *tooLargeError
	if !errors.As(err, &tl) {
		return false
	}
	l.stop(pos, fmt.Sprintf("%s is %s", path, tl.Error()), "--max-bytes")
	return true
}

// FormatBytes writes a byte count as the --max-bytes flag takes it:
// "64MiB", "1536KiB", "100" (bytes).
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
