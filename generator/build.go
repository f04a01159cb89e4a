package generator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parvis/parvis/internal/markdown"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/themes"
)

// build holds one run's state.
type build struct {
	g      *Generator
	site   *site.Site
	th     *theme
	md     markdown.Renderers
	sv     *SiteView
	forms  *formSet
	intros map[string]intro // rendered _index.md bodies, by section ("" for the home page)

	views    map[*site.Page]*PageView
	sections map[string][]*PageView // by section folder, newest first (events: by start)
	tags     map[string]*tagSet     // by slug
	tagOrder []string
	photos   []*PageView
	done     atomic.Int64 // pages rendered, for progress
}

type tagSet struct {
	name  string
	pages []*PageView
}

// Site paths the generator writes itself, which a page must not take.
func reserved() map[string]string {
	r := map[string]string{"/": "the home page", "/tags/": "the tags page", "/events/past/": "the past events list"}
	for sec, kind := range site.Sections {
		if kind != site.KindPage {
			r["/"+sec+"/"] = "the " + sec + " list"
		}
	}
	return r
}

func newBuild(g *Generator) (*build, error) {
	s, err := site.Load(g.src, site.Options{Drafts: g.drafts, Future: g.future, Now: g.now, Reserved: reserved(), BaseURL: g.baseURL})
	if err != nil {
		return nil, err
	}
	themeFS := g.theme
	if themeFS == nil {
		themeFS = themes.Default()
	}
	th, err := loadTheme(themeFS, s)
	if err != nil {
		return nil, err
	}
	cfg := s.Config
	b := &build{
		g: g, site: s, th: th,
		md:       renderers(cfg.Language, cfg.Markdown.Unsafe, cfg.Markdown.Typography),
		views:    make(map[*site.Page]*PageView, len(s.Pages)),
		sections: map[string][]*PageView{},
		tags:     map[string]*tagSet{},
	}
	b.sv = &SiteView{
		Title: cfg.Title, Description: cfg.Description, BaseURL: cfg.BaseURL, Language: cfg.Language,
		Publisher: cfg.Publisher, Copyright: cfg.Copyright, ServiceURL: cfg.Service.URL,
		Menu: cfg.Menu, Footer: cfg.Footer, Params: cfg.Params, Forms: cfg.Forms,
		Now: g.now, Year: g.now.In(cfg.Location).Year(),
	}
	b.index()
	if err := b.prepareForms(); err != nil {
		return nil, err
	}
	if err := b.renderIntros(); err != nil {
		return nil, err
	}
	return b, nil
}

// index makes the views and the lists that link pages to each other.
func (b *build) index() {
	cfg := b.site.Config
	// Titles and summaries from front matter read as the pages' text does.
	lang := cfg.Markdown.Typography
	for _, p := range append(append([]*site.Page{}, b.site.Pages...), sectionPages(b.site)...) {
		p.Title = markdown.Typography(p.Title, lang)
		p.Summary = markdown.Typography(p.Summary, lang)
		p.Description = markdown.Typography(p.Description, lang)
		if p.Photo != nil {
			p.Photo.Caption = markdown.Typography(p.Photo.Caption, lang)
		}
	}
	for _, p := range b.site.Pages {
		v := &PageView{Page: p, RelPermalink: cfg.RelURL(p.URL), Permalink: cfg.AbsURL(p.URL), Summary: p.Summary, Description: p.Description}
		v.CommentCount = site.CountComments(b.site.Comments[p.Ref])
		if p.Event != nil {
			v.ICS = cfg.RelURL(p.URL + p.Slug + ".ics")
			v.MapURL = mapURL(p.Event)
			v.Address = addressAfter(p.Event.Place, p.Event.Address)
			v.Past = !b.upcoming(v)
		}
		b.views[p] = v
		// A page of a dossier's folder is listed by its dossier, not among the dossiers.
		if p.InDossier == "" {
			b.sections[p.Section] = append(b.sections[p.Section], v)
		}
		for _, t := range p.Tags {
			slug := Slugify(t)
			if slug == "" {
				continue
			}
			ts := b.tags[slug]
			if ts == nil {
				ts = &tagSet{name: t}
				b.tags[slug] = ts
				b.tagOrder = append(b.tagOrder, slug)
			}
			ts.pages = append(ts.pages, v)
		}
	}
	sort.Strings(b.tagOrder)
	for _, v := range b.views {
		p := v.Page
		for _, t := range p.Tags {
			if slug := Slugify(t); slug != "" {
				v.TagLinks = append(v.TagLinks, Link{Name: t, URL: cfg.RelURL("/tags/" + slug + "/")})
			}
		}
		if p.Dossier != nil {
			for _, it := range p.Dossier.Items {
				if iv := b.views[it]; iv != nil {
					v.Items = append(v.Items, iv)
					iv.InDossiers = append(iv.InDossiers, v)
				}
			}
		}
		for _, r := range p.Resources {
			v.Files = append(v.Files, FileView{Name: r.Name, Title: r.Title, URL: cfg.RelURL(p.URL + r.Name), Size: r.Size, MediaType: r.MediaType})
		}
		if p.Document != nil {
			v.Files = v.Files[:0]
			for _, r := range p.Document.Files {
				title := r.Title
				if title == "" {
					title = r.Name
				}
				v.Files = append(v.Files, FileView{Name: r.Name, Title: title, URL: cfg.RelURL(p.URL + r.Name), Size: r.Size, MediaType: r.MediaType})
			}
		}
		if p.Image != "" && p.Photo == nil {
			u := p.Image
			if !strings.Contains(u, "://") {
				if !strings.HasPrefix(u, "/") {
					u = p.URL + u
				}
				u = cfg.RelURL(u)
			}
			alt, _ := p.Params["imageAlt"].(string)
			v.Image = &ImageView{URL: u, Alt: alt}
		}
	}
	for sec, l := range b.sections {
		if sec == "events" {
			sort.SliceStable(l, func(i, j int) bool { return eventLess(l[i], l[j]) })
		} else {
			sortViews(l)
		}
		if sec != "events" && sec != "pages" {
			for i, v := range l {
				if i > 0 {
					v.Next = l[i-1] // newer
				}
				if i+1 < len(l) {
					v.Prev = l[i+1] // older
				}
			}
		}
	}
	for _, v := range b.views {
		sortViews(v.InDossiers)
	}
	for _, ts := range b.tags {
		sortViews(ts.pages)
	}
	b.photos = b.sections["photos"]
	b.sv.HasPhotos = len(b.photos) > 0
	b.sv.HasEvents = len(b.sections["events"]) > 0
}

