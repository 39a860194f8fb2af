package shim

import (
	"regexp"
	"strconv"
	"strings"
)

// minMemoryLimit is the smallest memory_limit PHP accepts after start-up:
// zend_set_memory_limit refuses a limit below the memory the heap already
// holds, one 2 MiB chunk when a request starts.
const minMemoryLimit = 2 << 20

// plainQuantity is a memory_limit PHP reads as digits and one unit.
var plainQuantity = regexp.MustCompile(`^\s*([0-9]+)\s*([kKmMgG]?)\s*$`)

// refusedHint says why PHP will refuse value for key, for the keys where
// the shim can tell as PHP does; "" when PHP takes it or the shim cannot
// tell. It only explains a log line: what the worker ends with is PHP's
// own decision (encoded.lines sends the baseline first).
func (p *Pool) refusedHint(key, value string) string {
	switch key {
	case "date.timezone":
		// OnUpdate_date_timezone: timelib_timezone_id_is_valid, which
		// compares without regard to case.
		if p.TimeZones != nil && !p.TimeZones[strings.ToLower(value)] {
			return "not a time zone PHP knows"
		}
	case "memory_limit":
		m := plainQuantity.FindStringSubmatch(value)
		if m == nil {
			return ""
		}
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return ""
		}
		shift := map[string]uint{"": 0, "k": 10, "m": 20, "g": 30}[strings.ToLower(m[2])]
		if n < minMemoryLimit>>shift {
			return "below the memory PHP holds when a request starts (2 MiB)"
		}
	}
	return ""
}
