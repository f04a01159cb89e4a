package commentsvc

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The service's own pages, for when the site's cannot be read: a form rendered from its
// policy, and the page of the site that receipts and messages are written into.

type plainFormPage struct {
	Lang, Site, Title, Name, Back string
	Multipart, Question           bool
	Hidden                        []confirmValue
	Fields                        []plainField
}

type plainField struct {
	Key, ID, Label, Help, Control, Input, Accept string
	Required                                     bool
	Choices                                      []string
}

// plainForm renders the form rf names from its policy, with the options the post carried
// (validated again when it is sent back), and parses it for fill.
func (s *Service) plainForm(r *http.Request, rf *refill) *formPage {
	spec := s.cfg.Forms[rf.form]
	if spec == nil {
		return nil
	}
	title := spec.Title
	if title == "" {
		title = strings.ToUpper(rf.form[:1]) + rf.form[1:]
	}
	p := plainFormPage{Lang: s.cfg.Language, Site: s.cfg.Title, Title: title, Name: rf.form, Back: s.confirmBack(r, rf.values),
		Question: rf.quest != nil}
	for _, o := range spec.Options {
		key := "options[" + o + "]"
		if v := rf.values.Get(key); v != "" {
			p.Hidden = append(p.Hidden, confirmValue{Name: key, Value: v})
		}
	}
	for _, name := range spec.FieldOrder() {
		if name == spec.Antispam.Honeypot {
			continue
		}
		f := spec.Fields[name]
		pf := plainField{Key: "fields[" + name + "]", ID: "form-" + rf.form + "-" + name, Label: f.Label, Help: strings.TrimSpace(f.Help),
			Control: "input", Input: "text", Required: f.Required, Choices: f.Choices}
		if pf.Label == "" {
			pf.Label = strings.ToUpper(name[:1]) + strings.ReplaceAll(name[1:], "_", " ")
		}
		switch f.Type {
		case "textarea", "markdown":
			pf.Control = "textarea"
		case "choice":
			pf.Control = "select"
		case "email", "url", "date":
			pf.Input = f.Type
		case "datetime":
			pf.Input = "datetime-local"
		case "image", "file":
			pf.Input, pf.Accept, p.Multipart = "file", strings.Join(f.Accept, ","), true
		}
		p.Fields = append(p.Fields, pf)
	}
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "form.html", p); err != nil {
		s.log.Error("rendering a page", "page", "form.html", "err", err)
		return nil
	}
	doc, err := html.Parse(&buf)
	if err != nil {
		return nil
	}
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.DataAtom == atom.Form {
			return &formPage{doc: doc, form: n}
		}
	}
	return nil
}

// servicePage answers with one of the service's pages (name: error, receipt) inside the
// site's layout: the body the template name+"-body" writes goes into the element of
// ReceiptPage marked data-parvis-receipt, and the page takes data's Title. Without that page,
// the service's plain one.
func (s *Service) servicePage(w http.ResponseWriter, status int, name string, data any) {
	if doc, slot := s.shell(); doc != nil {
		var buf bytes.Buffer
		if err := pages.ExecuteTemplate(&buf, name+"-body", data); err != nil {
			s.log.Error("rendering a page", "page", name, "err", err)
		} else if nodes, err := html.ParseFragment(&buf, slot); err == nil {
			setText(slot, "")
			for _, n := range nodes {
				slot.AppendChild(n)
			}
			s.titled(doc, titleOf(data))
			s.absolutize(doc, ReceiptPage)
			s.writeSitePage(w, status, doc)
			return
		}
	}
	s.page(w, status, name+".html", data)
}

// shell parses ReceiptPage and finds its slot, or returns nil.
func (s *Service) shell() (doc, slot *html.Node) {
	b := s.sitePage(ReceiptPage)
	if b == nil {
		return nil, nil
	}
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		return nil, nil
	}
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && hasAttr(n, "data-parvis-receipt") {
			return doc, n
		}
	}
	return nil, nil
}

// titled puts a page's own title first in its <title>, before the site's name.
func (s *Service) titled(doc *html.Node, title string) {
	if title == "" {
		return
	}
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.DataAtom == atom.Title {
			setText(n, title+" – "+s.cfg.Title)
			return
		}
	}
}

func titleOf(data any) string {
	switch d := data.(type) {
	case map[string]any:
		t, _ := d["Title"].(string)
		return t
	case *receiptView:
		return d.Title
	}
	return ""
}

// siteLink is the address of one of the site's paths, as the service's pages link to it: on
// the site's address when the pages come from there or the service has none of them (it
// then answers apart from the site), else on the address the service answers on, which
// serves the site too.
func (s *Service) siteLink(p string) string {
	switch {
	case s.citizen.remote != "":
		return s.citizen.remote + s.cfg.RelURL(p)
	case s.citizen.read == nil && s.siteOrigin() != "":
		return s.cfg.AbsURL(p)
	}
	return s.cfg.RelURL(p)
}

// localURL makes an address of the site's (a published comment's, as stored) into one the
// service's pages may link to, as siteLink does.
func (s *Service) localURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || s.siteOrigin() == "" || !strings.EqualFold(u.Scheme+"://"+u.Host, s.siteOrigin()) {
		return raw
	}
	p := u.Path
	if base := s.cfg.RelURL("/"); base != "/" {
		p = "/" + strings.TrimPrefix(p, base)
	}
	out := s.siteLink(p)
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		out += "#" + u.Fragment
	}
	return out
}
