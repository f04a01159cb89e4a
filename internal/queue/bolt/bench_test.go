package bolt

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/parvis/parvis/internal/queue"
)

// producers is how many goroutines Put at once in BenchmarkPut: about what the service
// sees when a hundred citizens submit in the same instant.
const producers = 100

// BenchmarkPut measures Put under concurrent producers with three ways to commit: the
// queue's group commit, one db.Update per Put, and bbolt's db.Batch.
func BenchmarkPut(b *testing.B) {
	modes := []struct {
		name string
		put  func(*Queue, context.Context, queue.Item) error
	}{
		{"group", func(q *Queue, ctx context.Context, it queue.Item) error {
			_, err := q.Put(ctx, it)
			return err
		}},
		{"update", func(q *Queue, _ context.Context, it queue.Item) error { return q.putWith(it, q.db.Update) }},
		{"batch", func(q *Queue, _ context.Context, it queue.Item) error { return q.putWith(it, q.db.Batch) }},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) { benchPut(b, m.put, formKey) })
	}
}

// BenchmarkPutHashedKeys is BenchmarkPut's group commit with keys shaped like the service's
// idempotency keys: hashes, which land anywhere in the keys bucket, so that most Puts dirty a
// page of their own there, where BenchmarkPut's counted keys land on the same few pages.
func BenchmarkPutHashedKeys(b *testing.B) {
	benchPut(b, func(q *Queue, ctx context.Context, it queue.Item) error {
		_, err := q.Put(ctx, it)
		return err
	}, func(n int64) string {
		sum := sha256.Sum256([]byte(formKey(n)))
		return "k:" + base64.RawURLEncoding.EncodeToString(sum[:16])
	})
}

func formKey(n int64) string { return fmt.Sprint("form-", n) }

// putWith is Put without the committer, for comparison: commit runs one transaction.
// Under db.Batch the function may run twice, which is harmless as it starts afresh.
func (q *Queue) putWith(it queue.Item, commit func(func(*bbolt.Tx) error) error) error {
	it.ID = queue.NewID()
	if err := queue.Check(it); err != nil {
		return err
	}
	return commit(func(tx *bbolt.Tx) error {
		t, err := openTxn(tx, &q.cfg, time.Now())
		if err != nil {
			return err
		}
		t.Put(&it)
		return t.close()
	})
}

func benchPut(b *testing.B, put func(*Queue, context.Context, queue.Item) error, key func(int64) string) {
	var cs commitStats
	q, err := Open(filepath.Join(b.TempDir(), "queue.db"), WithCommitHook(cs.hook))
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	ctx := context.Background()
	payload := make([]byte, 512) // a comment with its fields
	var (
		seq  atomic.Int64
		mu   sync.Mutex
		lats = make([]time.Duration, 0, b.N)
	)
	b.SetParallelism((producers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			it := queue.Item{Key: key(seq.Add(1)), Kind: "comment", Payload: payload}
			t0 := time.Now()
			if err := put(q, ctx, it); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lats = append(lats, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	reportLatency(b, lats, elapsed, "puts/s")
	cs.report(b)
	st := q.db.Stats()
	b.ReportMetric(float64(st.TxStats.GetWrite())/float64(b.N), "pages/op")
}

// BenchmarkPutRate offers Puts at the service's target rate, 10,000 a second from a hundred
// producers, rather than as fast as they go: its latencies are the ones a citizen would see
// at that load. Each latency runs from when the Put was due, so a stall that delays later
// Puts counts against them too.
func BenchmarkPutRate(b *testing.B) {
	const rate = 10_000
	var cs commitStats
	q, err := Open(filepath.Join(b.TempDir(), "queue.db"), WithCommitHook(cs.hook))
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	ctx := context.Background()
	payload := make([]byte, 512)
	var (
		mu   sync.Mutex
		lats = make([]time.Duration, 0, b.N)
		wg   sync.WaitGroup
	)
	interval := time.Duration(producers) * time.Second / rate // between one producer's Puts
	b.ResetTimer()
	start := time.Now()
	for p := range producers {
		wg.Go(func() {
			var mine []time.Duration
			// Producer p starts p/producers of an interval late, so the Puts are spread evenly.
			due := start.Add(interval * time.Duration(p) / producers)
			for i := p; i < b.N; i += producers {
				time.Sleep(time.Until(due))
				it := queue.Item{Key: fmt.Sprint("form-", i), Kind: "comment", Payload: payload}
				if _, err := q.Put(ctx, it); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(due))
				due = due.Add(interval)
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	reportLatency(b, lats, elapsed, "puts/s")
	cs.report(b)
}

// BenchmarkLeaseAck measures how fast a few consumers drain a backlog, leasing ten at a
// time and acking each item.
func BenchmarkLeaseAck(b *testing.B) {
	q, err := Open(filepath.Join(b.TempDir(), "queue.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := p; i < b.N; i += producers {
				if _, err := q.Put(ctx, queue.Item{Payload: make([]byte, 512)}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()

	const consumers = 4
	var (
		left = int64(b.N)
		mu   sync.Mutex
		lats []time.Duration
	)
	b.ResetTimer()
	start := time.Now()
	for range consumers {
		wg.Go(func() {
			var mine []time.Duration
			for atomic.LoadInt64(&left) > 0 {
				c, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
				items, err := q.Lease(c, 10, time.Minute)
				cancel()
				if err != nil {
					continue // another consumer took the last ones
				}
				for _, it := range items {
					t0 := time.Now()
					if err := q.Ack(ctx, it.Receipt); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(t0))
					atomic.AddInt64(&left, -1)
				}
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	reportLatency(b, lats, elapsed, "acks/s")
}

// commitStats gathers what the commit hook reports, to tell the disk's part in latency.
type commitStats struct {
	mu      sync.Mutex
	commits []time.Duration
	ops     int
}

func (c *commitStats) hook(ops int, d time.Duration, _ error) {
	c.mu.Lock()
	c.commits = append(c.commits, d)
	c.ops += ops
	c.mu.Unlock()
}

// report adds the mean requests per commit and the slowest 1% of commits.
func (c *commitStats) report(b *testing.B) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.commits) == 0 {
		return
	}
	slices.Sort(c.commits)
	b.ReportMetric(float64(c.ops)/float64(len(c.commits)), "ops/commit")
	b.ReportMetric(float64(c.commits[len(c.commits)*99/100])/float64(time.Millisecond), "commit-p99-ms")
}

func reportLatency(b *testing.B, lats []time.Duration, elapsed time.Duration, rate string) {
	if len(lats) == 0 {
		return
	}
	slices.Sort(lats)
	pct := func(p float64) float64 {
		return float64(lats[int(p*float64(len(lats)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(len(lats))/elapsed.Seconds(), rate)
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
