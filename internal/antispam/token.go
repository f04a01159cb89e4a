package antispam

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strconv"
	"strings"
	"time"
)

// Placeholder is the value the static HTML carries in options[token]. The serving process
// stamps each page with fresh tokens in its place (Stamp); on static hosting challenge.js
// fetches one from ChallengeHandler.
const Placeholder = "parvis-form-token"

// A token reads "p1.<form>.<issued, Unix ms in base 36>.<difficulty>.<nonce>.<mac>", all in
// characters that need no escaping in HTML or URLs. The MAC is HMAC-SHA256 over everything
// before its dot. challenge.js reads the difficulty from the fourth field.
const tokenPrefix = "p1."

var b64 = base64.RawURLEncoding.Strict()

type token struct {
	form       string
	issued     time.Time
	difficulty int
	nonce      string
}

func newMAC(secret []byte) hash.Hash { return hmac.New(sha256.New, secret) }

// Issue returns a fresh token for form, dated now, at the form's current difficulty (0 when
// its challenge is off). Its question is QuestionFor(token, lang).
func (c *Checker) Issue(form string, now time.Time) string {
	tok, _ := c.issue(form, now)
	return tok
}

// issue returns a fresh token and its nonce, as the token writes it.
func (c *Checker) issue(form string, now time.Time) (string, string) {
	var nonce [12]byte
	rand.Read(nonce[:])
	b := make([]byte, 0, 96+len(form))
	b = append(b, tokenPrefix...)
	b = append(b, tokenForm(form)...)
	b = append(b, '.')
	b = strconv.AppendInt(b, now.UnixMilli(), 36)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(c.form(form).difficulty), 10)
	b = append(b, '.')
	at := len(b)
	b = b64.AppendEncode(b, nonce[:])
	sum := c.sign(b)
	b = append(b, '.')
	b = b64.AppendEncode(b, sum[:])
	s := string(b)
	return s, s[at : at+b64.EncodedLen(len(nonce))]
}

// Issued reads when a token says it was issued, without checking it (zero when it is not
// a token): callers order their records by it. Only Check trusts a token.
func Issued(token string) time.Time {
	f := strings.SplitN(token, ".", 6)
	if len(f) != 6 || f[0] != "p1" {
		return time.Time{}
	}
	ms, err := strconv.ParseInt(f[2], 36, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func (c *Checker) sign(body []byte) [sha256.Size]byte {
	m := c.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(body)
	var sum [sha256.Size]byte
	m.Sum(sum[:0])
	c.macs.Put(m)
	return sum
}

// parse checks the MAC before reading any field, so that a tampered, truncated or foreign
// token is refused as a whole.
func (c *Checker) parse(s string) (token, bool) {
	dot := strings.LastIndexByte(s, '.')
	if len(s) > 256 || dot < 0 || !strings.HasPrefix(s, tokenPrefix) || len(s)-dot-1 != b64.EncodedLen(sha256.Size) {
		return token{}, false
	}
	var got [sha256.Size]byte
	if n, err := b64.Decode(got[:], []byte(s[dot+1:])); err != nil || n != sha256.Size {
		return token{}, false
	}
	var buf [256]byte
	want := c.sign(append(buf[:0], s[:dot]...))
	if !hmac.Equal(got[:], want[:]) {
		return token{}, false
	}
	f := strings.Split(s[len(tokenPrefix):dot], ".")
	if len(f) != 4 {
		return token{}, false
	}
	ms, err := strconv.ParseInt(f[1], 36, 64)
	if err != nil {
		return token{}, false
	}
	d, err := strconv.Atoi(f[2])
	if err != nil || d < 0 || d > 32 {
		return token{}, false
	}
	return token{form: f[0], issued: time.UnixMilli(ms), difficulty: d, nonce: f[3]}, true
}

// tokenForm keeps a form's name within the token's alphabet; the site's form names
// (lower-case letters, digits and _) pass unchanged.
func tokenForm(form string) string {
	if len(form) > 64 {
		form = form[:64]
	}
	for i := 0; i < len(form); i++ {
		if !isNameByte(form[i]) {
			b := []byte(form)
			for j := i; j < len(b); j++ {
				if !isNameByte(b[j]) {
					b[j] = '_'
				}
			}
			return string(b)
		}
	}
	return form
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
