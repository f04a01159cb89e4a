package antispam

import (
	"strings"
	"testing"
	"time"

	"github.com/parvis/parvis/internal/site"
	"go.uber.org/goleak"
	"golang.org/x/time/rate"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	t0     = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	secret = []byte("0123456789abcdef0123456789abcdef")
	no     = false
)

// testDifficulty keeps the tests' own solving quick; the default is measured in the browser.
const testDifficulty = 8

func newChecker(t testing.TB, mod func(*Config)) *Checker {
	t.Helper()
	cfg := Config{
		Secret:     secret,
		Challenge:  true,
		Difficulty: testDifficulty,
		// Rate limits have their own tests.
		RatePerIP:   rate.Inf,
		RatePerPage: rate.Inf,
		Forms: map[string]site.AntispamSpec{
			"comment": {Honeypot: "website", MinSeconds: 3, MaxLinks: 2,
				BlockedWords: []string{"casino", "Crypto-Monnaie", "prêt rapide"}},
			"article":  {MinSeconds: 10, MaxLinks: -1},
			"document": {Challenge: &no},
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// valid returns a submission that passes, its token issued at t0 and posted at t0+age.
func valid(c *Checker, form string) Submission {
	tok := c.Issue(form, t0)
	return Submission{
		Form: form, Page: "/articles/budget/", IP: "192.0.2.7",
		Token: tok, PoW: Solve(tok, Difficulty(tok)),
		Texts: []string{"Marie", "Merci pour cet article, à jeudi au marché !"},
	}
}

func TestCheck(t *testing.T) {
	c := newChecker(t, nil)
	// answer replaces the work with the answer to the question of s's token.
	answer := func(s *Submission, reply func(string) string) {
		q, _ := c.QuestionFor(s.Token, "fr")
		a, _ := c.AnswerFor(s.Token)
		s.PoW, s.Question, s.Answer = "", q.ID, reply(a)
	}
	at := t0.Add(5 * time.Second)
	tests := []struct {
		name    string
		form    string
		edit    func(*Submission)
		at      time.Time
		reason  string
		signals []string
	}{
		{name: "valid", signals: []string{"posted 5 s after load"}},
		{name: "valid with two links", edit: func(s *Submission) {
			s.Texts = []string{"Voir https://www.belcombe.fr/agenda/ et [le plan](https://plan.example.org/x)"}
		}, signals: []string{"posted 5 s after load", "2 links"}},
		{name: "valid after hours", at: t0.Add(23 * time.Hour), signals: []string{"posted 23 h after load"}},
		{name: "question instead of work", edit: func(s *Submission) {
			answer(s, func(a string) string { return "  " + strings.ToUpper(a) + " " })
		}, signals: []string{"posted 5 s after load", "answered the question (no JavaScript)"}},
		{name: "form without challenge", form: "document", edit: func(s *Submission) { s.PoW = "" },
			signals: []string{"posted 5 s after load"}},
		{name: "unknown form takes the defaults", form: "other", at: t0.Add(3 * time.Second),
			signals: []string{"posted 3 s after load"}},

		{name: "honeypot", edit: func(s *Submission) { s.Honeypot = "http://spam.example" }, reason: ReasonHoneypot},
		{name: "honeypot space", edit: func(s *Submission) { s.Honeypot = " " }, reason: ReasonHoneypot},
		{name: "too fast", at: t0.Add(2900 * time.Millisecond), reason: ReasonTooFast},
		{name: "article too fast", form: "article", at: t0.Add(9 * time.Second), reason: ReasonTooFast},
		{name: "from the future", at: t0.Add(-2 * time.Minute), reason: ReasonTokenInvalid},
		{name: "expired", at: t0.Add(24*time.Hour + time.Second), reason: ReasonTokenExpired},
		{name: "no token", edit: func(s *Submission) { s.Token = "" }, reason: ReasonChallenge},
		{name: "no token, no challenge", form: "document", edit: func(s *Submission) { s.Token, s.PoW = "", "" },
			reason: ReasonTokenInvalid},
		{name: "placeholder, no challenge", form: "document", edit: func(s *Submission) { s.Token = Placeholder },
			reason: ReasonTokenInvalid},
		{name: "token of another form", edit: func(s *Submission) {
			s.Token = c.Issue("article", t0)
			s.PoW = Solve(s.Token, testDifficulty)
		}, reason: ReasonTokenInvalid},
		{name: "garbage token", edit: func(s *Submission) { s.Token = "p1.comment.x.8.y.z" }, reason: ReasonTokenInvalid},
		{name: "no work, no answer", edit: func(s *Submission) { s.PoW = "" }, reason: ReasonChallenge},
		{name: "wrong work", edit: func(s *Submission) { s.PoW = wrongNonce(s.Token, testDifficulty) }, reason: ReasonChallenge},
		{name: "wrong answer", edit: func(s *Submission) {
			answer(s, func(string) string { return "banane" })
		}, reason: ReasonChallenge},
		{name: "answer to another token's question", edit: func(s *Submission) {
			other := c.Issue("comment", t0)
			q, _ := c.QuestionFor(other, "fr")
			a, _ := c.AnswerFor(other)
			s.PoW, s.Question, s.Answer = "", q.ID, a
		}, reason: ReasonChallenge},
		// Finding 5: a static page without JavaScript posts no token, and an answer without
		// a token proves nothing, whatever question it names.
		{name: "placeholder, any answer", edit: func(s *Submission) {
			tok := s.Token
			answer(s, func(a string) string { return a })
			s.Token = Placeholder
			if !c.answerOK(mustParse(c, tok).nonce, s.Question, s.Answer) {
				panic("the answer does not fit its own token")
			}
		}, reason: ReasonChallenge},
		{name: "no token, an answer", edit: func(s *Submission) {
			answer(s, func(a string) string { return a })
			s.Token = ""
		}, reason: ReasonChallenge},
		{name: "three links", edit: func(s *Submission) {
			s.Texts = []string{"www.a.com", "b.net c.org"}
		}, reason: ReasonLinks},
		{name: "no link allowed", form: "article", at: t0.Add(time.Minute), edit: func(s *Submission) {
			s.Texts = []string{"Plus sur https://example.org."}
		}, reason: ReasonLinks},
		{name: "blocked word", edit: func(s *Submission) { s.Texts = []string{"Meilleur CASINO en ligne"} }, reason: ReasonBlockedWord},
		{name: "blocked phrase, accents and case", edit: func(s *Submission) {
			s.Texts = []string{"Un Pret  RAPIDE sans frais"}
		}, reason: ReasonBlockedWord},
		{name: "blocked hyphenated word spelt apart", edit: func(s *Submission) {
			s.Texts = []string{"Investir en crypto monnaie"}
		}, reason: ReasonBlockedWord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := tt.form
			if form == "" {
				form = "comment"
			}
			s := valid(c, form)
			if tt.edit != nil {
				tt.edit(&s)
			}
			now := tt.at
			if now.IsZero() {
				now = at
			}
			v := c.Check(s, now)
			if tt.reason == "" {
				if !v.OK || v.Reason != "" {
					t.Fatalf("rejected: %+v", v)
				}
				if strings.Join(v.Signals, "|") != strings.Join(tt.signals, "|") {
					t.Errorf("signals = %q, want %q", v.Signals, tt.signals)
				}
				return
			}
			if v.OK || v.Reason != tt.reason {
				t.Fatalf("verdict %+v, want reason %s", v, tt.reason)
			}
			if v.RetryAfter != 0 || v.Signals != nil {
				t.Errorf("rejection carries %v, %q", v.RetryAfter, v.Signals)
			}
		})
	}
}

func TestCheckWordsAreWhole(t *testing.T) {
	c := newChecker(t, nil)
	for _, text := range []string{"Les casinos du XIXe siècle", "occasion", "crypto", "prêt-à-porter rapidement"} {
		s := valid(c, "comment")
		s.Texts = []string{text}
		if v := c.Check(s, t0.Add(time.Minute)); !v.OK {
			t.Errorf("%q: %+v", text, v)
		}
	}
}

// With the challenge off, a plain HTML post of the form and its hidden inputs passes once
// the minimum time is over; every other rule still applies.
func TestChallengeOff(t *testing.T) {
	c := newChecker(t, func(cfg *Config) { cfg.Challenge = false })
	tok := c.Issue("comment", t0)
	if d := Difficulty(tok); d != 0 {
		t.Fatalf("token asks for %d bits with the challenge off", d)
	}
	s := Submission{Form: "comment", Page: "/p/", IP: "192.0.2.1", Token: tok, Texts: []string{"Bonjour"}}
	if v := c.Check(s, t0.Add(3*time.Second)); !v.OK {
		t.Fatalf("plain post refused: %+v", v)
	}
	for _, tt := range []struct {
		edit   func(*Submission)
		at     time.Duration
		reason string
	}{
		{at: 2 * time.Second, reason: ReasonTooFast},
		{edit: func(s *Submission) { s.Honeypot = "x" }, at: time.Minute, reason: ReasonHoneypot},
		{edit: func(s *Submission) { s.Texts = []string{"casino"} }, at: time.Minute, reason: ReasonBlockedWord},
		{edit: func(s *Submission) { s.Token = Placeholder }, at: time.Minute, reason: ReasonTokenInvalid},
	} {
		s := s
		if tt.edit != nil {
			tt.edit(&s)
		}
		if v := c.Check(s, t0.Add(tt.at)); v.Reason != tt.reason {
			t.Errorf("got %+v, want %s", v, tt.reason)
		}
	}
}

// A token issued at a lower difficulty than the form asks now is no proof of work.
func TestDifficultyRaised(t *testing.T) {
	low := newChecker(t, func(cfg *Config) { cfg.Difficulty = 4 })
	high := newChecker(t, nil)
	s := valid(low, "comment")
	if v := high.Check(s, t0.Add(time.Minute)); v.Reason != ReasonChallenge {
		t.Fatalf("got %+v", v)
	}
}

func TestNew(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Secret: []byte("short")},
		{Secret: secret, Difficulty: 33},
		{Secret: secret, RatePerIP: -1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	c, err := New(Config{Secret: secret, RatePerIP: rate.Inf})
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.Difficulty != DefaultDifficulty || c.cfg.MaxTokenAge != DefaultMaxTokenAge || c.cfg.BurstPerPage != DefaultBurstPerPage {
		t.Errorf("defaults not applied: %+v", c.cfg)
	}
	if c.form("any").difficulty != 0 {
		t.Error("the challenge is on while Config.Challenge is false")
	}
}

func TestReasons(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Reasons() {
		if seen[r] || r == "" {
			t.Errorf("reason %q repeated or empty", r)
		}
		seen[r] = true
	}
	if len(seen) != 10 {
		t.Errorf("%d reasons", len(seen))
	}
}

func mustParse(c *Checker, s string) token {
	tok, ok := c.parse(s)
	if !ok {
		panic("not a token: " + s)
	}
	return tok
}

func wrongNonce(token string, bits int) string {
	for i := 0; ; i++ {
		n := "x" + string(rune('a'+i%26)) + strings.Repeat("y", i/26)
		if !verifyPoW(token, n, bits) {
			return n
		}
	}
}
