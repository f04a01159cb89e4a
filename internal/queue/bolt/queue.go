// Package bolt is the embedded queue.Queue, kept in a bbolt file.
//
// Durability: every write is part of a bbolt transaction that is committed, and the file
// fdatasync'd, before the call returns, so an accepted item survives a crash of the process
// at any instant, and a power loss as far as the disk honours fsync. Concurrent writes
// share transactions (group commit): a Put waits for the transaction under way, if any,
// then shares the next one with up to a thousand requests that arrived meanwhile.
//
// The queue lives in one top-level bucket of the file (named "queue" unless WithBucket says
// otherwise), so the service may keep its other buckets in the same file. One Queue at a
// time may use a given bucket.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/parvis/parvis/internal/queue"
)

// Queue is a queue.Queue in a bbolt database.
type Queue struct {
	db    *bbolt.DB
	ownDB bool // opened by Open: Close closes it
	cfg   config
	keys  keyIndex // the idempotency keys: the committer's alone

	mu      sync.RWMutex // held for reading while sending on ops, for writing to close it
	closed  atomic.Bool
	ops     chan *op
	done    chan struct{} // closed by Close: wakes waiting Leases
	stopped chan struct{} // closed when the committer has drained ops and returned

	wakeMu sync.Mutex
	wake   chan struct{} // closed and renewed after each commit

	hook atomic.Pointer[commitHook]
}

type commitHook func(ops int, d time.Duration, err error)

var _ queue.Queue = (*Queue)(nil)

type config struct {
	bucket      []byte
	maxAttempts int
	keyWindow   time.Duration
	onCommit    commitHook
}

// Option sets up a Queue.
type Option func(*config)

// WithBucket names the top-level bucket that holds the queue.
func WithBucket(name string) Option { return func(c *config) { c.bucket = []byte(name) } }

// WithMaxAttempts sets how many leases an item gets before it fails (queue.DefaultMaxAttempts).
func WithMaxAttempts(n int) Option { return func(c *config) { c.maxAttempts = n } }

// WithKeyWindow sets how long an idempotency key is remembered (queue.DefaultKeyWindow).
func WithKeyWindow(d time.Duration) Option { return func(c *config) { c.keyWindow = d } }

// WithCommitHook has f called after each transaction with the number of requests it
// served, the time it took (fsync included) and its error. f runs on the committing
// goroutine, so it must be quick: observing a histogram is the intended use.
func WithCommitHook(f func(ops int, d time.Duration, err error)) Option {
	return func(c *config) { c.onCommit = f }
}

// New makes a queue in db, which must stay open until the queue is closed. db must not be
// in NoSync mode, since the queue's promise rests on synced commits.
func New(db *bbolt.DB, opts ...Option) (*Queue, error) {
	cfg := config{bucket: []byte("queue"), maxAttempts: queue.DefaultMaxAttempts, keyWindow: queue.DefaultKeyWindow}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case len(cfg.bucket) == 0:
		return nil, errors.New("bolt: empty bucket name")
	case cfg.maxAttempts < 1:
		return nil, fmt.Errorf("bolt: max attempts %d, want at least 1", cfg.maxAttempts)
	case cfg.keyWindow < 0:
		return nil, fmt.Errorf("bolt: negative key window %v", cfg.keyWindow)
	case db.NoSync:
		return nil, errors.New("bolt: the database is in NoSync mode, which would void the queue's durability")
	case db.IsReadOnly():
		return nil, errors.New("bolt: the database is read-only")
	}
	var keys keyIndex
	err := db.Update(func(tx *bbolt.Tx) error {
		if err := initLayout(tx, &cfg, time.Now()); err != nil {
			return err
		}
		t := &txn{cfg: &cfg}
		if err := t.load(tx); err != nil {
			return err
		}
		var err error
		keys, err = loadKeys(t)
		return err
	})
	if err != nil {
		return nil, err
	}
	q := &Queue{
		db:      db,
		cfg:     cfg,
		keys:    keys,
		ops:     make(chan *op, maxBatchOps),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
		wake:    make(chan struct{}),
	}
	q.SetCommitHook(cfg.onCommit)
	go q.run()
	return q, nil
}

