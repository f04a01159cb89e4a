package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.etcd.io/bbolt"
)

// Shared dossiers: the key each one is sealed with and the people it is shared with. Both
// are private: the key opens the dossier, the addresses are personal data. Neither goes to
// Git or to the built site.
var bucketShares = []byte("shared_dossiers") // dossier ref → SharedDossier

// SharedDossier is what the service keeps of one shared dossier.
type SharedDossier struct {
	Ref string `json:"ref"` // the dossier's content ref: dossiers/<slug>
	// ID names the dossier in the built site (/shared/<ID>/): random, so that the address
	// says nothing of the dossier.
	ID string `json:"id"`
	// Salt keys the names of the dossier's pages and files in the built site. It never
	// changes, so that a page keeps its address when the key is rotated.
	Salt []byte `json:"salt"`
	// Key is the current key; earlier versions are forgotten once replaced, since the site
	// is rebuilt under the new one.
	Key     ShareKey      `json:"key"`
	Members []ShareMember `json:"members,omitempty"`
	Created time.Time     `json:"created"`
}

// ShareKey is one version of a dossier's key: 32 random bytes for AES-256-GCM.
type ShareKey struct {
	Version int       `json:"version"`
	Secret  []byte    `json:"secret"`
	Created time.Time `json:"created"`
}

// ShareMember is a person a dossier is shared with.
type ShareMember struct {
	Email string    `json:"email"`
	Added time.Time `json:"added"`
	// Sent is the key version of the last link sent to them; a member whose Sent is below
	// the current version is owed a new link.
	Sent int `json:"sent,omitempty"`
}

// Member returns the member with this address (compared as given: callers normalize), or nil.
func (d *SharedDossier) Member(email string) *ShareMember {
	for i := range d.Members {
		if d.Members[i].Email == email {
			return &d.Members[i]
		}
	}
	return nil
}

// SharedDossier returns a dossier's record, or ErrNotFound.
func (s *Store) SharedDossier(ref string) (*SharedDossier, error) {
	var d SharedDossier
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketShares)
		if b == nil {
			return ErrNotFound
		}
		v := b.Get([]byte(ref))
		if v == nil {
			return ErrNotFound
		}
		return json.Unmarshal(v, &d)
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// UpdateSharedDossier lets fn change a dossier's record in one transaction, and returns it
// as written. A dossier with no record yet comes to fn with only its Ref set, and created
// reports so. An error from fn leaves the record as it was.
func (s *Store) UpdateSharedDossier(ref string, fn func(d *SharedDossier, created bool) error) (*SharedDossier, error) {
	if ref == "" {
		return nil, errors.New("store: a shared dossier needs its ref")
	}
	var d SharedDossier
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketShares)
		if err != nil {
			return err
		}
		d = SharedDossier{}
		created := true
		if v := b.Get([]byte(ref)); v != nil {
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("store: shared dossier %s: %w", ref, err)
			}
			created = false
		}
		d.Ref = ref
		if err := fn(&d, created); err != nil {
			return err
		}
		if d.ID == "" || len(d.Key.Secret) != 32 {
			return fmt.Errorf("store: shared dossier %s: an ID and a 32-byte key are needed", ref)
		}
		v, err := json.Marshal(&d)
		if err != nil {
			return err
		}
		return b.Put([]byte(ref), v)
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// SharedDossiers lists the dossiers with a record, by ref.
func (s *Store) SharedDossiers() ([]*SharedDossier, error) {
	var out []*SharedDossier
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketShares)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var d SharedDossier
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("store: shared dossier %s: %w", k, err)
			}
			out = append(out, &d)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out, err
}

// DeleteSharedDossier forgets a dossier's key and members (a dossier made public, or
// removed).
func (s *Store) DeleteSharedDossier(ref string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketShares)
		if b == nil || b.Get([]byte(ref)) == nil {
			return ErrNotFound
		}
		return b.Delete([]byte(ref))
	})
}
