package generator

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/parvis/parvis/internal/markdown"
	"github.com/parvis/parvis/internal/share"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/themes"
)

// Sealer gives the build the current key of each shared dossier (making the first one when
// a dossier has none). share.Manager is one, on the service's private store.
type Sealer interface {
	Key(dossier string) (share.Key, error)
}

// WithSealer publishes the dossiers whose visibility is shared sealed with their keys: their
// pages and files are encrypted (see internal/share), and each page is replaced by a shell,
// under /shared/<id>/, that decrypts it in the browser with the key of the reader's link.
// Without a sealer, shared dossiers are left out of the build altogether. Either way
// nothing of them is published in clear: no title in lists, feeds, the sitemap or the
// search index, no file names, no sizes but a power of two.
func WithSealer(s Sealer) Option { return func(g *Generator) { g.sealer = s } }

// sharedPrefix is where sealed dossiers live in the site.
const sharedPrefix = "/shared/"

// sealed is one shared dossier being sealed.
type sealed struct {
	key   share.Key
	pages []*site.Page // its own pages first, by weight, date and path; the dossier last
	views map[*site.Page]*PageView
	shell map[*site.Page]string // each page's shell, a site path
	files map[*site.Resource]string
}

// ShareView is what the shell layout (shared.html) gets besides the page's Data.
type ShareView struct {
	Base   string // the dossier's folder, with the site's base path: links below it carry the key
	Src    string // the page's sealed object
	ID     string // the dossier's ID, bound into every object
	Script string // share.js
	// Challenge is challenge.js, which the shell loads once a decrypted page shows a form.
	Challenge string
}

// sharedData is a shell's data: the layouts' Data, and the shell's own.
type sharedData struct {
	*Data
	Share ShareView
}

// sealJobs seals the shared dossiers, after the public pages are rendered (a dossier's cards
// show its public items' summaries). Without a sealer they are left out, as they always were.
func (b *build) sealJobs() []job {
	if b.g.sealer == nil {
		return nil
	}
	dossiers, err := b.prepareSealed()
	if err != nil {
		return []job{func(*bytes.Buffer) error { return err }}
	}
	if len(dossiers) == 0 {
		return nil
	}
	layout, err := b.sharedLayout()
	if err != nil {
		return []job{func(*bytes.Buffer) error { return err }}
	}
	var jobs []job
	for _, sd := range dossiers {
		sd := sd
		jobs = append(jobs, func(buf *bytes.Buffer) error { return b.sealPages(buf, layout, sd) })
		for _, p := range sd.pages {
			for _, r := range p.Resources {
				p, r := p, r
				jobs = append(jobs, func(*bytes.Buffer) error { return b.sealFile(sd, p, r) })
			}
		}
	}
	return jobs
}

