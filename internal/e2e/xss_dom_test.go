package e2e

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/domsnapshot"
)

// The structural checks of a page, made on a DOM snapshot (DOMSnapshot.captureSnapshot:
// every frame's document, attributes and computed positions) rather than by a script in the
// page, so that a frame sandboxed without scripts is read as well as the page around it, and
// so that the checks themselves run no script that the hook would have to tell apart.

// snapshotStyles are the computed styles the snapshot carries, in this order.
var snapshotStyles = []string{"position"}

type snapNode struct {
	name    string // lower case: "div", "svg", "foreignobject"
	elem    bool
	attrs   [][2]string
	parent  int // in the same document, -1 for the root
	content int // a frame owner's document, -1 if none
	pos     string
	area    float64 // of its layout box, in CSS pixels
	text    string  // the start of its text, for a report
}

func (n *snapNode) attr(name string) (string, bool) {
	for _, a := range n.attrs {
		if strings.EqualFold(a[0], name) {
			return a[1], true
		}
	}
	return "", false
}

func (n *snapNode) classes() []string {
	c, _ := n.attr("class")
	return strings.Fields(c)
}

// describe writes the element as a start tag, for a report.
func (n *snapNode) describe() string {
	var b strings.Builder
	b.WriteString("<" + n.name)
	for _, a := range n.attrs {
		fmt.Fprintf(&b, " %s=%q", a[0], a[1])
	}
	b.WriteString(">")
	if t := strings.Join(strings.Fields(n.text), " "); t != "" {
		b.WriteString(clip(t, 100))
	}
	return clip(b.String(), 340)
}

type snapDoc struct {
	url     string
	nodes   []snapNode
	preview bool // the moderation preview's sandboxed frame
}

// pageSnapshot is a page's documents: the page first, then its frames'.
type pageSnapshot struct {
	docs  []*snapDoc
	texts []string // every text and attribute value, for what the page shows
}

func newPageSnapshot(r domsnapshot.CaptureSnapshotResult) *pageSnapshot {
	str := func(i int64) string {
		if i < 0 || int(i) >= len(r.Strings) {
			return ""
		}
		return r.Strings[i]
	}
	p := &pageSnapshot{}
	for _, d := range r.Documents {
		sd := &snapDoc{url: str(int64(d.DocumentURL))}
		nt := d.Nodes
		sd.nodes = make([]snapNode, len(nt.NodeName))
		for i := range sd.nodes {
			n := &sd.nodes[i]
			n.name = strings.ToLower(str(int64(nt.NodeName[i])))
			n.elem = nt.NodeType[i] == 1
			n.parent = int(nt.ParentIndex[i])
			n.content = -1
			if i < len(nt.Attributes) {
				a := nt.Attributes[i]
				for j := 0; j+1 < len(a); j += 2 {
					n.attrs = append(n.attrs, [2]string{str(a[j]), str(a[j+1])})
					p.texts = append(p.texts, str(a[j+1]))
				}
			}
		}
		for i := range sd.nodes {
			if nt.NodeType[i] != 3 || i >= len(nt.NodeValue) {
				continue
			}
			v := str(int64(nt.NodeValue[i]))
			p.texts = append(p.texts, v)
			for a := sd.nodes[i].parent; a >= 0 && v != ""; a = sd.nodes[a].parent {
				if len(sd.nodes[a].text) < 120 {
					sd.nodes[a].text += v
				}
			}
		}
		if c := nt.ContentDocumentIndex; c != nil {
			for j, i := range c.Index {
				sd.nodes[i].content = int(c.Value[j])
			}
		}
		if l := d.Layout; l != nil {
			for j, i := range l.NodeIndex {
				if j < len(l.Styles) && len(l.Styles[j]) > 0 {
					sd.nodes[i].pos = str(l.Styles[j][0])
				}
				if j < len(l.Bounds) && len(l.Bounds[j]) == 4 {
					sd.nodes[i].area = l.Bounds[j][2] * l.Bounds[j][3]
				}
			}
		}
		p.docs = append(p.docs, sd)
	}
	return p
}

