//go:build race

package shim

// raceEnabled is true under the race detector, whose shadow memory
// makes memory measurements meaningless.
const raceEnabled = true