// prepareSealed gathers each shared dossier with its own pages, gets its key, and gives
// every page its view and its addresses. Published pages must leave /shared/ to them.
func (b *build) prepareSealed() ([]*sealed, error) {
	cfg := b.site.Config
	byRef := map[string]*sealed{}
	var out []*sealed
	for _, p := range b.site.Shared {
		if p.Dossier == nil || !p.Dossier.Shared() || !b.publishable(p) {
			continue
		}
		key, err := b.g.sealer.Key(p.Ref)
		if err != nil {
			return nil, &site.Error{File: p.Path, Err: fmt.Errorf("the key of this shared dossier: %w", err)}
		}
		if key.Dossier != p.Ref || key.ID == "" || strings.ContainsAny(key.ID, "/.\\") {
			return nil, &site.Error{File: p.Path, Err: fmt.Errorf("the key store gave no usable key (ID %q)", key.ID)}
		}
		sd := &sealed{key: key, views: map[*site.Page]*PageView{}, shell: map[*site.Page]string{}, files: map[*site.Resource]string{}}
		byRef[p.Ref] = sd
		out = append(out, sd)
	}
	if len(out) == 0 {
		return nil, nil
	}
	for _, p := range b.site.Pages {
		for _, u := range append([]string{p.URL}, p.Aliases...) {
			if strings.HasPrefix(u, sharedPrefix) {
				return nil, &site.Error{File: p.Path, Err: fmt.Errorf("its address %s is under %s, where shared dossiers are published", u, sharedPrefix)}
			}
		}
	}
	var own []*site.Page
	for _, p := range b.site.Shared {
		if sd := byRef[p.InDossier]; sd != nil && p.Dossier == nil && b.publishable(p) {
			own = append(own, p)
		}
	}
	sort.SliceStable(own, func(i, j int) bool {
		a, c := own[i], own[j]
		if a.Weight != c.Weight {
			return a.Weight < c.Weight
		}
		if !a.Date.Equal(c.Date) {
			return a.Date.Before(c.Date)
		}
		return a.Path < c.Path
	})
	for _, p := range own {
		byRef[p.InDossier].pages = append(byRef[p.InDossier].pages, p)
	}
	lang := cfg.Markdown.Typography
	for _, p := range b.site.Shared {
		if sd := byRef[p.Ref]; sd != nil {
			sd.pages = append(sd.pages, p)
		}
	}
	for _, sd := range out {
		for _, p := range sd.pages {
			p.Title = markdown.Typography(p.Title, lang)
			p.Summary = markdown.Typography(p.Summary, lang)
			p.Description = markdown.Typography(p.Description, lang)
			u := sd.key.Base()
			if p.Dossier == nil {
				u += sd.key.Name("page", p.Ref) + "/"
			}
			sd.shell[p] = u
			v := &PageView{Page: p, RelPermalink: cfg.RelURL(u), Permalink: cfg.AbsURL(u), Summary: p.Summary, Description: p.Description}
			v.CommentCount = site.CountComments(b.site.Comments[p.Ref])
			for _, r := range p.Resources {
				f := sd.key.Name("file", p.Ref, r.Name) + ".bin"
				sd.files[r] = f
				v.Files = append(v.Files, FileView{Name: r.Name, Title: r.Title, URL: cfg.RelURL(sd.key.Base() + f), Size: r.Size, MediaType: r.MediaType})
			}
			sd.views[p] = v
		}
		d := sd.pages[len(sd.pages)-1]
		dv := sd.views[d]
		for _, it := range d.Dossier.Items {
			// Its own pages, sealed with it, and the public pages it points to; nothing
			// unpublished.
			if iv := sd.views[it]; iv != nil {
				dv.Items = append(dv.Items, iv)
				iv.InDossiers = []*PageView{dv}
			} else if iv := b.views[it]; iv != nil {
				dv.Items = append(dv.Items, iv)
			}
		}
	}
	return out, nil
}

// publishable applies the build's rules for drafts and future pages to a shared page.
func (b *build) publishable(p *site.Page) bool {
	switch {
	case p.Draft && !b.g.drafts:
		return false
	case p.Kind != site.KindEvent && p.Date.After(b.g.now) && !b.g.future:
		return false
	}
	return true
}

// sharedLayout parses the theme's shared.html with baseof.html and the partials. The
// theme's own templates have run by now and cannot be cloned, so it is a set of its own. A
// site's theme without shared.html gets the default theme's.
func (b *build) sharedLayout() (*template.Template, error) {
	themeFS := b.g.theme
	if themeFS == nil {
		themeFS = themes.Default()
	}
	ov := overlay{site: b.site.Layouts, theme: themeFS}
	t := template.New("baseof.html").Funcs(b.th.funcs())
	src, err := ov.read("baseof.html")
	if err != nil {
		return nil, fmt.Errorf("theme: baseof.html: %w", err)
	}
	if _, err := t.Parse(string(src)); err != nil {
		return nil, fmt.Errorf("theme: %w", err)
	}
	partials, err := partialNames(ov)
	if err != nil {
		return nil, err
	}
	for _, name := range partials {
		src, err := ov.read(name)
		if err != nil {
			return nil, fmt.Errorf("theme: %s: %w", name, err)
		}
		if _, err := t.New(name).Parse(string(src)); err != nil {
			return nil, fmt.Errorf("theme: %w", err)
		}
	}
	src, err = ov.read("shared.html")
	if err != nil {
		if src, err = fs.ReadFile(themes.Default(), "layouts/shared.html"); err != nil {
			return nil, fmt.Errorf("theme: layout shared.html: %w", err)
		}
	}
	if _, err := t.New("shared.html").Parse(string(src)); err != nil {
		return nil, fmt.Errorf("theme: %w", err)
	}
	return t, nil
}

