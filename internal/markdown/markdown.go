package markdown

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
)

// SummaryLength is the length, in runes, around which Info.Summary is cut.
const SummaryLength = 300

// MaxCommentSize is the largest comment, in bytes, that a comment Renderer
// accepts: about 5,000 words, far more than a comment needs. Some inputs
// take goldmark a time that grows with the square of their size
// ("[a](" repeated); the bound keeps the worst of them well under a second.
const MaxCommentSize = 32 << 10

// MaxCitizenSize is the largest page body, in bytes, that a citizen Renderer
// accepts: four times the longest a form allows by default (20,000 characters),
// so that any form's text fits whatever its script.
const MaxCitizenSize = 128 << 10

// ErrTooLarge is returned when a citizen's text is larger than its Renderer
// accepts (MaxCommentSize, MaxCitizenSize).
var ErrTooLarge = errors.New("markdown: the text is too large")

// CitizenIDPrefix starts every id in a citizen's page (its headings'), so that
// a citizen's "## Comment form" cannot take an id of the theme's and a link
// to "#u-..." always lands in what the citizen wrote.
const CitizenIDPrefix = "u-"

// Info is what rendering a document tells besides its HTML.
type Info struct {
	// Summary is the plain text of the first paragraph that has text, cut at
	// a word boundary to about SummaryLength runes with "…".
	Summary string
	// Headings are the h2 and h3 of the document, in order, for a table of
	// contents.
	Headings []Heading
	// Words counts the words of the text, code included, for a reading time.
	Words int
}

// Heading is a heading of a document.
type Heading struct {
	Level int    // 2 or 3
	ID    string // the element's id: unique in the document, unless an editor wrote one twice
	Text  string // plain text
}

// Option configures a Renderer.
type Option func(*config)

type config struct {
	unsafe     bool
	typography bool
	reserved   []string
	words      words
}

// WithUnsafe keeps raw HTML in editors' pages (parvis.yaml's markdown.unsafe).
// Otherwise raw HTML is left out of the output. It has no effect on comments,
// which never keep raw HTML.
func WithUnsafe(unsafe bool) Option {
	return func(c *config) { c.unsafe = unsafe }
}

// WithTypography sets the typographic conventions for the given language:
// a language tag whose primary subtag is "fr" turns French typography on
// (regional variants, such as Canada's lighter spacing, are not told
// apart); "", "none" and any other language leave the text as written.
func WithTypography(lang string) Option {
	return func(c *config) { c.typography = primary(lang) == "fr" }
}

// WithLanguage sets the language of the few words the renderer writes itself, for
// assistive technologies: the name of a footnote's link back to the text ("Revenir au
// texte"), and of a table's scrolling region when nothing on the page names it. "fr" and
// "en" are known; other languages get English, which is also the default.
func WithLanguage(lang string) Option {
	return func(c *config) { c.words = wordsFor(lang) }
}

// primary returns the primary subtag of a language tag, in lower case: "fr" for "fr-CA".
func primary(lang string) string {
	p, _, _ := strings.Cut(lang, "-")
	p, _, _ = strings.Cut(p, "_")
	return strings.ToLower(p)
}

// WithReservedIDs names ids that headings must not take, such as the
// theme's own anchors ("contenu", "commentaires"): a heading "Commentaires"
// then gets the id "commentaires-1". It has no effect on comments, whose
// output has no ids.
func WithReservedIDs(ids ...string) Option {
	return func(c *config) { c.reserved = append(c.reserved, ids...) }
}

// A Renderer turns Markdown into HTML. It is safe for concurrent use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy // set for citizens' texts: every output goes through it
	limit  int                // the largest source accepted, in bytes; 0 for no limit
}

// New returns a Renderer for editors' pages.
func New(opts ...Option) *Renderer {
	c := newConfig(opts)
	exts := []goldmark.Extender{
		extension.GFM,
		extension.Footnote,
		headingIDs{reserved: c.reserved},
		tableRegions{label: c.words.table},
		footnoteBacklinks{label: c.words.back},
	}
	if c.typography {
		exts = append(exts, FrenchTypography)
	}
	gopts := []goldmark.Option{
		goldmark.WithExtensions(exts...),
		goldmark.WithParserOptions(parser.WithAttribute()),
	}
	if c.unsafe {
		gopts = append(gopts, goldmark.WithRendererOptions(html.WithUnsafe()))
	}
	return &Renderer{md: goldmark.New(gopts...)}
}

