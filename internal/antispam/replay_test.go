package antispam

import (
	"strconv"
	"testing"
	"time"
)

func TestTokenUses(t *testing.T) {
	c := newChecker(t, func(cfg *Config) { cfg.TokenUses = 2 })
	s := valid(c, "comment")
	at := t0.Add(time.Minute)
	for i, want := range []string{"", "", ReasonTokenReused, ReasonTokenReused} {
		if v := c.Check(s, at); v.Reason != want {
			t.Fatalf("use %d: %+v, want %q", i+1, v, want)
		}
	}
	// Rejections do not count, and another token starts afresh.
	s2 := valid(c, "comment")
	bad := s2
	bad.Texts = []string{"casino"}
	for range 3 {
		c.Check(bad, at)
	}
	for i := range 2 {
		if v := c.Check(s2, at); !v.OK {
			t.Fatalf("fresh token, use %d: %+v", i+1, v)
		}
	}
	// Off by default.
	c = newChecker(t, nil)
	s = valid(c, "comment")
	for range 10 {
		if v := c.Check(s, at); !v.OK {
			t.Fatalf("%+v", v)
		}
	}
}

// A use is remembered for a token's lifetime at least, and the memory stays bounded.
func TestSpent(t *testing.T) {
	const max = 100
	s := newSpent(24*time.Hour, max)
	if !s.use("a", 1, t0) || s.use("a", 1, t0.Add(23*time.Hour)) {
		t.Fatal("reuse within a day allowed")
	}
	if s.use("a", 1, t0.Add(25*time.Hour)) {
		t.Fatal("forgotten after one rotation")
	}
	for i := range 10 * max {
		s.use(strconv.Itoa(i), 1, t0.Add(26*time.Hour))
		if n := s.size(); n > 2*max {
			t.Fatalf("%d entries", n)
		}
	}
}