func sectionPages(s *site.Site) []*site.Page {
	out := make([]*site.Page, 0, len(s.Sections))
	for _, p := range s.Sections {
		out = append(out, p)
	}
	return out
}

func sortViews(l []*PageView) {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if !a.Date.Equal(b.Date) {
			return a.Date.After(b.Date)
		}
		if a.Weight != b.Weight {
			return a.Weight < b.Weight
		}
		return a.Path < b.Path
	})
}

func eventLess(a, b *PageView) bool {
	if !a.Event.Start.Equal(b.Event.Start) {
		return a.Event.Start.Before(b.Event.Start)
	}
	return a.Path < b.Path
}

// job is one unit of output work.
type job func(buf *bytes.Buffer) error

// run renders the pages first (they compute the summaries that lists and dossiers show),
// then dossiers, lists and everything else, each phase on a pool of workers.
func (b *build) run(ctx context.Context) error {
	out := b.g.out
	var jobs, later []job
	var dirs, laterDirs []string // the pages' folders, in the order they are rendered
	// The search index needs nothing the pages' rendering computes: it is made beside it.
	jobs = append(jobs, b.searchJob())
	for _, p := range b.site.Pages {
		p := p
		j := func(buf *bytes.Buffer) error { return b.renderPage(buf, p) }
		dir := strings.Trim(p.URL, "/")
		if p.Dossier != nil {
			later = append(later, j) // its cards show its items' summaries
			laterDirs = append(laterDirs, dir)
		} else {
			jobs = append(jobs, j)
			dirs = append(dirs, dir)
		}
	}
	if p, ok := out.(interface{ Prepare([]string) }); ok {
		p.Prepare(append(dirs, laterDirs...))
	}
	stop := b.startProgress(len(b.site.Pages))
	err := b.parallel(ctx, jobs)
	if err == nil {
		err = b.parallel(ctx, later)
	}
	stop()
	if err != nil {
		return b.abort(err)
	}
	jobs = b.listJobs()
	jobs = append(jobs, b.sealJobs()...)
	jobs = append(jobs, b.formJobs()...)
	jobs = append(jobs, b.feedJobs()...)
	jobs = append(jobs, b.staticJobs()...)
	jobs = append(jobs, b.headersJob())
	jobs = append(jobs, b.receiptJob())
	if err := b.parallel(ctx, jobs); err != nil {
		return b.abort(err)
	}
	if c, ok := out.(interface{ Commit() error }); ok {
		if err := c.Commit(); err != nil {
			return err
		}
	}
	return nil
}

