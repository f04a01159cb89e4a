package generator

import (
	"github.com/parvis/parvis/internal/markdown"
)

// reservedIDs are the element ids the default theme uses itself: a heading of a page body
// must not take one, or the skip link and the comment anchors would land on it.
var reservedIDs = []string{"contenu", "main", "navigation", "pied-de-page", "comments", "comment-form", "comment-sent", "sommaire"}

// renderers are the site's renderers, as the moderation preview makes them too
// (markdown.ForSite), with the theme's ids kept from editors' headings.
func renderers(lang string, unsafe bool, typography string) markdown.Renderers {
	return markdown.ForSite(lang, unsafe, typography, reservedIDs...)
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
