package store

import (
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// What notifications need, and nothing longer than they need it: a citizen's subscription
// to what becomes of their submission, moderators' addresses for the digest, and where the
// digest stands. Buckets are made on first write, so that an older store opens as it is.
var (
	bucketSubs      = []byte("subscriptions")      // submission ID → Subscription
	bucketModEmails = []byte("moderator_emails")   // moderator name → address
	bucketMailState = []byte("notification_state") // "digest" → Digest
)

// Subscription is a citizen's wish to hear what becomes of their submission, under the
// submission's ID. It holds the address, and is deleted once it has served: after the
// decision's notice (and, for replies, once their time is over), on unsubscription, or
// unconfirmed after a while.
type Subscription struct {
	ID        string    `json:"id"` // the submission's
	Email     string    `json:"email"`
	Form      string    `json:"form"`
	Page      string    `json:"page,omitempty"`
	Decision  bool      `json:"decision"` // tell when it is published or rejected
	Replies   bool      `json:"replies"`  // tell when someone replies to the comment
	Created   time.Time `json:"created"`
	Confirmed time.Time `json:"confirmed,omitzero"` // zero: the address is not confirmed yet
	Decided   bool      `json:"decided,omitempty"`  // the decision's notice is on its way
	Until     time.Time `json:"until,omitzero"`     // replies are told until then
}

// Active reports whether notices may be sent: the address was confirmed.
func (s *Subscription) Active() bool { return !s.Confirmed.IsZero() }

func bucket(tx *bbolt.Tx, name []byte) (*bbolt.Bucket, error) {
	if tx.Writable() {
		return tx.CreateBucketIfNotExists(name)
	}
	return tx.Bucket(name), nil
}

// PutSubscription adds or replaces a subscription.
func (s *Store) PutSubscription(sub *Subscription) error {
	if sub.ID == "" || sub.Email == "" {
		return errors.New("store: a subscription needs a submission ID and an address")
	}
	if sub.Created.IsZero() {
		sub.Created = time.Now().UTC()
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketSubs)
		if err != nil {
			return err
		}
		v, err := json.Marshal(sub)
		if err != nil {
			return err
		}
		return b.Put([]byte(sub.ID), v)
	})
}

// AddSubscription adds sub unless the submission has one already, and reports whether it
// did: a submission delivered twice (after a crash) subscribes once.
func (s *Store) AddSubscription(sub *Subscription) (bool, error) {
	if sub.ID == "" || sub.Email == "" {
		return false, errors.New("store: a subscription needs a submission ID and an address")
	}
	if sub.Created.IsZero() {
		sub.Created = time.Now().UTC()
	}
	added := false
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketSubs)
		if err != nil {
			return err
		}
		if b.Get([]byte(sub.ID)) != nil {
			return nil
		}
		v, err := json.Marshal(sub)
		if err != nil {
			return err
		}
		added = true
		return b.Put([]byte(sub.ID), v)
	})
	return added, err
}

// Subscription returns a submission's subscription, or ErrNotFound.
func (s *Store) Subscription(id string) (*Subscription, error) {
	var sub Subscription
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, _ := bucket(tx, bucketSubs)
		if b == nil {
			return ErrNotFound
		}
		v := b.Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		return json.Unmarshal(v, &sub)
	})
	if err != nil {
		return nil, err
	}
	return &sub, nil
}

// UpdateSubscription lets fn change a subscription in one transaction; fn returning
// (false, nil) deletes it, an error leaves it as it was.
func (s *Store) UpdateSubscription(id string, fn func(*Subscription) (keep bool, err error)) (*Subscription, error) {
	var sub Subscription
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketSubs)
		if err != nil {
			return err
		}
		v := b.Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		if err := json.Unmarshal(v, &sub); err != nil {
			return err
		}
		keep, err := fn(&sub)
		if err != nil {
			return err
		}
		if !keep {
			return b.Delete([]byte(id))
		}
		if v, err = json.Marshal(&sub); err != nil {
			return err
		}
		return b.Put([]byte(id), v)
	})
	if err != nil {
		return nil, err
	}
	return &sub, nil
}

