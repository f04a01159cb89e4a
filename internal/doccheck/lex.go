package doccheck

import (
	"io"
	"strconv"
)

// lexer reads PDF tokens from a byte slice (the file, or an object stream held in memory)
// or from a reader through a small fixed buffer (a decoded stream). Strings, names and
// keywords are kept only up to their caps; the rest is read and dropped, so no token grows
// memory.
type lexer struct {
	buf  []byte
	i    int
	base int64     // offset of buf[0] in the source
	src  io.Reader // nil when buf is the whole source
	fill []byte
	err  error // the reader's error other than io.EOF
}

const fillSize = 32 << 10

func newSliceLexer(b []byte, at int) *lexer { return &lexer{buf: b, i: at} }

func newReaderLexer(r io.Reader) *lexer {
	return &lexer{src: r, fill: make([]byte, fillSize)}
}

func (l *lexer) pos() int64 { return l.base + int64(l.i) }

// read returns the next byte, and false at the end of the source.
func (l *lexer) read() (byte, bool) {
	if l.i < len(l.buf) {
		c := l.buf[l.i]
		l.i++
		return c, true
	}
	return l.refill()
}

func (l *lexer) refill() (byte, bool) {
	if l.src == nil || l.err != nil {
		return 0, false
	}
	for range 100 {
		n, err := l.src.Read(l.fill)
		if err != nil {
			// Bytes read with an error are the last: a refusal (the budget) must stop
			// the decoding at once.
			if err != io.EOF {
				l.err = err
			}
			l.src = nil
		}
		if n > 0 {
			l.base += int64(len(l.buf))
			l.buf, l.i = l.fill[:n], 1
			return l.buf[0], true
		}
		if l.src == nil {
			return 0, false
		}
	}
	l.err = io.ErrNoProgress
	return 0, false
}

// unread steps back over the byte read last; it follows a read that returned true.
func (l *lexer) unread() { l.i-- }

// class sorts bytes as PDF's syntax does: whitespace, delimiters, the rest regular.
var class = func() (t [256]uint8) {
	for _, c := range []byte{0, '\t', '\n', '\f', '\r', ' '} {
		t[c] = cSpace
	}
	for _, c := range []byte("()<>[]{}/%") {
		t[c] = cDelim
	}
	return t
}()

const (
	cRegular = iota
	cSpace
	cDelim
)

func isSpace(c byte) bool   { return class[c] == cSpace }
func isDelim(c byte) bool   { return class[c] == cDelim }
func isRegular(c byte) bool { return class[c] == cRegular }

type tokKind uint8

const (
	tEOF tokKind = iota
	tInt
	tReal
	tString
	tName
	tKeyword // true, false, null, R, obj, stream, operators, and stray delimiters
	tArrOpen
	tArrClose
	tDictOpen
	tDictClose
)

type token struct {
	kind tokKind
	n    int64  // tInt
	b    []byte // tString, tName, tKeyword: the bytes kept
	long bool   // b holds only the first bytes
}

func (t *token) is(kw string) bool { return t.kind == tKeyword && !t.long && string(t.b) == kw }

func (t *token) keep(c byte, limit int) {
	if len(t.b) < limit {
		t.b = append(t.b, c)
	} else {
		t.long = true
	}
}

// next reads one token into t, reusing t's buffer.
func (l *lexer) next(t *token) {
	t.b, t.long, t.n = t.b[:0], false, 0
	var c byte
	for {
		// Runs of whitespace, as a bomb of zeros is, are skipped within the buffer.
		i := l.i
		for i < len(l.buf) && class[l.buf[i]] == cSpace {
			i++
		}
		l.i = i
		var ok bool
		if c, ok = l.read(); !ok {
			t.kind = tEOF
			return
		}
		if isSpace(c) {
			continue
		}
		if c == '%' {
			l.skipLine()
			continue
		}
		break
	}
	switch c {
	case '(':
		t.kind = tString
		l.literal(t)
	case '<':
		if d, ok := l.read(); ok && d == '<' {
			t.kind = tDictOpen
			return
		} else if ok {
			l.unread()
		}
		t.kind = tString
		l.hex(t)
	case '>':
		if d, ok := l.read(); ok && d == '>' {
			t.kind = tDictClose
			return
		} else if ok {
			l.unread()
		}
		t.kind, t.b = tKeyword, append(t.b, '>')
	case '[':
		t.kind = tArrOpen
	case ']':
		t.kind = tArrClose
	case '{', '}', ')':
		t.kind, t.b = tKeyword, append(t.b, c)
	case '/':
		t.kind = tName
		l.name(t)
	default:
		t.keep(c, maxKeyword)
		for {
			// A long keyword is read within the buffer, without keeping it.
			if t.long {
				i := l.i
				for i < len(l.buf) && class[l.buf[i]] == cRegular {
					i++
				}
				l.i = i
			}
			d, ok := l.read()
			if !ok {
				break
			}
			if !isRegular(d) {
				l.unread()
				break
			}
			t.keep(d, maxKeyword)
		}
		t.kind = tKeyword
		if !t.long {
			classifyNumber(t)
		}
	}
}

