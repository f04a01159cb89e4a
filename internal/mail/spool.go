package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"
	"go.etcd.io/bbolt"
)

// The spool's buckets, in the service's bbolt file. Queued messages hold their recipient
// until delivered; the other two hold no address.
var (
	bucketSpool  = []byte("mail_spool")  // ID → entry
	bucketSent   = []byte("mail_sent")   // ID → delivery time: a message is sent once
	bucketFailed = []byte("mail_failed") // ID → Failure: given up, for the operator
)

// Defaults of SpoolOptions.
const (
	DefaultRetryFor = 48 * time.Hour
	defaultMinDelay = 30 * time.Second
	defaultMaxDelay = time.Hour
	defaultTimeout  = 2 * time.Minute
	keepSent        = 7 * 24 * time.Hour
	keepFailed      = 30 * 24 * time.Hour
	maxWait         = 10 * time.Minute
)

// SpoolOptions tune a Spool. Zero values take the defaults.
type SpoolOptions struct {
	// RetryFor bounds how long a message is retried after it was queued (default 48 h).
	// Past it the message is given up and reported.
	RetryFor time.Duration
	// MinDelay and MaxDelay bound the backoff between tries (default 30 s, 1 h): it doubles
	// from the first to the second.
	MinDelay, MaxDelay time.Duration
	// SendTimeout bounds one delivery (default 2 min).
	SendTimeout time.Duration
	Logger      *slog.Logger
	Now         func() time.Time
	// OnGiveUp is called for each message given up, besides the log's error.
	OnGiveUp func(Failure)
}

// Failure is a message given up: what an operator needs to see, without the address or
// the text.
type Failure struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind,omitempty"`
	Subject  string    `json:"subject"`
	Queued   time.Time `json:"queued"`
	GaveUp   time.Time `json:"gave_up"`
	Attempts int       `json:"attempts"`
	Error    string    `json:"error"`
}

// Stats describe the spool.
type Stats struct {
	Queued    int       // waiting for delivery
	Oldest    time.Time // when the oldest of them was queued
	Failed    int       // given up in the last 30 days
	Delivered uint64    // since the process started
	Retried   uint64
	GivenUp   uint64
}

