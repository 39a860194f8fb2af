//go:build race

package shim

// raceEnabled reports a build with the race detector, whose shadow
// memory makes memory measurements meaningless and under which the
// largest tests are skipped.
const raceEnabled = true
