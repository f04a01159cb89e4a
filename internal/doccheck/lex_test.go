package doccheck

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// tokens lists a lexer's tokens as text, for comparing.
func tokens(l *lexer) string {
	var b strings.Builder
	var t token
	for range 100000 {
		l.next(&t)
		if t.kind == tEOF {
			break
		}
		fmt.Fprintf(&b, "%d:%d:%q:%v ", t.kind, t.n, t.b, t.long)
	}
	return b.String()
}

func TestLexer(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"/Java#53cript /J#53 /a#2 /#", `name JavaScript, name JS, name a#2, name #`},
		{"/Open#41ction/URI", `name OpenAction, name URI`},
		{`(a(b)c\) d\050\51\n\
e)`, "string a(b)c) d()\ne"},
		{"<4a 53\n>", "string JS"},
		{"<4>", "string @"},
		{"12 -3 +4.5 .5 4. 1e5", "int 12, int -3, real, real, real, keyword 1e5"},
		{"<< /S /GoTo >> [1 0 R] % comment\ntrue", "dict, name S, name GoTo, end dict, array, int 1, int 0, keyword R, end array, keyword true"},
		{"\x00\x00\x00null\f", "keyword null"},
		{"> ) {", "keyword >, keyword ), keyword {"},
	} {
		var parts []string
		l := newSliceLexer([]byte(tt.in), 0)
		var tok token
		for l.next(&tok); tok.kind != tEOF; l.next(&tok) {
			switch tok.kind {
			case tInt:
				parts = append(parts, fmt.Sprintf("int %d", tok.n))
			case tReal:
				parts = append(parts, "real")
			case tString:
				parts = append(parts, "string "+string(tok.b))
			case tName:
				parts = append(parts, "name "+string(tok.b))
			case tKeyword:
				parts = append(parts, "keyword "+string(tok.b))
			case tDictOpen:
				parts = append(parts, "dict")
			case tDictClose:
				parts = append(parts, "end dict")
			case tArrOpen:
				parts = append(parts, "array")
			case tArrClose:
				parts = append(parts, "end array")
			}
		}
		if got := strings.Join(parts, ", "); got != tt.want {
			t.Errorf("%q: %s, want %s", tt.in, got, tt.want)
		}
	}
	// Caps: a long string, name or keyword is read to its end and kept cut.
	l := newSliceLexer([]byte("("+strings.Repeat("x", 3*maxString)+") /"+strings.Repeat("n", 1000)+" "+strings.Repeat("k", 1000)+" 7"), 0)
	var tok token
	for _, want := range []int{maxString, maxName, maxKeyword} {
		if l.next(&tok); len(tok.b) != want || !tok.long {
			t.Errorf("kept %d bytes (long %v), want %d", len(tok.b), tok.long, want)
		}
	}
	if l.next(&tok); tok.kind != tInt || tok.n != 7 {
		t.Errorf("after the long tokens: %v %d", tok.kind, tok.n)
	}
}

// FuzzLexer: a stream read through a small buffer, in pieces of any size, reads as the
// same tokens as the same bytes in memory.
func FuzzLexer(f *testing.F) {
	for _, s := range []string{
		"<< /S /Java#53cript /JS (a\\)b(c)) >> [1 0 R] %c\n<4a5>", "BI /W 1 ID \x00\xff EI", "(\\\r\n\\0123)", "/#4", "/#", "((((", "<<<>>>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want := tokens(newSliceLexer(data, 0))
		for _, r := range []io.Reader{iotest.OneByteReader(bytes.NewReader(data)), iotest.HalfReader(bytes.NewReader(data)), bytes.NewReader(data)} {
			if got := tokens(newReaderLexer(r)); got != want {
				t.Fatalf("through a reader:\n%s\nin memory:\n%s", got, want)
			}
		}
	})
}
