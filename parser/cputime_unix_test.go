//go:build unix

package parser

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user and system) this process has used: a
// bound on it holds on a machine busy with other work, where wall time
// does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
