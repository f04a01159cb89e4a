package markdown

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/util"
)

// collectInfo walks a parsed document once for its summary, headings and
// word count.
func collectInfo(doc ast.Node, src []byte) Info {
	var (
		info Info
		wc   wordCounter
		tmp  []byte
	)
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			if n.Type() == ast.TypeBlock {
				wc.stop()
			}
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Paragraph:
			if info.Summary == "" {
				tmp = appendText(tmp[:0], n, src)
				info.Summary = cut(collapse(tmp), SummaryLength)
			}
		case *ast.Heading:
			if n.Level == 2 || n.Level == 3 {
				tmp = appendText(tmp[:0], n, src)
				info.Headings = append(info.Headings, Heading{
					Level: n.Level,
					ID:    attrString(n, "id"),
					Text:  collapse(tmp),
				})
			}
		case *ast.Text:
			if v := n.Value(src); n.IsRaw() {
				wc.add(v)
			} else {
				wc.addText(v)
			}
			if n.SoftLineBreak() || n.HardLineBreak() {
				wc.stop()
			}
		case *ast.String:
			if n.IsRaw() || n.IsCode() {
				wc.add(n.Value)
			} else {
				wc.addText(n.Value)
			}
		case *ast.AutoLink:
			wc.stop()
			wc.add(n.Label(src))
			wc.stop()
		case *ast.RawHTML, *ast.HTMLBlock:
			return ast.WalkSkipChildren, nil
		case *ast.CodeBlock, *ast.FencedCodeBlock:
			lines := n.Lines()
			for i := range lines.Len() {
				seg := lines.At(i)
				wc.add(seg.Value(src))
				wc.stop()
			}
		}
		return ast.WalkContinue, nil
	})
	info.Words = wc.n
	return info
}

// documentText is the plain text of every block with inline content, code
// blocks and raw HTML left out.
func documentText(doc ast.Node, src []byte) string {
	var b []byte
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		if hasInlines(n) {
			if len(b) > 0 {
				b = append(b, ' ')
			}
			b = appendText(b, n, src)
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return collapse(b)
}

// hasInlines reports whether n is a block holding inline content
// (a paragraph, a heading, a table cell...).
func hasInlines(n ast.Node) bool {
	c := n.FirstChild()
	return n.Type() == ast.TypeBlock && c != nil && c.Type() == ast.TypeInline
}

// appendText appends the plain text of n's inline content to dst, the way a
// reader sees it: escapes and character references resolved, raw HTML left
// out, an image's alternative text kept.
func appendText(dst []byte, n ast.Node, src []byte) []byte {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			if c.IsRaw() {
				dst = append(dst, c.Value(src)...)
			} else {
				dst = appendUnescaped(dst, c.Value(src))
			}
			if c.SoftLineBreak() || c.HardLineBreak() {
				dst = append(dst, ' ')
			}
		case *ast.String:
			switch {
			case c.IsRaw():
				dst = append(dst, c.Value...)
			case c.IsCode():
				dst = appendReferences(dst, c.Value)
			default:
				dst = appendUnescaped(dst, c.Value)
			}
		case *ast.RawHTML:
		case *ast.AutoLink:
			dst = append(dst, c.Label(src)...)
		default:
			dst = appendText(dst, c, src)
		}
	}
	return dst
}

// appendUnescaped appends v with backslash escapes and character references
// resolved, as goldmark's HTML writer reads text: an escaped character never
// starts or ends a reference.
func appendUnescaped(dst, v []byte) []byte {
	if bytes.IndexByte(v, '\\') < 0 {
		return appendReferences(dst, v)
	}
	start := 0
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && util.IsPunct(v[i+1]) {
			dst = appendReferences(dst, v[start:i])
			dst = append(dst, v[i+1])
			i++
			start = i + 1
		}
	}
	return appendReferences(dst, v[start:])
}

func appendReferences(dst, v []byte) []byte {
	if bytes.IndexByte(v, '&') < 0 {
		return append(dst, v...)
	}
	return append(dst, util.ResolveEntityNames(util.ResolveNumericReferences(v))...)
}

