package shim

import (
	"regexp"
	"regexp/syntax"
)

// The cache bounds count the memory entries really hold, estimated from
// what they contain with per-item costs measured on this implementation
// (TestCacheCostMeasured fills the caches with access files of several
// shapes and checks the estimate against the live heap): a bound in
// "estimated bytes" is then a bound in bytes. The costs include slice
// growth slack and allocator size classes.
const (
	// lineCost is one php_value line kept from an access file (key, value,
	// position, flags; ~88 bytes, doubled for append slack).
	lineCost = 176
	// blockCost is a <Files> block (slice header, chain pointer).
	blockCost = 96
	// linkCost is one link of a <Files> chain.
	linkCost = 64
	// regexBaseCost and regexInstCost estimate a compiled regular
	// expression: its program, instruction runes and one-pass copy grow
	// with the instruction count (measured 65–190 bytes per instruction,
	// 511 bytes for "a").
	regexBaseCost = 512
	regexInstCost = 160
	// directiveCost is the record of one php_* directive kept for the
	// override check (position, names, indexes; doubled for slack).
	directiveCost = 2 * 80
	// errorCost is an AccessError kept for a rejected file.
	errorCost = 160
	// settingCost is one Setting of a resolution, counted twice: once in
	// the resolution, once in the PHP_VALUE the pool encodes from it and
	// keeps with it (Resolution.enc).
	settingCost = 2 * 80
	// originCost is a setting's origin kept with a resolution (map slot,
	// scope, position), for the unresettable check.
	originCost = 112
	// resolutionCost is a cached resolution's fixed part: the Resolution,
	// its cache entry and map slot, and its encoded PHP_VALUE header.
	resolutionCost = 640
)

// regexCost estimates the memory of re from its program's size.
func regexCost(re *regexp.Regexp) int64 {
	if re == nil {
		return 0
	}
	n := 64
	if s, err := syntax.Parse(re.String(), syntax.Perl); err == nil {
		if p, err := syntax.Compile(s.Simplify()); err == nil {
			n = len(p.Inst)
		}
	}
	return regexBaseCost + int64(regexInstCost*n)
}

// accessFileCost estimates the memory a cached access file holds: its
// bytes (the kept values are slices of them), its lines, blocks, chain
// links and compiled expressions.
func accessFileCost(p string, size int64, af *accessFile) int64 {
	n := entryOverhead + int64(len(p)) + size
	if af == nil {
		return n
	}
	n += int64(lineCost*len(af.dir)) + int64(directiveCost*len(af.php))
	seen := map[*filesChain]bool{}
	for i := range af.files {
		b := &af.files[i]
		n += blockCost + int64(lineCost*len(b.lines))
		for c := b.chain; c != nil && !seen[c]; c = c.parent {
			seen[c] = true
			n += linkCost + regexCost(c.m.Regexp()) + int64(len(c.m.String()))
		}
	}
	if af.err != nil {
		n += errorCost + int64(len(af.err.Msg))
	}
	for _, d := range af.php {
		if d.problem != nil {
			n += errorCost + int64(len(d.problem.Msg))
		}
	}
	return n
}
