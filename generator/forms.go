package generator

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/parvis/parvis/internal/site"
)

// commentForm is the name of the form that posts comments under pages; every other form of
// parvis.yaml gets a page of its own under the forms' index.
const commentForm = "comment"

// formsPaths is where the forms' index lives, by the site's language.
var formsPaths = map[string]string{"fr": "/participer/", "en": "/participate/"}

// formSet holds the forms of parvis.yaml prepared once: their fields are the same on every
// page, so a page only adds its own options and question.
type formSet struct {
	base    string               // the forms' index, e.g. /participer/
	byName  map[string]*FormView // templates: Fields and settings, no page options
	ordered []*FormView          // the proposal forms (not comment), in a stable order
}

// formOrder puts the usual proposal forms first, in the order a reader expects them, then
// the others by name.
var formOrder = []string{"article", "event", "photo", "document"}

func (b *build) prepareForms() error {
	cfg := b.site.Config
	fs := &formSet{base: formsPaths[cfg.Language], byName: map[string]*FormView{}}
	if fs.base == "" {
		fs.base = "/participer/"
	}
	names := make([]string, 0, len(cfg.Forms))
	for n := range cfg.Forms {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		ia, ib := slices.Index(formOrder, a), slices.Index(formOrder, b)
		switch {
		case ia >= 0 && ib >= 0:
			return ia - ib
		case ia >= 0:
			return -1
		case ib >= 0:
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, n := range names {
		f := b.formView(n, cfg.Forms[n])
		html, err := b.th.fields(f.Fields)
		if err != nil {
			return fmt.Errorf("form %s: %w", n, err)
		}
		f.FieldsHTML = html
		fs.byName[n] = f
		if n != commentForm {
			f.URL = cfg.RelURL(fs.base + n + "/")
			fs.ordered = append(fs.ordered, f)
		}
	}
	b.forms = fs
	if len(fs.ordered) > 0 {
		b.sv.FormsURL = cfg.RelURL(fs.base)
	}
	// A form's page must not be taken by a page or an alias.
	var errs site.ErrorList
	taken := map[string]bool{}
	for _, f := range fs.ordered {
		taken[fs.base+f.Name+"/"] = true
	}
	for _, p := range b.site.Pages {
		if taken[p.URL] {
			errs = append(errs, &site.Error{File: p.Path, Err: fmt.Errorf("duplicate output path %s: the page, and the form %q", p.URL, strings.TrimSuffix(strings.TrimPrefix(p.URL, fs.base), "/"))})
		}
		for _, a := range p.Aliases {
			if taken[a] {
				errs = append(errs, &site.Error{File: p.Path, Err: fmt.Errorf("duplicate output path %s: an alias, and a form's page", a)})
			}
		}
		if names, ok := p.Params["forms"]; ok {
			if _, err := b.listedForms(names); err != nil {
				errs = append(errs, &site.Error{File: p.Path, Err: err})
			}
		}
	}
	return errs.Err()
}

// formView prepares a form's fields from its policy.
func (b *build) formView(name string, spec *site.FormSpec) *FormView {
	cfg := b.site.Config
	base := cfg.Service.URL
	if base == "" {
		base = strings.TrimSuffix(cfg.RelURL("/"), "/")
	}
	f := &FormView{
		Name: name, Title: spec.Title, Action: base + "/api/v1/entries/" + name,
		Challenge: base + "/api/v1/challenge", Moderated: spec.Moderated(),
		Honeypot:    spec.Antispam.Honeypot,
		HasPage:     slices.Contains(spec.Options, "page"),
		HasRedirect: slices.Contains(spec.Options, "redirect"),
		HasReply:    slices.Contains(spec.Options, "parent"),
	}
	if f.Title == "" {
		f.Title = b.th.translate("form_" + name)
	}
	for _, fn := range spec.FieldOrder() {
		fs := spec.Fields[fn]
		if fn == f.Honeypot {
			continue // the policy may declare it; it is rendered apart, hidden
		}
		v := &FieldView{
			Name: fn, ID: "form-" + name + "-" + fn, Label: fs.Label, Help: strings.TrimSpace(fs.Help),
			Type: fs.Type, Control: "input", Input: "text", Required: fs.Required,
			Min: fs.Min, Max: fs.Max, Pattern: fs.Pattern, Choices: fs.Choices, Private: fs.Private,
		}
		if v.Label == "" {
			v.Label = strings.ToUpper(fn[:1]) + strings.ReplaceAll(fn[1:], "_", " ")
		}
		switch fs.Type {
		case "textarea":
			v.Control, v.Input, v.Rows = "textarea", "", 4
		case "markdown":
			v.Control, v.Input, v.Rows = "textarea", "", 8
		case "email":
			v.Input, v.Auto = "email", "email"
		case "url":
			v.Input, v.Auto = "url", "url"
		case "date":
			v.Input = "date"
		case "datetime":
			v.Input = "datetime-local"
		case "choice":
			// A few choices read best as radio buttons, all visible; many as a list.
			v.Control, v.Input = "radio", ""
			if len(fs.Choices) > 5 {
				v.Control = "select"
			}
		case "image", "file":
			v.Input, v.Min, v.Max, v.MaxSize = "file", 0, 0, int64(fs.Max)
			v.Accept = strings.Join(fs.Accept, ",")
			types := make([]string, 0, len(fs.Accept))
			for _, t := range fs.Accept {
				if n := fileType(t); !slices.Contains(types, n) {
					types = append(types, n)
				}
			}
			v.Formats = strings.Join(types, ", ")
			f.Multipart = true
		}
		if v.Help != "" {
			v.DescribedBy = v.ID + "-help "
		}
		if v.Input == "file" {
			v.DescribedBy += v.ID + "-file "
		}
		v.DescribedBy += v.ID + "-error"
		if v.Input == "text" && fn == "name" {
			v.Auto = "name"
		}
		if v.Required {
			f.Required = true
		}
		f.Fields = append(f.Fields, v)
	}
	return f
}

// formFor returns the named form set for one page (nil: the form's own page): its options,
// and the placeholders of its token and question.
func (b *build) formFor(name string, p *PageView, replyTo []*CommentView) *FormView {
	tpl := b.forms.byName[name]
	if tpl == nil {
		return nil
	}
	f := *tpl
	if p != nil {
		if f.HasPage {
			f.Page = p.Ref
		}
		if f.HasRedirect {
			f.Redirect = p.Permalink + "#comment-sent"
		}
		if f.HasReply {
			f.ReplyTo = replyTo
		}
	} else if f.HasRedirect {
		f.Redirect = b.site.Config.AbsURL(b.forms.base+name+"/") + "#form-sent"
	}
	var q Question
	f.Token, q = formAntispam(b.th.translate("question_later"))
	if spec := b.site.Config.Forms[name]; spec.Antispam.Challenge == nil || *spec.Antispam.Challenge {
		f.Question = q
	}
	return &f
}

// listedForms reads a page's forms parameter: the names of the forms it presents.
func (b *build) listedForms(v any) ([]*FormView, error) {
	var names []string
	switch x := v.(type) {
	case string:
		names = []string{x}
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("forms: expected a list of form names, found %v", e)
			}
			names = append(names, s)
		}
	default:
		return nil, fmt.Errorf("forms: expected a list of form names, got %v", v)
	}
	out := make([]*FormView, 0, len(names))
	for _, n := range names {
		f := b.forms.byName[n]
		if f == nil || n == commentForm {
			return nil, fmt.Errorf("forms: no proposal form %q in parvis.yaml", n)
		}
		out = append(out, f)
	}
	return out, nil
}

