package antispam

import (
	"strings"
	"testing"
	"time"
)

func TestTokenRoundTrip(t *testing.T) {
	c := newChecker(t, nil)
	at := time.Date(2026, 3, 1, 10, 0, 0, 123e6, time.UTC)
	for _, form := range []string{"comment", "document", "x", "Bad Name/é"} {
		tok := c.Issue(form, at)
		got, ok := c.parse(tok)
		if !ok || got.form != tokenForm(form) || !got.issued.Equal(at) || got.difficulty != c.form(form).difficulty {
			t.Errorf("%q: parse(%q) = %+v, %v", form, tok, got, ok)
		}
		if strings.ContainsAny(tok, "\"'<>&= /+") {
			t.Errorf("token %q needs escaping in HTML or a URL", tok)
		}
	}
	if a, b := c.Issue("comment", at), c.Issue("comment", at); a == b {
		t.Error("two tokens issued at once are equal: no nonce")
	}
}

// Every change to a token, every truncation and every token signed with another secret is
// refused.
func TestTokenTampering(t *testing.T) {
	c := newChecker(t, nil)
	tok := c.Issue("comment", t0)
	for i := 0; i < len(tok); i++ {
		for _, b := range []byte{'0', 'A', 'z', '.', '-', '_'} {
			if b == tok[i] {
				continue
			}
			bad := tok[:i] + string(b) + tok[i+1:]
			if _, ok := c.parse(bad); ok {
				t.Fatalf("changed byte %d: %q accepted", i, bad)
			}
		}
		if _, ok := c.parse(tok[:i]); ok {
			t.Fatalf("truncated to %d: accepted", i)
		}
	}
	for _, bad := range []string{tok + "A", tok + ".x", "." + tok, strings.ToUpper(tok), strings.Repeat(tok, 4)} {
		if _, ok := c.parse(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	other := newChecker(t, func(cfg *Config) { cfg.Secret = []byte("another secret, 16 bytes or more") })
	if _, ok := c.parse(other.Issue("comment", t0)); ok {
		t.Error("foreign token accepted")
	}
	// A token whose fields were rewritten and signed again is still only as good as its MAC.
	f := strings.Split(tok, ".")
	f[3] = "1"
	if _, ok := c.parse(strings.Join(f, ".")); ok {
		t.Error("lowered difficulty accepted")
	}
}

func TestPoWRoundTrip(t *testing.T) {
	c := newChecker(t, nil)
	for _, bits := range []int{1, 4, 8, 12, 16} {
		tok := c.Issue("comment", t0)
		nonce := Solve(tok, bits)
		if !verifyPoW(tok, nonce, bits) {
			t.Errorf("%d bits: Solve's nonce %q fails", bits, nonce)
		}
		if verifyPoW(tok+"x", nonce, bits+8) {
			t.Errorf("%d bits: nonce passes for another token", bits)
		}
	}
	tok := c.Issue("comment", t0)
	for _, nonce := range []string{"", strings.Repeat("1", maxPoWNonce+1)} {
		if verifyPoW(tok, nonce, 0) {
			t.Errorf("nonce %q accepted", nonce)
		}
	}
	if d := Difficulty(tok); d != testDifficulty {
		t.Errorf("Difficulty = %d", d)
	}
	for _, bad := range []string{"", Placeholder, "p1.a.b.99.c.d", "p2.a.b.8.c.d", "p1.a.b.8.c"} {
		if d := Difficulty(bad); d != 0 {
			t.Errorf("Difficulty(%q) = %d", bad, d)
		}
	}
}

func TestLeadingZeros(t *testing.T) {
	for _, tt := range []struct {
		sum  [32]byte
		want int
	}{
		{[32]byte{0x80}, 0},
		{[32]byte{0x01}, 7},
		{[32]byte{0, 0, 0x10}, 19},
		{[32]byte{}, 256},
	} {
		if got := leadingZeros(tt.sum); got != tt.want {
			t.Errorf("leadingZeros(% x) = %d, want %d", tt.sum[:4], got, tt.want)
		}
	}
}
