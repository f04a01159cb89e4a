package markdown

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// FrenchTypography is a goldmark extender that sets text the French way:
//
//   - a narrow no-break space (U+202F) replaces the spaces before ; : ! ?
//     and inside « », and is added after « and before » when missing;
//   - straight double quotes "…" become « … », or “…” inside « »;
//   - a straight apostrophe between letters becomes ’ (aujourd’hui);
//   - three dots become an ellipsis (…);
//   - numbers are set as French sets them (see number): "24 000 €" with narrow no-break
//     spaces between the groups and before the unit, "19 h 30" with no-break spaces.
//
// It works on the text nodes of the syntax tree, after parsing: code spans,
// code blocks, raw HTML, autolinks and link destinations are never seen.
// No space is added before ; : ! ? where the author wrote none, so 14:30, 3:2
// or "http:" stay as they are, and a colon followed by a letter or digit
// ("12 :30") is left alone. A punctuation mark escaped with a backslash
// (\! or \") is kept as written.
var FrenchTypography goldmark.Extender = frenchTypography{}

type frenchTypography struct{}

func (frenchTypography) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(parser.WithASTTransformers(util.Prioritized(frenchTypography{}, 900)))
}

func (frenchTypography) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	f := flows.Get().(*flow)
	defer f.release()
	f.src = reader.Source()
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering && hasInlines(n) {
			f.run(n)
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
}

const (
	nnbsp = "\u202f" // narrow no-break space
	// objectMark stands in the flow for what typography must not see or
	// change: a code span, raw HTML, an autolink, an image.
	objectMark = '\ufffc'
)

// A flow is the text of one block (a paragraph, a heading, a table cell)
// as one string, so that rules see across emphasis and links
// ("**Attention** !", "l'*école*"). Each text node is a leaf, a range of
// buf; soft and hard line breaks are '\n'.
type flow struct {
	src     []byte
	buf     []byte
	leaves  []leaf
	edits   []edit
	pending []ast.Node // blocks and images whose text is still to set
	// arena holds the rewritten texts of the current document. It is not
	// reused across documents: the syntax tree keeps pointing into it.
	arena []byte
}

type leaf struct {
	node       *ast.Text
	start, end int
}

// An edit replaces buf[pos:end] with s, within one leaf.
type edit struct {
	leaf     int
	pos, end int
	s        string
}

var flows = sync.Pool{New: func() any { return new(flow) }}

func (f *flow) release() {
	clear(f.leaves[:cap(f.leaves)])
	clear(f.pending[:cap(f.pending)])
	f.src, f.arena = nil, nil
	flows.Put(f)
}

func (f *flow) run(block ast.Node) {
	f.pending = append(f.pending[:0], block)
	for len(f.pending) > 0 {
		n := f.pending[len(f.pending)-1]
		f.pending = f.pending[:len(f.pending)-1]
		f.buf, f.leaves, f.edits = f.buf[:0], f.leaves[:0], f.edits[:0]
		f.collect(n)
		f.scan()
		f.apply()
	}
}

func (f *flow) collect(n ast.Node) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			if c.IsRaw() {
				f.buf = utf8.AppendRune(f.buf, objectMark)
				continue
			}
			start := len(f.buf)
			f.buf = append(f.buf, c.Value(f.src)...)
			f.leaves = append(f.leaves, leaf{c, start, len(f.buf)})
			if c.SoftLineBreak() || c.HardLineBreak() {
				f.buf = append(f.buf, '\n')
			}
		case *ast.Image:
			// The alternative text is a sentence of its own.
			f.buf = utf8.AppendRune(f.buf, objectMark)
			f.pending = append(f.pending, c)
		case *ast.CodeSpan, *ast.RawHTML, *ast.AutoLink, *ast.String:
			f.buf = utf8.AppendRune(f.buf, objectMark)
		default:
			if c.HasChildren() {
				f.collect(c)
			} else {
				f.buf = utf8.AppendRune(f.buf, objectMark)
			}
		}
	}
}

// special marks the bytes that scan must look at; all others are skipped
// fast. « and » start with 0xC2.
var special = [256]bool{
	';': true, '!': true, '?': true, ':': true, '\'': true, '.': true,
	'"': true, '\\': true, '&': true, 0xC2: true,
	'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true, '8': true, '9': true,
}