// flatten lists a thread's comments in reading order, replies after their parent.
func flatten(l []*CommentView, out []*CommentView) []*CommentView {
	for _, c := range l {
		out = append(out, c)
		out = flatten(c.Replies, out)
	}
	return out
}

// formJobs renders a page per proposal form, and their index unless a page of the site
// takes its address (the demo's /participer/ page presents them itself).
func (b *build) formJobs() []job {
	fs := b.forms
	if len(fs.ordered) == 0 {
		return nil
	}
	cfg := b.site.Config
	home := Link{Name: b.th.translate("home"), URL: cfg.RelURL("/")}
	indexTitle := b.th.translate("participate")
	indexPage := b.pageAt(fs.base)
	if indexPage != nil {
		indexTitle = indexPage.Title
	}
	index := Link{Name: indexTitle, URL: cfg.RelURL(fs.base)}
	var jobs []job
	for _, f := range fs.ordered {
		f := f
		jobs = append(jobs, func(buf *bytes.Buffer) error {
			d := b.data("form", f.Title, "", fs.base+f.Name+"/")
			d.Form = b.formFor(f.Name, nil, nil)
			d.HasForms = true
			d.Breadcrumbs = []Link{home, index}
			if err := b.th.execute(buf, "form", d); err != nil {
				return err
			}
			return b.write(fs.base+f.Name+"/", buf.Bytes())
		})
	}
	if indexPage == nil {
		jobs = append(jobs, func(buf *bytes.Buffer) error {
			d := b.data("forms", indexTitle, b.th.translate("participate_intro"), fs.base)
			d.Forms = fs.ordered
			d.Breadcrumbs = []Link{home}
			if err := b.th.execute(buf, "forms", d); err != nil {
				return err
			}
			return b.write(fs.base, buf.Bytes())
		})
	}
	return jobs
}

// pageAt returns the published page at a site path, or nil.
func (b *build) pageAt(url string) *site.Page {
	for _, p := range b.site.Pages {
		if p.URL == url {
			return p
		}
	}
	return nil
}
