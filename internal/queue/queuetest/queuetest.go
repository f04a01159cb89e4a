// Package queuetest is the conformance suite that every queue.Queue implementation runs.
//
// Its timings are lower bounds with generous deadlines, so that an implementation whose
// leases and delays have a coarse grain (whole seconds) passes too, only more slowly.
package queuetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/parvis/parvis/internal/queue"
)

// Config is how the suite wants a queue set up.
type Config struct {
	MaxAttempts int           // leases before an item fails
	KeyWindow   time.Duration // how long idempotency keys are remembered
}

// NewFunc returns a new, empty queue set up as c says. The suite closes it when the test
// ends (Close must tolerate a second call).
type NewFunc func(t *testing.T, c Config) queue.Queue

// patience bounds every wait for something that should happen.
const patience = 10 * time.Second

// window is the key window of the idempotency test: long enough to do a few things within.
const window = 2 * time.Second

// Run runs the suite against the queues newQueue makes.
func Run(t *testing.T, newQueue NewFunc) {
	tests := []struct {
		name string
		cfg  Config
		run  func(*testing.T, queue.Queue)
	}{
		{"PutLeaseAck", Config{}, testPutLeaseAck},
		{"IDs", Config{}, testIDs},
		{"EmptyAndLargePayloads", Config{}, testPayloads},
		{"Invalid", Config{}, testInvalid},
		{"FIFO", Config{}, testFIFO},
		{"LeaseBatch", Config{}, testLeaseBatch},
		{"LeaseHides", Config{}, testLeaseHides},
		{"LeaseExpiry", Config{}, testLeaseExpiry},
		{"LateAck", Config{}, testLateAck},
		{"RetryDelay", Config{}, testRetryDelay},
		{"Release", Config{MaxAttempts: 1}, testRelease},
		{"DeadLetter", Config{MaxAttempts: 3}, testDeadLetter},
		{"DeadLetterOnExpiry", Config{MaxAttempts: 2}, testDeadLetterOnExpiry},
		{"FailedPages", Config{MaxAttempts: 1}, testFailedPages},
		{"IdempotencyKey", Config{KeyWindow: window}, testIdempotencyKey},
		{"KeyOutlivesWindowWhileQueued", Config{KeyWindow: 200 * time.Millisecond}, testKeyWhileQueued},
		{"ConcurrentSameKey", Config{}, testConcurrentSameKey},
		{"ConcurrentProducersConsumers", Config{MaxAttempts: 100}, testConcurrent},
		{"LeaseWaitsForPut", Config{}, testLeaseWaits},
		{"ContextCancel", Config{}, testContext},
		{"Close", Config{}, testClose},
		{"CloseWhilePutting", Config{}, testCloseWhilePutting},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg
			if cfg.MaxAttempts == 0 {
				cfg.MaxAttempts = queue.DefaultMaxAttempts
			}
			if cfg.KeyWindow == 0 {
				cfg.KeyWindow = queue.DefaultKeyWindow
			}
			q := newQueue(t, cfg)
			t.Cleanup(func() {
				if err := q.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.run(t, q)
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return ctx
}

func put(t *testing.T, q queue.Queue, it queue.Item) string {
	t.Helper()
	id, err := q.Put(ctxT(t), it)
	if err != nil {
		t.Fatalf("Put(%q): %v", it.ID, err)
	}
	return id
}

// lease leases up to n items, waiting for at least one.
func lease(t *testing.T, q queue.Queue, n int, d time.Duration) []queue.Item {
	t.Helper()
	items, err := q.Lease(ctxT(t), n, d)
	if err != nil {
		t.Fatalf("Lease(%d, %v): %v", n, d, err)
	}
	if len(items) == 0 || len(items) > n {
		t.Fatalf("Lease(%d, %v) returned %d items", n, d, len(items))
	}
	return items
}

// leaseNone checks that no item is handed out for a while.
func leaseNone(t *testing.T, q queue.Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	items, err := q.Lease(ctx, 10, time.Minute)
	if !errors.Is(err, context.DeadlineExceeded) || len(items) != 0 {
		t.Fatalf("Lease on a queue with nothing ready = %d items, %v; want none, deadline exceeded", len(items), err)
	}
}

func ids(items []queue.Item) []string {
	s := make([]string, len(items))
	for i, it := range items {
		s[i] = it.ID
	}
	return s
}

func wantStats(t *testing.T, q queue.Queue, want queue.Stats) {
	t.Helper()
	got, err := q.Stats(ctxT(t))
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
}

// eventually polls cond until it holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testPutLeaseAck(t *testing.T, q queue.Queue) {
	ctx := ctxT(t)
	before := time.Now()
	in := queue.Item{ID: "s1", Key: "k1", Kind: "comment", Payload: []byte(`{"body":"Bonjour"}`)}
	if id := put(t, q, in); id != "s1" {
		t.Fatalf("Put returned ID %q, want s1", id)
	}
	after := time.Now()
	wantStats(t, q, queue.Stats{Ready: 1})

	got := lease(t, q, 5, time.Minute)
	if len(got) != 1 {
		t.Fatalf("Lease returned %v, want [s1]", ids(got))
	}
	it := got[0]
	if it.ID != in.ID || it.Key != in.Key || it.Kind != in.Kind || !bytes.Equal(it.Payload, in.Payload) {
		t.Errorf("leased %+v, want the fields of %+v", it, in)
	}
	if it.Attempts != 1 || it.LastError != "" || it.Receipt == "" {
		t.Errorf("leased Attempts=%d LastError=%q Receipt=%q, want 1, empty, a receipt", it.Attempts, it.LastError, it.Receipt)
	}
	if it.Enqueued.Before(before.Add(-time.Second)) || it.Enqueued.After(after.Add(time.Second)) {
		t.Errorf("Enqueued = %v, want between %v and %v", it.Enqueued, before, after)
	}
	wantStats(t, q, queue.Stats{Leased: 1})

	if err := q.Ack(ctx, it.Receipt); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	wantStats(t, q, queue.Stats{})
	if err := q.Ack(ctx, it.Receipt); !errors.Is(err, queue.ErrLeaseLost) {
		t.Errorf("second Ack = %v, want ErrLeaseLost", err)
	}
	if err := q.Retry(ctx, it.Receipt, 0, nil); !errors.Is(err, queue.ErrLeaseLost) {
		t.Errorf("Retry after Ack = %v, want ErrLeaseLost", err)
	}
	leaseNone(t, q)
}

func testIDs(t *testing.T, q queue.Queue) {
	seen := map[string]bool{}
	for range 50 {
		id := put(t, q, queue.Item{Kind: "comment"})
		if id == "" || seen[id] {
			t.Fatalf("Put without ID returned %q, which is empty or not new", id)
		}
		seen[id] = true
	}
	put(t, q, queue.Item{ID: "given"})
	id, err := q.Put(ctxT(t), queue.Item{ID: "given", Payload: []byte("again")})
	if id != "given" || !errors.Is(err, queue.ErrDuplicate) {
		t.Errorf("Put of a queued ID = %q, %v; want given, ErrDuplicate", id, err)
	}
	wantStats(t, q, queue.Stats{Ready: 51})
}

func testPayloads(t *testing.T, q queue.Queue) {
	large := bytes.Repeat([]byte("é"), queue.MaxPayload/2)
	put(t, q, queue.Item{ID: "empty"})
	put(t, q, queue.Item{ID: "large", Payload: large})
	got := lease(t, q, 2, time.Minute)
	if len(got) != 2 || len(got[0].Payload) != 0 || !bytes.Equal(got[1].Payload, large) {
		t.Fatalf("leased payloads of %d and %d bytes, want 0 and %d", len(got[0].Payload), len(got[len(got)-1].Payload), len(large))
	}
}

func testInvalid(t *testing.T, q queue.Queue) {
	ctx := ctxT(t)
	bad := []queue.Item{
		{Payload: make([]byte, queue.MaxPayload+1)},
		{ID: string(bytes.Repeat([]byte("x"), queue.MaxIDLen+1))},
		{ID: "../../etc/passwd"},
		{ID: "with space"},
		{Key: string(bytes.Repeat([]byte("k"), queue.MaxKeyLen+1))},
		{Kind: string(bytes.Repeat([]byte("c"), queue.MaxKindLen+1))},
	}
	for i, it := range bad {
		if _, err := q.Put(ctx, it); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("Put of bad item %d = %v, want ErrInvalid", i, err)
		}
	}
	if _, err := q.Lease(ctx, 0, time.Minute); !errors.Is(err, queue.ErrInvalid) {
		t.Errorf("Lease of 0 items = %v, want ErrInvalid", err)
	}
	if _, err := q.Lease(ctx, 1, 0); !errors.Is(err, queue.ErrInvalid) {
		t.Errorf("Lease for 0s = %v, want ErrInvalid", err)
	}
	if err := q.Ack(ctx, "no such receipt"); err == nil {
		t.Error("Ack of a made-up receipt succeeded")
	}
	wantStats(t, q, queue.Stats{})
}

func testFIFO(t *testing.T, q queue.Queue) {
	var want []string
	for i := range 30 {
		want = append(want, put(t, q, queue.Item{ID: fmt.Sprintf("z%02d", 30-i)}))
	}
	var got []string
	for len(got) < len(want) {
		items := lease(t, q, 4, time.Minute)
		got = append(got, ids(items)...)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("leased in order %v, want the order of Put %v", got, want)
	}

	// An item given back takes its place again among the ready ones.
	for _, id := range []string{"a", "b", "c", "d"} {
		put(t, q, queue.Item{ID: id})
	}
	first := lease(t, q, 2, time.Minute)
	if err := q.Retry(ctxT(t), first[0].Receipt, 0, errors.New("try again")); err != nil {
		t.Fatal(err)
	}
	if err := q.Ack(ctxT(t), first[0].Receipt); !errors.Is(err, queue.ErrLeaseLost) {
		t.Fatalf("Ack with a receipt spent by Retry = %v, want ErrLeaseLost", err)
	}
	if err := q.Ack(ctxT(t), first[1].Receipt); err != nil {
		t.Fatal(err)
	}
	if got := ids(lease(t, q, 10, time.Minute)); fmt.Sprint(got) != "[a c d]" {
		t.Fatalf("after retrying a and acking b, leased %v, want [a c d]", got)
	}
}

func testLeaseBatch(t *testing.T, q queue.Queue) {
	for range 5 {
		put(t, q, queue.Item{})
	}
	if n := len(lease(t, q, 3, time.Minute)); n != 3 {
		t.Fatalf("Lease(3) of 5 returned %d", n)
	}
	if n := len(lease(t, q, 10, time.Minute)); n != 2 {
		t.Fatalf("Lease(10) of the 2 left returned %d", n)
	}
	wantStats(t, q, queue.Stats{Leased: 5})
	leaseNone(t, q)
}

func testLeaseHides(t *testing.T, q queue.Queue) {
	put(t, q, queue.Item{ID: "hidden"})
	lease(t, q, 1, time.Minute)
	leaseNone(t, q)
	put(t, q, queue.Item{ID: "other"})
	if got := ids(lease(t, q, 10, time.Minute)); fmt.Sprint(got) != "[other]" {
		t.Fatalf("leased %v while hidden was leased, want [other]", got)
	}
}

func testLeaseExpiry(t *testing.T, q queue.Queue) {
	put(t, q, queue.Item{ID: "x"})
	const d = 300 * time.Millisecond
	start := time.Now()
	first := lease(t, q, 1, d)[0]
	second := lease(t, q, 1, time.Minute)[0]
	if waited := time.Since(start); waited < d {
		t.Errorf("item leased again after %v, before its lease of %v ran out", waited, d)
	}
	if second.ID != "x" || second.Attempts != 2 || second.Receipt == first.Receipt {
		t.Errorf("second lease = %+v, want x on attempt 2 with a new receipt", second)
	}
	ctx := ctxT(t)
	if err := q.Ack(ctx, first.Receipt); !errors.Is(err, queue.ErrLeaseLost) {
		t.Errorf("Ack with the expired receipt = %v, want ErrLeaseLost", err)
	}
	if err := q.Retry(ctx, first.Receipt, 0, nil); !errors.Is(err, queue.ErrLeaseLost) {
		t.Errorf("Retry with the expired receipt = %v, want ErrLeaseLost", err)
	}
	if err := q.Ack(ctx, second.Receipt); err != nil {
		t.Errorf("Ack with the current receipt: %v", err)
	}
	wantStats(t, q, queue.Stats{})
}

func testLateAck(t *testing.T, q queue.Queue) {
	put(t, q, queue.Item{ID: "slow"})
	it := lease(t, q, 1, 100*time.Millisecond)[0]
	time.Sleep(300 * time.Millisecond)
	// The lease ran out but nobody took the item since: the slow worker's Ack still counts.
	if err := q.Ack(ctxT(t), it.Receipt); err != nil {
		t.Fatalf("late Ack with no newer lease: %v", err)
	}
	wantStats(t, q, queue.Stats{})
	leaseNone(t, q)
}

func testRetryDelay(t *testing.T, q queue.Queue) {
	put(t, q, queue.Item{ID: "r", Payload: []byte("p")})
	it := lease(t, q, 1, time.Minute)[0]
	const after = 400 * time.Millisecond
	start := time.Now()
	if err := q.Retry(ctxT(t), it.Receipt, after, errors.New("forge unavailable")); err != nil {
		t.Fatal(err)
	}
	wantStats(t, q, queue.Stats{Delayed: 1})
	again := lease(t, q, 1, time.Minute)[0]
	if waited := time.Since(start); waited < after {
		t.Errorf("retried item came back after %v, want at least %v", waited, after)
	}
	if again.ID != "r" || again.Attempts != 2 || again.LastError != "forge unavailable" || string(again.Payload) != "p" {
		t.Errorf("retried item = %+v, want r, attempt 2, its cause and payload", again)
	}
}

func testRelease(t *testing.T, q queue.Queue) {
	ctx := ctxT(t)
	put(t, q, queue.Item{ID: "held"})
	first := lease(t, q, 1, time.Minute)[0]
	if err := q.Retry(ctx, first.Receipt, 0, errors.New("rate limited")); err != nil {
		t.Fatal(err)
	}
	// With one attempt allowed, the Retry failed the item: an operator requeues it.
	if err := q.Requeue(ctx, "held"); err != nil {
		t.Fatal(err)
	}
	// Released leases cost no attempt, however many.
	for range 3 {
		it := lease(t, q, 1, time.Minute)[0]
		if it.Attempts != 1 {
			t.Fatalf("leased on attempt %d after releases, want 1", it.Attempts)
		}
		if err := q.Release(ctx, it.Receipt, 0); err != nil {
			t.Fatal(err)
		}
		if err := q.Release(ctx, it.Receipt, 0); !errors.Is(err, queue.ErrLeaseLost) {
			t.Fatalf("Release with a spent receipt = %v, want ErrLeaseLost", err)
		}
	}
	const after = 300 * time.Millisecond
	it := lease(t, q, 1, time.Minute)[0]
	start := time.Now()
	if err := q.Release(ctx, it.Receipt, after); err != nil {
		t.Fatal(err)
	}
	wantStats(t, q, queue.Stats{Delayed: 1})
	again := lease(t, q, 1, time.Minute)[0]
	if waited := time.Since(start); waited < after {
		t.Errorf("released item came back after %v, want at least %v", waited, after)
	}
	if again.Attempts != 1 || again.LastError != "rate limited" {
		t.Errorf("released item = attempt %d, LastError %q; want 1, the last Retry's cause", again.Attempts, again.LastError)
	}
	if err := q.Release(ctx, first.Receipt, 0); !errors.Is(err, queue.ErrLeaseLost) {
		t.Errorf("Release with an old receipt = %v, want ErrLeaseLost", err)
	}
}

func testDeadLetter(t *testing.T, q queue.Queue) {
	ctx := ctxT(t)
	put(t, q, queue.Item{ID: "poison", Kind: "article", Payload: []byte("body")})
	put(t, q, queue.Item{ID: "healthy"})
	for i := 1; i <= 3; i++ {
		it := lease(t, q, 1, time.Minute)[0]
		if it.ID != "poison" || it.Attempts != i {
			t.Fatalf("lease %d = %s on attempt %d, want poison on attempt %d", i, it.ID, it.Attempts, i)
		}
		if err := q.Retry(ctx, it.Receipt, 0, fmt.Errorf("bad front matter, try %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	wantStats(t, q, queue.Stats{Ready: 1, Failed: 1})
	if it := lease(t, q, 10, time.Minute); len(it) != 1 || it[0].ID != "healthy" {
		t.Fatalf("leased %v, want only healthy", ids(it))
	}

	failed, err := q.Failed(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 {
		t.Fatalf("Failed = %v, want [poison]", ids(failed))
	}
	f := failed[0]
	if f.ID != "poison" || f.Kind != "article" || string(f.Payload) != "body" || f.Attempts != 3 || f.LastError != "bad front matter, try 3" {
		t.Errorf("failed item = %+v", f)
	}

	for _, id := range []string{"nothing", "healthy"} {
		if err := q.Requeue(ctx, id); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("Requeue(%s) = %v, want ErrNotFound", id, err)
		}
	}
	if err := q.Requeue(ctx, "poison"); err != nil {
		t.Fatal(err)
	}
	wantStats(t, q, queue.Stats{Ready: 1, Leased: 1})
	it := lease(t, q, 1, time.Minute)[0]
	if it.ID != "poison" || it.Attempts != 1 {
		t.Errorf("requeued item leased as %s on attempt %d, want poison on attempt 1", it.ID, it.Attempts)
	}
}

func testDeadLetterOnExpiry(t *testing.T, q queue.Queue) {
	put(t, q, queue.Item{ID: "crasher"})
	lease(t, q, 1, 100*time.Millisecond) // the worker dies
	lease(t, q, 1, 100*time.Millisecond) // and again
	var failed []queue.Item
	eventually(t, "the item to fail when its last lease runs out", func() bool {
		var err error
		failed, err = q.Failed(ctxT(t), "", 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(failed) == 1
	})
	if failed[0].Attempts != 2 || failed[0].LastError == "" {
		t.Errorf("failed item = %+v, want 2 attempts and a reason", failed[0])
	}
	wantStats(t, q, queue.Stats{Failed: 1})
	leaseNone(t, q)
}

func testFailedPages(t *testing.T, q queue.Queue) {
	ctx := ctxT(t)
	for _, id := range []string{"e", "c", "a", "d", "b"} {
		put(t, q, queue.Item{ID: id})
	}
	for _, it := range lease(t, q, 5, time.Minute) {
		if err := q.Retry(ctx, it.Receipt, 0, errors.New("no")); err != nil {
			t.Fatal(err)
		}
	}
	var pages []string
	after := ""
	for {
		page, err := q.Failed(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		pages = append(pages, fmt.Sprint(ids(page)))
		after = page[len(page)-1].ID
	}
	if got := fmt.Sprint(pages); got != "[[a b] [c d] [e]]" {
		t.Errorf("pages of failed items = %s, want [[a b] [c d] [e]]", got)
	}
}

func testIdempotencyKey(t *testing.T, q queue.Queue) {
	ctx := ctxT(t)
	start := time.Now()
	first := put(t, q, queue.Item{Key: "form-42", Payload: []byte("one")})
	id, err := q.Put(ctx, queue.Item{Key: "form-42", Payload: []byte("two")})
	if id != first || !errors.Is(err, queue.ErrDuplicate) {
		t.Fatalf("second Put with the key = %q, %v; want %q, ErrDuplicate", id, err, first)
	}
	put(t, q, queue.Item{Key: "form-43"})
	wantStats(t, q, queue.Stats{Ready: 2})

	for _, it := range lease(t, q, 2, time.Minute) {
		if it.ID == first && string(it.Payload) != "one" {
			t.Errorf("the duplicate replaced the payload: %q", it.Payload)
		}
		if err := q.Ack(ctx, it.Receipt); err != nil {
			t.Fatal(err)
		}
	}
	// Done with, but still within the window: the key is remembered.
	id, err = q.Put(ctx, queue.Item{Key: "form-42"})
	switch {
	case time.Since(start) >= window:
		t.Log("the machine was too slow to check the key within its window")
	case id != first || !errors.Is(err, queue.ErrDuplicate):
		t.Fatalf("Put after Ack within the window = %q, %v; want %q, ErrDuplicate", id, err, first)
	default:
		wantStats(t, q, queue.Stats{})
	}

	var again string
	eventually(t, "the key to be forgotten after its window", func() bool {
		var err error
		again, err = q.Put(ctx, queue.Item{Key: "form-42"})
		if err != nil && !errors.Is(err, queue.ErrDuplicate) {
			t.Fatal(err)
		}
		return err == nil
	})
	if again == first {
		t.Errorf("the new item reused the old ID %q", first)
	}
	wantStats(t, q, queue.Stats{Ready: 1})
}

func testKeyWhileQueued(t *testing.T, q queue.Queue) {
	first := put(t, q, queue.Item{Key: "k"})
	time.Sleep(400 * time.Millisecond) // twice the window
	if id, err := q.Put(ctxT(t), queue.Item{Key: "k"}); id != first || !errors.Is(err, queue.ErrDuplicate) {
		t.Fatalf("Put with the key of a still-queued item = %q, %v; want %q, ErrDuplicate", id, err, first)
	}
	wantStats(t, q, queue.Stats{Ready: 1})
}

func testConcurrentSameKey(t *testing.T, q queue.Queue) {
	const n = 32
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners int
		seen    = map[string]bool{}
	)
	for i := range n {
		wg.Go(func() {
			id, err := q.Put(ctxT(t), queue.Item{Key: "resent", Payload: fmt.Appendf(nil, "copy %d", i)})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners++
			case !errors.Is(err, queue.ErrDuplicate):
				t.Errorf("Put: %v", err)
			}
			seen[id] = true
		})
	}
	wg.Wait()
	if winners != 1 || len(seen) != 1 {
		t.Errorf("%d Puts with one key: %d accepted, IDs %v; want 1 accepted, one ID", n, winners, seen)
	}
	wantStats(t, q, queue.Stats{Ready: 1})
}

func testConcurrent(t *testing.T, q queue.Queue) {
	const producers, each, consumers = 8, 150, 4
	const total = producers * each
	ctx, cancel := context.WithTimeout(context.Background(), 4*patience)
	defer cancel()

	var (
		mu       sync.Mutex
		accepted = map[string]bool{}
		inFlight = map[string]bool{}
		acked    = map[string]int{}
		wg       sync.WaitGroup
	)
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				id, err := q.Put(ctx, queue.Item{Key: fmt.Sprintf("p%d-%d", p, i), Payload: fmt.Appendf(nil, "%d/%d", p, i)})
				if err != nil {
					t.Errorf("Put: %v", err)
					return
				}
				mu.Lock()
				accepted[id] = true
				mu.Unlock()
			}
		})
	}
	done, stop := context.WithCancel(ctx)
	defer stop()
	for range consumers {
		wg.Go(func() {
			for {
				items, err := q.Lease(done, 1+rand.IntN(8), time.Minute)
				if err != nil {
					if done.Err() == nil {
						t.Errorf("Lease: %v", err)
					}
					return
				}
				mu.Lock()
				for _, it := range items {
					if inFlight[it.ID] {
						t.Errorf("%s handed out twice within a lease", it.ID)
					}
					inFlight[it.ID] = true
				}
				mu.Unlock()
				for _, it := range items {
					// Give back a fifth of the first deliveries, as a worker would on a
					// passing fault.
					giveBack := it.Attempts == 1 && rand.IntN(5) == 0
					mu.Lock()
					delete(inFlight, it.ID)
					mu.Unlock()
					if giveBack {
						if err := q.Retry(ctx, it.Receipt, 0, errors.New("passing fault")); err != nil {
							t.Errorf("Retry: %v", err)
						}
						continue
					}
					if err := q.Ack(ctx, it.Receipt); err != nil {
						t.Errorf("Ack: %v", err)
						continue
					}
					mu.Lock()
					acked[it.ID]++
					if len(acked) == total {
						stop()
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(accepted) != total {
		t.Errorf("%d distinct IDs accepted, want %d", len(accepted), total)
	}
	for id := range accepted {
		if acked[id] != 1 {
			t.Errorf("%s acked %d times, want once", id, acked[id])
		}
	}
	if len(acked) != total {
		t.Errorf("%d items acked, want %d", len(acked), total)
	}
	wantStats(t, q, queue.Stats{})
}

func testLeaseWaits(t *testing.T, q queue.Queue) {
	got := make(chan []queue.Item, 1)
	go func() {
		items, err := q.Lease(ctxT(t), 1, time.Minute)
		if err != nil {
			t.Errorf("Lease: %v", err)
		}
		got <- items
	}()
	time.Sleep(100 * time.Millisecond)
	put(t, q, queue.Item{ID: "late"})
	select {
	case items := <-got:
		if fmt.Sprint(ids(items)) != "[late]" {
			t.Errorf("waiting Lease returned %v, want [late]", ids(items))
		}
	case <-time.After(patience):
		t.Fatal("a waiting Lease was not woken by a Put")
	}
}

func testContext(t *testing.T, q queue.Queue) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.Put(cancelled, queue.Item{ID: "never"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context = %v, want context.Canceled", err)
	}
	wantStats(t, q, queue.Stats{})
	if _, err := q.Lease(cancelled, 1, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Lease with a cancelled context = %v, want context.Canceled", err)
	}

	// A waiting Lease returns when its context is cancelled.
	waiting, cancelWait := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := q.Lease(waiting, 1, time.Minute)
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancelWait()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled waiting Lease = %v, want context.Canceled", err)
		}
	case <-time.After(patience):
		t.Fatal("a waiting Lease ignored the cancellation of its context")
	}

	put(t, q, queue.Item{ID: "kept"})
	it := lease(t, q, 1, time.Minute)[0]
	if err := q.Ack(cancelled, it.Receipt); !errors.Is(err, context.Canceled) {
		t.Errorf("Ack with a cancelled context = %v, want context.Canceled", err)
	}
	wantStats(t, q, queue.Stats{Leased: 1})
	if err := q.Ack(ctxT(t), it.Receipt); err != nil {
		t.Errorf("Ack: %v", err)
	}
}

func testClose(t *testing.T, q queue.Queue) {
	put(t, q, queue.Item{ID: "left"})
	it := lease(t, q, 1, time.Minute)[0]
	errc := make(chan error, 1)
	go func() {
		_, err := q.Lease(ctxT(t), 1, time.Minute)
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, queue.ErrClosed) {
			t.Errorf("waiting Lease after Close = %v, want ErrClosed", err)
		}
	case <-time.After(patience):
		t.Fatal("Close did not wake a waiting Lease")
	}

	ctx := ctxT(t)
	_, putErr := q.Put(ctx, queue.Item{})
	_, leaseErr := q.Lease(ctx, 1, time.Minute)
	_, failedErr := q.Failed(ctx, "", 1)
	_, statsErr := q.Stats(ctx)
	for name, err := range map[string]error{
		"Put":     putErr,
		"Lease":   leaseErr,
		"Ack":     q.Ack(ctx, it.Receipt),
		"Retry":   q.Retry(ctx, it.Receipt, 0, nil),
		"Release": q.Release(ctx, it.Receipt, 0),
		"Requeue": q.Requeue(ctx, "left"),
		"Failed":  failedErr,
		"Stats":   statsErr,
	} {
		if !errors.Is(err, queue.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
	if err := q.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func testCloseWhilePutting(t *testing.T, q queue.Queue) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for range 8 {
		wg.Go(func() {
			for {
				_, err := q.Put(ctxT(t), queue.Item{Payload: []byte("x")})
				if errors.Is(err, queue.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Put while closing: %v, want nil or ErrClosed", err)
					return
				}
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	if err := q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	if accepted == 0 {
		t.Error("no Put succeeded before Close")
	}
}
