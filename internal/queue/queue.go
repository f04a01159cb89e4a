// Package queue defines the durable queue that holds citizens' submissions between the
// moment the service accepts them and the moment a worker has turned them into a change.
//
// # Durability contract
//
// Every implementation promises the following; the conformance suite in queuetest checks
// what a test can observe of it.
//
//   - Put returns nil only once the item is on stable storage: for an embedded store, written
//     and fsync'd to its file; for a remote one, acknowledged by the service as stored. An
//     accepted item survives the process being killed at any instant, and a power loss as
//     far as the disk honours fsync. The service answers a citizen only after Put returns.
//   - Put returns ErrDuplicate, with the first item's ID, when an item with the same Key was
//     accepted within the key window (or is still queued, however old): the first item is
//     then durable and nothing new is stored.
//   - Any other error from Put means the item must be taken as not accepted. It is normally
//     absent; if the failure struck during the commit it may exist, which is why a caller
//     that tries again should keep the same Key.
//   - Nothing accepted is dropped by the queue. An item leaves the queue only through Ack.
//     An item that exhausted its attempts is kept as failed until an operator requeues it.
//   - Delivery is at least once. Between Lease and Ack no other consumer is handed the item;
//     once the lease runs out (a worker crashed or stalled) it is handed out again. A
//     consumer must therefore make its work idempotent, keyed by the item's ID.
//   - Among ready items, Lease hands out the oldest first, by order of acceptance.
//
// Lease, Ack, Retry, Release and Requeue are durable too when they return, but losing one
// of them in a crash costs at most a second delivery, never an item.
package queue

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"
)

// Item is one queued submission. Put reads ID, Key, Kind and Payload; the queue sets the
// other fields.
type Item struct {
	ID      string // unique, of ASCII letters, digits, '-' and '_'; Put makes a ULID when empty
	Key     string // idempotency key: a re-sent form with the same Key is not queued twice
	Kind    string // the form's name
	Payload []byte // opaque to the queue

	Enqueued  time.Time // when Put accepted the item
	Attempts  int       // how many times the item was leased, less the leases Released
	LastError string    // the cause given to the last Retry, or why the item failed
	Receipt   string    // the handle of the lease that returned the item, for Ack and Retry
}

// Stats counts the items in each state.
type Stats struct {
	Ready   int // waiting for a consumer
	Delayed int // waiting for a retry delay to pass
	Leased  int // handed out and not yet acked or retried
	Failed  int // out of attempts, kept for an operator
}

// Queue is a durable work queue. All methods are safe for concurrent use.
type Queue interface {
	// Put stores it durably before it returns, and returns its ID. If an item with the same
	// non-empty Key was accepted within the key window, or is still in the queue, Put stores
	// nothing and returns that item's ID with ErrDuplicate. If ctx is done before the write
	// begins, Put stores nothing and returns ctx.Err(); once the write has begun, Put waits
	// for its outcome.
	Put(ctx context.Context, it Item) (id string, err error)

	// Lease hands out up to n ready items, oldest first, and hides them from other consumers
	// for d. It waits until at least one item is ready, or returns ctx.Err() when ctx is done
	// first: a deadline on ctx makes it a long poll. Each lease counts as one attempt.
	Lease(ctx context.Context, n int, d time.Duration) ([]Item, error)

	// Ack removes a leased item: its work is done. The receipt is the one Lease returned in
	// Item.Receipt. Ack, Retry and Release spend it; otherwise it stays good until the item
	// is leased again, so a consumer whose lease ran out may still ack if nobody else took
	// the item. With a spent or superseded receipt, Ack returns ErrLeaseLost.
	Ack(ctx context.Context, receipt string) error

	// Retry gives a leased item back, to be ready again after the delay, and records cause
	// (which may be nil) as its LastError. An item that has used all its attempts moves to
	// the failed state instead. It returns ErrLeaseLost as Ack does.
	Retry(ctx context.Context, receipt string, after time.Duration, cause error) error

	// Release gives a leased item back untried, to be ready again after the delay, and
	// does not count the lease as an attempt: for a consumer that holds off because of a
	// rate limit or an outage, which is no fault of the item. It returns ErrLeaseLost as
	// Ack does.
	Release(ctx context.Context, receipt string, after time.Duration) error

	// Failed lists up to n failed items whose ID sorts after the given one, in ID order.
	Failed(ctx context.Context, after string, n int) ([]Item, error)

	// Requeue makes a failed item ready again with its attempts reset. It returns
	// ErrNotFound if no failed item has that ID.
	Requeue(ctx context.Context, id string) error

	// Stats counts the items in each state.
	Stats(ctx context.Context) (Stats, error)

	// Close commits the writes already under way, then releases the queue. Blocked Leases
	// return ErrClosed, and so does every later call but Close, which does nothing.
	Close() error
}