// links returns the targets of the page's links, as written.
func (p *pageSnapshot) links() []string {
	var out []string
	if len(p.docs) == 0 {
		return nil
	}
	for i := range p.docs[0].nodes {
		n := &p.docs[0].nodes[i]
		if h, ok := n.attr("href"); ok && n.name == "a" {
			out = append(out, h)
		}
	}
	return out
}

// finding is markup that a citizen must not be able to put on a page.
type finding struct {
	Rule   string // what is wrong
	Detail string // the element, as a start tag
	Doc    string // the document it is in (a frame's, or the page's)
	sig    string // what it is, without what varies from page to page: the theme's own are allowed by it
}

// checkContext is what the checks of one page need to know about it.
type checkContext struct {
	origin  string
	surface string // "site" or "admin"
	citizen bool   // the page is one a citizen's submission made: its .content is theirs
	theme   *themeMarkup
	chosen  map[string]bool // ids the payloads try to set
}

// themeMarkup is what the theme itself puts on pages, learnt from pages without any
// payload: the signatures of its notable elements and attributes, and its ids.
type themeMarkup struct {
	mu   sync.Mutex
	sigs map[string]bool
	ids  map[string]bool
}

func newThemeMarkup() *themeMarkup {
	return &themeMarkup{sigs: map[string]bool{}, ids: map[string]bool{}}
}

// learnSafely adds what a page without payloads holds to the theme's markup; it may be
// called from the tabs at once.
func (m *themeMarkup) learnSafely(p *pageSnapshot, cc *checkContext) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range p.check(cc) {
		m.sigs[f.sig] = true
	}
	// The theme's ids are those outside any page's text, an editor's included.
	ids := *cc
	ids.citizen = true
	for _, d := range p.docs {
		cit := d.citizenMarks(&ids)
		for i := range d.nodes {
			if id, ok := d.nodes[i].attr("id"); ok && !cit[i] {
				m.ids[id] = true
			}
		}
	}
}

// textContainers hold text a citizen wrote, as the theme places it: a name, a title, a
// summary. Nothing in them may carry an id, a style or a position of its own.
var textContainers = []string{"comment-body", "comment-who", "lead", "card-title", "card-desc", "place", "address"}

// container reports whether the children of n are a citizen's.
func (d *snapDoc) container(n *snapNode, cc *checkContext) bool {
	if !n.elem {
		return false
	}
	cls := n.classes()
	for _, c := range textContainers {
		if slices.Contains(cls, c) {
			return true
		}
	}
	switch {
	case slices.Contains(cls, "content") && (cc.citizen || d.preview):
		return true
	case slices.Contains(cls, "preview") && cc.surface == "admin":
		return true
	case n.name == "h1" && cc.citizen, n.name == "figcaption":
		return true
	}
	return false
}

// citizenMarks tells, for each node, whether it is inside a citizen's content. In the
// moderation preview's frame, everything in the body is, unless the frame holds the
// theme's own containers.
func (d *snapDoc) citizenMarks(cc *checkContext) []bool {
	cit := make([]bool, len(d.nodes))
	containers := false
	for i := range d.nodes {
		n := &d.nodes[i]
		if n.parent >= 0 {
			p := &d.nodes[n.parent]
			cit[i] = cit[n.parent] || d.container(p, cc)
			if cit[i] && !cit[n.parent] {
				containers = true
			}
		}
	}
	if d.preview && !containers {
		for i := range d.nodes {
			if n := &d.nodes[i]; n.parent >= 0 {
				p := &d.nodes[n.parent]
				cit[i] = cit[n.parent] || p.name == "body"
			}
		}
	}
	return cit
}

// urlAttrs are the attributes that hold a URL a browser may load or follow.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "action": true, "formaction": true, "xlink:href": true, "data": true,
	"poster": true, "background": true, "codebase": true, "cite": true, "srcset": true, "lowsrc": true,
	"dynsrc": true, "ping": true, "longdesc": true, "icon": true, "manifest": true, "profile": true,
	"archive": true, "classid": true, "code": true, "to": true, "values": true, "from": true, "by": true,
}

