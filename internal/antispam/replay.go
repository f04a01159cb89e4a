package antispam

import (
	"hash/maphash"
	"slices"
	"sync"
	"time"
)

// spent counts the accepted submissions of each token, by the token's random nonce, with
// the keys of those submissions, so that a resend of one of them is told from a new one.
// Two generations bound its memory: the current one takes new entries, and it becomes the
// previous one when it is a token's lifetime old or holds max entries, so that an entry
// lives at least a lifetime unless a flood of tokens cuts it short.
//
// Nonces and keys are kept as hashes with a seed of the process's own: 8 bytes each, and
// nobody outside can make two of them collide on purpose.
type spent struct {
	mu        sync.Mutex
	seed      maphash.Seed
	cur, prev map[uint64][]uint64 // nonce → keys of its accepted submissions
	since     time.Time
	life      time.Duration
	max       int
}

func newSpent(life time.Duration, max int) *spent {
	return &spent{seed: maphash.MakeSeed(), cur: map[uint64][]uint64{}, prev: map[uint64][]uint64{}, life: life, max: max}
}

// use records one more use of nonce by the submission key and reports whether it stays
// within limit, and whether it counted. A key already recorded for nonce passes again
// without counting; an empty key is never the same as another.
func (s *spent) use(nonce, key string, limit int, now time.Time) (ok, counted bool) {
	n, k := maphash.String(s.seed, nonce), s.key(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.since) > s.life || len(s.cur) >= s.max {
		s.prev, s.cur, s.since = s.cur, make(map[uint64][]uint64, len(s.cur)), now
	}
	keys, ok := s.cur[n]
	if !ok {
		keys = s.prev[n]
	}
	if k != 0 && slices.Contains(keys, k) {
		return true, false
	}
	if len(keys) >= limit {
		return false, false
	}
	s.cur[n] = append(slices.Clip(keys), k)
	return true, true
}

// undo gives back the use that key just made of nonce (use counted it), when a later rule
// refused the submission.
func (s *spent) undo(nonce, key string) {
	n, k := maphash.String(s.seed, nonce), s.key(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	keys, ok := s.cur[n]
	if !ok || len(keys) == 0 || keys[len(keys)-1] != k {
		return
	}
	if len(keys) == 1 {
		delete(s.cur, n)
		return
	}
	s.cur[n] = keys[:len(keys)-1]
}

// key hashes a submission's key; 0 stands for none.
func (s *spent) key(key string) uint64 {
	if key == "" {
		return 0
	}
	return maphash.String(s.seed, key) | 1
}

func (s *spent) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cur) + len(s.prev)
}
