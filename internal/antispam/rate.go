package antispam

import (
	"hash/maphash"
	"math"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ipKey is a client's address; IPv6 clients are keyed by their /64, the block one
// subscriber usually gets, so that rotating addresses inside it buys nothing.
type ipKey = netip.Addr

type pageKey struct{ form, page string }

func addrKey(s string) ipKey {
	a, err := netip.ParseAddr(s)
	if err != nil {
		// The service passes a parsed address; anything else shares one bucket.
		return netip.Addr{}
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

const shards = 16

// limiter is a set of token buckets, one per key, in shards to spread the lock. A bucket that
// has refilled to its burst is the same as a new one, so it is dropped when memory is needed
// or when a sweep comes by; past max, arbitrary buckets go, which at worst gives someone a
// fresh burst. No goroutine: sweeps run on insertion.
type limiter[K comparable] struct {
	limit  rate.Limit
	burst  int
	max    int // buckets per shard
	idle   time.Duration
	seed   maphash.Seed
	shards [shards]shard[K]
}

type shard[K comparable] struct {
	mu    sync.Mutex
	m     map[K]*rate.Limiter
	swept time.Time
}

func newLimiter[K comparable](limit rate.Limit, burst, max int) *limiter[K] {
	l := &limiter[K]{limit: limit, burst: burst, max: max/shards + 1, seed: maphash.MakeSeed()}
	if limit != rate.Inf {
		l.idle = time.Duration(float64(burst) / float64(limit) * float64(time.Second))
	}
	for i := range l.shards {
		l.shards[i].m = make(map[K]*rate.Limiter)
	}
	return l
}

// allow spends a token of key's bucket, or says how long until one is there.
func (l *limiter[K]) allow(key K, now time.Time) (time.Duration, bool) {
	if l.limit == rate.Inf {
		return 0, true
	}
	s := &l.shards[maphash.Comparable(l.seed, key)%shards]
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[key]
	if !ok {
		if len(s.m) >= l.max || now.Sub(s.swept) > l.idle {
			l.sweep(s, now)
		}
		b = rate.NewLimiter(l.limit, l.burst)
		s.m[key] = b
	}
	if b.AllowN(now, 1) {
		return 0, true
	}
	// Whole milliseconds, rounded up: the service rounds again, up to seconds.
	ms := math.Ceil((1 - b.TokensAt(now)) / float64(l.limit) * 1e3)
	return max(time.Duration(ms)*time.Millisecond, time.Millisecond), false
}

func (l *limiter[K]) sweep(s *shard[K], now time.Time) {
	s.swept = now
	for k, b := range s.m {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(s.m, k)
		}
	}
	// Still full: make room for a quarter more, so that the next sweep is far off.
	for k := range s.m {
		if len(s.m) < l.max*3/4 {
			break
		}
		delete(s.m, k)
	}
}

// size counts the buckets held, for tests and metrics.
func (l *limiter[K]) size() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
