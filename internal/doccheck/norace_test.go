//go:build !race

package doccheck_test

const raceDetector = false
