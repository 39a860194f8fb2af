package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// loadLimits are the flags of lint and dump that bound what the loader
// reads (parser.LoadOptions.MaxFiles, MaxBytes, MaxWalk).
type loadLimits struct {
	files int
	bytes byteSize
	walk  int64
}

// addLoadLimitFlags registers --max-files, --max-bytes and --max-walk;
// walkUse says what --max-walk bounds for the command.
func addLoadLimitFlags(fs *pflag.FlagSet, l *loadLimits, walkUse string) {
	l.bytes = parser.DefaultMaxBytes
	fs.IntVar(&l.files, "max-files", parser.DefaultMaxFiles, "stop reading the tree after `N` files (a file counts each time an Include reads it)")
	fs.Var(&l.bytes, "max-bytes", "stop reading the tree after `SIZE` of files in all (bytes, or with KiB, MiB, GiB)")
	fs.Int64Var(&l.walk, "max-walk", parser.DefaultMaxWalk, "look at no more than `N` directory entries in Include directories, and under the document roots "+walkUse)
}

// check refuses limits that are not positive.
func (l *loadLimits) check() error {
	switch {
	case l.files <= 0:
		return errors.New("--max-files must be positive")
	case l.walk <= 0:
		return errors.New("--max-walk must be positive")
	}
	return nil
}

// apply sets the limits on load options.
func (l *loadLimits) apply(o *parser.LoadOptions) {
	o.MaxFiles, o.MaxBytes, o.MaxWalk = l.files, int64(l.bytes), l.walk
}

// byteSize is a --max-bytes value: a positive number of bytes, or of KiB,
// MiB or GiB with that suffix (K, M and G alone also mean 1024 powers).
type byteSize int64

func (b *byteSize) String() string { return parser.FormatBytes(int64(*b)) }

// Type names the value in help output.
func (b *byteSize) Type() string { return "size" }

// Set parses a size.
func (b *byteSize) Set(s string) error {
	num, unit := s, int64(1)
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}} {
		if strings.HasSuffix(s, u.suffix) {
			num, unit = strings.TrimSuffix(s, u.suffix), u.n
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/unit {
		return fmt.Errorf("%q is not a size (a positive number of bytes, or with KiB, MiB or GiB)", s)
	}
	*b = byteSize(n * unit)
	return nil
}
