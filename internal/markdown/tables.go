package markdown

import (
	"regexp"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// tableRegions is a goldmark extender for tables on small screens. A table wider than
// the screen must scroll sideways rather than break its words and numbers, and keyboard
// users must be able to scroll it too: each table is put in a focusable region with a
// name (WCAG 2.1.1 and 4.1.2, as axe-core's scrollable-region-focusable asks):
//
//	<div class="table-wrap" role="region" tabindex="0" aria-labelledby="heading-id">
//
// The region takes its name from the heading the table stands under; a table before any
// heading is named by its column headers, or by the word "table" in the page's language.
// A column whose cells all hold numbers ("1 012", "24 000 €", "12,5 %") is aligned right,
// as figures are read, unless the author aligned it.
type tableRegions struct {
	label string // the word for a table, when nothing else names it
}

// KindTableRegion is the kind of a TableRegion node.
var KindTableRegion = ast.NewNodeKind("TableRegion")

// A TableRegion holds one table, for the region that scrolls it.
type TableRegion struct {
	ast.BaseBlock
	LabelledBy string // the id of the element that names the region, or ""
	Label      string // the name, when no element gives it
}

func (n *TableRegion) Kind() ast.NodeKind { return KindTableRegion }

func (n *TableRegion) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{"LabelledBy": n.LabelledBy, "Label": n.Label}, nil)
}

func (t tableRegions) Extend(m goldmark.Markdown) {
	// After heading ids (800) and typography (900): the ids exist and the cells' text is set.
	m.Parser().AddOptions(parser.WithASTTransformers(util.Prioritized(t, 1000)))
	m.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(t, 100)))
}

func (t tableRegions) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	src := reader.Source()
	heading := ""
	var tables []*extast.Table
	var ids []string
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			if id := attrString(n, "id"); id != "" {
				heading = id
			}
			return ast.WalkSkipChildren, nil
		case *extast.Table:
			tables = append(tables, n)
			ids = append(ids, heading)
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	for i, tbl := range tables {
		alignNumbers(tbl, src)
		region := &TableRegion{LabelledBy: ids[i]}
		if region.LabelledBy == "" {
			region.Label = headerText(tbl, src)
			if region.Label == "" {
				region.Label = t.label
			}
		}
		parent := tbl.Parent()
		parent.ReplaceChild(parent, tbl, region)
		region.AppendChild(region, tbl)
	}
}

func (t tableRegions) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(KindTableRegion, func(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			_, _ = w.WriteString("</div>\n")
			return ast.WalkContinue, nil
		}
		r := n.(*TableRegion)
		_, _ = w.WriteString(`<div class="table-wrap" role="region" tabindex="0"`)
		if r.LabelledBy != "" {
			_, _ = w.WriteString(` aria-labelledby="`)
			_, _ = w.Write(util.EscapeHTML([]byte(r.LabelledBy)))
		} else {
			_, _ = w.WriteString(` aria-label="`)
			_, _ = w.Write(util.EscapeHTML([]byte(r.Label)))
		}
		_, _ = w.WriteString("\">\n")
		return ast.WalkContinue, nil
	})
}

// headerText is the text of a table's header cells, joined by commas.
func headerText(tbl *extast.Table, src []byte) string {
	var names []string
	for row := tbl.FirstChild(); row != nil; row = row.NextSibling() {
		if _, ok := row.(*extast.TableHeader); !ok {
			continue
		}
		for c := row.FirstChild(); c != nil; c = c.NextSibling() {
			if s := collapse(appendText(nil, c, src)); s != "" {
				names = append(names, s)
			}
		}
	}
	return strings.Join(names, ", ")
}

// numeric matches a cell that holds a number and nothing else: a sign, digits in groups,
// decimals, and a unit ("−1 200", "24 000 €", "12,5 %", "3 km").
var numeric = regexp.MustCompile(`^[+\-−±]?[0-9]+(?:[ \x{a0}\x{202f}\x{2009}.]?[0-9]{3})*(?:[.,][0-9]+)?(?:[ \x{a0}\x{202f}]?(?:` + unitPattern() + `))?$`)

func unitPattern() string {
	q := make([]string, len(units))
	for i, u := range units {
		q[i] = regexp.QuoteMeta(u)
	}
	return strings.Join(q, "|")
}

// alignNumbers aligns right the columns without an alignment whose body cells all hold
// numbers (empty cells and dashes aside), header included.
func alignNumbers(tbl *extast.Table, src []byte) {
	cols := len(tbl.Alignments)
	numbers := make([]int, cols) // body cells holding a number, per column
	others := make([]bool, cols) // a body cell holds something else
	for row := tbl.FirstChild(); row != nil; row = row.NextSibling() {
		if _, ok := row.(*extast.TableRow); !ok {
			continue
		}
		i := 0
		for c := row.FirstChild(); c != nil && i < cols; c = c.NextSibling() {
			switch s := collapse(appendText(nil, c, src)); {
			case s == "" || s == "-" || s == "–" || s == "—":
			case numeric.MatchString(s):
				numbers[i]++
			default:
				others[i] = true
			}
			i++
		}
	}
	for i := range cols {
		if tbl.Alignments[i] != extast.AlignNone || others[i] || numbers[i] == 0 {
			continue
		}
		tbl.Alignments[i] = extast.AlignRight
		for row := tbl.FirstChild(); row != nil; row = row.NextSibling() {
			j := 0
			for c := row.FirstChild(); c != nil; c = c.NextSibling() {
				if cell, ok := c.(*extast.TableCell); ok && j == i {
					cell.Alignment = extast.AlignRight
				}
				j++
			}
		}
	}
}