func (b *build) abort(err error) error {
	if a, ok := b.g.out.(interface{ Abort() error }); ok {
		if aerr := a.Abort(); aerr != nil {
			return errors.Join(err, aerr)
		}
	}
	return err
}

// parallel runs jobs on the generator's workers and returns the first error.
func (b *build) parallel(ctx context.Context, jobs []job) error {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		once  sync.Once
		first error
		stop  atomic.Bool
	)
	workers := b.g.workers
	if workers > len(jobs) {
		workers = len(jobs)
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for !stop.Load() {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) {
					return
				}
				if err := ctx.Err(); err != nil {
					once.Do(func() { first = err })
					stop.Store(true)
					return
				}
				buf.Reset()
				if err := jobs[i](&buf); err != nil {
					once.Do(func() { first = err })
					stop.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// write sends a file to the output, keeping it inside the site.
func (b *build) write(name string, data []byte) error {
	name = strings.TrimPrefix(name, "/")
	if strings.HasSuffix(name, "/") || name == "" {
		name += "index.html"
	}
	return b.g.out.WriteFile(name, data)
}

func (b *build) renderPage(buf *bytes.Buffer, p *site.Page) error {
	v := b.views[p]
	body := bodyBuffers.Get().(*bytes.Buffer)
	defer putBuffer(body)
	body.Grow(len(p.Body) * 2)
	// A citizen's text is rendered as one, whatever markdown.unsafe says.
	info, err := b.md.Page(p.Submitted).Render(body, p.Body)
	if err != nil {
		return &site.Error{File: p.Path, Line: p.BodyLine, Err: err}
	}
	// The Markdown is not needed past this point; letting it go keeps a large site's
	// memory to what the lists and feeds need.
	p.Body = nil
	if v.Summary == "" {
		v.Summary = info.Summary
	}
	if v.Description == "" {
		v.Description = v.Summary
	}
	v.Headings = headings(info.Headings)
	v.ReadingTime = (info.Words + 199) / 200

	if p.Photo != nil {
		img, err := b.photo(p)
		if err != nil {
			return &site.Error{File: p.Photo.Image.Path, Err: err}
		}
		v.Image = img
	} else if v.Image != nil && p.Bundle != "" {
		img, err := b.pageImage(p, v.Image)
		if err != nil {
			return &site.Error{File: p.Path, Err: fmt.Errorf("image: %v", err)}
		}
		v.Image = img
	}
	comments, err := b.comments(b.site.Comments[p.Ref], 0)
	if err != nil {
		return err
	}
	d := b.data(string(p.Kind), v.Title, v.Description, p.URL)
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
	if names, ok := p.Params["forms"]; ok {
		d.Forms, _ = b.listedForms(names) // checked when the build started
	} else if p.URL == b.forms.base {
		d.Forms = b.forms.ordered
	}
	if p.Dossier != nil {
		d.Groups = b.dossierGroups(p, v.Items)
	}
	d.Breadcrumbs = b.crumbs(p)
	if v.Image != nil {
		d.Image = b.abs(v.Image.URL)
	}
	if err := b.th.execute(buf, string(p.Kind), d); err != nil {
		return &site.Error{File: p.Path, Err: err}
	}
	if err := b.write(p.URL, buf.Bytes()); err != nil {
		return err
	}
	for _, r := range p.Resources {
		data, err := fs.ReadFile(b.g.src, r.Path)
		if err != nil {
			return &site.Error{File: r.Path, Err: err}
		}
		if err := b.write(path.Join(p.URL, r.Name), data); err != nil {
			return err
		}
	}
	if p.Event != nil {
		if err := b.write(p.URL+p.Slug+".ics", b.ics([]*PageView{v})); err != nil {
			return err
		}
	}
	for _, a := range p.Aliases {
		buf.Reset()
		d := b.data("alias", v.Title, "", a)
		d.Page = v // the alias page points at it
		if err := b.th.execute(buf, "alias", d); err != nil {
			return err
		}
		if err := b.write(a, buf.Bytes()); err != nil {
			return err
		}
	}
	b.done.Add(1)
	return nil
}

// bodyBuffers hold rendered bodies while their page is executed; a page's HTML is copied
// into the output, so the buffer can serve the next page.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() > 1<<20 {
		return // an outsized page: let it go rather than keep its memory
	}
	buf.Reset()
	bodyBuffers.Put(buf)
}