// DeleteSubscription forgets a subscription, and its address with it.
func (s *Store) DeleteSubscription(id string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketSubs)
		if err != nil {
			return err
		}
		return b.Delete([]byte(id))
	})
}

// walkSubs calls fn for each subscription; fn returning true deletes it (in an update).
func (s *Store) walkSubs(write bool, fn func(*Subscription) bool) error {
	run := s.db.View
	if write {
		run = s.db.Update
	}
	return run(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketSubs)
		if err != nil || b == nil {
			return err
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var sub Subscription
			if json.Unmarshal(v, &sub) != nil {
				continue
			}
			if fn(&sub) && write {
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// SubscriptionsTo lists the subscriptions of an address (any case), for a person who asks
// what is kept about them.
func (s *Store) SubscriptionsTo(email string) ([]*Subscription, error) {
	var out []*Subscription
	err := s.walkSubs(false, func(sub *Subscription) bool {
		if strings.EqualFold(sub.Email, email) {
			c := *sub
			out = append(out, &c)
		}
		return false
	})
	return out, err
}

// DeleteSubscriptionsTo deletes every subscription of an address (any case) and returns
// how many there were.
func (s *Store) DeleteSubscriptionsTo(email string) (int, error) {
	n := 0
	err := s.walkSubs(true, func(sub *Subscription) bool {
		if strings.EqualFold(sub.Email, email) {
			n++
			return true
		}
		return false
	})
	return n, err
}

// ExpireSubscriptions deletes the subscriptions whose time is over: unconfirmed ones created
// before unconfirmedBefore, and confirmed ones whose replies' time (Until) has passed. It
// returns how many it deleted.
func (s *Store) ExpireSubscriptions(now, unconfirmedBefore time.Time) (int, error) {
	n := 0
	err := s.walkSubs(true, func(sub *Subscription) bool {
		if (!sub.Active() && sub.Created.Before(unconfirmedBefore)) || (!sub.Until.IsZero() && now.After(sub.Until)) {
			n++
			return true
		}
		return false
	})
	return n, err
}

// PendingConfirmations counts the unconfirmed subscriptions of an address created since.
func (s *Store) PendingConfirmations(email string, since time.Time) (int, error) {
	n := 0
	err := s.walkSubs(false, func(sub *Subscription) bool {
		if !sub.Active() && strings.EqualFold(sub.Email, email) && !sub.Created.Before(since) {
			n++
		}
		return false
	})
	return n, err
}

// SetModeratorEmail keeps the address a moderator's digest goes to; "" removes it.
func (s *Store) SetModeratorEmail(name, email string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketModEmails)
		if err != nil {
			return err
		}
		if email == "" {
			return b.Delete([]byte(name))
		}
		return b.Put([]byte(name), []byte(email))
	})
}

// ModeratorEmails returns the moderators' addresses by name.
func (s *Store) ModeratorEmails() (map[string]string, error) {
	out := map[string]string{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, _ := bucket(tx, bucketModEmails)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error { out[string(k)] = string(v); return nil })
	})
	return out, err
}

// ModeratorsByEmail lists the moderators whose address is email (any case), by name.
func (s *Store) ModeratorsByEmail(email string) ([]string, error) {
	all, err := s.ModeratorEmails()
	var out []string
	for n, e := range all {
		if strings.EqualFold(e, email) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, err
}

// Digest is where the moderators' digest stands: when the last one went, and the newest
// submission it covered.
type Digest struct {
	Sent   time.Time `json:"sent"`
	Cursor string    `json:"cursor"` // a submission ID: later ones are new
}

// Digest returns the digest's state (zero before the first).
func (s *Store) Digest() (Digest, error) {
	var d Digest
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, _ := bucket(tx, bucketMailState)
		if b == nil {
			return nil
		}
		if v := b.Get([]byte("digest")); v != nil {
			return json.Unmarshal(v, &d)
		}
		return nil
	})
	return d, err
}

// SetDigest records the digest's state.
func (s *Store) SetDigest(d Digest) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketMailState)
		if err != nil {
			return err
		}
		v, err := json.Marshal(d)
		if err != nil {
			return err
		}
		return b.Put([]byte("digest"), v)
	})
}
