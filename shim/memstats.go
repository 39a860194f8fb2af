package shim

import (
	"math"
	"runtime/metrics"
)

// memorySamples are the runtime/metrics the status endpoint reports.
var memorySamples = []string{
	"/gc/heap/live:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/gc/gomemlimit:bytes",
}

// runtimeMemory returns the live heap, the memory held from the system
// (mapped minus released) and the soft memory limit (0 when none is set).
func runtimeMemory() (live, held, limit int64) {
	s := make([]metrics.Sample, len(memorySamples))
	for i, n := range memorySamples {
		s[i].Name = n
	}
	metrics.Read(s)
	v := func(i int) int64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		u := s[i].Value.Uint64()
		if u > math.MaxInt64 {
			return 0 // math.MaxInt64 is "no limit"
		}
		return int64(u)
	}
	limit = v(3)
	if limit == math.MaxInt64 {
		limit = 0
	}
	return v(0), v(1) - v(2), limit
}
