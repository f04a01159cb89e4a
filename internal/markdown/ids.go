package markdown

import (
	"strconv"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
	"golang.org/x/text/unicode/norm"
)

// headingIDs gives every heading without an explicit id ("## Title {#id}")
// one made from its text, unique within the document. goldmark's own
// generator works on the heading's source line, so "[Lien](http://x)" would
// leak the URL into the id; this one works on the text a reader sees.
// Explicit ids are kept as written, even twice: links may point at them.
type headingIDs struct {
	reserved []string
	prefix   string // starts every id made
}

func (h headingIDs) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(parser.WithASTTransformers(util.Prioritized(h, 800)))
}

type idState struct {
	used     map[string]bool
	headings []*ast.Heading
	buf, id  []byte
}

var idStates = sync.Pool{New: func() any { return &idState{used: map[string]bool{}} }}

func (h headingIDs) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	st := idStates.Get().(*idState)
	defer func() {
		clear(st.used)
		clear(st.headings)
		st.headings = st.headings[:0]
		idStates.Put(st)
	}()
	// Explicit ids are collected first, so that a generated id never takes
	// one that an editor wrote further down.
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		if hd, ok := n.(*ast.Heading); ok {
			if id := attrString(hd, "id"); id != "" {
				st.used[id] = true
			} else {
				st.headings = append(st.headings, hd)
			}
			return ast.WalkSkipChildren, nil
		}
		if hasInlines(n) {
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	if len(st.headings) == 0 {
		return
	}
	for _, id := range h.reserved {
		st.used[id] = true
	}
	src := reader.Source()
	for _, hd := range st.headings {
		st.buf = appendText(st.buf[:0], hd, src)
		slug := appendSlug(append(st.id[:0], h.prefix...), st.buf)
		if len(slug) == len(h.prefix) {
			slug = append(slug, "section"...)
		}
		st.id = slug
		id := unique(st.used, slug)
		hd.SetAttributeString("id", []byte(id))
	}
}

// unique returns base, or base-1, base-2... whichever is not used yet, and
// marks it used.
func unique(used map[string]bool, base []byte) string {
	id := string(base)
	for i := 1; used[id]; i++ {
		id = string(strconv.AppendInt(append(base, '-'), int64(i), 10))
	}
	used[id] = true
	return id
}

// Slug turns a title into a URL- and id-friendly name: lower case, accents
// removed from Latin letters, anything else between words turned into one
// hyphen ("Éducation et écoles" → "education-et-ecoles", "L'été" →
// "l-ete"). Letters of other scripts are kept. It returns "" when s has no
// letter or digit.
func Slug(s string) string {
	return string(appendSlug(nil, []byte(s)))
}

// ligatures maps the Latin letters that have no decomposition to their
// plain spelling.
var ligatures = map[rune]string{
	'œ': "oe", 'Œ': "oe", 'æ': "ae", 'Æ': "ae", 'ß': "ss",
	'ø': "o", 'Ø': "o", 'ł': "l", 'Ł': "l", 'đ': "d", 'Đ': "d", 'ı': "i",
}

func appendSlug(dst, s []byte) []byte {
	ascii := true
	for _, c := range s {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		s = norm.NFD.Bytes(s)
	}
	start := len(dst)
	hyphen := false
	latin := false // the last letter was Latin: drop the accents that follow
	marks := false // marks were kept, on letters of other scripts
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(s[i:])
		}
		i += size
		switch {
		case unicode.Is(unicode.Mn, r):
			if !latin && !hyphen && len(dst) > start {
				dst = utf8.AppendRune(dst, r)
				marks = true
			}
			continue
		case isAlnum(r):
		default:
			hyphen = len(dst) > start
			latin = false
			continue
		}
		if hyphen {
			dst = append(dst, '-')
			hyphen = false
		}
		if r < utf8.RuneSelf {
			latin = true
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			dst = append(dst, byte(r))
			continue
		}
		latin = unicode.Is(unicode.Latin, r)
		if l, ok := ligatures[r]; ok {
			dst = append(dst, l...)
			continue
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
	}
	if marks {
		// Marks kept on letters of other scripts go back onto their letter.
		dst = append(dst[:start], norm.NFC.Bytes(dst[start:])...)
	}
	return dst
}
