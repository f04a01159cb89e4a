package antispam

import (
	"sync"
	"time"
)

// spent counts the accepted submissions of each token, by the token's random nonce. Two
// generations bound its memory: the current one takes new entries, and it becomes the
// previous one when it is a token's lifetime old or holds max entries, so that an entry
// lives at least a lifetime unless a flood of tokens cuts it short.
type spent struct {
	mu        sync.Mutex
	cur, prev map[string]int
	since     time.Time
	life      time.Duration
	max       int
}

func newSpent(life time.Duration, max int) *spent {
	return &spent{cur: map[string]int{}, prev: map[string]int{}, life: life, max: max}
}

// use records one more use of nonce and reports whether it stays within limit.
func (s *spent) use(nonce string, limit int, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.since) > s.life || len(s.cur) >= s.max {
		s.prev, s.cur, s.since = s.cur, make(map[string]int, len(s.cur)), now
	}
	n := s.cur[nonce]
	if n == 0 {
		n = s.prev[nonce]
	}
	if n >= limit {
		return false
	}
	s.cur[nonce] = n + 1
	return true
}

func (s *spent) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cur) + len(s.prev)
}