// lockTimeout is how long Open waits for another process to release the file.
var lockTimeout = 5 * time.Second

// DBOptions are the bbolt options for a file that holds a queue, beside whatever else the
// program keeps in it; timeout bounds the wait for another process to release the file.
func DBOptions(timeout time.Duration) *bbolt.Options {
	return &bbolt.Options{
		Timeout: timeout, // another process holds the file: fail rather than hang
		// As etcd does: not writing the freelist makes each commit smaller, at the cost of
		// rebuilding the list when the file is opened. A queue's file stays small.
		NoFreelistSync: true,
		FreelistType:   bbolt.FreelistMapType,
		// Map ahead, so the file's first growths need no remapping, which waits for every
		// read transaction. It costs address space, not memory.
		InitialMmapSize: 64 << 20,
	}
}

// Open opens (or creates) the bbolt file at path and makes a queue in it. Close closes the
// file too.
func Open(path string, opts ...Option) (*Queue, error) {
	_, statErr := os.Stat(path)
	db, err := bbolt.Open(path, 0o600, DBOptions(lockTimeout))
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		// A new file's directory entry must be durable too.
		if err := syncDir(filepath.Dir(path)); err != nil {
			db.Close()
			return nil, err
		}
	}
	q, err := New(db, opts...)
	if err != nil {
		db.Close()
		return nil, err
	}
	q.ownDB = true
	return q, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("bolt: sync %s: %w", dir, err)
	}
	return nil
}

// SetCommitHook replaces the function WithCommitHook gave (nil: none), for an observer made
// after the queue.
func (q *Queue) SetCommitHook(f func(ops int, d time.Duration, err error)) {
	if f == nil {
		q.hook.Store(nil)
		return
	}
	h := commitHook(f)
	q.hook.Store(&h)
}

// DB returns the database the queue is in.
func (q *Queue) DB() *bbolt.DB { return q.db }

// submit hands fn to the committer and waits for its outcome.
func (q *Queue) submit(ctx context.Context, size int, fn func(*txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := newOp(size, fn)
	q.mu.RLock()
	if q.closed.Load() {
		q.mu.RUnlock()
		return queue.ErrClosed
	}
	select {
	case q.ops <- o:
		q.mu.RUnlock()
	case <-ctx.Done():
		q.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case <-o.done:
		return o.err
	case <-ctx.Done():
		if o.state.CompareAndSwap(opPending, opCancelled) {
			return ctx.Err()
		}
		// The committer has it: its outcome is what the caller must know.
		<-o.done
		return o.err
	}
}

// view runs fn in a read transaction.
func (q *Queue) view(fn func(*txn) error) error {
	if q.closed.Load() {
		return queue.ErrClosed
	}
	err := q.db.View(func(tx *bbolt.Tx) error {
		t := &txn{cfg: &q.cfg}
		if err := t.load(tx); err != nil {
			return err
		}
		return fn(t)
	})
	if err != nil && q.closed.Load() {
		return queue.ErrClosed
	}
	return err
}

// Put implements queue.Queue.
func (q *Queue) Put(ctx context.Context, it queue.Item) (string, error) {
	if it.ID == "" {
		it.ID = queue.NewID()
	}
	if err := queue.Check(it); err != nil {
		return "", err
	}
	var id string
	var dup bool
	err := q.submit(ctx, len(it.Payload), func(t *txn) error {
		id, dup = t.Put(&it)
		return nil
	})
	switch {
	case err != nil:
		return "", err
	case dup:
		return id, queue.ErrDuplicate
	}
	return id, nil
}

// maxLease caps the items one Lease hands out, to bound its transaction.
const maxLease = 1000

// Lease implements queue.Queue.
func (q *Queue) Lease(ctx context.Context, n int, d time.Duration) ([]queue.Item, error) {
	if n < 1 || d <= 0 {
		return nil, fmt.Errorf("%w: lease of %d items for %v", queue.ErrInvalid, n, d)
	}
	n = min(n, maxLease)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Take the wake-up channel before looking, so that a commit after the look wakes us.
		wake := q.wakeup()
		var ready bool
		err := q.view(func(t *txn) error {
			k, _ := t.ready.Cursor().First()
			ready = k != nil
			return nil
		})
		if err != nil {
			return nil, err
		}
		if ready {
			var items []queue.Item
			err := q.submit(ctx, 0, func(t *txn) error {
				items = t.Lease(n, d)
				return nil
			})
			if err != nil {
				return nil, err
			}
			if len(items) > 0 {
				return items, nil
			}
			continue // another consumer was quicker
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-q.done:
			return nil, queue.ErrClosed
		}
	}
}

