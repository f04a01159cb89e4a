package generator

import (
	"github.com/parvis/parvis/internal/markdown"
)

// reservedIDs are the element ids the default theme uses itself: a heading of a page body
// must not take one, or the skip link and the comment anchors would land on it.
var reservedIDs = []string{"contenu", "main", "navigation", "pied-de-page", "comments", "comment-form", "comment-sent", "sommaire"}

// newPageRenderer renders editors' pages with the site's Markdown settings.
func newPageRenderer(unsafe bool, typography string) *markdown.Renderer {
	return markdown.New(markdown.WithUnsafe(unsafe), markdown.WithTypography(typography), markdown.WithReservedIDs(reservedIDs...))
}

// newCommentRenderer renders citizens' comments: raw HTML off, output sanitized.
func newCommentRenderer(typography string) *markdown.Renderer {
	return markdown.NewComment(markdown.WithTypography(typography))
}

func headings(hs []markdown.Heading) []Heading {
	if len(hs) == 0 {
		return nil
	}
	out := make([]Heading, len(hs))
	for i, h := range hs {
		out[i] = Heading{Level: h.Level, ID: h.ID, Text: h.Text}
	}
	return out
}
