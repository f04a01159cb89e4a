package bolt

import (
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
)

// Group commit. Every write goes through one goroutine, which takes all the requests that
// arrived while the previous transaction was being synced and applies them in a single
// bbolt transaction: one fsync then serves as many producers as were waiting. There is no
// batching delay, so an idle queue commits a lone Put at once, and a busy one grows its
// batches by itself. bbolt's own db.Batch waits up to MaxBatchDelay before it commits,
// which with a hundred producers costs more latency than it saves; see bench_test.go.

const (
	maxBatchOps   = 1000     // requests in one transaction
	maxBatchBytes = 16 << 20 // payload bytes in one transaction

	// minIdleGap spaces the transactions that only do housekeeping, so that items coming
	// due one by one do not each cost an fsync.
	minIdleGap = 2 * time.Millisecond
	// busyBatch requests found waiting mean the queue is busy: it then gathers requests for
	// gatherWait more before committing.
	busyBatch  = 8
	gatherWait = time.Millisecond
	// keySlack delays forgetting idempotency keys, so that it happens in bulk.
	keySlack = time.Minute
)

// op is one write request to the committer.
type op struct {
	fn    func(*txn) error // applies the request; its error concerns this request alone
	size  int              // payload bytes, for the batch limit
	state atomic.Int32     // opPending, then opTaken by the committer or opCancelled by the caller
	err   error
	done  chan struct{}
}

const (
	opPending int32 = iota
	opTaken
	opCancelled
)

func newOp(size int, fn func(*txn) error) *op {
	return &op{fn: fn, size: size, done: make(chan struct{})}
}

// run is the committer's loop. It ends when q.ops is closed and drained.
func (q *Queue) run() {
	defer close(q.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()

	var (
		carry *op // taken from the channel but over the previous batch's limits
		batch = make([]*op, 0, maxBatchOps)
		size  int  // the batch's payload bytes
		open  bool // q.ops is not closed
	)
	// add takes a request received from q.ops (ok false: the channel is closed) into the
	// batch, and reports whether the batch may take more.
	add := func(o *op, ok bool) bool {
		switch {
		case !ok:
			open = false
			return false
		case size+o.size > maxBatchBytes:
			carry = o
			return false
		}
		batch, size = append(batch, o), size+o.size
		return true
	}
	for {
		batch = batch[:0]
		size = 0
		open = true
		if carry != nil {
			batch, size, carry = append(batch, carry), carry.size, nil
		} else {
			select {
			case o, ok := <-q.ops:
				if !ok {
					return
				}
				batch, size = append(batch, o), o.size
			case <-timer.C:
			}
		}
	drain:
		for len(batch) < maxBatchOps {
			select {
			case o, ok := <-q.ops:
				if !add(o, ok) {
					break drain
				}
			default:
				break drain
			}
		}

		// A busy queue waits a moment for more requests: fewer, larger transactions cost
		// fewer syncs, which on a virtual disk take processor time as well as wall time.
		if open && carry == nil && len(batch) >= busyBatch {
			deadline := time.NewTimer(gatherWait)
		gather:
			for len(batch) < maxBatchOps {
				select {
				case o, ok := <-q.ops:
					if !add(o, ok) {
						break gather
					}
				case <-deadline.C:
					break gather
				}
			}
			deadline.Stop()
		}
		next := q.commit(batch)
		if !open && carry == nil {
			return
		}
		timer.Stop()
		if next != 0 {
			timer.Reset(max(time.Until(time.Unix(0, next)), minIdleGap))
		}
	}
}

// commit applies a batch in one transaction, housekeeping first, and answers its requests.
// It returns when housekeeping is next due (Unix nanoseconds, 0 for never).
func (q *Queue) commit(batch []*op) (next int64) {
	taken := batch[:0]
	for _, o := range batch {
		if o.state.CompareAndSwap(opPending, opTaken) {
			taken = append(taken, o)
		}
	}
	start := time.Now()
	var changed map[keyHash]keyEntry
	err := q.db.Update(func(tx *bbolt.Tx) error {
		t, err := openTxn(tx, &q.cfg, time.Now())
		if err != nil {
			return err
		}
		t.keys = q.keys
		more := t.maintain()
		for _, o := range taken {
			if t.err != nil {
				break
			}
			o.err = o.fn(t)
		}
		if more {
			next = t.now
		} else {
			next = t.nextDue(keySlack)
		}
		changed = t.newKeys
		return t.close()
	})
	if err == nil {
		// Only what was committed enters the index.
		for h, e := range changed {
			if e.seq == 0 {
				delete(q.keys, h)
			} else {
				q.keys[h] = e
			}
		}
	}
	if h := q.hook.Load(); h != nil {
		(*h)(len(taken), time.Since(start), err)
	}
	for _, o := range taken {
		if err != nil {
			o.err = err // nothing of this transaction was kept
		}
		close(o.done)
	}
	q.broadcast()
	if err != nil {
		// Try housekeeping again soon rather than never.
		next = time.Now().Add(time.Second).UnixNano()
	}
	return next
}

// broadcast wakes the Leases waiting for items.
func (q *Queue) broadcast() {
	q.wakeMu.Lock()
	close(q.wake)
	q.wake = make(chan struct{})
	q.wakeMu.Unlock()
}

func (q *Queue) wakeup() <-chan struct{} {
	q.wakeMu.Lock()
	defer q.wakeMu.Unlock()
	return q.wake
}
