package doccheck_test

import (
	"errors"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/parvis/parvis/internal/doccheck"
	"github.com/parvis/parvis/internal/doccheck/doccorpus"
)

// peakHeap runs fn while sampling the heap's live and unswept objects, and returns the
// most they grew past what they were before (after a collection, unless quick), and how
// long fn took.
func peakHeap(fn func()) (uint64, time.Duration) { return sampleHeap(fn, false) }

func sampleHeap(fn func(), quick bool) (uint64, time.Duration) {
	if !quick {
		runtime.GC()
	}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := read()
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	tick := time.NewTicker(200 * time.Microsecond)
	defer tick.Stop()
	wg.Go(func() {
		for {
			if v := read(); v > peak {
				peak = v
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	start := time.Now()
	fn()
	d := time.Since(start)
	close(done)
	wg.Wait()
	if v := read(); v > peak {
		peak = v
	}
	if peak < base {
		return 0, d
	}
	return peak - base, d
}

const mib = 1 << 20

// TestFinding2MemoryBounded: the measured attacks (a 249 KB PDF that inflates to 250 MB,
// a 120 KB ODT with a 120 MB entry) and a benign 5 MB PDF are checked in bounded memory
// and time; fifty bombs at once take a few MiB each, not what they unpack to.
func TestFinding2MemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 250 MB bombs")
	}
	bomb, odt, five := doccorpus.Bomb250(), doccorpus.ODT120(), doccorpus.FiveMB()
	for _, tt := range []struct {
		name      string
		data      []byte
		check     func([]byte) (doccheck.Report, error)
		want      error
		heap      uint64
		wall      time.Duration
		reportLen int
	}{
		{"PDF 250 MB bomb", bomb, doccheck.PDF, doccheck.ErrBomb, 8 * mib, 3 * time.Second, 0},
		{"ODT with a 120 MB entry", odt, func(b []byte) (doccheck.Report, error) { return doccheck.ODF(b, doccorpus.ODT) }, doccheck.ErrBomb, 8 * mib, 3 * time.Second, 0},
		{"benign 5 MB PDF", five, doccheck.PDF, nil, 16 * mib, 3 * time.Second, 20},
	} {
		var err error
		var rep doccheck.Report
		peak, d := peakHeap(func() { rep, err = tt.check(tt.data) })
		t.Logf("%s (%d KB): %v in %v, peak heap +%.1f MiB", tt.name, len(tt.data)>>10, err, d.Round(time.Millisecond), float64(peak)/mib)
		if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) || len(rep.Links) != tt.reportLen {
			t.Errorf("%s: %v, %d links", tt.name, err, len(rep.Links))
		}
		if peak > tt.heap && !raceDetector {
			t.Errorf("%s: the heap grew by %d MiB, more than %d", tt.name, peak/mib, tt.heap/mib)
		}
		if d > tt.wall && !raceDetector {
			t.Errorf("%s: took %v", tt.name, d)
		}
	}

	n := 50
	if raceDetector {
		n = 6 // the bounds are not asserted, and the detector slows decoding tenfold
	}
	peak, d := peakHeap(func() {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				var err error
				if i%2 == 0 {
					_, err = doccheck.PDF(bomb)
				} else {
					_, err = doccheck.ODF(odt, doccorpus.ODT)
				}
				if !errors.Is(err, doccheck.ErrBomb) {
					t.Errorf("bomb %d: %v", i, err)
				}
			})
		}
		wg.Wait()
	})
	t.Logf("%d bombs at once: refused in %v, peak heap +%.1f MiB", n, d.Round(time.Millisecond), float64(peak)/mib)
	if peak > 64*mib && !raceDetector {
		t.Errorf("%d bombs at once grew the heap by %d MiB", n, peak/mib)
	}
}