// dossierGroups sorts a dossier's items by kind: its own pages first, then news, events,
// documents and photos.
func (b *build) dossierGroups(p *site.Page, items []*PageView) []Group {
	var own []*PageView
	byKind := map[site.Kind][]*PageView{}
	for _, it := range items {
		if it.InDossier == p.Ref {
			own = append(own, it)
			continue
		}
		byKind[it.Kind] = append(byKind[it.Kind], it)
	}
	var groups []Group
	if len(own) > 0 {
		groups = append(groups, Group{Name: b.th.translate("dossier_pages"), Key: "pages", Pages: own})
	}
	for _, k := range []site.Kind{site.KindArticle, site.KindEvent, site.KindDocument, site.KindPhoto, site.KindPage} {
		if l := byKind[k]; len(l) > 0 {
			groups = append(groups, Group{Name: b.th.translate("dossier_" + string(k)), Key: string(k), Pages: l})
		}
	}
	return groups
}

// mapURL links an event's place on OpenStreetMap: its point when it has one, else a search
// for its address. It is a plain link: pages embed no map and load nothing from elsewhere.
func mapURL(e *site.Event) string {
	if e.Geo != nil {
		lat, lon := strconv.FormatFloat(e.Geo.Lat, 'f', -1, 64), strconv.FormatFloat(e.Geo.Lon, 'f', -1, 64)
		return "https://www.openstreetmap.org/?mlat=" + lat + "&mlon=" + lon + "#map=17/" + lat + "/" + lon
	}
	if e.Address != "" {
		return "https://www.openstreetmap.org/search?query=" + url.QueryEscape(e.Address)
	}
	return ""
}

// abs turns a site path with the base folder into an absolute URL.
func (b *build) abs(rel string) string {
	if strings.Contains(rel, "://") {
		return rel
	}
	base := b.site.Config.Base
	if base == nil || b.site.Config.BaseURL == "/" {
		return rel
	}
	return base.Scheme + "://" + base.Host + rel
}

func (b *build) data(kind, title, desc, url string) *Data {
	cfg := b.site.Config
	return &Data{
		Site: b.sv, Kind: kind, Title: title, Description: desc,
		URL: cfg.RelURL(url), Permalink: cfg.AbsURL(url), Lang: cfg.Language,
		Feeds: b.feedLinks(kind, url),
	}
}

func (b *build) crumbs(p *site.Page) []Link {
	cfg := b.site.Config
	l := []Link{{Name: b.th.translate("home"), URL: cfg.RelURL("/")}}
	if p.Kind == site.KindPage {
		return l
	}
	l = append(l, Link{Name: b.sectionTitle(p.Section), URL: cfg.RelURL("/" + p.Section + "/")})
	if p.InDossier != "" {
		if d := b.site.Page(p.InDossier); d != nil {
			l = append(l, Link{Name: d.Title, URL: cfg.RelURL(d.URL)})
		}
	}
	return l
}

// sectionTitle is a section's name: its _index.md title, or the theme's.
func (b *build) sectionTitle(sec string) string {
	if idx := b.site.Sections[sec]; idx != nil && idx.Title != "" {
		return idx.Title
	}
	return b.th.translate("section_" + sec)
}

// comments renders a thread. The comment renderer sanitizes every body.
func (b *build) comments(l []*site.Comment, depth int) ([]*CommentView, error) {
	if len(l) == 0 {
		return nil, nil
	}
	out := make([]*CommentView, 0, len(l))
	var buf bytes.Buffer
	for _, c := range l {
		buf.Reset()
		if _, err := b.md.Comment.Render(&buf, []byte(c.Body)); err != nil {
			return nil, &site.Error{File: c.Path, Err: err}
		}
		replies, err := b.comments(c.Replies, depth+1)
		if err != nil {
			return nil, err
		}
		initial := ""
		for _, r := range c.Name {
			initial = strings.ToUpper(string(r))
			break
		}
		out = append(out, &CommentView{
			ID: c.ID, Anchor: "comment-" + c.ID, Name: c.Name, Date: c.Date,
			HTML: template.HTML(buf.String()), Avatar: c.Avatar, Tone: tone(c), Initial: initial,
			Depth: depth, Parent: c.Parent, Replies: replies,
		})
	}
	return out, nil
}

// tone picks one of eight colours for a commenter, the same for the same person.
func tone(c *site.Comment) int {
	key := c.Avatar
	if key == "" {
		key = c.Name
	}
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return int(h % 8)
}

// startProgress prints "Rendering n/total pages" on a terminal while a long build runs.
func (b *build) startProgress(total int) (stop func()) {
	w := b.g.progress
	if w == nil || total < 500 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		shown := false
		for {
			select {
			case <-done:
				if shown {
					fmt.Fprintf(w, "\r\033[K")
				}
				return
			case <-t.C:
				shown = true
				fmt.Fprintf(w, "\r\033[KRendering %d/%d pages…", b.done.Load(), total)
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
