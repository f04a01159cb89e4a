//go:build race

package forms

// raceDetector: the race detector changes how memory is allocated (sync.Pool drops what
// it holds), so the heap bounds of the memory tests do not hold under it.
const raceDetector = true