// scan finds the edits of the flow.
func (f *flow) scan() {
	b := f.buf
	var (
		li        int  // the first leaf that ends after i
		depth     int  // guillemets open at i
		open      = -1 // an unmatched straight opening quote
		openDepth int
	)
	for i := 0; i < len(b); {
		if !special[b[i]] {
			i++
			continue
		}
		r, size := decode(b, i)
		// Special characters only come from leaves, never from the marks
		// that stand for line breaks and objects.
		for li < len(f.leaves) && f.leaves[li].end <= i {
			li++
		}
		end := f.leaves[li].end
		switch r {
		case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			i = f.number(i)
			continue
		case '\\':
			if i+1 < end && util.IsPunct(b[i+1]) {
				i += 2 // escaped: kept as written, whatever it is
				continue
			}
		case '&':
			if n := referenceLen(b[i:end]); n > 0 {
				i += n
				continue
			}
		case ';', '!', '?':
			f.spaceBefore(i, false)
		case ':':
			if !isAlnum(f.runeAt(i + 1)) {
				f.spaceBefore(i, false)
			}
		case '«':
			depth++
			f.spaceAfter(i, size)
		case '»':
			depth = max(depth-1, 0)
			f.spaceBefore(i, true)
		case '\'':
			if unicode.IsLetter(f.runeBefore(i)) && unicode.IsLetter(f.runeAt(i+1)) {
				f.add(i, i+1, "’")
			}
		case '.':
			n := 1
			for i+n < end && b[i+n] == '.' {
				n++
			}
			if n == 3 {
				f.add(i, i+3, "…")
			}
			i += n
			continue
		case '"':
			prev, next := f.runeBefore(i), f.runeAt(i+1)
			if isAlnum(prev) && isAlnum(next) {
				break // inside a word: not a quotation mark
			}
			canOpen := !isBlank(next) && (!isPunct(next) || isBlank(prev) || isPunct(prev))
			canClose := !isBlank(prev) && (!isPunct(prev) || isBlank(next) || isPunct(next))
			switch {
			case canClose && open >= 0:
				if openDepth > 0 {
					f.add(open, open+1, "“")
					f.add(i, i+1, "”")
				} else {
					f.add(open, open+1, "«"+nnbsp)
					f.add(i, i+1, nnbsp+"»")
				}
				open = -1
			case canOpen:
				open, openDepth = i, depth
			}
		}
		i += size
	}
}

// spaceBefore leaves exactly one narrow no-break space between the
// punctuation mark at i and the word before it: the spaces already there
// become one; one is added only if insert is set. Nothing changes at the
// start of a block or of a line.
func (f *flow) spaceBefore(i int, insert bool) {
	b := f.buf
	k := i
	for k > 0 {
		r, size := utf8.DecodeLastRune(b[:k])
		if !isSpaceMark(r) {
			break
		}
		k -= size
	}
	if k == 0 {
		return
	}
	if r, _ := utf8.DecodeLastRune(b[:k]); r == '\n' || (k == i && r == '«') {
		return
	}
	if k == i {
		if insert {
			f.add(i, i, nnbsp)
		}
		return
	}
	f.replaceSpaces(k, i, false)
}

// spaceAfter does the same after the « at i.
func (f *flow) spaceAfter(i, size int) {
	b := f.buf
	j := i + size
	k := j
	for k < len(b) {
		r, size := decode(b, k)
		if !isSpaceMark(r) {
			break
		}
		k += size
	}
	if k == len(b) {
		return
	}
	r, _ := decode(b, k)
	switch {
	case r == '\n':
	case k > j:
		f.replaceSpaces(j, k, true)
	case r != '»':
		// Inserted in the leaf of the «, which holds j as its end.
		if l := f.leafAt(i); l >= 0 {
			f.edits = append(f.edits, edit{leaf: l, pos: j, end: j, s: nnbsp})
		}
	}
}

// replaceSpaces turns the spaces of buf[from:to] into one narrow no-break
// space, kept at the first place or the last one. Each space is an edit of
// its own, as the spaces may belong to different leaves.
func (f *flow) replaceSpaces(from, to int, first bool) {
	if string(f.buf[from:to]) == nnbsp {
		return
	}
	for j := from; j < to; {
		_, size := decode(f.buf, j)
		s := ""
		if (first && j == from) || (!first && j+size == to) {
			s = nnbsp
		}
		f.add(j, j+size, s)
		j += size
	}
}

// add records an edit of buf[pos:end], or an insertion at pos in the leaf
// that holds pos.
func (f *flow) add(pos, end int, s string) {
	if l := f.leafAt(pos); l >= 0 {
		f.edits = append(f.edits, edit{leaf: l, pos: pos, end: end, s: s})
	}
}

// leafAt returns the index of the leaf holding buf[pos], or -1.
func (f *flow) leafAt(pos int) int {
	i, ok := slices.BinarySearchFunc(f.leaves, pos, func(l leaf, pos int) int {
		switch {
		case l.end <= pos:
			return -1
		case l.start > pos:
			return 1
		}
		return 0
	})
	if !ok {
		return -1
	}
	return i
}

