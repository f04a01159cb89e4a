package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"go.etcd.io/bbolt"

	"github.com/parvis/parvis/internal/queue"
)

// The queue's layout inside its root bucket. Every index entry points to an ID in meta.
var (
	bucketMeta    = []byte("meta")    // id → record; its sequence numbers the leases
	bucketData    = []byte("data")    // id → payload
	bucketReady   = []byte("ready")   // seq → id: ready items, oldest first
	bucketWaiting = []byte("waiting") // visibleAt|seq → id: delayed and leased items
	bucketFailed  = []byte("failed")  // id → nothing
	bucketKeyLog  = []byte("keylog")  // accepted|seq → key and ID: the keys accepted, in time order
	bucketKeyHeld = []byte("keyheld") // accepted|seq → key and ID: keys past their window, whose item is still queued

	keyVersion = []byte("version")
	keyCounts  = []byte("counts")

	subBuckets = [][]byte{bucketMeta, bucketData, bucketReady, bucketWaiting, bucketFailed, bucketKeyLog, bucketKeyHeld}

	// Layout 1 kept a bucket of keys, key → keyRecord, beside a time-ordered log of keys.
	// Keys are hashes, so each Put wrote a page of that bucket at random: layout 2 keeps
	// the lookup in memory and only the time-ordered log on disk, where Puts append.
	// Layout 2 kept the held keys by ID (id → seq, accepted, key); layout 3 keeps them as
	// the log does, so that the index in memory finds a key's record in either bucket by
	// where it was in the log, and needs to keep no ID.
	bucketKeysV1   = []byte("keys")
	bucketKeyExpV1 = []byte("keyexp")
)

const layoutVersion = 3

// appendFill is how full bbolt fills the pages it splits in the buckets whose keys grow with
// time (IDs are ULIDs, seqs count up, the key log starts with the time): as etcd does for its
// revisions, it leaves a little room for the records rewritten in place (a lease changes a
// few bytes of meta) and for items given back to ready under their old seq.
const appendFill = 0.9

// maintainLimit bounds the housekeeping one transaction does, so that a burst of expired
// leases or keys cannot make one commit (and the Puts sharing it) slow.
const maintainLimit = 1000

// txn is one write transaction with the queue's buckets at hand. Its err is sticky: the
// first storage error aborts the whole transaction. Errors about a single request (a lost
// lease, a duplicate) are returned instead and leave the transaction going.
type txn struct {
	cfg *config
	now int64

	root, meta, data, ready, waiting, failed, keylog, keyheld *bbolt.Bucket

	keys    keyIndex             // the committed keys, in memory; nil in read transactions
	newKeys map[keyHash]keyEntry // this transaction's changes to keys: an entry, or a zero one for a deletion

	counts [stateFailed + 1]int64 // by state; index 0 unused
	dirty  bool
	err    error
}

