//go:build !race

package fcgi

// raceEnabled reports a build with the race detector, whose memory and
// time cost make the largest tests scale down.
const raceEnabled = false
