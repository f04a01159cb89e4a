// Package antispam decides whether a citizen's form submission looks like spam, with no
// account, no cookie and no third-party service.
//
// The rules, each with the machine reason a rejection carries: a honeypot field
// (honeypot); a signed form token that dates the page, so that a form posted too soon or too
// late is refused (too_fast, token_expired, token_invalid), and that carries one submission
// (token_reused); a proof of work that the page's JavaScript solves, with an accessible
// question drawn for the token as its fallback (challenge); per-IP and per-page token
// buckets (rate_ip, rate_page); and link and word rules on the free text (links,
// blocked_word).
package antispam

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/parvis/parvis/internal/site"
	"golang.org/x/time/rate"
)

// Reasons of a rejection, as Verdict.Reason and in the service's metrics.
const (
	ReasonHoneypot     = "honeypot"
	ReasonTooFast      = "too_fast"
	ReasonTokenExpired = "token_expired"
	ReasonTokenInvalid = "token_invalid" // missing, tampered, truncated, foreign or for another form
	ReasonTokenReused  = "token_reused"  // past Config.TokenUses, with other content than before
	ReasonChallenge    = "challenge"
	ReasonRateIP       = "rate_ip"
	ReasonRatePage     = "rate_page"
	ReasonLinks        = "links"
	ReasonBlockedWord  = "blocked_word"
)

// Reasons lists every reason, so that metrics can start each counter at zero.
func Reasons() []string {
	return []string{ReasonHoneypot, ReasonTooFast, ReasonTokenExpired, ReasonTokenInvalid,
		ReasonTokenReused, ReasonChallenge, ReasonRateIP, ReasonRatePage, ReasonLinks, ReasonBlockedWord}
}

// Defaults for the zero values of Config and site.AntispamSpec.
const (
	DefaultDifficulty   = 19 // leading zero bits: about 300 ms of challenge.js in Chromium
	DefaultMaxTokenAge  = 24 * time.Hour
	DefaultMinSeconds   = 3
	DefaultMaxLinks     = 3
	DefaultMaxBuckets   = 65536
	DefaultBurstPerIP   = 10
	DefaultBurstPerPage = 30
)

var (
	// DefaultRatePerIP lets one address post a burst, then one submission every 10 s: a
	// school or a town hall behind one address still gets through.
	DefaultRatePerIP = rate.Every(10 * time.Second)
	// DefaultRatePerPage bounds what moderators must read on one page: one every 2 s.
	DefaultRatePerPage = rate.Every(2 * time.Second)
)

// Config holds the service-wide settings. Zero values take the defaults above.
type Config struct {
	// Secret signs form tokens. Every replica of the service shares it; 16 bytes at least.
	Secret []byte
	// Challenge turns on the proof of work and its no-JavaScript question. The service sets
	// it from PARVIS_ANTISPAM_CHALLENGE (on unless "off"); every other rule stays on.
	Challenge bool
	// Difficulty is the proof of work's number of leading zero bits (1 to 32).
	Difficulty int
	// MaxTokenAge is how long a fetched form stays valid.
	MaxTokenAge time.Duration
	// TokenUses is how many accepted submissions one token may carry, so that one proof of
	// work or one answer cannot be replayed: 0 takes the default, 1; a negative value counts
	// nothing (unlimited). A resend of the very same submission (the same Submission.Key:
	// a double click, a browser's retry) passes again, for the queue to answer as a
	// duplicate. Each replica counts its own.
	TokenUses int
	// RatePerIP and RatePerPage refill the buckets, in submissions per second (rate.Every
	// helps); rate.Inf turns a limit off. Bursts are the buckets' sizes.
	RatePerIP    rate.Limit
	BurstPerIP   int
	RatePerPage  rate.Limit
	BurstPerPage int
	// MaxBuckets bounds each limiter's memory: past it, idle buckets go first, then any.
	// It also bounds the tokens counted for TokenUses, twice over.
	MaxBuckets int
	// Origins may fetch challenges from another origin (CORS), e.g. "https://www.ville.fr".
	Origins []string
	// Forms is the forms policy from parvis.yaml. An unknown form gets the defaults. Beyond
	// "zero takes the default", a negative MinSeconds asks for no minimum and a negative
	// MaxLinks allows no link at all.
	Forms map[string]site.AntispamSpec
}

