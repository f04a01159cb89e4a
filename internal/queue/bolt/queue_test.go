package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
	"go.uber.org/goleak"

	"github.com/parvis/parvis/internal/queue"
	"github.com/parvis/parvis/internal/queue/queuetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T, c queuetest.Config) queue.Queue {
		q, err := Open(filepath.Join(t.TempDir(), "queue.db"), WithMaxAttempts(c.MaxAttempts), WithKeyWindow(c.KeyWindow))
		if err != nil {
			t.Fatal(err)
		}
		return q
	})
}

// TestConformanceSharedDB runs the suite on a queue that shares its file with other data,
// in a bucket of another name.
func TestConformanceSharedDB(t *testing.T) {
	queuetest.Run(t, func(t *testing.T, c queuetest.Config) queue.Queue {
		db := openDB(t)
		if err := db.Update(func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucket([]byte("receipts"))
			if err != nil {
				return err
			}
			return b.Put([]byte("r1"), []byte("pending"))
		}); err != nil {
			t.Fatal(err)
		}
		q, err := New(db, WithBucket("submissions"), WithMaxAttempts(c.MaxAttempts), WithKeyWindow(c.KeyWindow))
		if err != nil {
			t.Fatal(err)
		}
		return q
	})
}

func openDB(t *testing.T) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "service.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// TestReopen checks that every state, the counters, receipts and keys survive closing the
// file.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	q, err := Open(path, WithMaxAttempts(2))
	if err != nil {
		t.Fatal(err)
	}
	c := ctx(t)
	put := func(id string) {
		t.Helper()
		if _, err := q.Put(c, queue.Item{ID: id, Key: "key-" + id, Payload: []byte(id)}); err != nil {
			t.Fatal(err)
		}
	}
	leaseRetry := func(n int, after time.Duration) map[string]queue.Item {
		t.Helper()
		items, err := q.Lease(c, n, time.Hour)
		if err != nil || len(items) != n {
			t.Fatalf("Lease(%d) = %d items, %v", n, len(items), err)
		}
		byID := map[string]queue.Item{}
		for _, it := range items {
			byID[it.ID] = it
			if it.ID == "leased" {
				continue
			}
			d := after
			if it.ID == "delayed" {
				d = time.Hour
			}
			if err := q.Retry(c, it.Receipt, d, errors.New("later")); err != nil {
				t.Fatal(err)
			}
		}
		return byID
	}
	put("failed")
	leaseRetry(1, 0)
	leaseRetry(1, 0) // its second and last attempt
	for _, id := range []string{"ready", "leased", "delayed"} {
		put(id)
	}
	leased := leaseRetry(3, 0)["leased"]
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}

	q, err = Open(path, WithMaxAttempts(2))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	checkConsistent(t, q.DB(), []byte("queue"))
	want := queue.Stats{Ready: 1, Delayed: 1, Leased: 1, Failed: 1}
	if got, err := q.Stats(c); err != nil || got != want {
		t.Fatalf("Stats after reopening = %+v, %v; want %+v", got, err, want)
	}
	if _, err := q.Put(c, queue.Item{Key: "key-leased"}); !errors.Is(err, queue.ErrDuplicate) {
		t.Errorf("Put with a key from before reopening = %v, want ErrDuplicate", err)
	}
	if err := q.Ack(c, leased.Receipt); err != nil {
		t.Errorf("Ack with a receipt from before reopening: %v", err)
	}
	failed, err := q.Failed(c, "", 10)
	if err != nil || len(failed) != 1 || failed[0].ID != "failed" || failed[0].LastError != "later" || failed[0].Attempts != 2 {
		t.Errorf("Failed after reopening = %+v, %v", failed, err)
	}
	items, err := q.Lease(c, 10, time.Minute)
	if err != nil || len(items) != 1 || items[0].ID != "ready" || string(items[0].Payload) != "ready" {
		t.Errorf("Lease after reopening = %+v, %v; want the ready item", items, err)
	}
}