// activeLinks are the link types that make the browser load something.
var activeLinks = []string{"import", "stylesheet", "preload", "prefetch", "modulepreload", "preconnect", "dns-prefetch", "manifest", "serviceworker", "prerender"}

// activeScheme returns the scheme of a URL that runs or embeds code (javascript:,
// vbscript:, data:), as a browser reads it: leading C0 controls and spaces dropped, tabs
// and newlines removed anywhere, any case.
func activeScheme(v string) string {
	v = strings.TrimLeft(v, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	v = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, v)
	v = strings.ToLower(v)
	for _, s := range []string{"javascript:", "vbscript:", "data:", "livescript:", "mocha:"} {
		if strings.HasPrefix(v, s) {
			return s
		}
	}
	return ""
}

var ulid = regexp.MustCompile(`[0-9A-HJKMNP-TV-Z]{26}`)

// norm takes out of a value what differs from page to page: the origin, submission ids.
func (cc *checkContext) norm(v string) string {
	v = strings.ReplaceAll(v, cc.origin, "")
	return ulid.ReplaceAllString(v, "{id}")
}

// ownScript reports whether src, in a document at base, is one of the site's own files.
func (cc *checkContext) ownScript(base, src string) bool {
	b, err := url.Parse(base)
	if src == "" || err != nil {
		return false
	}
	u, err := b.Parse(src)
	return err == nil && strings.HasPrefix(u.String(), cc.origin+"/js/")
}

// previewSandbox reports whether an iframe on a moderation page is the sandboxed preview:
// sandboxed, and not given back both scripts and its origin, nor the top window.
func previewSandbox(n *snapNode) bool {
	sb, ok := n.attr("sandbox")
	if !ok {
		return false
	}
	tok := strings.Fields(strings.ToLower(sb))
	if slices.Contains(tok, "allow-scripts") && slices.Contains(tok, "allow-same-origin") {
		return false
	}
	for _, t := range tok {
		if strings.HasPrefix(t, "allow-top-navigation") || t == "allow-popups-to-escape-sandbox" {
			return false
		}
	}
	return true
}

// viewportArea is the tab's window, 1280 × 900: an element fixed over a quarter of it
// covers the page.
const viewportArea = 1280 * 900