// Ack implements queue.Queue.
func (q *Queue) Ack(ctx context.Context, receipt string) error {
	return q.submit(ctx, 0, func(t *txn) error { return t.Ack(receipt) })
}

// Retry implements queue.Queue.
func (q *Queue) Retry(ctx context.Context, receipt string, after time.Duration, cause error) error {
	msg := queue.ErrorText(cause)
	return q.submit(ctx, 0, func(t *txn) error { return t.Retry(receipt, after, msg) })
}

// Release implements queue.Queue.
func (q *Queue) Release(ctx context.Context, receipt string, after time.Duration) error {
	return q.submit(ctx, 0, func(t *txn) error { return t.Release(receipt, after) })
}

// Requeue implements queue.Queue.
func (q *Queue) Requeue(ctx context.Context, id string) error {
	return q.submit(ctx, 0, func(t *txn) error { return t.Requeue(id) })
}

// Failed implements queue.Queue.
func (q *Queue) Failed(ctx context.Context, after string, n int) ([]queue.Item, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: list of %d items", queue.ErrInvalid, n)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var items []queue.Item
	err := q.view(func(t *txn) error {
		c := t.failed.Cursor()
		k, _ := c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, _ = c.Next()
		}
		for ; k != nil && len(items) < n; k, _ = c.Next() {
			r, ok := t.get(string(k))
			if !ok {
				return fmt.Errorf("bolt: queue index names missing item %q", k)
			}
			items = append(items, t.item(string(k), &r))
		}
		return t.err
	})
	return items, err
}

// Stats implements queue.Queue.
func (q *Queue) Stats(ctx context.Context) (queue.Stats, error) {
	if err := ctx.Err(); err != nil {
		return queue.Stats{}, err
	}
	var s queue.Stats
	err := q.view(func(t *txn) error {
		s = t.stats()
		return nil
	})
	return s, err
}

// Close implements queue.Queue: writes already submitted are committed first. Closing a
// closed Queue does nothing.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed.Load() {
		q.mu.Unlock()
		return nil
	}
	q.closed.Store(true)
	close(q.done)
	close(q.ops)
	q.mu.Unlock()
	<-q.stopped
	if q.ownDB {
		return q.db.Close()
	}
	return nil
}

// Reclaim makes every leased item ready at once, spending the old receipts. It is for a
// caller that knows no consumer holds a lease any more: the one process that has the file
// open (bbolt locks it), just after opening it, when the leases in it belong to a process
// that was killed. Without it those items would wait for their leases to run out.
// The leases still count as attempts, so that an item that kills its worker every time ends
// among the failed ones.
func (q *Queue) Reclaim(ctx context.Context) (int, error) {
	n := 0
	err := q.submit(ctx, 0, func(t *txn) error {
		n = t.reclaim()
		return nil
	})
	return n, err
}
