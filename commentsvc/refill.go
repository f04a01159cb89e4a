package commentsvc

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/parvis/parvis/internal/antispam"
)

// A form refused for a browser without JavaScript is answered with the page it was sent
// from, as the site built it, its form filled again with what was typed: text, choices and
// boxes, never a file (the page says to choose it again) nor the anti-spam fields, which get
// a fresh token and that token's question. At the top of the form a summary (role="alert",
// focused) names each fault with a link to its field, and each message stands next to its
// field, tied to it with aria-describedby and marked with aria-invalid (WCAG 3.3.1, 3.3.3).
// The page is parsed and written back with golang.org/x/net/html, so whatever the citizen
// typed is escaped as text or as an attribute's value, and nothing else of the page changes.

// refill is what goes into a refused form.
type refill struct {
	form    string
	title   string            // the summary's heading (default: the submission was not recorded)
	values  url.Values        // what was posted; nil when nothing could be read
	files   map[string]bool   // file inputs for which a file had been chosen
	fields  map[string]string // posted key → its message
	lead    string            // the summary's first line: what is wrong as a whole
	next    string            // what to do, after the list
	asked   string            // the message next to the question, when it is the fault
	token   string
	quest   *antispam.Question // nil: the token asks none, the question is removed
	noCarry bool               // say that what was typed could not be kept
}

// formPage is a parsed page holding the form to fill.
type formPage struct {
	doc, form *html.Node
	path      string
}

// findForm reads the pages the form may have been sent from and returns the first that
// holds it (form[data-parvis-form=name]), or nil.
func (s *Service) findForm(r *http.Request, name string, values url.Values) *formPage {
	if s.citizen.read == nil || name == "" {
		return nil
	}
	for i, p := range s.formPages(r, name, values) {
		if i == 3 {
			break // a page or two at most in practice: never a crawl
		}
		b := s.sitePage(p)
		if b == nil {
			continue
		}
		doc, err := html.Parse(bytes.NewReader(b))
		if err != nil {
			continue
		}
		for n := range doc.Descendants() {
			if n.Type == html.ElementNode && n.DataAtom == atom.Form && attr(n, "data-parvis-form") == name {
				return &formPage{doc: doc, form: n, path: p}
			}
		}
	}
	return nil
}