// check returns every finding on the page, the theme's own included: the caller drops
// those whose signature the theme is known for.
func (p *pageSnapshot) check(cc *checkContext) []finding {
	var out []finding
	// Frames first learn whether they are the preview, from their owner element.
	for _, d := range p.docs {
		for i := range d.nodes {
			n := &d.nodes[i]
			if n.name == "iframe" && n.content >= 0 && n.content < len(p.docs) && cc.surface == "admin" && previewSandbox(n) {
				p.docs[n.content].preview = true
			}
		}
	}
	for _, d := range p.docs {
		cit := d.citizenMarks(cc)
		outside := map[string]bool{}
		for i := range d.nodes {
			if id, ok := d.nodes[i].attr("id"); ok && !cit[i] {
				outside[id] = true
			}
		}
		add := func(n *snapNode, rule, sig string) {
			out = append(out, finding{Rule: rule, Detail: n.describe(), Doc: shortURL(d.url), sig: cc.surface + "|" + sig})
		}
		for i := range d.nodes {
			n := &d.nodes[i]
			if !n.elem || strings.HasPrefix(n.name, "::") {
				continue // pseudo-elements are the style sheet's, not markup
			}
			where := ""
			if cit[i] {
				where = "citizen|"
			}
			cls, _ := n.attr("class")
			id, _ := n.attr("id")
			src, _ := n.attr("src")
			switch n.name {
			case "script":
				if !cc.ownScript(d.url, src) {
					add(n, "script element", where+"script|"+cc.norm(src))
				}
			case "iframe":
				if !(cc.surface == "admin" && previewSandbox(n)) {
					add(n, "iframe", where+"iframe|"+cc.norm(src)+"|"+cls)
				}
			case "frame", "frameset", "object", "embed", "applet", "portal", "base", "fencedframe":
				add(n, n.name+" element", where+n.name+"|"+cc.norm(src))
			case "meta":
				if he, ok := n.attr("http-equiv"); ok {
					c, _ := n.attr("content")
					add(n, "meta http-equiv", where+"meta|"+strings.ToLower(he)+"|"+cc.norm(c))
				}
			case "form":
				a, _ := n.attr("action")
				add(n, "form element", where+"form|"+cc.norm(a)+"|"+id+"|"+cls)
			case "style":
				add(n, "style element", where+"style|"+id+"|"+cls+"|"+clip(n.text, 60))
			case "link":
				rel, _ := n.attr("rel")
				for _, r := range strings.Fields(strings.ToLower(rel)) {
					if slices.Contains(activeLinks, r) {
						h, _ := n.attr("href")
						add(n, "link rel="+r, where+"link|"+r+"|"+cc.norm(h))
						break
					}
				}
			case "input", "button", "textarea", "select", "isindex", "keygen":
				if cit[i] {
					add(n, "form control in a citizen's content", where+n.name)
				}
			}
			if (n.name == "iframe" || n.name == "frame") && n.content < 0 {
				if _, sd := n.attr("srcdoc"); sd || src != "" && src != "about:blank" {
					add(n, "a frame the snapshot could not read", where+n.name+"|unread|"+cc.norm(src))
				}
			}
			for _, a := range n.attrs {
				name, v := strings.ToLower(a[0]), a[1]
				switch {
				case strings.HasPrefix(name, "on"):
					add(n, "event handler attribute "+name, where+n.name+"|"+name)
				case name == "srcdoc":
					if !(n.name == "iframe" && cc.surface == "admin" && previewSandbox(n)) {
						add(n, "srcdoc attribute", where+n.name+"|srcdoc")
					}
				case urlAttrs[name]:
					vals := []string{v}
					if name == "srcset" || name == "values" {
						vals = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' })
					}
					for _, u := range vals {
						if s := activeScheme(u); s != "" {
							add(n, name+" with a "+s+" URL", where+n.name+"|"+name+"|"+cc.norm(v))
							break
						}
					}
				case name == "style":
					if cit[i] {
						add(n, "style attribute in a citizen's content", where+n.name+"|style")
					} else {
						add(n, "style attribute", n.name+"|"+cls+"|style="+v)
					}
				case name == "id":
					switch {
					case cit[i] && (cc.theme != nil && cc.theme.ids[v] || outside[v]):
						add(n, "id taken from the theme", where+"id|"+v)
					case cc.chosen[v]:
						add(n, "id chosen by a citizen", where+"id|"+v)
					}
				case name == "name" && cit[i]:
					add(n, "name attribute in a citizen's content", where+n.name+"|name")
				}
			}
			if cit[i] && (n.pos == "fixed" || n.pos == "absolute" || n.pos == "sticky") {
				add(n, "element positioned "+n.pos+" in a citizen's content", where+n.name+"|"+n.pos)
			}
			if n.pos == "fixed" && n.area >= viewportArea/4 {
				add(n, "fixed element covering the page", where+n.name+"|fixed|"+id+"|"+cls)
			}
		}
	}
	return out
}

// unexpected drops the findings the theme is known for, and folds those of one rule past
// the third in a document into one (a style that positions every element).
func (cc *checkContext) unexpected(all []finding) []finding {
	var out []finding
	n := map[string]int{}
	third := map[string]int{}
	for _, f := range all {
		if cc.theme != nil && cc.theme.sigs[f.sig] {
			continue
		}
		k := f.Doc + "|" + f.Rule
		if n[k]++; n[k] <= 3 {
			third[k] = len(out)
			out = append(out, f)
		}
	}
	for k, i := range third {
		if more := n[k] - 3; more > 0 {
			out[i].Detail += fmt.Sprintf(" (and %d more alike in this document)", more)
		}
	}
	return out
}