func TestNew(t *testing.T) {
	noSync := openDB(t)
	noSync.NoSync = true
	foreign := openDB(t)
	if err := foreign.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte("queue"))
		if err != nil {
			return err
		}
		return b.Put([]byte("someone"), []byte("else's"))
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		db   *bbolt.DB
		opts []Option
	}{
		{"NoSync", noSync, nil},
		{"ForeignBucket", foreign, nil},
		{"EmptyBucketName", openDB(t), []Option{WithBucket("")}},
		{"NoAttempts", openDB(t), []Option{WithMaxAttempts(0)}},
		{"NegativeWindow", openDB(t), []Option{WithKeyWindow(-time.Second)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if q, err := New(tc.db, tc.opts...); err == nil {
				q.Close()
				t.Fatal("New succeeded")
			}
		})
	}
}

func TestOpenLocked(t *testing.T) {
	defer func(d time.Duration) { lockTimeout = d }(lockTimeout)
	lockTimeout = 200 * time.Millisecond
	path := filepath.Join(t.TempDir(), "queue.db")
	q, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	// bbolt locks the file per open file description, so a second Open in one process
	// meets the lock as another process would.
	if q2, err := Open(path); err == nil {
		q2.Close()
		t.Fatal("a second Open of a file in use succeeded")
	}
}