// collapse turns runs of ASCII white space into one space and trims the
// ends. No-break spaces are kept: typography put them there.
func collapse(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	space := false
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			space = sb.Len() > 0
			continue
		}
		if space {
			sb.WriteByte(' ')
			space = false
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// cut shortens s to at most max runes, at a word boundary when one falls in
// the second half, and marks the cut with "…". max <= 0 means no limit.
func cut(s string, max int) string {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	end, lastSpace, sentence, n := len(s), -1, -1, 0
	for i, r := range s {
		if unicode.IsSpace(r) && n >= max/2 {
			lastSpace = i
			if endsSentence(s[:i]) && startsSentence(s[i:]) {
				sentence = i
			}
		}
		if n == max {
			end = i
			break
		}
		n++
	}
	// A sentence ends there: the text stops as its author ended it, with no ellipsis
	// after the full stop ("décembre.…").
	if sentence > 0 {
		return s[:sentence]
	}
	if r, _ := utf8.DecodeRuneInString(s[end:]); !unicode.IsSpace(r) && lastSpace > 0 {
		end = lastSpace
	}
	s = strings.TrimRightFunc(s[:end], func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",;:.!?-–—(«“\"'", r)
	})
	return s + "…"
}

// Excerpt shortens a plain text, such as a page's summary, to about max runes for a card
// or a list: at the end of its last sentence that fits, when one ends in the second half,
// and otherwise at a word boundary with "…". A text of max runes or fewer is returned as
// it is.
func Excerpt(s string, max int) string { return cut(s, max) }

// endsSentence reports whether s ends with a sentence's last mark: ! ? or …, or a full
// stop after a word that is no abbreviation ("M.", "p.ex.", "av.").
func endsSentence(s string) bool {
	r, size := utf8.DecodeLastRuneInString(s)
	switch r {
	case '!', '?', '…':
		return true
	case '.':
	default:
		return false
	}
	word := s[:len(s)-size]
	word = word[strings.LastIndexFunc(word, unicode.IsSpace)+1:]
	if word == "" || strings.ContainsRune(word, '.') {
		return false
	}
	short := utf8.RuneCountInString(word) <= 2
	for _, r := range word {
		if !unicode.IsLetter(r) {
			short = false
		}
	}
	return !short
}

// startsSentence reports whether s, after its spaces, starts a sentence: a capital letter
// or an opening quotation mark.
func startsSentence(s string) bool {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsUpper(r) || r == '«' || r == '“' || r == '"'
}

// wordCounter counts runs of non-space characters that hold at least one
// letter or digit, so "l’école" and "c'est-à-dire" are one word each and a
// lone "!" or "—" is none. Runs may span several text nodes
// ("**Bon**jour"); stop ends the current run.
type wordCounter struct {
	n       int
	counted bool   // the current run has been counted
	tmp     []byte // text with its escapes and references resolved
}

// addText counts the words of Markdown text, where "&amp;" is no word.
func (w *wordCounter) addText(b []byte) {
	if bytes.IndexByte(b, '&') < 0 && bytes.IndexByte(b, '\\') < 0 {
		w.add(b)
		return
	}
	w.tmp = appendUnescaped(w.tmp[:0], b)
	w.add(w.tmp)
}

func (w *wordCounter) stop() { w.counted = false }

func (w *wordCounter) add(b []byte) {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			i++
			switch asciiClass[c] {
			case classSpace:
				w.counted = false
			case classAlnum:
				if !w.counted {
					w.n++
					w.counted = true
				}
			}
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		i += size
		switch {
		case unicode.IsSpace(r):
			w.counted = false
		case !w.counted && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			w.n++
			w.counted = true
		}
	}
}

const (
	classOther = iota
	classSpace
	classAlnum
)

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for _, c := range " \t\n\r\f\v" {
		t[c] = classSpace
	}
	for c := range utf8.RuneSelf {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			t[c] = classAlnum
		}
	}
	return t
}()

func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiClass[r] == classSpace
	}
	return unicode.IsSpace(r)
}

func isAlnum(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 0 && asciiClass[r] == classAlnum
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// attrString returns the string value of n's attribute name, or "".
func attrString(n ast.Node, name string) string {
	v, ok := n.AttributeString(name)
	if !ok {
		return ""
	}
	switch v := v.(type) {
	case []byte:
		return string(v)
	case string:
		return v
	}
	return ""
}
