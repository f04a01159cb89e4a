package generator

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
)

// mdInfo is what rendering a body tells besides its HTML.
type mdInfo struct {
	Summary  string
	Headings []Heading
	Words    int
}

// bodyRenderer turns Markdown into HTML.
type bodyRenderer interface {
	render(w io.Writer, src []byte) (mdInfo, error)
}

type goldmarkRenderer struct{ md goldmark.Markdown }

func newPageRenderer(unsafe bool, typography string) bodyRenderer {
	opts := []goldmark.Option{
		goldmark.WithExtensions(extension.GFM, extension.Footnote),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	}
	if unsafe {
		opts = append(opts, goldmark.WithRendererOptions(html.WithUnsafe()))
	}
	return &goldmarkRenderer{md: goldmark.New(opts...)}
}

func newCommentRenderer() bodyRenderer {
	return &goldmarkRenderer{md: goldmark.New(goldmark.WithExtensions(extension.Strikethrough, extension.Linkify))}
}

func (r *goldmarkRenderer) render(w io.Writer, src []byte) (mdInfo, error) {
	doc := r.md.Parser().Parse(text.NewReader(src))
	var info mdInfo
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Paragraph:
			if info.Summary == "" {
				info.Summary = cut(plain(n, src), 300)
			}
		case *ast.Heading:
			if n.Level == 2 || n.Level == 3 {
				id, _ := n.AttributeString("id")
				idb, _ := id.([]byte)
				info.Headings = append(info.Headings, Heading{Level: n.Level, ID: string(idb), Text: plain(n, src)})
			}
		case *ast.Text:
			info.Words += len(bytes.Fields(n.Segment.Value(src)))
		}
		return ast.WalkContinue, nil
	})
	return info, r.md.Renderer().Render(w, src, doc)
}

func plain(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			if t, ok := c.(*ast.Text); ok {
				b.Write(t.Segment.Value(src))
				if t.SoftLineBreak() {
					b.WriteByte(' ')
				}
			} else if s, ok := c.(*ast.String); ok {
				b.Write(s.Value)
			}
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}

// cut shortens s to at most max runes at a word boundary, with an ellipsis.
func cut(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)[:max]
	i := len(r)
	for i > max/2 && r[i-1] != ' ' {
		i--
	}
	return strings.TrimRight(string(r[:i]), " ,;:") + "…"
}

var commentPolicy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(true)
	return p
}()

func sanitizeComment(b []byte) string { return string(commentPolicy.SanitizeBytes(b)) }
