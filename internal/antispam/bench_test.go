package antispam

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// benchSubmission is a comment of ordinary length, with a link, its proof of work solved.
func benchSubmission(c *Checker) Submission {
	s := valid(c, "comment")
	s.Key = "k:the same submission, resent" // the token is spent once, then resends pass
	s.Texts = []string{"Marie Dupont", "marie@example.org",
		strings.Repeat("Merci pour ce compte rendu très clair du conseil municipal. ", 8) +
			"Le détail du budget est sur https://www.belcombe.fr/budget/ pour qui veut."}
	return s
}

// BenchmarkCheck runs every rule on an accepted submission, with the rate limits on and
// a high per-IP limit, as in the load test, across 4096 client addresses.
func BenchmarkCheck(b *testing.B) {
	c := newChecker(b, func(cfg *Config) {
		cfg.RatePerIP, cfg.BurstPerIP = 1e6, 1e6
		cfg.RatePerPage, cfg.BurstPerPage = 1e6, 1e6
	})
	s := benchSubmission(c)
	ips := make([]string, 4096)
	for i := range ips {
		ips[i] = netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}).String()
	}
	at := t0.Add(time.Minute)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		s := s
		i := 0
		for pb.Next() {
			s.IP = ips[i%len(ips)]
			i++
			if v := c.Check(s, at); !v.OK {
				b.Fatalf("%+v", v)
			}
		}
	})
}

// BenchmarkCheckQuestion is the no-JavaScript path: the question instead of the work.
func BenchmarkCheckQuestion(b *testing.B) {
	c := newChecker(b, nil)
	s := benchSubmission(c)
	q, _ := c.QuestionFor(s.Token, "fr")
	a, _ := c.AnswerFor(s.Token)
	s.PoW, s.Question, s.Answer = "", q.ID, a
	at := t0.Add(time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		if v := c.Check(s, at); !v.OK {
			b.Fatalf("%+v", v)
		}
	}
}

// BenchmarkRejectFlood is a flood from one address past its bucket.
func BenchmarkRejectFlood(b *testing.B) {
	c := newChecker(b, func(cfg *Config) { cfg.RatePerIP, cfg.BurstPerIP = rate.Every(time.Second), 1 })
	s := benchSubmission(c)
	at := t0.Add(time.Minute)
	c.Check(s, at)
	b.ReportAllocs()
	for b.Loop() {
		if v := c.Check(s, at); v.Reason != ReasonRateIP {
			b.Fatalf("%+v", v)
		}
	}
}

func BenchmarkIssue(b *testing.B) {
	c := newChecker(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		c.Issue("comment", t0)
	}
}

// BenchmarkSolve measures the Go solver at the default difficulty.
func BenchmarkSolve(b *testing.B) {
	c := newChecker(b, func(cfg *Config) { cfg.Difficulty = DefaultDifficulty })
	for b.Loop() {
		tok := c.Issue("comment", t0)
		Solve(tok, DefaultDifficulty)
	}
}