// initLayout creates the buckets, or checks that existing ones have a layout this code
// knows, bringing older layouts to the current one.
func initLayout(tx *bbolt.Tx, cfg *config, now time.Time) error {
	name := cfg.bucket
	root, err := tx.CreateBucketIfNotExists(name)
	if err != nil {
		return err
	}
	v := root.Get(keyVersion)
	switch {
	case v == nil:
		if root.Stats().KeyN > 0 {
			return fmt.Errorf("bolt: bucket %q holds something else than a queue", name)
		}
	case bytes.Equal(v, u64(1)), bytes.Equal(v, u64(2)):
	case !bytes.Equal(v, u64(layoutVersion)):
		return fmt.Errorf("bolt: queue bucket %q has layout %x, this program knows %d", name, v, layoutVersion)
	}
	for _, b := range subBuckets {
		if _, err := root.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	switch {
	case bytes.Equal(v, u64(1)):
		if err := migrateKeys(root, cfg, now); err != nil {
			return fmt.Errorf("bolt: moving queue %q to layout %d: %w", name, layoutVersion, err)
		}
	case bytes.Equal(v, u64(2)):
		if err := migrateHeld(root.Bucket(bucketKeyHeld)); err != nil {
			return fmt.Errorf("bolt: moving queue %q to layout %d: %w", name, layoutVersion, err)
		}
	}
	return root.Put(keyVersion, u64(layoutVersion))
}

// migrateKeys moves layout 1's keys into the log (within their window) or among the held
// keys (past it, their item still queued), and drops layout 1's buckets.
func migrateKeys(root *bbolt.Bucket, cfg *config, now time.Time) error {
	keys := root.Bucket(bucketKeysV1)
	if keys != nil {
		log, held, meta := root.Bucket(bucketKeyLog), root.Bucket(bucketKeyHeld), root.Bucket(bucketMeta)
		err := keys.ForEach(func(k, v []byte) error {
			kr, err := decodeKeyRecord(v)
			if err != nil {
				return err
			}
			switch {
			case now.UnixNano() < kr.accepted+int64(cfg.keyWindow):
				return log.Put(timeKey(kr.accepted, kr.seq), keyLogValue(string(k), kr.id))
			case meta.Get([]byte(kr.id)) != nil:
				return held.Put(timeKey(kr.accepted, kr.seq), keyLogValue(string(k), kr.id))
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := root.DeleteBucket(bucketKeysV1); err != nil {
			return err
		}
	}
	if root.Bucket(bucketKeyExpV1) != nil {
		return root.DeleteBucket(bucketKeyExpV1)
	}
	return nil
}

// migrateHeld rekeys layout 2's held keys, id → seq, accepted, key, as the log keeps them.
func migrateHeld(held *bbolt.Bucket) error {
	type entry struct{ k, v []byte }
	var moved []entry
	err := held.ForEach(func(id, v []byte) error {
		if len(v) < 16 {
			return fmt.Errorf("%w: held key of item %q", errCorrupt, id)
		}
		seq, accepted := binary.BigEndian.Uint64(v), int64(binary.BigEndian.Uint64(v[8:]))
		moved = append(moved, entry{timeKey(accepted, seq), keyLogValue(string(v[16:]), string(id))})
		return nil
	})
	if err != nil {
		return err
	}
	c := held.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.First() {
		if err := held.Delete(k); err != nil {
			return err
		}
	}
	for _, e := range moved {
		if err := held.Put(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}

func openTxn(tx *bbolt.Tx, cfg *config, now time.Time) (*txn, error) {
	t := &txn{cfg: cfg, now: now.UnixNano()}
	if err := t.load(tx); err != nil {
		return nil, err
	}
	return t, nil
}

// load binds the buckets and counters; it works in read-only transactions too.
func (t *txn) load(tx *bbolt.Tx) error {
	t.root = tx.Bucket(t.cfg.bucket)
	if t.root == nil {
		return fmt.Errorf("bolt: queue bucket %q is missing", t.cfg.bucket)
	}
	bs := []**bbolt.Bucket{&t.meta, &t.data, &t.ready, &t.waiting, &t.failed, &t.keylog, &t.keyheld}
	for i, name := range subBuckets {
		if *bs[i] = t.root.Bucket(name); *bs[i] == nil {
			return fmt.Errorf("bolt: queue bucket %q lacks %q", t.cfg.bucket, name)
		}
	}
	if tx.Writable() {
		// Keys that grow with time are appended at the right of their tree, where bbolt's
		// default split, in halves, leaves every page half empty: twice the pages to write
		// for the same items. FillPercent is not stored: each write transaction sets it.
		for _, b := range []*bbolt.Bucket{t.meta, t.data, t.ready, t.keylog} {
			b.FillPercent = appendFill
		}
	}
	if c := t.root.Get(keyCounts); c != nil {
		if len(c) != 8*int(stateFailed) {
			return errCorrupt
		}
		for s := stateReady; s <= stateFailed; s++ {
			t.counts[s] = int64(binary.BigEndian.Uint64(c[8*(s-1):]))
		}
	}
	return nil
}

// close writes the counters back.
func (t *txn) close() error {
	if t.err == nil && t.dirty {
		c := make([]byte, 0, 8*int(stateFailed))
		for s := stateReady; s <= stateFailed; s++ {
			c = binary.BigEndian.AppendUint64(c, uint64(t.counts[s]))
		}
		t.fail(t.root.Put(keyCounts, c))
	}
	return t.err
}

func (t *txn) fail(err error) {
	if err != nil && t.err == nil {
		t.err = err
	}
}

func (t *txn) put(b *bbolt.Bucket, k, v []byte) { t.fail(b.Put(k, v)) }
func (t *txn) del(b *bbolt.Bucket, k []byte)    { t.fail(b.Delete(k)) }

func (t *txn) get(id string) (record, bool) {
	v := t.meta.Get([]byte(id))
	if v == nil {
		return record{}, false
	}
	r, err := decodeRecord(v)
	if err != nil {
		t.fail(fmt.Errorf("%w %q", err, id))
		return record{}, false
	}
	return r, true
}

// indexKey is the item's key in the index bucket of its state.
func (t *txn) index(r *record, id string) (*bbolt.Bucket, []byte) {
	switch r.state {
	case stateReady:
		return t.ready, u64(r.seq)
	case stateFailed:
		return t.failed, []byte(id)
	default:
		return t.waiting, timeKey(r.visibleAt, r.seq)
	}
}

// move stores r, an item's new state, and keeps the indexes and counters in step with it.
// old is the item as it was, nil for a new one.
func (t *txn) move(id string, old, r *record) {
	if old != nil {
		b, k := t.index(old, id)
		t.del(b, k)
		t.counts[old.state]--
	}
	b, k := t.index(r, id)
	var v []byte
	if r.state != stateFailed {
		v = []byte(id)
	}
	t.put(b, k, v)
	t.put(t.meta, []byte(id), r.encode())
	t.counts[r.state]++
	t.dirty = true
}

// Put stores a new item, or returns the ID of the one it duplicates.
func (t *txn) Put(it *queue.Item) (id string, dup bool) {
	var h keyHash
	if it.Key != "" {
		// A key is remembered for the window, and as long as its item is queued.
		h = hashKey(it.Key)
		if e, ok := t.key(h); ok {
			if id, ok := t.keyItem(e, it.Key); ok && (t.now < e.accepted+int64(t.cfg.keyWindow) || t.meta.Get([]byte(id)) != nil) {
				return id, true
			}
		}
	}
	if t.meta.Get([]byte(it.ID)) != nil {
		return it.ID, true
	}
	seq, err := t.root.NextSequence()
	if err != nil {
		t.fail(err)
		return "", false
	}
	r := record{state: stateReady, seq: seq, enqueued: t.now, visibleAt: t.now, key: it.Key, kind: it.Kind}
	t.put(t.data, []byte(it.ID), it.Payload)
	t.move(it.ID, nil, &r)
	if it.Key != "" {
		t.put(t.keylog, timeKey(t.now, seq), keyLogValue(it.Key, it.ID))
		t.setKey(h, keyEntry{seq: seq, accepted: t.now})
	}
	return it.ID, false
}

// Lease takes up to n ready items, oldest first, for d.
func (t *txn) Lease(n int, d time.Duration) []queue.Item {
	var ids []string
	c := t.ready.Cursor()
	for k, v := c.First(); k != nil && len(ids) < n; k, v = c.Next() {
		ids = append(ids, string(v))
	}
	items := make([]queue.Item, 0, len(ids))
	for _, id := range ids {
		r, ok := t.get(id)
		if !ok {
			t.fail(fmt.Errorf("bolt: queue index names missing item %q", id))
			return nil
		}
		lease, err := t.meta.NextSequence()
		if err != nil {
			t.fail(err)
			return nil
		}
		nr := r
		nr.state = stateLeased
		nr.attempts++
		nr.lease = lease
		nr.visibleAt = addNanos(t.now, d)
		t.move(id, &r, &nr)
		it := t.item(id, &nr)
		it.Receipt = receipt(lease, id)
		items = append(items, it)
	}
	return items
}

// item builds the Item for a record, copying what it needs out of the transaction's memory.
func (t *txn) item(id string, r *record) queue.Item {
	it := queue.Item{
		ID:        id,
		Key:       r.key,
		Kind:      r.kind,
		Enqueued:  time.Unix(0, r.enqueued),
		Attempts:  r.attempts,
		LastError: r.lastError,
	}
	if p := t.data.Get([]byte(id)); len(p) > 0 {
		it.Payload = bytes.Clone(p)
	}
	return it
}

// leased returns the item a receipt names, if the receipt still holds it.
func (t *txn) leased(rcpt string) (string, record, error) {
	lease, id, err := parseReceipt(rcpt)
	if err != nil {
		return "", record{}, err
	}
	r, ok := t.get(id)
	if !ok || r.lease != lease {
		return "", record{}, queue.ErrLeaseLost
	}
	return id, r, nil
}

// Ack removes the item a receipt holds.
func (t *txn) Ack(rcpt string) error {
	id, r, err := t.leased(rcpt)
	if err != nil {
		return err
	}
	b, k := t.index(&r, id)
	t.del(b, k)
	t.counts[r.state]--
	t.dirty = true
	t.del(t.meta, []byte(id))
	t.del(t.data, []byte(id))
	// Past the window, the key was kept only because the item was queued: forget it now.
	if r.key != "" && t.now >= r.enqueued+int64(t.cfg.keyWindow) {
		t.forgetKey(r.key, r.seq)
	}
	return nil
}

// Retry gives an item back, to be ready after the delay, or fails it if out of attempts.
func (t *txn) Retry(rcpt string, after time.Duration, cause string) error {
	id, r, err := t.leased(rcpt)
	if err != nil {
		return err
	}
	if r.state == stateFailed {
		return queue.ErrLeaseLost // its lease ran out on its last attempt
	}
	nr := r
	nr.lease = 0 // spends the receipt
	nr.lastError = cause
	switch {
	case r.attempts >= t.cfg.maxAttempts:
		nr.state = stateFailed
	case after > 0:
		nr.state = stateDelayed
		nr.visibleAt = addNanos(t.now, after)
	default:
		nr.state = stateReady
	}
	t.move(id, &r, &nr)
	return nil
}

// Release gives an item back without counting its lease as an attempt.
func (t *txn) Release(rcpt string, after time.Duration) error {
	id, r, err := t.leased(rcpt)
	if err != nil {
		return err
	}
	if r.state == stateFailed {
		return queue.ErrLeaseLost
	}
	nr := r
	nr.lease = 0 // spends the receipt
	nr.attempts = max(r.attempts-1, 0)
	nr.state = stateReady
	if after > 0 {
		nr.state = stateDelayed
		nr.visibleAt = addNanos(t.now, after)
	}
	t.move(id, &r, &nr)
	return nil
}

// Requeue makes a failed item ready with fresh attempts.
func (t *txn) Requeue(id string) error {
	r, ok := t.get(id)
	if !ok || r.state != stateFailed {
		return queue.ErrNotFound
	}
	nr := r
	nr.state = stateReady
	nr.attempts = 0
	t.move(id, &r, &nr)
	return nil
}

// maintain makes due delayed items and expired leases ready (or failed, when out of
// attempts), and forgets idempotency keys past their window. It reports whether it stopped
// at its limit with more to do.
func (t *txn) maintain() (more bool) {
	type due struct {
		k  []byte
		id string
	}
	var dues []due
	c := t.waiting.Cursor()
	for k, v := c.First(); k != nil && timeOfKey(k) <= t.now; k, v = c.Next() {
		if len(dues) == maintainLimit {
			more = true
			break
		}
		dues = append(dues, due{bytes.Clone(k), string(v)})
	}
	for _, d := range dues {
		r, ok := t.get(d.id)
		if !ok {
			t.fail(fmt.Errorf("bolt: queue index names missing item %q", d.id))
			return false
		}
		nr := r
		nr.state = stateReady
		if r.state == stateLeased && r.attempts >= t.cfg.maxAttempts {
			nr.state = stateFailed
			nr.lastError = fmt.Sprintf("lease expired on attempt %d of %d", r.attempts, t.cfg.maxAttempts)
			if r.lastError != "" {
				nr.lastError = queue.ErrorText(fmt.Errorf("%s; before: %s", nr.lastError, r.lastError))
			}
		}
		t.move(d.id, &r, &nr)
	}

	var exp [][]byte
	window := int64(t.cfg.keyWindow)
	c = t.keylog.Cursor()
	for k, _ := c.First(); k != nil && timeOfKey(k)+window <= t.now; k, _ = c.Next() {
		if len(exp) == maintainLimit {
			more = true
			break
		}
		exp = append(exp, bytes.Clone(k))
	}
	for _, k := range exp {
		key, id, err := decodeKeyLogValue(t.keylog.Get(k))
		if err != nil {
			t.fail(err)
			return false
		}
		t.del(t.keylog, k)
		seq := binary.BigEndian.Uint64(k[8:])
		h := hashKey(key)
		if e, ok := t.key(h); !ok || e.seq != seq {
			continue // a later Put took the key over
		}
		if t.meta.Get([]byte(id)) != nil {
			// Still queued: the key lives on until Ack, out of the log's way.
			t.put(t.keyheld, k, keyLogValue(key, id))
			continue
		}
		t.setKey(h, keyEntry{})
	}
	return more
}

// forgetKey forgets an idempotency key if it still belongs to the item with seq: the item
// left the queue after the key's window.
func (t *txn) forgetKey(key string, seq uint64) {
	h := hashKey(key)
	e, ok := t.key(h)
	if !ok || e.seq != seq {
		return
	}
	t.del(t.keyheld, e.logKey())
	t.del(t.keylog, e.logKey())
	t.setKey(h, keyEntry{})
}

// key looks a key's hash up: this transaction's changes first, then the committed index.
func (t *txn) key(h keyHash) (keyEntry, bool) {
	if e, ok := t.newKeys[h]; ok {
		return e, e.seq != 0
	}
	e, ok := t.keys[h]
	return e, ok
}

// keyItem reads the record of a key the index has: the ID of its item. It is false when
// the record names another key, whose hash is the same.
func (t *txn) keyItem(e keyEntry, key string) (string, bool) {
	v := t.keylog.Get(e.logKey())
	if v == nil {
		v = t.keyheld.Get(e.logKey())
	}
	if v == nil {
		t.fail(fmt.Errorf("%w: the key index names a record that is not there", errCorrupt))
		return "", false
	}
	k, id, err := decodeKeyLogValue(v)
	if err != nil {
		t.fail(err)
		return "", false
	}
	return id, k == key
}

// setKey records a change to the index, applied once the transaction has committed; a zero
// entry deletes the key.
func (t *txn) setKey(h keyHash, e keyEntry) {
	if t.newKeys == nil {
		t.newKeys = make(map[keyHash]keyEntry)
	}
	t.newKeys[h] = e
}

// nextDue is when maintain next has work: the first waiting item, or the first key to
// forget plus slack, since forgetting keys is never urgent. Zero means never.
func (t *txn) nextDue(slack time.Duration) int64 {
	var next int64
	if k, _ := t.waiting.Cursor().First(); k != nil {
		next = timeOfKey(k)
	}
	if k, _ := t.keylog.Cursor().First(); k != nil {
		at := timeOfKey(k) + int64(t.cfg.keyWindow) + int64(slack)
		if next == 0 || at < next {
			next = at
		}
	}
	return next
}

func (t *txn) stats() queue.Stats {
	return queue.Stats{
		Ready:   int(t.counts[stateReady]),
		Delayed: int(t.counts[stateDelayed]),
		Leased:  int(t.counts[stateLeased]),
		Failed:  int(t.counts[stateFailed]),
	}
}

// addNanos adds d to a Unix time in nanoseconds, saturating instead of wrapping.
func addNanos(t int64, d time.Duration) int64 {
	if int64(d) > math.MaxInt64-t {
		return math.MaxInt64
	}
	return t + int64(d)
}

// reclaim makes every leased item ready, or failed when out of attempts.
func (t *txn) reclaim() int {
	var ids []string
	c := t.waiting.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		ids = append(ids, string(v))
	}
	n := 0
	for _, id := range ids {
		r, ok := t.get(id)
		if !ok || r.state != stateLeased {
			continue
		}
		nr := r
		nr.lease = 0
		nr.state = stateReady
		if r.attempts >= t.cfg.maxAttempts {
			nr.state = stateFailed
			nr.lastError = queue.ErrorText(fmt.Errorf("the process holding its lease stopped, on attempt %d of %d", r.attempts, t.cfg.maxAttempts))
		}
		t.move(id, &r, &nr)
		n++
	}
	return n
}
