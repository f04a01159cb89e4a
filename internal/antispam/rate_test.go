package antispam

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestRateLimits(t *testing.T) {
	c := newChecker(t, func(cfg *Config) {
		cfg.RatePerIP, cfg.BurstPerIP = rate.Every(10*time.Second), 3
		cfg.RatePerPage, cfg.BurstPerPage = rate.Every(time.Minute), 4
	})
	at := t0.Add(time.Minute)
	post := func(ip, page string, at time.Time) Verdict {
		s := valid(c, "document")
		s.IP, s.Page = ip, page
		return c.Check(s, at)
	}
	for i := 0; i < 3; i++ {
		if v := post("192.0.2.1", "/a/", at); !v.OK {
			t.Fatalf("post %d: %+v", i, v)
		}
	}
	v := post("192.0.2.1", "/a/", at)
	if v.Reason != ReasonRateIP || v.RetryAfter != 10*time.Second {
		t.Fatalf("4th post from one address: %+v", v)
	}
	if v := post("192.0.2.1", "/a/", at.Add(4*time.Second)); v.RetryAfter != 6*time.Second {
		t.Fatalf("wait after 4 s: %+v", v)
	}
	if v := post("192.0.2.1", "/a/", at.Add(10*time.Second)); !v.OK {
		t.Fatalf("after the wait: %+v", v)
	}
	// The page's bucket (4) is now empty; another address is refused for the page only.
	v = post("192.0.2.2", "/a/", at.Add(10*time.Second))
	if v.Reason != ReasonRatePage || v.RetryAfter != 50*time.Second { // 10 s of refill spent
		t.Fatalf("5th post on a page: %+v", v)
	}
	if v := post("192.0.2.2", "/b/", at.Add(10*time.Second)); !v.OK {
		t.Fatalf("another page: %+v", v)
	}
	// Junk does not spend the page's bucket.
	c2 := newChecker(t, func(cfg *Config) { cfg.RatePerPage, cfg.BurstPerPage = rate.Every(time.Hour), 1 })
	for i := 0; i < 5; i++ {
		s := valid(c2, "comment")
		s.Honeypot = "x"
		c2.Check(s, at)
	}
	if v := c2.Check(valid(c2, "comment"), at); !v.OK {
		t.Fatalf("page silenced by junk: %+v", v)
	}
}

func TestAddrKey(t *testing.T) {
	same := [][2]string{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"},
		{"192.0.2.1", "::ffff:192.0.2.1"},
		{"fe80::1%eth0", "fe80::2"},
		{"not an address", ""},
	}
	for _, p := range same {
		if addrKey(p[0]) != addrKey(p[1]) {
			t.Errorf("%s and %s in different buckets", p[0], p[1])
		}
	}
	for _, p := range [][2]string{{"2001:db8:1:2::1", "2001:db8:1:3::1"}, {"192.0.2.1", "192.0.2.2"}} {
		if addrKey(p[0]) == addrKey(p[1]) {
			t.Errorf("%s and %s share a bucket", p[0], p[1])
		}
	}
}

// The buckets never outgrow their bound, and idle ones are swept even under it.
func TestLimiterMemory(t *testing.T) {
	const max = 1000
	l := newLimiter[netip.Addr](rate.Every(time.Second), 5, max)
	at := t0
	for i := 0; i < 50*max; i++ {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		l.allow(a, at)
		if n := l.size(); n > max+shards {
			t.Fatalf("after %d addresses: %d buckets", i+1, n)
		}
	}
	// Every bucket has refilled an hour later: one new key per shard sweeps them all away.
	at = at.Add(time.Hour)
	for i := 0; i < 64*shards; i++ {
		l.allow(netip.AddrFrom4([4]byte{11, 0, byte(i >> 8), byte(i)}), at)
	}
	if n := l.size(); n > 64*shards {
		t.Errorf("idle buckets kept: %d", n)
	}
}

// A sweep forgets only the buckets that have refilled: the others still hold their debt.
func TestLimiterSweepKeepsDebt(t *testing.T) {
	l := newLimiter[netip.Addr](rate.Every(10*time.Second), 5, 1<<20) // idle after 50 s
	fill := func(b byte, at time.Time) {
		for i := 0; i < 64*shards; i++ {
			l.allow(netip.AddrFrom4([4]byte{10, b, byte(i >> 8), byte(i)}), at)
		}
	}
	fill(1, t0)
	busy := netip.MustParseAddr("192.0.2.9")
	for range 5 {
		l.allow(busy, t0.Add(40*time.Second))
	}
	fill(2, t0.Add(60*time.Second)) // sweeps every shard: 60 s since the last sweep
	if n := l.size(); n != 64*shards+1 {
		t.Errorf("%d buckets after the sweep, want the new ones and the busy one", n)
	}
	at := t0.Add(60 * time.Second) // the busy bucket has refilled 2 tokens
	for i, want := range []bool{true, true, false} {
		if _, ok := l.allow(busy, at); ok != want {
			t.Errorf("post %d: allowed %v", i, ok)
		}
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l := newLimiter[pageKey](rate.Every(time.Millisecond), 100, 64)
	done := make(chan bool)
	for g := range 4 {
		go func() {
			for i := range 2000 {
				l.allow(pageKey{"comment", fmt.Sprint(g, i%100)}, t0.Add(time.Duration(i)*time.Millisecond))
			}
			done <- true
		}()
	}
	for range 4 {
		<-done
	}
	if n := l.size(); n > 64+shards {
		t.Errorf("%d buckets", n)
	}
}

// TestAdmit: the address's bucket can be spent before a body is read; Check then leaves it
// alone, so that a post is counted once either way.
func TestAdmit(t *testing.T) {
	c := newChecker(t, func(cfg *Config) { cfg.RatePerIP, cfg.BurstPerIP = rate.Every(time.Minute), 2 })
	at := t0.Add(time.Minute)
	for i := range 2 {
		if _, ok := c.Admit("192.0.2.9", at); !ok {
			t.Fatalf("admit %d refused", i)
		}
		s := valid(c, "document")
		s.IP, s.Admitted = "192.0.2.9", true
		if v := c.Check(s, at); !v.OK {
			t.Fatalf("check %d after admit: %+v", i, v)
		}
	}
	if wait, ok := c.Admit("192.0.2.9", at); ok || wait != time.Minute {
		t.Fatalf("third post: admitted %v, wait %v", ok, wait)
	}
	s := valid(c, "document")
	s.IP = "192.0.2.9"
	if v := c.Check(s, at); v.Reason != ReasonRateIP {
		t.Fatalf("a check not admitted spends the bucket itself: %+v", v)
	}
}
