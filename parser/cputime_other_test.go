//go:build !unix

package parser

import "time"

var processStart = time.Now()

// cpuTime falls back to the time since the test binary started where
// getrusage is missing.
func cpuTime() time.Duration { return time.Since(processStart) }