// Submission is what the service passes for one post.
type Submission struct {
	Form, Page, IP   string // IP: the client's address, as the service trusts it
	Token, PoW       string // options[token], options[pow]
	Question, Answer string // options[question], options[answer]
	Honeypot         string // the value of the form's honeypot field
	Texts            []string
	// Key identifies the submission's content (the service's idempotency key), so that a
	// resend of the same submission on a spent token is let through; empty, none is.
	Key string
	// Admitted says the post already spent its address's bucket through Admit, before its
	// body was read; Check then does not spend it again.
	Admitted bool
}

// Verdict is Check's answer. RetryAfter is set for rate_ip and rate_page (a 429), and
// Signals are soft hints for the moderator on an accepted submission.
type Verdict struct {
	OK         bool
	Reason     string
	RetryAfter time.Duration
	Signals    []string
	Issued     time.Time // when the form's token was issued, on an accepted submission that had one
}

// Checker applies the rules. It is safe for concurrent use and starts no goroutine.
type Checker struct {
	cfg    Config
	forms  map[string]*formRules
	dflt   *formRules
	macs   sync.Pool
	ip     *limiter[ipKey]
	page   *limiter[pageKey]
	spent  *spent
	now    func() time.Time
	origin map[string]bool
}

type formRules struct {
	honeypot   string
	minAge     time.Duration
	maxLinks   int
	words      []string
	difficulty int // 0: no challenge
}

// New checks cfg and fills in the defaults.
func New(cfg Config) (*Checker, error) {
	if len(cfg.Secret) < 16 {
		return nil, errors.New("antispam: the secret must be at least 16 bytes")
	}
	if cfg.Difficulty == 0 {
		cfg.Difficulty = DefaultDifficulty
	}
	if cfg.Difficulty < 1 || cfg.Difficulty > 32 {
		return nil, errors.New("antispam: difficulty must be between 1 and 32 bits")
	}
	if cfg.MaxTokenAge <= 0 {
		cfg.MaxTokenAge = DefaultMaxTokenAge
	}
	if cfg.RatePerIP == 0 {
		cfg.RatePerIP = DefaultRatePerIP
	}
	if cfg.BurstPerIP <= 0 {
		cfg.BurstPerIP = DefaultBurstPerIP
	}
	if cfg.RatePerPage == 0 {
		cfg.RatePerPage = DefaultRatePerPage
	}
	if cfg.BurstPerPage <= 0 {
		cfg.BurstPerPage = DefaultBurstPerPage
	}
	if cfg.MaxBuckets <= 0 {
		cfg.MaxBuckets = DefaultMaxBuckets
	}
	switch {
	case cfg.TokenUses == 0:
		cfg.TokenUses = 1
	case cfg.TokenUses < 0:
		cfg.TokenUses = -1
	}
	if cfg.RatePerIP < 0 || cfg.RatePerPage < 0 {
		return nil, errors.New("antispam: rates must be positive (rate.Inf for no limit)")
	}
	secret := append([]byte(nil), cfg.Secret...)
	cfg.Secret = secret
	c := &Checker{
		cfg:    cfg,
		forms:  make(map[string]*formRules, len(cfg.Forms)),
		ip:     newLimiter[ipKey](cfg.RatePerIP, cfg.BurstPerIP, cfg.MaxBuckets),
		page:   newLimiter[pageKey](cfg.RatePerPage, cfg.BurstPerPage, cfg.MaxBuckets),
		spent:  newSpent(cfg.MaxTokenAge, cfg.MaxBuckets),
		now:    time.Now,
		origin: make(map[string]bool, len(cfg.Origins)),
	}
	c.macs.New = func() any { return newMAC(secret) }
	for _, o := range cfg.Origins {
		c.origin[o] = true
	}
	c.dflt = c.rules(site.AntispamSpec{})
	for name, spec := range cfg.Forms {
		c.forms[name] = c.rules(spec)
	}
	return c, nil
}

func (c *Checker) rules(spec site.AntispamSpec) *formRules {
	r := &formRules{honeypot: spec.Honeypot, maxLinks: spec.MaxLinks}
	switch {
	case spec.MinSeconds == 0:
		r.minAge = DefaultMinSeconds * time.Second
	case spec.MinSeconds > 0:
		r.minAge = time.Duration(spec.MinSeconds) * time.Second
	}
	// Zero takes the default; a negative number allows no link at all.
	switch {
	case spec.MaxLinks == 0:
		r.maxLinks = DefaultMaxLinks
	case spec.MaxLinks < 0:
		r.maxLinks = 0
	}
	for _, w := range spec.BlockedWords {
		if f := fold(w); f != " " {
			r.words = append(r.words, f)
		}
	}
	if c.cfg.Challenge && (spec.Challenge == nil || *spec.Challenge) {
		r.difficulty = c.cfg.Difficulty
	}
	return r
}

