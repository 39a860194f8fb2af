//go:build !race

package shim

// raceEnabled reports a build with the race detector, under which the
// largest tests are skipped.
const raceEnabled = false
