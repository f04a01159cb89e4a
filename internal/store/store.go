// Package store keeps what the submission service must not publish: the state of each
// submission (for receipts and moderation), private fields such as e-mail addresses (for
// notifications only), moderators' accounts, sessions, failed sign-ins and where moderators
// signed in from. It lives in a bbolt file beside the queue, never in Git.
package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Status is where a submission stands.
type Status string

const (
	Pending   Status = "pending"   // a change awaits a moderator
	Approved  Status = "approved"  // merged; the site is being rebuilt
	Published Status = "published" // live on the site
	Rejected  Status = "rejected"  // closed by a moderator, with a reason
	Failed    Status = "failed"    // could not become a change; an operator must look
)

// Record is one submission's state.
type Record struct {
	ID        string    `json:"id"`
	Form      string    `json:"form"`
	Page      string    `json:"page,omitempty"`    // the page commented on, a content ref
	Title     string    `json:"title"`             // one line for moderators
	Excerpt   string    `json:"excerpt,omitempty"` // the start of what it says, for the queue
	Author    string    `json:"author,omitempty"`  // display name
	Status    Status    `json:"status"`
	Change    string    `json:"change,omitempty"` // the forge's branch or pull request
	ChangeURL string    `json:"change_url,omitempty"`
	Files     []string  `json:"files,omitempty"` // content paths the change writes
	Reason    string    `json:"reason,omitempty"`
	URL       string    `json:"url,omitempty"` // where it is published
	Signals   []string  `json:"signals,omitempty"`
	Moderator string    `json:"moderator,omitempty"`
	Error     string    `json:"error,omitempty"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
}

var (
	bucketRecords  = []byte("records")
	bucketPrivate  = []byte("private")
	bucketUsers    = []byte("moderators")
	bucketSessions = []byte("sessions")
	bucketFailures = []byte("login_failures")
	bucketKnown    = []byte("login_known")
)

// ErrNotFound is returned for an unknown record, moderator or session.
var ErrNotFound = errors.New("store: not found")

// Store is the service's private state. It is safe for concurrent use.
type Store struct {
	db *bbolt.DB
}

// New uses db, creating the buckets it needs.
func New(db *bbolt.DB) (*Store, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketRecords, bucketPrivate, bucketUsers, bucketSessions, bucketFailures, bucketKnown} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return &Store{db: db}, nil
}

func getJSON(tx *bbolt.Tx, bucket, key []byte, v any) error {
	b := tx.Bucket(bucket).Get(key)
	if b == nil {
		return ErrNotFound
	}
	return json.Unmarshal(b, v)
}

func putJSON(tx *bbolt.Tx, bucket, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Bucket(bucket).Put(key, b)
}

// Get returns a submission's record.
func (s *Store) Get(id string) (*Record, error) {
	var r Record
	err := s.db.View(func(tx *bbolt.Tx) error { return getJSON(tx, bucketRecords, []byte(id), &r) })
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// Put writes a record, stamping Updated.
func (s *Store) Put(r *Record) error {
	if r.ID == "" {
		return errors.New("store: record without an ID")
	}
	r.Updated = time.Now().UTC()
	if r.Created.IsZero() {
		r.Created = r.Updated
	}
	return s.db.Update(func(tx *bbolt.Tx) error { return putJSON(tx, bucketRecords, []byte(r.ID), r) })
}

// Update reads a record, lets fn change it and writes it back in one transaction. fn may
// return an error to leave the record as it was.
func (s *Store) Update(id string, fn func(*Record) error) (*Record, error) {
	var r Record
	err := s.db.Update(func(tx *bbolt.Tx) error {
		if err := getJSON(tx, bucketRecords, []byte(id), &r); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
		r.Updated = time.Now().UTC()
		return putJSON(tx, bucketRecords, []byte(id), &r)
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// List returns up to n records whose status is one of statuses (all when none is given),
// newest first, starting below the ID before (or from the newest when before is empty).
// IDs sort by time, so this is a walk backwards through the bucket.
func (s *Store) List(before string, n int, statuses ...Status) ([]*Record, error) {
	want := map[Status]bool{}
	for _, st := range statuses {
		want[st] = true
	}
	var out []*Record
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		var k, v []byte
		if before == "" {
			k, v = c.Last()
		} else {
			k, v = c.Seek([]byte(before))
			if k == nil {
				k, v = c.Last()
			}
			for k != nil && bytes.Compare(k, []byte(before)) >= 0 {
				k, v = c.Prev()
			}
		}
		for ; k != nil && (n <= 0 || len(out) < n); k, v = c.Prev() {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("store: record %s: %w", k, err)
			}
			if len(want) == 0 || want[r.Status] {
				out = append(out, &r)
			}
		}
		return nil
	})
	return out, err
}

// Count counts records by status.
func (s *Store) Count() (map[Status]int, error) {
	out := map[Status]int{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error {
			var r struct {
				Status Status `json:"status"`
			}
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out[r.Status]++
			return nil
		})
	})
	return out, err
}

// SetPrivate keeps a submission's private fields (an e-mail address for notifications).
func (s *Store) SetPrivate(id string, fields map[string]string) error {
	if len(fields) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bbolt.Tx) error { return putJSON(tx, bucketPrivate, []byte(id), fields) })
}

// Private returns a submission's private fields, or nil.
func (s *Store) Private(id string) (map[string]string, error) {
	var m map[string]string
	err := s.db.View(func(tx *bbolt.Tx) error { return getJSON(tx, bucketPrivate, []byte(id), &m) })
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return m, err
}

// DeletePrivate forgets a submission's private fields, once they have served.
func (s *Store) DeletePrivate(id string) error {
	return s.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketPrivate).Delete([]byte(id)) })
}

// Moderator is an account of the moderation pages. Hash is a bcrypt hash.
type Moderator struct {
	Name    string    `json:"name"`
	Hash    string    `json:"hash"`
	Created time.Time `json:"created"`
}

// PutModerator adds or replaces an account.
func (s *Store) PutModerator(m Moderator) error {
	if m.Name == "" || m.Hash == "" {
		return errors.New("store: a moderator needs a name and a password hash")
	}
	if m.Created.IsZero() {
		m.Created = time.Now().UTC()
	}
	return s.db.Update(func(tx *bbolt.Tx) error { return putJSON(tx, bucketUsers, []byte(m.Name), m) })
}

// Moderator returns an account.
func (s *Store) Moderator(name string) (*Moderator, error) {
	var m Moderator
	err := s.db.View(func(tx *bbolt.Tx) error { return getJSON(tx, bucketUsers, []byte(name), &m) })
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// Moderators lists the accounts kept in the store, by name.
func (s *Store) Moderators() ([]Moderator, error) {
	var out []Moderator
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
			var m Moderator
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			out = append(out, m)
			return nil
		})
	})
	return out, err
}

// DeleteModerator removes an account and its sessions.
func (s *Store) DeleteModerator(name string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketUsers).Get([]byte(name)) == nil {
			return ErrNotFound
		}
		if err := tx.Bucket(bucketUsers).Delete([]byte(name)); err != nil {
			return err
		}
		c := tx.Bucket(bucketSessions).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var sess Session
			if json.Unmarshal(v, &sess) == nil && sess.User == name {
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Session is a moderator's login. Only a hash of its token is stored, so that a copy of the
// database does not let anyone in.
type Session struct {
	User    string    `json:"user"`
	CSRF    string    `json:"csrf"`
	Expires time.Time `json:"expires"`
	Created time.Time `json:"created,omitzero"` // sign-in time; zero in sessions from before it was kept
}

func sessionKey(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// PutSession stores a session under its token.
func (s *Store) PutSession(token string, sess Session) error {
	return s.db.Update(func(tx *bbolt.Tx) error { return putJSON(tx, bucketSessions, sessionKey(token), sess) })
}

// Session returns a live session, or ErrNotFound (expired ones are deleted).
func (s *Store) Session(token string, now time.Time) (*Session, error) {
	var sess Session
	err := s.db.View(func(tx *bbolt.Tx) error { return getJSON(tx, bucketSessions, sessionKey(token), &sess) })
	if err != nil {
		return nil, err
	}
	if now.After(sess.Expires) {
		_ = s.DeleteSession(token)
		return nil, ErrNotFound
	}
	return &sess, nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(token string) error {
	return s.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketSessions).Delete(sessionKey(token)) })
}

// PurgeSessions deletes expired sessions.
func (s *Store) PurgeSessions(now time.Time) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketSessions).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var sess Session
			if json.Unmarshal(v, &sess) != nil || now.After(sess.Expires) {
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Failures are the recent failed sign-ins counted under one key (a client address, an
// account, a browser): how many, and when the last one was. The service decides what they
// cost; the store only counts.
type Failures struct {
	Count int       `json:"count"`
	Last  time.Time `json:"last"`
}

// Failures returns the failures counted under each key. A key whose last failure is older
// than forget has none.
func (s *Store) Failures(now time.Time, forget time.Duration, keys ...string) (map[string]Failures, error) {
	out := make(map[string]Failures, len(keys))
	err := s.db.View(func(tx *bbolt.Tx) error {
		for _, k := range keys {
			f, err := readFailures(tx, k, now, forget)
			if err != nil {
				return err
			}
			out[k] = f
		}
		return nil
	})
	return out, err
}

// LoginFailed counts one failure under each key, in one transaction, and returns the
// counts after it. A key whose last failure is older than forget starts again from one.
func (s *Store) LoginFailed(now time.Time, forget time.Duration, keys ...string) (map[string]Failures, error) {
	out := make(map[string]Failures, len(keys))
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for _, k := range keys {
			f, err := readFailures(tx, k, now, forget)
			if err != nil {
				return err
			}
			f.Count++
			f.Last = now
			if err := putJSON(tx, bucketFailures, []byte(k), f); err != nil {
				return err
			}
			out[k] = f
		}
		return nil
	})
	return out, err
}

func readFailures(tx *bbolt.Tx, key string, now time.Time, forget time.Duration) (Failures, error) {
	var f Failures
	// A record of an older layout ({count, first, until}) has no last failure: forgotten.
	if err := getJSON(tx, bucketFailures, []byte(key), &f); err != nil && !errors.Is(err, ErrNotFound) {
		return Failures{}, err
	}
	if now.Sub(f.Last) > forget {
		return Failures{}, nil
	}
	return f, nil
}

// LoginSucceeded clears the failures of keys and marks the known keys (an account with
// the address or browser it signed in from) as seen now.
func (s *Store) LoginSucceeded(now time.Time, clear, known []string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		for _, k := range clear {
			if err := tx.Bucket(bucketFailures).Delete([]byte(k)); err != nil {
				return err
			}
		}
		for _, k := range known {
			if err := putJSON(tx, bucketKnown, []byte(k), now.UTC()); err != nil {
				return err
			}
		}
		return nil
	})
}

// KnownSince reports when key last signed in (see LoginSucceeded), or the zero time.
func (s *Store) KnownSince(key string) (time.Time, error) {
	var t time.Time
	err := s.db.View(func(tx *bbolt.Tx) error { return getJSON(tx, bucketKnown, []byte(key), &t) })
	if errors.Is(err, ErrNotFound) {
		return time.Time{}, nil
	}
	return t, err
}

// PurgeLogins deletes failures older than forget and sign-ins older than known, so that
// failures from many addresses do not pile up.
func (s *Store) PurgeLogins(now time.Time, forget, known time.Duration) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketFailures).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var f Failures
			if json.Unmarshal(v, &f) != nil || now.Sub(f.Last) > forget {
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		c = tx.Bucket(bucketKnown).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var t time.Time
			if json.Unmarshal(v, &t) != nil || now.Sub(t) > known {
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
