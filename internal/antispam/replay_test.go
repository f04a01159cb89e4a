package antispam

import (
	"strconv"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// Finding 5: a token carries one submission by default. A resend of the same submission
// (the same Key) passes again, for the queue to answer as a duplicate; another submission
// on a spent token is refused, whether it brings the proof of work or the answer.
func TestFinding5TokenSingleUse(t *testing.T) {
	type post struct {
		key    string
		edit   func(c *Checker, s *Submission)
		reason string
	}
	byAnswer := func(c *Checker, s *Submission) {
		q, _ := c.QuestionFor(s.Token, "fr")
		a, _ := c.AnswerFor(s.Token)
		s.PoW, s.Question, s.Answer = "", q.ID, a
	}
	spam := func(_ *Checker, s *Submission) { s.Texts = []string{"casino"} }
	tests := []struct {
		name  string
		uses  int
		posts []post
	}{
		{"same work twice", 0, []post{{key: "k1"}, {key: "k2", reason: ReasonTokenReused}}},
		{"same answer twice", 0, []post{{key: "k1", edit: byAnswer}, {key: "k2", edit: byAnswer, reason: ReasonTokenReused}}},
		{"resend of the same submission", 0, []post{{key: "k1", edit: byAnswer}, {key: "k1", edit: byAnswer},
			{key: "k2", edit: byAnswer, reason: ReasonTokenReused}, {key: "k1"}}},
		{"no key is never a resend", 0, []post{{}, {reason: ReasonTokenReused}}},
		{"refusals do not count", 0, []post{{key: "k1", edit: spam, reason: ReasonBlockedWord}, {key: "k2"},
			{key: "k3", reason: ReasonTokenReused}}},
		{"two uses", 2, []post{{key: "k1"}, {key: "k2"}, {key: "k3", reason: ReasonTokenReused}, {key: "k1"}, {key: "k2"}}},
		{"unlimited", -1, []post{{key: "k1"}, {key: "k2"}, {key: "k3"}, {}, {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChecker(t, func(cfg *Config) { cfg.TokenUses = tt.uses })
			base := valid(c, "comment")
			for i, p := range tt.posts {
				s := base
				s.Key = p.key
				if p.edit != nil {
					p.edit(c, &s)
				}
				if v := c.Check(s, t0.Add(time.Minute)); v.Reason != p.reason || v.OK != (p.reason == "") {
					t.Fatalf("post %d: %+v, want %q", i+1, v, p.reason)
				}
			}
		})
	}
}

// Finding 5: a flood of 100 posts with one token and its answer yields one submission.
func TestFinding5Flood(t *testing.T) {
	c := newChecker(t, nil)
	s := valid(c, "comment")
	q, _ := c.QuestionFor(s.Token, "fr")
	a, _ := c.AnswerFor(s.Token)
	s.PoW, s.Question, s.Answer = "", q.ID, a
	ok := 0
	for i := range 100 {
		s.Key = "k" + strconv.Itoa(i)
		s.Texts = []string{"Message " + strconv.Itoa(i)}
		if v := c.Check(s, t0.Add(time.Minute)); v.OK {
			ok++
		} else if v.Reason != ReasonTokenReused {
			t.Fatalf("post %d: %+v", i, v)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of 100 posts accepted with one token", ok)
	}
}

// A replayed token is refused before the page's bucket, and a post the page's limit
// refuses gives its token's use back.
func TestTokenUsesAndPageLimit(t *testing.T) {
	c := newChecker(t, func(cfg *Config) { cfg.RatePerPage, cfg.BurstPerPage = rate.Every(time.Hour), 1 })
	a, b := valid(c, "comment"), valid(c, "comment")
	a.Key, b.Key = "a", "b"
	at := t0.Add(time.Minute)
	if v := c.Check(a, at); !v.OK {
		t.Fatalf("%+v", v)
	}
	if v := c.Check(b, at); v.Reason != ReasonRatePage {
		t.Fatalf("%+v", v)
	}
	at = at.Add(time.Hour)
	a.Key = "a2"
	for range 5 {
		if v := c.Check(a, at); v.Reason != ReasonTokenReused {
			t.Fatalf("replay: %+v", v)
		}
	}
	b.Key = "b2" // not a resend: the refused post left no trace
	if v := c.Check(b, at); !v.OK {
		t.Fatalf("the page's bucket was spent by replays, or b's token by its refusal: %+v", v)
	}
}

// A use is remembered for a token's lifetime at least, and the memory stays bounded.
func TestSpent(t *testing.T) {
	const max = 100
	s := newSpent(24*time.Hour, max)
	use := func(nonce, key string, at time.Duration) bool {
		ok, _ := s.use(nonce, key, 1, t0.Add(at))
		return ok
	}
	if !use("a", "k", 0) || use("a", "j", 23*time.Hour) || !use("a", "k", 23*time.Hour) {
		t.Fatal("reuse within a day allowed, or a resend refused")
	}
	if use("a", "j", 25*time.Hour) || !use("a", "k", 25*time.Hour) {
		t.Fatal("forgotten after one rotation")
	}
	if ok, counted := s.use("b", "k", 1, t0); !ok || !counted {
		t.Fatal("first use")
	}
	s.undo("b", "k")
	if ok, counted := s.use("b", "j", 1, t0); !ok || !counted {
		t.Fatal("a use given back still counts")
	}
	for i := range 10 * max {
		s.use(strconv.Itoa(i), "k", 1, t0.Add(26*time.Hour))
		if n := s.size(); n > 2*max {
			t.Fatalf("%d entries", n)
		}
	}
}
