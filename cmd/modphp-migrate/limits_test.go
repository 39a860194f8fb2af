package main

import (
	"testing"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// TestByteSize: --max-bytes takes bytes or KiB/MiB/GiB (K, M, G alone too)
// and shows its value the way it takes it.
func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		show string
	}{
		{"100", 100, "100 bytes"},
		{"64MiB", 64 << 20, "64MiB"},
		{"64M", 64 << 20, "64MiB"},
		{"1536KiB", 1536 << 10, "1536KiB"},
		{"2G", 2 << 30, "2GiB"},
		{"1GiB", 1 << 30, "1GiB"},
	} {
		var b byteSize
		if err := b.Set(tc.in); err != nil || int64(b) != tc.want || b.String() != tc.show {
			t.Errorf("Set(%q) = %d (%q), %v; want %d (%q)", tc.in, int64(b), b.String(), err, tc.want, tc.show)
		}
	}
	for _, bad := range []string{"", "0", "-1", "64MB", "64 parsecs", "1.5GiB", "9999999999G"} {
		var b byteSize
		if err := b.Set(bad); err == nil {
			t.Errorf("Set(%q) = %d, want an error", bad, int64(b))
		}
	}
}

// TestLoadLimitsCheck: limits must be positive; the defaults are the
// parser's.
func TestLoadLimitsCheck(t *testing.T) {
	l := loadLimits{files: parser.DefaultMaxFiles, bytes: parser.DefaultMaxBytes, walk: parser.DefaultMaxWalk}
	if err := l.check(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []loadLimits{{files: 0, walk: 1}, {files: 1, walk: 0}, {files: -5, walk: 1}} {
		if err := bad.check(); err == nil {
			t.Errorf("check(%+v) = nil, want an error", bad)
		}
	}
	var o parser.LoadOptions
	l.apply(&o)
	if o.MaxFiles != parser.DefaultMaxFiles || o.MaxBytes != parser.DefaultMaxBytes || o.MaxWalk != parser.DefaultMaxWalk {
		t.Errorf("apply: %+v", o)
	}
}
