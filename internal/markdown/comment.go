package markdown

import (
	"bytes"
	"net/url"
	"regexp"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// linkRel marks every link of a comment: the site does not vouch for it
// (nofollow, ugc) and tells the target nothing (noopener, noreferrer).
const linkRel = "nofollow ugc noopener noreferrer"

var linkRelBytes = []byte(linkRel)

// commentPolicy is the allow-list of a comment's HTML.
var commentPolicy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "em", "strong", "del", "code", "pre", "blockquote", "ul", "ol", "li")
	p.AllowAttrs("start").Matching(regexp.MustCompile(`^[0-9]{1,9}$`)).OnElements("ol")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^` + linkRel + `$`)).OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	return p
}()

// citizenPolicy is the allow-list of a citizen's page: a comment's, with the
// headings and tables a page may hold. Only ids of CitizenIDPrefix pass.
var citizenPolicy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "em", "strong", "del", "code", "pre", "blockquote", "ul", "ol", "li",
		"h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "div")
	p.AllowAttrs("start").Matching(regexp.MustCompile(`^[0-9]{1,9}$`)).OnElements("ol")
	p.AllowAttrs("id").Matching(regexp.MustCompile(`^`+CitizenIDPrefix+`[\p{L}\p{M}\p{N}-]{1,200}$`)).OnElements("h2", "h3", "h4", "h5", "h6")
	p.AllowAttrs("align").Matching(regexp.MustCompile(`^(left|center|right)$`)).OnElements("th", "td")
	// A table's scrolling region (tableRegions): a citizen cannot write a div, only get one.
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^table-wrap$`)).OnElements("div")
	p.AllowAttrs("role").Matching(regexp.MustCompile(`^region$`)).OnElements("div")
	p.AllowAttrs("tabindex").Matching(regexp.MustCompile(`^0$`)).OnElements("div")
	p.AllowAttrs("aria-labelledby").Matching(regexp.MustCompile(`^` + CitizenIDPrefix + `[\p{L}\p{M}\p{N}-]{1,200}$`)).OnElements("div")
	p.AllowAttrs("aria-label").OnElements("div")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^` + linkRel + `$`)).OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	return p
}()

// Sanitize keeps of html only what a comment may hold: paragraphs, line
// breaks, emphasis, strong, del, code, pre, blockquote, lists, and links to
// http, https and mailto URLs. Ids, classes, styles, images, scripts and
// event handlers are removed. Every link keeps or gets rel="nofollow
// noreferrer"; Render's output has the full rel="nofollow ugc noopener
// noreferrer". It is safe for concurrent use.
func Sanitize(html []byte) []byte {
	return commentPolicy.SanitizeBytes(html)
}

// citizenRules reshapes the syntax tree of what a citizen wrote before it is
// rendered, so that the sanitizer has little left to remove and nothing the
// citizen wrote disappears silently:
//
//   - raw HTML becomes text, shown as typed;
//   - in a comment, a heading becomes a paragraph in bold (an empty one goes),
//     so that comments cannot add entries to the page's outline; in a page
//     (headings set), a heading stays, at level 2 at least, since the page has
//     its title;
//   - an image becomes a link to it labelled with its alternative text;
//   - a link to anything but http, https or mailto becomes its text, and the
//     others get linkRel and lose their title;
//   - a link inside a link becomes its text.
type citizenRules struct {
	headings bool // a page's: headings are kept
}

func (c citizenRules) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(parser.WithASTTransformers(util.Prioritized(c, 100)))
}

func (c citizenRules) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	src := reader.Source()
	var todo []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			switch n.(type) {
			case *ast.Heading, *ast.Image, *ast.Link, *ast.AutoLink, *ast.RawHTML, *ast.HTMLBlock:
				todo = append(todo, n)
			}
		}
		return ast.WalkContinue, nil
	})
	// Parents come before their children, so an image turned into a link
	// is seen as an ancestor by the links of its alternative text.
	for _, n := range todo {
		parent := n.Parent()
		if parent == nil {
			continue
		}
		switch n := n.(type) {
		case *ast.Heading:
			if c.headings {
				n.Level = max(n.Level, 2)
				break
			}
			if !n.HasChildren() {
				parent.RemoveChild(parent, n)
				break
			}
			strong := ast.NewEmphasis(2)
			moveChildren(strong, n)
			p := ast.NewParagraph()
			p.AppendChild(p, strong)
			parent.ReplaceChild(parent, n, p)
		case *ast.Image:
			dest := util.URLEscape(n.Destination, true)
			if insideLink(n) || !allowedURL(dest) {
				unwrap(n)
				break
			}
			l := ast.NewLink()
			l.Destination = n.Destination
			if n.HasChildren() {
				moveChildren(l, n)
			} else {
				label := ast.NewString(dest)
				label.SetRaw(true)
				l.AppendChild(l, label)
			}
			l.SetAttributeString("rel", linkRelBytes)
			parent.ReplaceChild(parent, n, l)
		case *ast.Link:
			if insideLink(n) || !allowedURL(util.URLEscape(n.Destination, true)) {
				unwrap(n)
				break
			}
			n.Title = nil
			n.SetAttributeString("rel", linkRelBytes)
		case *ast.AutoLink:
			u := n.URL(src)
			if n.AutoLinkType == ast.AutoLinkEmail && !hasPrefixFold(u, "mailto:") {
				u = append([]byte("mailto:"), u...)
			}
			if insideLink(n) || !allowedURL(util.URLEscape(u, false)) {
				label := ast.NewString(n.Label(src))
				label.SetRaw(true)
				parent.ReplaceChild(parent, n, label)
				break
			}
			n.SetAttributeString("rel", linkRelBytes)
		case *ast.RawHTML:
			s := ast.NewString(n.Segments.Value(src))
			s.SetRaw(true)
			parent.ReplaceChild(parent, n, s)
		case *ast.HTMLBlock:
			p := ast.NewParagraph()
			lines := n.Lines()
			segs := make([]text.Segment, 0, lines.Len()+1)
			for i := range lines.Len() {
				segs = append(segs, lines.At(i))
			}
			if n.HasClosure() {
				segs = append(segs, n.ClosureLine)
			}
			for i, seg := range segs {
				seg = seg.TrimRightSpace(src)
				line := ast.NewString(seg.Value(src))
				line.SetRaw(true)
				p.AppendChild(p, line)
				if i < len(segs)-1 {
					br := ast.NewTextSegment(text.NewSegment(seg.Stop, seg.Stop))
					br.SetSoftLineBreak(true)
					p.AppendChild(p, br)
				}
			}
			parent.ReplaceChild(parent, n, p)
		}
	}
}

// allowedURL reports whether a link to u, as the renderer writes it, may
// stay in a comment: an http or https URL with a host, or a mailto URL
// with an address.
func allowedURL(u []byte) bool {
	if !hasPrefixFold(u, "http://") && !hasPrefixFold(u, "https://") && !hasPrefixFold(u, "mailto:") {
		return false
	}
	p, err := url.Parse(string(u))
	return err == nil && (p.Host != "" || p.Scheme == "mailto" && p.Opaque != "")
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && bytes.EqualFold(b[:len(prefix)], []byte(prefix))
}

func insideLink(n ast.Node) bool {
	for p := n.Parent(); p != nil; p = p.Parent() {
		switch p.(type) {
		case *ast.Link, *ast.Image:
			return true
		}
	}
	return false
}

// moveChildren moves the children of from to the end of to.
func moveChildren(to, from ast.Node) {
	for c := from.FirstChild(); c != nil; {
		next := c.NextSibling()
		to.AppendChild(to, c)
		c = next
	}
}

// unwrap replaces n with its children.
func unwrap(n ast.Node) {
	parent := n.Parent()
	for c := n.FirstChild(); c != nil; {
		next := c.NextSibling()
		parent.InsertBefore(parent, n, c)
		c = next
	}
	parent.RemoveChild(parent, n)
}