// Errors returned by Queue implementations; test for them with errors.Is.
var (
	ErrDuplicate = errors.New("queue: duplicate item")
	ErrLeaseLost = errors.New("queue: lease lost")
	ErrNotFound  = errors.New("queue: item not found")
	ErrClosed    = errors.New("queue: closed")
	ErrInvalid   = errors.New("queue: invalid item")
)

// Defaults for implementations' settings.
const (
	DefaultMaxAttempts = 10             // leases before an item fails
	DefaultKeyWindow   = 24 * time.Hour // how long an idempotency key is remembered
)

// Limits every implementation accepts. The payload limit leaves room for the remote queues'
// message size once encoded; the service keeps uploads in blob storage, not in the queue.
const (
	MaxIDLen   = 128
	MaxKeyLen  = 512
	MaxKindLen = 128
	MaxPayload = 256 << 10
	MaxError   = 2048 // LastError is cut to this many bytes
)

// Check reports whether Put may accept it (with its ID set), wrapping ErrInvalid.
func Check(it Item) error {
	switch {
	case it.ID == "":
		return fmt.Errorf("%w: empty ID", ErrInvalid)
	case len(it.ID) > MaxIDLen || strings.TrimFunc(it.ID, idRune) != "":
		return fmt.Errorf("%w: ID %q: want at most %d letters, digits, '-' and '_'", ErrInvalid, it.ID, MaxIDLen)
	case len(it.Key) > MaxKeyLen:
		return fmt.Errorf("%w: key of %d bytes, at most %d", ErrInvalid, len(it.Key), MaxKeyLen)
	case len(it.Kind) > MaxKindLen:
		return fmt.Errorf("%w: kind of %d bytes, at most %d", ErrInvalid, len(it.Kind), MaxKindLen)
	case len(it.Payload) > MaxPayload:
		return fmt.Errorf("%w: payload of %d bytes, at most %d", ErrInvalid, len(it.Payload), MaxPayload)
	}
	return nil
}

// idRune reports whether r may appear in an ID. IDs end up in branch names, file names and
// URLs, so they keep to characters that are safe in all three.
func idRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// ErrorText returns what an implementation records as LastError for cause.
func ErrorText(cause error) string {
	if cause == nil {
		return ""
	}
	s := cause.Error()
	if len(s) <= MaxError {
		return s
	}
	// Cut on a rune boundary so the record stays valid UTF-8.
	cut := MaxError
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// entropy makes IDs minted in one process strictly increasing, even within a millisecond.
var entropy = &ulid.LockedMonotonicReader{MonotonicReader: ulid.Monotonic(rand.Reader, 0)}

// NewID returns a new item ID: a ULID, which sorts by time of creation.
func NewID() string {
	id, err := ulid.New(ulid.Now(), entropy)
	if err != nil {
		// The monotonic counter overflowed within this millisecond: fall back to plain
		// random entropy, unique though not ordered.
		id = ulid.MustNew(ulid.Now(), rand.Reader)
	}
	return id.String()
}