// sealPages renders a dossier's pages as their layouts' main part, seals each, and writes
// it with its shell. Its own pages come first: the dossier's cards show their summaries.
func (b *build) sealPages(buf *bytes.Buffer, layout *template.Template, sd *sealed) error {
	cfg := b.site.Config
	for _, p := range sd.pages {
		v := sd.views[p]
		body := bodyBuffers.Get().(*bytes.Buffer)
		info, err := b.md.Page(p.Submitted).Render(body, p.Body)
		if err != nil {
			putBuffer(body)
			return &site.Error{File: p.Path, Line: p.BodyLine, Err: err}
		}
		if v.Summary == "" {
			v.Summary = info.Summary
		}
		if v.Description == "" {
			v.Description = v.Summary
		}
		v.Headings = headings(info.Headings)
		v.ReadingTime = (info.Words + 199) / 200
		comments, err := b.comments(b.site.Comments[p.Ref], 0)
		if err != nil {
			putBuffer(body)
			return err
		}
		d := b.data(string(p.Kind), v.Title, v.Description, sd.shell[p])
		d.Page = v
		d.Content = template.HTML(body.Bytes())
		d.Comments = comments
		d.CommentCount = v.CommentCount
		d.CommentsOpen = p.Comments && b.forms.byName[commentForm] != nil
		if d.CommentsOpen {
			var replyTo []*CommentView
			if b.forms.byName[commentForm].HasReply && len(comments) > 0 {
				replyTo = flatten(comments, make([]*CommentView, 0, v.CommentCount))
			}
			d.CommentForm = b.formFor(commentForm, v, replyTo)
			d.HasForms = true
		}
		if p.Dossier != nil {
			d.Groups = b.dossierGroups(p, v.Items)
		}
		buf.Reset()
		err = b.th.layouts[string(p.Kind)].ExecuteTemplate(buf, "main", d)
		putBuffer(body)
		if err != nil {
			return &site.Error{File: p.Path, Err: fmt.Errorf("theme: layout %s: %w", p.Kind, err)}
		}
		name := strings.TrimPrefix(sd.shell[p], sd.key.Base()) + "page.bin"
		obj, err := sd.key.Seal(name, share.Meta{Kind: "page", Title: v.Title}, buf.Bytes())
		if err != nil {
			return &site.Error{File: p.Path, Err: err}
		}
		if err := b.write(sd.shell[p]+"page.bin", obj); err != nil {
			return err
		}

		// The shell: the same for every page of every shared dossier but for its
		// addresses, so that it tells nothing of what it holds.
		buf.Reset()
		sh := b.data("shared", b.th.translate("shared_title"), "", sd.shell[p])
		sh.Breadcrumbs = []Link{{Name: b.th.translate("home"), URL: cfg.RelURL("/")}, {Name: b.sectionTitle("dossiers"), URL: cfg.RelURL("/dossiers/")}}
		sh.Feeds = nil
		data := &sharedData{Data: sh, Share: ShareView{
			Base: cfg.RelURL(sd.key.Base()), Src: cfg.RelURL(sd.shell[p] + "page.bin"), ID: sd.key.ID,
			Script: b.th.asset("js/share.js"), Challenge: b.th.asset("js/challenge.js"),
		}}
		if err := layout.ExecuteTemplate(buf, "baseof.html", data); err != nil {
			return fmt.Errorf("theme: layout shared: %w", err)
		}
		if err := b.write(sd.shell[p], buf.Bytes()); err != nil {
			return err
		}
		p.Body = nil
	}
	return nil
}

// sealFile seals one of a shared page's files. Its name and type are sealed with it, for
// the download; what is published is a name that says nothing and a power-of-two size.
func (b *build) sealFile(sd *sealed, p *site.Page, r *site.Resource) error {
	data, err := fs.ReadFile(b.g.src, r.Path)
	if err != nil {
		return &site.Error{File: r.Path, Err: err}
	}
	name := sd.files[r]
	obj, err := sd.key.Seal(name, share.Meta{Kind: "file", Name: path.Base(r.Name), Type: r.MediaType}, data)
	if err != nil {
		return &site.Error{File: r.Path, Err: err}
	}
	return b.write(sd.key.Base()+name, obj)
}