// fill puts rf into the page's form.
func (s *Service) fill(fp *formPage, rf *refill) {
	lang := s.cfg.Language
	form := fp.form
	byName := map[string][]*html.Node{}
	var question *html.Node
	for n := range form.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		if question == nil && hasClass(n, "parvis-question") {
			question = n
		}
		switch n.DataAtom {
		case atom.Input, atom.Textarea, atom.Select:
		default:
			continue
		}
		name := attr(n, "name")
		if name == "" {
			continue
		}
		byName[name] = append(byName[name], n)
	}
	hp := ""
	if spec := s.cfg.Forms[rf.form]; spec != nil && spec.Antispam.Honeypot != "" {
		hp = "fields[" + spec.Antispam.Honeypot + "]"
	}
	for name, controls := range byName {
		for _, c := range controls {
			typ := strings.ToLower(attr(c, "type"))
			switch {
			case name == "options[token]":
				setAttr(c, "value", rf.token)
			case name == "options[pow]" || name == hp:
				setAttr(c, "value", "")
			case name == "options[question]":
				if rf.quest != nil {
					setAttr(c, "value", rf.quest.ID)
				}
			case name == "options[answer]":
				setAttr(c, "value", "")
				if rf.quest != nil {
					setAttr(c, "required", "")
				}
			case typ == "file" || typ == "hidden" || typ == "submit" || typ == "button" || typ == "image" || typ == "reset":
				// A file cannot be given back; the page's own hidden values stay its own.
			case rf.values == nil:
			case c.DataAtom == atom.Textarea:
				setText(c, strings.ReplaceAll(rf.values.Get(name), "\r\n", "\n")) // as the browser reads it
			case c.DataAtom == atom.Select:
				for o := range c.Descendants() {
					if o.Type == html.ElementNode && o.DataAtom == atom.Option {
						v, ok := attrOK(o, "value")
						if !ok {
							v = strings.TrimSpace(textOf(o))
						}
						if slices.Contains(rf.values[name], v) {
							setAttr(o, "selected", "")
						} else {
							delAttr(o, "selected")
						}
					}
				}
			case typ == "checkbox" || typ == "radio":
				v, ok := attrOK(c, "value")
				if !ok {
					v = "on"
				}
				if slices.Contains(rf.values[name], v) {
					setAttr(c, "checked", "")
				} else {
					delAttr(c, "checked")
				}
			default:
				if rf.values.Has(name) {
					setAttr(c, "value", rf.values.Get(name))
				}
			}
		}
	}
	if question != nil {
		if rf.quest == nil {
			question.Parent.RemoveChild(question)
		} else {
			for n := range question.Descendants() {
				if n.Type == html.ElementNode && hasClass(n, "parvis-question-text") {
					setText(n, rf.quest.Text)
					break
				}
			}
		}
	}

	// Messages next to their fields, in the form's order for the summary.
	type fault struct {
		target, message string
	}
	var faults []fault
	ids := 0
	mark := func(key, message string, invalid bool) (string, bool) {
		controls := byName[key]
		if len(controls) == 0 {
			return "", false
		}
		c := controls[0]
		id := attr(c, "id")
		if id == "" {
			ids++
			id = "parvis-field-" + strconv.Itoa(ids)
			setAttr(c, "id", id)
		}
		slot := errorSlot(fp.doc, c, form)
		if slot == nil {
			slot = &html.Node{Type: html.ElementNode, Data: "p", DataAtom: atom.P,
				Attr: []html.Attribute{{Key: "class", Val: "field-error"}, {Key: "id", Val: id + "-error"}}}
			c.Parent.InsertBefore(slot, c.NextSibling)
			describe(c, id+"-error")
		}
		if old := strings.TrimSpace(textOf(slot)); old != "" && old != message {
			message = old + " " + message
		}
		setText(slot, message)
		if invalid {
			for _, c := range controls {
				setAttr(c, "aria-invalid", "true")
			}
		}
		if f := closestClass(c, "field", form); f != nil {
			addClass(f, "invalid")
		}
		return id, true
	}
	keys := make([]string, 0, len(rf.fields))
	for k := range rf.fields {
		keys = append(keys, k)
	}
	order := func(k string) int {
		i := 0
		for n := range form.Descendants() {
			if n.Type == html.ElementNode && attr(n, "name") == k {
				return i
			}
			i++
		}
		return i + 1
	}
	slices.SortStableFunc(keys, func(a, b string) int {
		if d := order(a) - order(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	var loose []string // faults without a field in the page: the summary alone says them
	for _, k := range keys {
		if id, ok := mark(k, rf.fields[k], true); ok {
			faults = append(faults, fault{id, rf.fields[k]})
		} else {
			loose = append(loose, rf.fields[k])
		}
	}
	if rf.asked != "" {
		if id, ok := mark("options[answer]", rf.asked, true); ok {
			faults = append(faults, fault{id, rf.asked})
		}
	}
	for name, chosen := range rf.files {
		if !chosen || rf.fields[name] != "" {
			continue
		}
		m := msg(lang, "file_again", fileLabel(fp.doc, byName[name]))
		if id, ok := mark(name, m, false); ok {
			faults = append(faults, fault{id, m})
		}
	}

	// The summary, first in the form.
	box := elem("div", "class", "form-errors", "id", "form-"+rf.form+"-errors", "role", "alert",
		"tabindex", "-1", "autofocus", "", "data-parvis-errors", "")
	title := elem("p", "class", "form-errors-title")
	heading := rf.title
	if heading == "" {
		heading = msg(lang, "error_title")
	}
	setText(title, heading)
	box.AppendChild(title)
	if rf.lead != "" {
		p := elem("p")
		setText(p, rf.lead)
		box.AppendChild(p)
	}
	for _, m := range loose {
		p := elem("p")
		setText(p, m)
		box.AppendChild(p)
	}
	if len(faults) > 0 {
		ul := elem("ul")
		for _, f := range faults {
			a := elem("a", "href", "#"+f.target)
			setText(a, f.message)
			li := elem("li")
			li.AppendChild(a)
			ul.AppendChild(li)
		}
		box.AppendChild(ul)
	}
	if rf.noCarry {
		p := elem("p")
		setText(p, msg(lang, "nothing_carried"))
		box.AppendChild(p)
	}
	if rf.next != "" {
		p := elem("p")
		setText(p, rf.next)
		box.AppendChild(p)
	}
	form.InsertBefore(box, form.FirstChild)

	// The page says it is the form to correct: in its title, and to search engines.
	for n := range fp.doc.Descendants() {
		if n.Type == html.ElementNode && n.DataAtom == atom.Title {
			if rf.title != "" {
				setText(n, rf.title+" – "+strings.TrimSpace(textOf(n)))
			} else {
				setText(n, msg(lang, "title_error", strings.TrimSpace(textOf(n))))
			}
			if head := n.Parent; head != nil {
				head.InsertBefore(elem("meta", "name", "robots", "content", "noindex"), n.NextSibling)
			}
			break
		}
	}
	s.absolutize(fp.doc, fp.path)
}

// errorSlot finds the element, with class field-error, that the control (or its fieldset)
// names in aria-describedby.
func errorSlot(doc, c, form *html.Node) *html.Node {
	var refs []string
	for n := c; n != nil && n != form; n = n.Parent {
		if n.Type == html.ElementNode && (n == c || n.DataAtom == atom.Fieldset) {
			refs = append(refs, strings.Fields(attr(n, "aria-describedby"))...)
		}
	}
	if len(refs) == 0 {
		return nil
	}
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && hasClass(n, "field-error") && slices.Contains(refs, attr(n, "id")) {
			return n
		}
	}
	return nil
}

// fileLabel is the label of a file input, for the message that asks to choose it again.
func fileLabel(doc *html.Node, controls []*html.Node) string {
	if len(controls) == 0 {
		return ""
	}
	id := attr(controls[0], "id")
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.DataAtom == atom.Label && id != "" && attr(n, "for") == id {
			var b strings.Builder
			for t := range n.Descendants() {
				if t.Type == html.TextNode && !hasClass(t.Parent, "req") {
					b.WriteString(t.Data)
				}
			}
			return strings.Join(strings.Fields(b.String()), " ")
		}
	}
	return strings.TrimSuffix(strings.TrimPrefix(attr(controls[0], "name"), "fields["), "]")
}