func (c *Checker) form(name string) *formRules {
	if r, ok := c.forms[name]; ok {
		return r
	}
	return c.dflt
}

// Check applies the rules to one submission. The per-IP bucket is spent by every post, so a
// flood from one address is cut first; the per-page bucket only by posts that pass every
// other rule, so that junk cannot silence a page for its citizens.
func (c *Checker) Check(s Submission, now time.Time) Verdict {
	if !s.Admitted {
		if wait, ok := c.ip.allow(addrKey(s.IP), now); !ok {
			return Verdict{Reason: ReasonRateIP, RetryAfter: wait}
		}
	}
	r := c.form(s.Form)
	if s.Honeypot != "" {
		return Verdict{Reason: ReasonHoneypot}
	}
	var signals []string
	tok, hasToken := token{}, s.Token != "" && s.Token != Placeholder
	if hasToken {
		var ok bool
		if tok, ok = c.parse(s.Token); !ok || tok.form != tokenForm(s.Form) {
			return Verdict{Reason: ReasonTokenInvalid}
		}
		age := now.Sub(tok.issued)
		switch {
		case age < -clockSkew:
			return Verdict{Reason: ReasonTokenInvalid}
		case age > c.cfg.MaxTokenAge:
			return Verdict{Reason: ReasonTokenExpired}
		case age < r.minAge:
			return Verdict{Reason: ReasonTooFast}
		}
		signals = append(signals, "posted "+humanSeconds(age)+" after load")
	}
	if r.difficulty > 0 {
		// A token issued at a lower difficulty than asked now is no proof of work.
		if !hasToken || tok.difficulty < r.difficulty || !verifyPoW(s.Token, s.PoW, tok.difficulty) {
			// The question is the token's: without a token no answer can be checked.
			if !hasToken || !c.answerOK(tok.nonce, s.Question, s.Answer) {
				return Verdict{Reason: ReasonChallenge}
			}
			signals = append(signals, "answered the question (no JavaScript)")
		}
	} else if !hasToken {
		// Without the challenge, the token is the only proof that a page was loaded.
		return Verdict{Reason: ReasonTokenInvalid}
	}
	links := 0
	for _, t := range s.Texts {
		links += countLinks(t)
	}
	if links > r.maxLinks {
		return Verdict{Reason: ReasonLinks}
	}
	if len(r.words) > 0 {
		for _, t := range s.Texts {
			if hasBlocked(t, r.words) {
				return Verdict{Reason: ReasonBlockedWord}
			}
		}
	}
	// The token is spent before the page's bucket, so that replays of one token cannot
	// silence a page; a use the page's limit then refuses is given back.
	counted := false
	if c.cfg.TokenUses > 0 {
		var ok bool
		if ok, counted = c.spent.use(tok.nonce, s.Key, c.cfg.TokenUses, now); !ok {
			return Verdict{Reason: ReasonTokenReused}
		}
	}
	if wait, ok := c.page.allow(pageKey{s.Form, s.Page}, now); !ok {
		if counted {
			c.spent.undo(tok.nonce, s.Key)
		}
		return Verdict{Reason: ReasonRatePage, RetryAfter: wait}
	}
	switch {
	case links == 1:
		signals = append(signals, "1 link")
	case links > 1:
		signals = append(signals, strconv.Itoa(links)+" links")
	}
	return Verdict{OK: true, Signals: signals, Issued: tok.issued}
}

// Admit spends one post from the address's bucket, as Check would, and tells when to come
// back if it is empty. The service calls it before it reads a body, so that a flood from one
// address costs a bucket lookup per post, not the reading and checking of its uploads; it
// then passes Admitted to Check.
func (c *Checker) Admit(ip string, now time.Time) (retryAfter time.Duration, ok bool) {
	return c.ip.allow(addrKey(ip), now)
}

// clockSkew tolerates replicas whose clocks disagree a little.
const clockSkew = time.Minute

func humanSeconds(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < 2*time.Minute {
		return strconv.Itoa(int(d/time.Second)) + " s"
	}
	if d < 2*time.Hour {
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return strconv.Itoa(int(d/time.Hour)) + " h"
}