func (l *lexer) skipLine() {
	for {
		c, ok := l.read()
		if !ok || c == '\n' || c == '\r' {
			return
		}
	}
}

// classifyNumber turns a keyword that reads as a number into tInt or tReal.
func classifyNumber(t *token) {
	b := t.b
	i := 0
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		i++
	}
	digits, dot := 0, false
	for ; i < len(b); i++ {
		switch {
		case b[i] >= '0' && b[i] <= '9':
			digits++
		case b[i] == '.' && !dot:
			dot = true
		default:
			return
		}
	}
	if digits == 0 {
		return
	}
	if !dot {
		if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
			t.kind, t.n = tInt, n
			return
		}
	}
	t.kind = tReal
}

// literal reads a literal string after its '(': balanced parentheses, escapes decoded.
func (l *lexer) literal(t *token) {
	depth := 1
	for {
		// Plain bytes go by the buffer-full while the string is kept, and are skipped past
		// its cap.
		i := l.i
		for i < len(l.buf) {
			b := l.buf[i]
			if b == '(' || b == ')' || b == '\\' || b == '\r' {
				break
			}
			i++
		}
		if n := i - l.i; n > 0 {
			room := maxString - len(t.b)
			if room < n {
				t.long = true
			}
			if room > 0 {
				t.b = append(t.b, l.buf[l.i:l.i+min(n, room)]...)
			}
			l.i = i
		}
		c, ok := l.read()
		if !ok {
			return
		}
		switch c {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return
			}
		case '\r':
			if d, ok := l.read(); ok && d != '\n' {
				l.unread()
			}
			c = '\n'
		case '\\':
			d, ok := l.read()
			if !ok {
				return
			}
			switch d {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if e, ok := l.read(); ok && e != '\n' {
					l.unread()
				}
				continue
			case '\n':
				continue
			default:
				if d >= '0' && d <= '7' {
					v := d - '0'
					for range 2 {
						e, ok := l.read()
						if !ok {
							break
						}
						if e < '0' || e > '7' {
							l.unread()
							break
						}
						v = v<<3 | (e - '0')
					}
					c = v
				} else {
					c = d
				}
			}
		}
		t.keep(c, maxString)
	}
}

// hex reads a hexadecimal string after its '<', skipping what is not a digit, as viewers do.
func (l *lexer) hex(t *token) {
	var hi byte
	half := false
	for {
		c, ok := l.read()
		if !ok || c == '>' {
			break
		}
		v, ok := hexVal(c)
		if !ok {
			continue
		}
		if half {
			t.keep(hi<<4|v, maxString)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		t.keep(hi<<4, maxString)
	}
}

// name reads a name after its '/', with #xx escapes decoded; a '#' not followed by two
// hexadecimal digits stands for itself.
func (l *lexer) name(t *token) {
	for {
		c, ok := l.read()
		if !ok {
			return
		}
		if !isRegular(c) {
			l.unread()
			return
		}
		if c == '#' {
			if a, ok := l.read(); ok {
				if x, ok := hexVal(a); ok {
					if b, ok := l.read(); ok {
						if y, ok := hexVal(b); ok {
							t.keep(x<<4|y, maxName)
							continue
						}
						l.unread()
					}
					t.keep('#', maxName)
					t.keep(a, maxName)
					continue
				}
				l.unread()
			}
		}
		t.keep(c, maxName)
	}
}

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