// absolutize makes the page's links absolute on the site's address, when its pages come from
// there and the service answers on another one. Links within the page (#...) stay.
func (s *Service) absolutize(doc *html.Node, pagePath string) {
	if s.citizen.remote == "" {
		return
	}
	base, err := url.Parse(s.citizen.remote + s.cfg.RelURL(pagePath))
	if err != nil {
		return
	}
	abs := func(v string) string {
		v = strings.TrimSpace(v)
		if v == "" || strings.HasPrefix(v, "#") {
			return v
		}
		u, err := url.Parse(v)
		if err != nil || u.IsAbs() {
			return v
		}
		return base.ResolveReference(u).String()
	}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		for i, a := range n.Attr {
			switch a.Key {
			case "href", "src", "action", "poster", "data-parvis-challenge":
				n.Attr[i].Val = abs(a.Val)
			case "srcset":
				parts := strings.Split(a.Val, ",")
				for j, p := range parts {
					f := strings.Fields(p)
					if len(f) > 0 {
						f[0] = abs(f[0])
						parts[j] = strings.Join(f, " ")
					}
				}
				n.Attr[i].Val = strings.Join(parts, ", ")
			}
		}
	}
}

// writeSitePage answers with a page of the site as the service changed it, under the site's
// own policy: its styles and scripts, the service for its forms and their checks.
func (s *Service) writeSitePage(w http.ResponseWriter, status int, doc *html.Node) {
	var buf bytes.Buffer
	if err := html.Render(&buf, doc); err != nil {
		s.log.Error("writing a page of the site", "err", err)
		http.Error(w, msg(s.cfg.Language, "unavailable"), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("Content-Security-Policy", s.sitePageCSP())
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// sitePageCSP is the policy parvis serve gives the site's pages, from the service's side: the
// site's own files (on the site's address, when the pages come from there), the service for
// the forms' posts and checks, and the site for the redirect a form may ask for.
func (s *Service) sitePageCSP() string {
	site := ""
	if s.citizen.remote != "" {
		site = " " + s.citizen.remote
	}
	svc := ""
	for _, o := range []string{origin(s.cfg.Service.URL), origin(s.base)} {
		if o != "" && !strings.Contains(svc, " "+o) {
			svc += " " + o
		}
	}
	to := svc
	if so := s.siteOrigin(); so != "" && !strings.Contains(to, " "+so) {
		to += " " + so
	}
	return "default-src 'self'" + site + "; img-src 'self' data:" + site + "; style-src 'self' 'unsafe-inline'" + site +
		"; script-src 'self'" + site + "; worker-src 'self' blob:; connect-src 'self'" + svc +
		"; form-action 'self'" + to + "; frame-ancestors 'self'; base-uri 'self'"
}

// Small helpers on nodes.

func elem(tag string, kv ...string) *html.Node {
	n := &html.Node{Type: html.ElementNode, Data: tag, DataAtom: atom.Lookup([]byte(tag))}
	for i := 0; i+1 < len(kv); i += 2 {
		n.Attr = append(n.Attr, html.Attribute{Key: kv[i], Val: kv[i+1]})
	}
	return n
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func attr(n *html.Node, key string) string { v, _ := attrOK(n, key); return v }

func hasAttr(n *html.Node, key string) bool { _, ok := attrOK(n, key); return ok }

func setAttr(n *html.Node, key, val string) {
	for i, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			n.Attr[i].Val = val
			return
		}
	}
	n.Attr = append(n.Attr, html.Attribute{Key: key, Val: val})
}

func delAttr(n *html.Node, key string) {
	n.Attr = slices.DeleteFunc(n.Attr, func(a html.Attribute) bool { return a.Namespace == "" && a.Key == key })
}

func hasClass(n *html.Node, class string) bool {
	return n != nil && n.Type == html.ElementNode && slices.Contains(strings.Fields(attr(n, "class")), class)
}

func addClass(n *html.Node, class string) {
	if !hasClass(n, class) {
		setAttr(n, "class", strings.TrimSpace(attr(n, "class")+" "+class))
	}
}

func closestClass(n *html.Node, class string, stop *html.Node) *html.Node {
	for ; n != nil && n != stop; n = n.Parent {
		if hasClass(n, class) {
			return n
		}
	}
	return nil
}

func describe(n *html.Node, id string) {
	l := strings.Fields(attr(n, "aria-describedby"))
	if !slices.Contains(l, id) {
		setAttr(n, "aria-describedby", strings.Join(append(l, id), " "))
	}
}

// setText replaces a node's children with one text node: the parser's writer escapes it.
func setText(n *html.Node, text string) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		n.RemoveChild(c)
		c = next
	}
	if text != "" {
		n.AppendChild(&html.Node{Type: html.TextNode, Data: text})
	}
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for t := range n.Descendants() {
		if t.Type == html.TextNode {
			b.WriteString(t.Data)
		}
	}
	return b.String()
}
