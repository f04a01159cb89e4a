package antispam

import (
	"crypto/sha256"
	"math/bits"
	"strconv"
	"strings"
)

// maxPoWNonce bounds options[pow]: a counter in decimal needs far less.
const maxPoWNonce = 32

// verifyPoW costs one hash: SHA-256(token ":" nonce) must start with difficulty zero bits.
func verifyPoW(token, nonce string, difficulty int) bool {
	if nonce == "" || len(nonce) > maxPoWNonce || len(token) > 256 {
		return false
	}
	var buf [256 + 1 + maxPoWNonce]byte
	n := copy(buf[:], token)
	buf[n] = ':'
	n++
	n += copy(buf[n:], nonce)
	return leadingZeros(sha256.Sum256(buf[:n])) >= difficulty
}

func leadingZeros(sum [sha256.Size]byte) int {
	n := 0
	for _, b := range sum {
		if b != 0 {
			return n + bits.LeadingZeros8(b)
		}
		n += 8
	}
	return n
}

// Difficulty reads the proof of work a token asks for, without checking its signature;
// clients written in Go (load tests, integrations) call it before Solve.
func Difficulty(token string) int {
	f := strings.SplitN(token, ".", 6)
	if len(f) != 6 || f[0] != "p1" {
		return 0
	}
	d, err := strconv.Atoi(f[3])
	if err != nil || d < 0 || d > 32 {
		return 0
	}
	return d
}

// Solve finds a proof of work for token: a decimal counter, as challenge.js finds it.
func Solve(token string, difficulty int) string {
	if difficulty <= 0 {
		return "0"
	}
	buf := make([]byte, 0, len(token)+1+20)
	buf = append(append(buf, token...), ':')
	p := len(buf)
	for i := uint64(0); ; i++ {
		buf = strconv.AppendUint(buf[:p], i, 10)
		if leadingZeros(sha256.Sum256(buf)) >= difficulty {
			return string(buf[p:])
		}
	}
}