// apply rewrites the leaves that have edits: each becomes a String node
// holding its new text, followed by an empty Text node that carries its
// line break, if any.
func (f *flow) apply() {
	if len(f.edits) == 0 {
		return
	}
	slices.SortStableFunc(f.edits, func(a, b edit) int {
		if a.leaf != b.leaf {
			return a.leaf - b.leaf
		}
		return a.pos - b.pos
	})
	for i := 0; i < len(f.edits); {
		j := i + 1
		for j < len(f.edits) && f.edits[j].leaf == f.edits[i].leaf {
			j++
		}
		f.rewrite(f.leaves[f.edits[i].leaf], f.edits[i:j])
		i = j
	}
}

func (f *flow) rewrite(l leaf, edits []edit) {
	size := l.end - l.start
	for _, e := range edits {
		size += len(e.s)
	}
	if cap(f.arena)-len(f.arena) < size {
		f.arena = make([]byte, 0, max(size, 2048))
	}
	start := len(f.arena)
	last := l.start
	for _, e := range edits {
		if e.pos < last || e.end > l.end {
			continue // overlaps an edit already made, or leaves the leaf
		}
		f.arena = append(f.arena, f.buf[last:e.pos]...)
		f.arena = append(f.arena, e.s...)
		last = e.end
	}
	f.arena = append(f.arena, f.buf[last:l.end]...)
	value := f.arena[start:len(f.arena):len(f.arena)]

	t := l.node
	parent := t.Parent()
	parent.InsertBefore(parent, t, ast.NewString(value))
	if t.SoftLineBreak() || t.HardLineBreak() {
		br := ast.NewTextSegment(text.NewSegment(t.Segment.Stop, t.Segment.Stop))
		br.SetSoftLineBreak(t.SoftLineBreak())
		br.SetHardLineBreak(t.HardLineBreak())
		parent.InsertBefore(parent, t, br)
	}
	parent.RemoveChild(parent, t)
}

// runeBefore returns the character before buf[i], 0 at the start. After an
// escape it is the escaped character; after a character reference, its
// ";": the rules take a reference for punctuation.
func (f *flow) runeBefore(i int) rune {
	if i == 0 {
		return 0
	}
	if c := f.buf[i-1]; c < utf8.RuneSelf {
		return rune(c)
	}
	r, _ := utf8.DecodeLastRune(f.buf[:i])
	return r
}

func (f *flow) runeAt(i int) rune {
	if i >= len(f.buf) {
		return 0
	}
	r, _ := decode(f.buf, i)
	return r
}

func decode(b []byte, i int) (rune, int) {
	if c := b[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRune(b[i:])
}

// referenceLen returns the length of the character reference (&amp;,
// &#233;, &#xE9;) that b starts with, or 0.
func referenceLen(b []byte) int {
	i := 1
	if i < len(b) && b[i] == '#' {
		i++
		if i < len(b) && (b[i] == 'x' || b[i] == 'X') {
			i++
		}
	}
	n := i
	for i < len(b) && i-n < 32 && util.IsAlphaNumeric(b[i]) {
		i++
	}
	if i == n || i >= len(b) || b[i] != ';' {
		return 0
	}
	return i + 1
}

// isSpaceMark reports whether r is a space that typography may replace.
func isSpaceMark(r rune) bool {
	return r == ' ' || r == '\t' || r == '\u00a0' || r == '\u2009' || r == '\u202f'
}

// isBlank reports whether r is a space, a line break or the edge of the
// flow (0).
func isBlank(r rune) bool { return r == 0 || isSpace(r) }

func isPunct(r rune) bool {
	if r < utf8.RuneSelf {
		return util.IsPunct(byte(r))
	}
	return unicode.IsPunct(r) || unicode.IsSymbol(r)
}

// Typography applies the typography of lang to a line of plain text that does not go
// through Markdown, such as a title or a summary from front matter, so that it reads as
// the page's text does. Only "fr" has rules; other languages get s back.
func Typography(s, lang string) string {
	if lang != "fr" || !strings.ContainsAny(s, ";!?:'\".«»") && !hasDigit(s) {
		return s
	}
	src := []byte(s)
	p := ast.NewParagraph()
	p.AppendChild(p, ast.NewTextSegment(text.NewSegment(0, len(src))))
	f := flows.Get().(*flow)
	defer f.release()
	f.src = src
	f.run(p)
	var b strings.Builder
	b.Grow(len(s) + 8)
	for c := p.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Value(src))
		case *ast.String:
			b.Write(c.Value)
		}
	}
	return b.String()
}