// NewComment returns a Renderer for citizens' comments. Only WithTypography
// applies: raw HTML is always shown as text and the output is always
// sanitized (see Sanitize). Line breaks typed in the comment are kept, as
// people expect from a text area. A comment larger than MaxCommentSize is
// refused with ErrTooLarge.
func NewComment(opts ...Option) *Renderer {
	c := newConfig(opts)
	exts := []goldmark.Extender{
		extension.Strikethrough,
		extension.Linkify,
		citizenRules{},
	}
	if c.typography {
		exts = append(exts, FrenchTypography)
	}
	md := goldmark.New(
		goldmark.WithExtensions(exts...),
		goldmark.WithRendererOptions(html.WithHardWraps()),
	)
	return &Renderer{md: md, policy: commentPolicy, limit: MaxCommentSize}
}

// NewCitizen returns a Renderer for the pages citizens submit through forms: a
// proposed article's body, an event's description, a photo's story, a document's
// presentation. Editors' settings never apply to them, whatever the site says:
// WithUnsafe has no effect. It keeps what a page needs and a comment does not —
// headings (a "#" heading becomes h2, as the page has its title), tables — and
// otherwise holds the text to the comments' rules: raw HTML shown as typed, no
// attributes ("{#id}" and "{style=...}" stay text), images as links to them,
// links to http, https and mailto only, marked rel="nofollow ugc noopener
// noreferrer", line breaks kept, every id starting with CitizenIDPrefix, and the
// HTML sanitized by an allow-list. A text larger than MaxCitizenSize is refused
// with ErrTooLarge.
func NewCitizen(opts ...Option) *Renderer {
	c := newConfig(opts)
	exts := []goldmark.Extender{
		extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
		extension.Strikethrough,
		extension.Linkify,
		headingIDs{reserved: c.reserved, prefix: CitizenIDPrefix},
		citizenRules{headings: true},
		tableRegions{label: c.words.table},
	}
	if c.typography {
		exts = append(exts, FrenchTypography)
	}
	md := goldmark.New(
		goldmark.WithExtensions(exts...),
		goldmark.WithRendererOptions(html.WithHardWraps()),
	)
	return &Renderer{md: md, policy: citizenPolicy, limit: MaxCitizenSize}
}

func newConfig(opts []Option) *config {
	c := &config{words: wordsFor("")}
	for _, o := range opts {
		o(c)
	}
	return c
}

var (
	bufWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 8<<10) }}
	buffers    = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// Render writes the HTML of src to w and returns what it learnt about the
// document on the way. src is parsed once.
func (r *Renderer) Render(w io.Writer, src []byte) (info Info, err error) {
	if r.limit > 0 && len(src) > r.limit {
		return Info{}, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, len(src), r.limit)
	}
	doc, err := r.parse(src)
	if err != nil {
		return Info{}, err
	}
	info = collectInfo(doc, src)
	if r.policy == nil {
		return info, r.write(w, src, doc)
	}
	buf := buffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			buffers.Put(buf)
		}
	}()
	buf.Reset()
	if err := r.write(buf, src, doc); err != nil {
		return info, err
	}
	return info, r.policy.SanitizeReaderToWriter(bytes.NewReader(buf.Bytes()), w)
}

// PlainText returns the text of src without markup, blocks separated by a
// space, cut at a word boundary to about max runes with "…" (no cut when
// max <= 0). Code blocks and raw HTML are left out. It suits feeds and meta
// descriptions. A citizen's text larger than its Renderer accepts is read up
// to that size.
func (r *Renderer) PlainText(src []byte, max int) string {
	if r.limit > 0 && len(src) > r.limit {
		n := r.limit
		for n > 0 && !utf8.RuneStart(src[n]) {
			n--
		}
		src = src[:n]
	}
	doc, err := r.parse(src)
	if err != nil {
		return ""
	}
	return cut(documentText(doc, src), max)
}

// parse parses src, turning a panic deep in a parser into an error so that
// one bad document cannot stop a build or a server.
func (r *Renderer) parse(src []byte) (doc ast.Node, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("markdown: cannot parse the document: %v", p)
		}
	}()
	return r.md.Parser().Parse(text.NewReader(src)), nil
}

func (r *Renderer) write(w io.Writer, src []byte, doc ast.Node) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("markdown: cannot render the document: %v", p)
		}
	}()
	bw := bufWriters.Get().(*bufio.Writer)
	bw.Reset(w)
	defer func() {
		bw.Reset(nil)
		bufWriters.Put(bw)
	}()
	return r.md.Renderer().Render(bw, src, doc)
}