type entry struct {
	Msg       Message   `json:"msg"`
	Queued    time.Time `json:"queued"`
	Next      time.Time `json:"next"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
}

// Spool is a durable, bounded retry queue in front of a backend. Send writes a message to
// the store (synced) and returns; Run delivers what is due, and keeps what fails for a
// later try, with backoff: a mail server's outage delays notifications but loses none.
// Delivery is at least once: a crash between the server's acceptance and the spool's
// record of it sends that one message again, with the same Message-ID.
type Spool struct {
	db   *bbolt.DB
	opt  SpoolOptions
	log  *slog.Logger
	kick chan struct{}

	mu      sync.Mutex // one delivery pass at a time
	backend Sender
	pause   time.Time // the backend failed as a whole: nothing is tried before
	fails   int       // passes in a row that found the backend unavailable

	delivered, retried, gaveUp atomic.Uint64
}

// NewSpool keeps its queue in db, creating its buckets, and delivers through backend.
func NewSpool(db *bbolt.DB, backend Sender, o SpoolOptions) (*Spool, error) {
	if backend == nil {
		return nil, errors.New("mail: a spool needs a backend")
	}
	if o.RetryFor <= 0 {
		o.RetryFor = DefaultRetryFor
	}
	if o.MinDelay <= 0 {
		o.MinDelay = defaultMinDelay
	}
	if o.MaxDelay < o.MinDelay {
		o.MaxDelay = max(defaultMaxDelay, o.MinDelay)
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = defaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketSpool, bucketSent, bucketFailed} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	return &Spool{db: db, opt: o, log: o.Logger, kick: make(chan struct{}, 1), backend: backend}, nil
}

// SetBackend changes where messages go (the outbox, or a mail server), for those not yet
// delivered too.
func (s *Spool) SetBackend(b Sender) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.backend, s.pause, s.fails = b, time.Time{}, 0
}

// Describe says where mail goes, for the operator's log.
func (s *Spool) Describe() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.backend.(interface{ Describe() string }); ok {
		return d.Describe()
	}
	return fmt.Sprintf("%T", s.backend)
}

func newID() string { return strings.ToLower(ulid.Make().String()) }

// Send queues m durably and returns; Run delivers it. It sets m's ID and date when empty. A
// message whose ID is queued or was delivered in the last week is not queued again. A
// message that could never be sent (a header with a line break, no recipient) is refused
// here, with the reason.
func (s *Spool) Send(ctx context.Context, m Message) error {
	now := s.opt.Now()
	if m.ID == "" {
		m.ID = newID()
	}
	if m.Date.IsZero() {
		m.Date = now
	}
	if _, err := build(m); err != nil {
		return err
	}
	b, err := json.Marshal(entry{Msg: m, Queued: now, Next: now})
	if err != nil {
		return err
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		k := []byte(m.ID)
		if tx.Bucket(bucketSpool).Get(k) != nil || tx.Bucket(bucketSent).Get(k) != nil {
			return nil
		}
		return tx.Bucket(bucketSpool).Put(k, b)
	})
	if err != nil {
		return fmt.Errorf("mail: queueing %s: %w", m.ID, err)
	}
	s.wake()
	return nil
}

func (s *Spool) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run delivers queued messages until ctx is done.
func (s *Spool) Run(ctx context.Context) error {
	s.purge()
	lastPurge := s.opt.Now()
	for {
		wait := s.pass(ctx)
		if s.opt.Now().Sub(lastPurge) > time.Hour {
			s.purge()
			lastPurge = s.opt.Now()
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// Flush makes one delivery pass now, as Run does, and returns the spool's state after it.
// A command that queues mail and exits without Run may call it.
func (s *Spool) Flush(ctx context.Context) (Stats, error) {
	s.pass(ctx)
	return s.Stats()
}

// unavailable marks a failure of the backend as a whole (the server cannot be reached, the
// disk is full): the other messages would fail the same way.
type unavailable struct{ err error }

func (u unavailable) Error() string { return u.err.Error() }
func (u unavailable) Unwrap() error { return u.err }

// Unavailable wraps err to say the backend failed as a whole, not this message.
func Unavailable(err error) error {
	if err == nil {
		return nil
	}
	return unavailable{err}
}

func isUnavailable(err error) bool {
	var u unavailable
	return errors.As(err, &u)
}

// pass tries every due message once, in the order they were queued, and returns how long
// to wait before the next pass. A backend that is unavailable ends the pass: the messages
// after it stay as they are and are tried when the pause ends.
func (s *Spool) pass(ctx context.Context) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opt.Now()
	if now.Before(s.pause) {
		return s.pause.Sub(now)
	}
	entries, err := s.load()
	if err != nil {
		s.log.Error("mail: reading the spool", "err", err)
		return s.opt.MinDelay
	}
	wait := maxWait
	for _, e := range entries {
		if ctx.Err() != nil {
			return wait
		}
		if now.Sub(e.Queued) > s.opt.RetryFor {
			s.giveUp(e, fmt.Errorf("not delivered within %s: %s", s.opt.RetryFor, e.LastError))
			continue
		}
		if e.Next.After(now) {
			wait = min(wait, e.Next.Sub(now))
			continue
		}
		err := s.deliver(ctx, e)
		now = s.opt.Now()
		switch {
		case err == nil:
			s.fails = 0
		case errors.Is(err, errGone):
		case IsPermanent(err):
			s.giveUp(e, err)
		case isUnavailable(err):
			s.fails++
			d := s.backoff(s.fails)
			s.pause = now.Add(d)
			e.Attempts++
			e.Next, e.LastError = s.pause, err.Error()
			s.save(e)
			s.retried.Add(1)
			s.log.Warn("mail: the mail server is unavailable; queued messages wait", "retry_in", d, "err", redact(err, e.Msg.To))
			return d
		default:
			e.Attempts++
			d := s.backoff(e.Attempts)
			e.Next, e.LastError = now.Add(d), err.Error()
			s.save(e)
			s.retried.Add(1)
			s.log.Warn("mail: message not delivered, will retry", "id", e.Msg.ID, "kind", e.Msg.Kind, "attempt", e.Attempts, "retry_in", d, "err", redact(err, e.Msg.To))
			wait = min(wait, d)
		}
	}
	return wait
}

var errGone = errors.New("forgotten while queued")

// redact is an error's text without the recipient's address, which a server's answer often
// repeats: the log and the reports keep no address.
func redact(err error, to string) string {
	if to == "" {
		return err.Error()
	}
	return strings.ReplaceAll(err.Error(), to, "<recipient>")
}

// deliver sends one message, unless it was forgotten meanwhile, and records it as sent.
func (s *Spool) deliver(ctx context.Context, e *entry) error {
	var still bool
	_ = s.db.View(func(tx *bbolt.Tx) error {
		still = tx.Bucket(bucketSpool).Get([]byte(e.Msg.ID)) != nil
		return nil
	})
	if !still {
		return errGone
	}
	ctx, cancel := context.WithTimeout(ctx, s.opt.SendTimeout)
	err := s.backend.Send(ctx, e.Msg)
	cancel()
	if err != nil {
		return err
	}
	s.delivered.Add(1)
	stamp, _ := json.Marshal(s.opt.Now().UTC())
	err = s.db.Update(func(tx *bbolt.Tx) error {
		k := []byte(e.Msg.ID)
		if err := tx.Bucket(bucketSpool).Delete(k); err != nil {
			return err
		}
		return tx.Bucket(bucketSent).Put(k, stamp)
	})
	if err != nil {
		s.log.Error("mail: recording a delivery; the message may be sent again", "id", e.Msg.ID, "err", err)
	}
	return nil
}

func (s *Spool) backoff(n int) time.Duration {
	d := s.opt.MinDelay << min(max(n-1, 0), 20)
	return min(d, s.opt.MaxDelay)
}

func (s *Spool) load() ([]*entry, error) {
	var out []*entry
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketSpool).ForEach(func(k, v []byte) error {
			var e entry
			if err := json.Unmarshal(v, &e); err != nil || e.Msg.ID == "" {
				s.log.Error("mail: an unreadable message in the spool is left aside", "key", string(k), "err", err)
				return nil
			}
			out = append(out, &e)
			return nil
		})
	})
	// Oldest first: IDs the spool makes sort by time, the callers' own need not.
	sortEntries(out)
	return out, err
}

func sortEntries(l []*entry) {
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && l[j].Queued.Before(l[j-1].Queued); j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
}

func (s *Spool) save(e *entry) {
	b, err := json.Marshal(e)
	if err == nil {
		err = s.db.Update(func(tx *bbolt.Tx) error {
			k := []byte(e.Msg.ID)
			if tx.Bucket(bucketSpool).Get(k) == nil {
				return nil // forgotten meanwhile
			}
			return tx.Bucket(bucketSpool).Put(k, b)
		})
	}
	if err != nil {
		s.log.Error("mail: recording a retry", "id", e.Msg.ID, "err", err)
	}
}

// giveUp removes a message, address and all, and keeps a report of it without them.
func (s *Spool) giveUp(e *entry, cause error) {
	f := Failure{ID: e.Msg.ID, Kind: e.Msg.Kind, Subject: e.Msg.Subject, Queued: e.Queued, GaveUp: s.opt.Now().UTC(),
		Attempts: e.Attempts, Error: redact(cause, e.Msg.To)}
	b, _ := json.Marshal(f)
	err := s.db.Update(func(tx *bbolt.Tx) error {
		k := []byte(e.Msg.ID)
		if err := tx.Bucket(bucketSpool).Delete(k); err != nil {
			return err
		}
		return tx.Bucket(bucketFailed).Put(k, b)
	})
	if err != nil {
		s.log.Error("mail: giving a message up", "id", e.Msg.ID, "err", err)
		return
	}
	s.gaveUp.Add(1)
	s.log.Error("mail: message given up", "id", f.ID, "kind", f.Kind, "subject", f.Subject, "attempts", f.Attempts, "queued", f.Queued, "err", f.Error)
	if s.opt.OnGiveUp != nil {
		s.opt.OnGiveUp(f)
	}
}

// purge forgets delivery stamps older than a week and reports older than 30 days.
func (s *Spool) purge() {
	now := s.opt.Now()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketSent).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var t time.Time
			if json.Unmarshal(v, &t) != nil || now.Sub(t) > keepSent {
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		c = tx.Bucket(bucketFailed).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var f Failure
			if json.Unmarshal(v, &f) != nil || now.Sub(f.GaveUp) > keepFailed {
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		s.log.Warn("mail: purging old records", "err", err)
	}
}

// Stats returns the spool's state.
func (s *Spool) Stats() (Stats, error) {
	st := Stats{Delivered: s.delivered.Load(), Retried: s.retried.Load(), GivenUp: s.gaveUp.Load()}
	err := s.db.View(func(tx *bbolt.Tx) error {
		st.Failed = tx.Bucket(bucketFailed).Stats().KeyN
		return tx.Bucket(bucketSpool).ForEach(func(k, v []byte) error {
			var e entry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			st.Queued++
			if st.Oldest.IsZero() || e.Queued.Before(st.Oldest) {
				st.Oldest = e.Queued
			}
			return nil
		})
	})
	return st, err
}

// Failed lists the messages given up in the last 30 days, oldest first.
func (s *Spool) Failed() ([]Failure, error) {
	var out []Failure
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketFailed).ForEach(func(k, v []byte) error {
			var f Failure
			if err := json.Unmarshal(v, &f); err != nil {
				return err
			}
			out = append(out, f)
			return nil
		})
	})
	return out, err
}

// Queued returns the messages waiting for the address to (any case), for a person who asks
// what is kept about them.
func (s *Spool) Queued(to string) ([]Message, error) {
	var out []Message
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketSpool).ForEach(func(k, v []byte) error {
			var e entry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if strings.EqualFold(e.Msg.To, to) {
				out = append(out, e.Msg)
			}
			return nil
		})
	})
	return out, err
}

// Forget deletes the messages waiting for the address to (any case), and returns how many
// there were: a person who unsubscribes or asks to be erased gets none of them.
func (s *Spool) Forget(to string) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketSpool).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var e entry
			if json.Unmarshal(v, &e) != nil || !strings.EqualFold(e.Msg.To, to) {
				continue
			}
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// ForgetPrefix deletes the queued messages whose ID starts with prefix (the notices of one
// subscription), and returns how many there were.
func (s *Spool) ForgetPrefix(prefix string) (int, error) {
	if prefix == "" {
		return 0, errors.New("mail: forgetting needs a prefix")
	}
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketSpool).Cursor()
		for k, _ := c.Seek([]byte(prefix)); k != nil && strings.HasPrefix(string(k), prefix); k, _ = c.Seek([]byte(prefix)) {
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
