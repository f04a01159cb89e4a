package markdown

import (
	"strconv"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// words are what the renderers write themselves, by language (WithLanguage).
type words struct {
	back  string // a footnote's link back to the text
	table string // a table that nothing on the page names
}

var languages = map[string]words{
	"fr": {back: "Revenir au texte", table: "Tableau"},
	"en": {back: "Back to the text", table: "Table"},
}

func wordsFor(lang string) words {
	if w, ok := languages[primary(lang)]; ok {
		return w
	}
	return languages["en"]
}

// footnoteBacklinks renders a footnote's link back to the text with a name. goldmark's
// own is named by its arrow alone ("↩︎"), which a screen reader reads as a symbol, if at
// all; the arrow stays for the eye and aria-label says where the link goes.
type footnoteBacklinks struct {
	label string
}

func (f footnoteBacklinks) Extend(m goldmark.Markdown) {
	// Before goldmark's footnote renderer (500), which this one replaces for back-links.
	m.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(f, 100)))
}

func (f footnoteBacklinks) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(extast.KindFootnoteBacklink, func(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		n := node.(*extast.FootnoteBacklink)
		_, _ = w.WriteString(`&#160;<a href="#fnref`)
		if n.RefIndex > 0 {
			_, _ = w.WriteString(strconv.Itoa(n.RefIndex))
		}
		_ = w.WriteByte(':')
		_, _ = w.WriteString(strconv.Itoa(n.Index))
		_, _ = w.WriteString(`" class="footnote-backref" role="doc-backlink" aria-label="`)
		_, _ = w.Write(util.EscapeHTML([]byte(f.label)))
		_, _ = w.WriteString(`">&#x21a9;&#xfe0e;</a>`)
		return ast.WalkContinue, nil
	})
}
