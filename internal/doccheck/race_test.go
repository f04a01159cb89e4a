//go:build race

package doccheck_test

// raceDetector: the race detector changes how memory is allocated (sync.Pool drops what
// it holds), so the heap bounds of the memory tests do not hold under it.
const raceDetector = true