// TestKeysForgotten checks that keys past their window are deleted from the file, not
// only ignored.
func TestKeysForgotten(t *testing.T) {
	db := openDB(t)
	q, err := New(db, WithKeyWindow(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	c := ctx(t)
	for i := range 20 {
		if _, err := q.Put(c, queue.Item{Key: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	items, err := q.Lease(c, 20, time.Minute)
	if err != nil || len(items) != 20 {
		t.Fatalf("Lease = %d, %v", len(items), err)
	}
	// Items acked within the window leave their keys for housekeeping; acked after it, for
	// Ack itself.
	for _, it := range items[:10] {
		if err := q.Ack(c, it.Receipt); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	for _, it := range items[10:] {
		if err := q.Ack(c, it.Receipt); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.Put(c, queue.Item{Key: "fresh"}); err != nil { // its commit does the housekeeping
		t.Fatal(err)
	}
	if err := db.View(func(tx *bbolt.Tx) error {
		root := tx.Bucket([]byte("queue"))
		if n := root.Bucket(bucketKeyLog).Stats().KeyN; n != 1 {
			t.Errorf("the key log holds %d keys, want the fresh one only", n)
		}
		if n := root.Bucket(bucketKeyHeld).Stats().KeyN; n != 0 {
			t.Errorf("%d keys are held, want none", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestRecord(t *testing.T) {
	tests := []record{
		{state: stateReady, seq: 1, enqueued: time.Now().UnixNano()},
		{state: stateFailed, seq: 1 << 60, enqueued: 1, visibleAt: -1, attempts: 300, lease: 7, key: "k", kind: "comment", lastError: "forge: 502 Bad Gateway"},
	}
	for _, r := range tests {
		b := r.encode()
		got, err := decodeRecord(b)
		if err != nil || got != r {
			t.Errorf("decode(encode(%+v)) = %+v, %v", r, got, err)
		}
		for n := range len(b) {
			if _, err := decodeRecord(b[:n]); err == nil {
				t.Errorf("decoding %d of %d bytes succeeded", n, len(b))
			}
		}
	}
	for _, bad := range []string{"", "x", "1:", ":id", "-1:id", "0:id"} {
		if _, _, err := parseReceipt(bad); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("parseReceipt(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	if l, id, err := parseReceipt(receipt(42, "a:b")); l != 42 || id != "a:b" || err != nil {
		t.Errorf("parseReceipt(receipt(42, a:b)) = %d, %q, %v", l, id, err)
	}
}

// TestGroupCommit checks that concurrent Puts share transactions, and that the commit hook
// sees every request once.
func TestGroupCommit(t *testing.T) {
	var mu sync.Mutex
	commits, served := 0, 0
	q, err := Open(filepath.Join(t.TempDir(), "queue.db"), WithCommitHook(func(ops int, d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil || d <= 0 {
			t.Errorf("commit hook got %v, %v", d, err)
		}
		commits++
		served += ops
	}))
	if err != nil {
		t.Fatal(err)
	}
	const producers, each = 200, 5
	var wg sync.WaitGroup
	for range producers {
		wg.Go(func() {
			for range each {
				if _, err := q.Put(ctx(t), queue.Item{Payload: []byte("x")}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if served != producers*each {
		t.Errorf("the hook saw %d requests, want %d", served, producers*each)
	}
	if commits > producers*each/2 {
		t.Errorf("%d Puts took %d commits: they were not grouped", served, commits)
	}
	t.Logf("%d Puts in %d commits", served, commits)
}

// TestManyExpire has more leases run out at once than one transaction's housekeeping takes,
// and more keys expire than it forgets.
func TestManyExpire(t *testing.T) {
	db := openDB(t)
	q, err := New(db, WithKeyWindow(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	const n = 2*maintainLimit + 500
	var wg sync.WaitGroup
	for p := range 50 {
		wg.Go(func() {
			for i := p; i < n; i += 50 {
				if _, err := q.Put(ctx(t), queue.Item{Key: fmt.Sprint(i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for leased := 0; leased < n; {
		items, err := q.Lease(ctx(t), n, 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		leased += len(items)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := q.Stats(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if s == (queue.Stats{Ready: n}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Stats = %+v, want all %d ready again", s, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	checkConsistent(t, db, []byte("queue"))

	// Ack them all: their keys are past the window, so Ack forgets them, and housekeeping
	// the key index.
	for left := n; left > 0; {
		items, err := q.Lease(ctx(t), n, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			wg.Go(func() {
				if err := q.Ack(ctx(t), it.Receipt); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		left -= len(items)
	}
	for range 3 {
		if _, err := q.Put(ctx(t), queue.Item{}); err != nil { // each commit does housekeeping
			t.Fatal(err)
		}
	}
	if err := db.View(func(tx *bbolt.Tx) error {
		root := tx.Bucket([]byte("queue"))
		for _, b := range [][]byte{bucketKeyLog, bucketKeyHeld} {
			if k := root.Bucket(b).Stats().KeyN; k != 0 {
				t.Errorf("bucket %s still holds %d keys", b, k)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestReclaim(t *testing.T) {
	ctx := context.Background()
	q, err := Open(filepath.Join(t.TempDir(), "q.db"), WithMaxAttempts(2))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	for _, id := range []string{"a", "b", "c"} {
		if _, err := q.Put(ctx, queue.Item{ID: id, Payload: []byte(id)}); err != nil {
			t.Fatal(err)
		}
	}
	first, err := q.Lease(ctx, 3, time.Hour)
	if err != nil || len(first) != 3 {
		t.Fatalf("Lease = %v, %v", first, err)
	}
	if n, err := q.Reclaim(ctx); err != nil || n != 3 {
		t.Fatalf("Reclaim = %d, %v; want 3", n, err)
	}
	if err := q.Ack(ctx, first[0].Receipt); !errors.Is(err, queue.ErrLeaseLost) {
		t.Errorf("a reclaimed receipt still acks: %v", err)
	}
	again, err := q.Lease(ctx, 3, time.Hour)
	if err != nil || len(again) != 3 || again[0].ID != "a" || again[0].Attempts != 2 {
		t.Fatalf("after Reclaim, Lease = %+v, %v", again, err)
	}
	// Out of attempts: reclaiming fails them, never drops them.
	if n, err := q.Reclaim(ctx); err != nil || n != 3 {
		t.Fatalf("second Reclaim = %d, %v", n, err)
	}
	st, _ := q.Stats(ctx)
	if st.Failed != 3 || st.Ready != 0 || st.Leased != 0 {
		t.Errorf("stats after reclaiming spent items: %+v", st)
	}
}

// TestKeysAcrossReopen checks that the key index, kept in memory, is read back from the
// file: within the window from the key log, past it from the held keys while the item is
// queued.
func TestKeysAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	c := context.Background()
	open := func() *Queue {
		q, err := Open(path, WithKeyWindow(200*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	q := open()
	a, err := q.Put(c, queue.Item{Key: "K", Payload: []byte("a")})
	if err != nil {
		t.Fatal(err)
	}
	q.Close()

	q = open()
	if id, err := q.Put(c, queue.Item{Key: "K"}); !errors.Is(err, queue.ErrDuplicate) || id != a {
		t.Fatalf("after reopening, Put(K) = %q, %v; want %q, ErrDuplicate", id, err, a)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := q.Put(c, queue.Item{Key: "other"}); err != nil { // its commit moves K among the held keys
		t.Fatal(err)
	}
	q.Close()

	q = open()
	defer q.Close()
	if id, err := q.Put(c, queue.Item{Key: "K"}); !errors.Is(err, queue.ErrDuplicate) || id != a {
		t.Fatalf("past the window, item queued: Put(K) = %q, %v; want %q, ErrDuplicate", id, err, a)
	}
	items, err := q.Lease(c, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := q.Ack(c, it.Receipt); err != nil {
			t.Fatal(err)
		}
	}
	if id, err := q.Put(c, queue.Item{Key: "K"}); err != nil || id == a {
		t.Fatalf("past the window, item acked: Put(K) = %q, %v; want a new item", id, err)
	}
}

// TestMigrateLayout1 opens a file in the first layout, whose keys had a bucket of their own.
func TestMigrateLayout1(t *testing.T) {
	c := context.Background()
	path, ids := queueFile(t, "recent", "old")
	recent, old := ids[0], ids[1]

	// Rewrite the file as layout 1 had it: "recent" accepted now, "old" two hours ago and
	// still queued, "gone" two hours ago with its item acked.
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixNano()
	ago := now - int64(2*time.Hour)
	err = db.Update(func(tx *bbolt.Tx) error {
		root := tx.Bucket([]byte("queue"))
		for _, b := range [][]byte{bucketKeyLog, bucketKeyHeld} {
			if err := root.DeleteBucket(b); err != nil {
				return err
			}
		}
		keys, _ := root.CreateBucket(bucketKeysV1)
		exp, _ := root.CreateBucket(bucketKeyExpV1)
		for _, k := range []struct {
			key, id  string
			seq      uint64
			accepted int64
		}{{"recent", recent, 1, now}, {"old", old, 2, ago}, {"gone", "01GONE", 3, ago}} {
			keys.Put([]byte(k.key), encodeKeyRecordV1(keyRecord{seq: k.seq, accepted: k.accepted, id: k.id}))
			exp.Put(timeKey(k.accepted, k.seq), []byte(k.key))
		}
		return root.Put(keyVersion, u64(1))
	})
	if err != nil {
		t.Fatal(err)
	}
	q, err := New(db, WithKeyWindow(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"recent": recent, "old": old} {
		if id, err := q.Put(c, queue.Item{Key: key}); !errors.Is(err, queue.ErrDuplicate) || id != want {
			t.Errorf("migrated key %s: Put = %q, %v; want %q, ErrDuplicate", key, id, err, want)
		}
	}
	if _, err := q.Put(c, queue.Item{Key: "gone"}); err != nil {
		t.Errorf("a key past its window, item acked, was kept: %v", err)
	}
	q.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		root := tx.Bucket([]byte("queue"))
		if root.Bucket(bucketKeysV1) != nil || root.Bucket(bucketKeyExpV1) != nil {
			t.Error("layout 1's buckets are still there")
		}
		if v := root.Get(keyVersion); !bytes.Equal(v, u64(layoutVersion)) {
			t.Errorf("layout %x, want %d", v, layoutVersion)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

// TestMigrateLayout2 opens a file in the second layout, whose held keys were kept by ID.
func TestMigrateLayout2(t *testing.T) {
	c := context.Background()
	path, ids := queueFile(t, "recent", "held")
	recent, held := ids[0], ids[1]

	// Rewrite the file as layout 2 had it: "held" accepted two hours ago, its item still
	// queued, so its key out of the log and among the held keys, by ID.
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	ago := time.Now().UnixNano() - int64(2*time.Hour)
	err = db.Update(func(tx *bbolt.Tx) error {
		root := tx.Bucket([]byte("queue"))
		log := root.Bucket(bucketKeyLog)
		c := log.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if key, _, _ := decodeKeyLogValue(v); key == "held" {
				v := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, binary.BigEndian.Uint64(k[8:])), uint64(ago))
				if err := root.Bucket(bucketKeyHeld).Put([]byte(held), append(v, "held"...)); err != nil {
					return err
				}
				if err := log.Delete(k); err != nil {
					return err
				}
				break
			}
		}
		// Its item was accepted then too.
		meta := root.Bucket(bucketMeta)
		r, err := decodeRecord(meta.Get([]byte(held)))
		if err != nil {
			return err
		}
		r.enqueued = ago
		if err := meta.Put([]byte(held), r.encode()); err != nil {
			return err
		}
		return root.Put(keyVersion, u64(2))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	q, err := Open(path, WithKeyWindow(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	for key, want := range map[string]string{"recent": recent, "held": held} {
		if id, err := q.Put(c, queue.Item{Key: key}); !errors.Is(err, queue.ErrDuplicate) || id != want {
			t.Errorf("migrated key %s: Put = %q, %v; want %q, ErrDuplicate", key, id, err, want)
		}
	}
	// Past its window, the held key goes with its item.
	items, err := q.Lease(c, 2, time.Minute)
	if err != nil || len(items) != 2 {
		t.Fatalf("Lease = %d items, %v", len(items), err)
	}
	for _, it := range items {
		if err := q.Ack(c, it.Receipt); err != nil {
			t.Fatal(err)
		}
	}
	if id, err := q.Put(c, queue.Item{Key: "held"}); err != nil || id == held {
		t.Errorf("after Ack past the window: Put(held) = %q, %v; want a new item", id, err)
	}
	if id, err := q.Put(c, queue.Item{Key: "recent"}); !errors.Is(err, queue.ErrDuplicate) || id != recent {
		t.Errorf("within the window, item acked: Put(recent) = %q, %v; want %q, ErrDuplicate", id, err, recent)
	}
	err = q.DB().View(func(tx *bbolt.Tx) error {
		root := tx.Bucket([]byte("queue"))
		if v := root.Get(keyVersion); !bytes.Equal(v, u64(layoutVersion)) {
			t.Errorf("layout %x, want %d", v, layoutVersion)
		}
		if n := root.Bucket(bucketKeyHeld).Stats().KeyN; n != 0 {
			t.Errorf("%d keys still held", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// queueFile makes a queue file holding an item for each key, and returns its path and the
// items' IDs, for a test to rewrite as an older layout had it.
func queueFile(t *testing.T, keys ...string) (string, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "q.db")
	q, err := Open(path, WithKeyWindow(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var ids []string
	for _, k := range keys {
		id, err := q.Put(context.Background(), queue.Item{Key: k, Payload: []byte(k)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return path, ids
}

// encodeKeyRecordV1 writes a key as layout 1 did.
func encodeKeyRecordV1(k keyRecord) []byte {
	b := make([]byte, 16, 16+len(k.id))
	binary.BigEndian.PutUint64(b, k.seq)
	binary.BigEndian.PutUint64(b[8:], uint64(k.accepted))
	return append(b, k.id...)
}

// TestKeyIndexHoldsNoPointer keeps the index of idempotency keys out of the garbage
// collector's way: a map whose keys and values hold no pointer is never scanned.
func TestKeyIndexHoldsNoPointer(t *testing.T) {
	var pointerFree func(reflect.Type) bool
	pointerFree = func(typ reflect.Type) bool {
		switch typ.Kind() {
		case reflect.Array:
			return pointerFree(typ.Elem())
		case reflect.Struct:
			for i := range typ.NumField() {
				if !pointerFree(typ.Field(i).Type) {
					return false
				}
			}
			return true
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
			reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
			return true
		}
		return false
	}
	typ := reflect.TypeFor[keyIndex]()
	for _, part := range []reflect.Type{typ.Key(), typ.Elem()} {
		if !pointerFree(part) {
			t.Errorf("the key index's %v holds a pointer", part)
		}
	}
}
