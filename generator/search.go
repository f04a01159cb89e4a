package generator

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/parvis/parvis/internal/search"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/themes"
)

// searchPath is where the search page and its index go.
const searchPath = "/search/"

// SearchView is what the search layout (search.html) receives as .Search, besides the
// fields every layout has.
type SearchView struct {
	// Query is the query, for the search box's value. On the page parvis serve fills, it is
	// a placeholder the server replaces.
	Query string
	// Results goes inside the results' container (#search-results): empty on the static
	// page, a placeholder the server replaces with the results.
	Results template.HTML
	// Static is true on the page written for static hosting, where the script is the only
	// way to search: the layout says so to readers without JavaScript.
	Static bool
	Index  string // the index folder's URL, for the script
}

type searchData struct {
	*Data
	Search *SearchView
}

// searchJob writes the site search: the index of the published pages under search/ (see
// internal/search), the search page, and the page parvis serve fills for readers without
// JavaScript. Shared dossiers and their pages are not among the published pages, nor are
// drafts and future pages unless the build publishes them.
//
// A site turns the search off with params.search: false in parvis.yaml: no index, no page,
// and the theme leaves out its search box.
func (b *build) searchJob() job {
	return func(buf *bytes.Buffer) error {
		if !searchOn(b.site.Config.Params) {
			return nil
		}
		for _, p := range b.site.Pages {
			if p.URL == searchPath || contains(p.Aliases, searchPath) {
				return &site.Error{File: p.Path, Err: fmt.Errorf("the site path %s is the search page's: choose another slug or alias", searchPath)}
			}
		}
		pages := b.searchOrder()
		opts := search.Options{Lang: b.site.Config.Language, Strings: b.searchStrings(), Workers: b.g.workers}
		doc := func(i int) (*search.Document, error) { return b.searchDoc(pages[i]) }
		if _, err := search.Write(len(pages), doc, opts, func(name string, data []byte) error {
			return b.write(searchPath+name, data)
		}); err != nil {
			return err
		}
		return b.searchPages(buf)
	}
}

func searchOn(params map[string]any) bool {
	switch v := params["search"].(type) {
	case bool:
		return v
	case string:
		return v != "false" && v != "off"
	}
	return true
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// searchOrder lists the published pages oldest first: the index ranks the newer first
// among equals.
func (b *build) searchOrder() []*site.Page {
	pages := append([]*site.Page(nil), b.site.Pages...)
	when := func(p *site.Page) time.Time {
		if p.Event != nil {
			return p.Event.Start
		}
		return p.Date
	}
	sort.SliceStable(pages, func(i, j int) bool {
		a, c := when(pages[i]), when(pages[j])
		if !a.Equal(c) {
			return a.Before(c)
		}
		return pages[i].Path < pages[j].Path
	})
	return pages
}

// searchDoc makes a page's document. The page's Markdown was let go once it was rendered: it
// is read again from its file, and only its text kept.
func (b *build) searchDoc(p *site.Page) (*search.Document, error) {
	v := b.views[p]
	th := b.th
	d := &search.Document{URL: v.RelPermalink, Title: p.Title}
	data, err := fs.ReadFile(b.g.src, p.Path)
	if err != nil {
		return nil, &site.Error{File: p.Path, Err: err}
	}
	if _, _, body, _, err := site.SplitFrontMatter(data); err == nil {
		d.Body, d.Headings = search.MarkdownText(body)
	}
	kw := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			d.Keywords = append(d.Keywords, s)
		}
	}
	kw(p.Summary)
	if p.Description != p.Summary {
		kw(p.Description)
	}
	kw(strings.Join(p.Tags, ", "))

	meta := []string{}
	if k := "kind_" + string(p.Kind); th.has(k) {
		meta = append(meta, th.translate(k))
	}
	switch {
	case p.Event != nil:
		e := p.Event
		meta = append(meta, th.when(e))
		kw(e.Place)
		kw(e.Address)
		if e.Place != "" {
			meta = append(meta, e.Place)
		}
		d.Days = eventDays(e, b.site.Config.Location)
	case !p.Date.IsZero():
		meta = append(meta, th.formatDate("long", p.Date))
	}
	for _, f := range v.Files {
		kw(f.Title)
	}
	if ph := p.Photo; ph != nil {
		kw(ph.Caption)
		if ph.Alt != ph.Caption {
			kw(ph.Alt)
		}
		kw(ph.Author)
	}
	d.Meta = strings.Join(meta, " · ")
	return d, nil
}

// eventDays lists the days an event takes, in the site's zone (an all-day event keeps the
// dates it was given).
func eventDays(e *site.Event, loc *time.Location) []time.Time {
	start, end := e.Start, e.End
	if end.IsZero() || end.Before(start) {
		end = start
	}
	if e.AllDay {
		loc = start.Location()
	} else if !e.End.IsZero() && end.After(start) {
		// An evening ending after midnight is not on the next day as well.
		end = end.Add(-time.Nanosecond)
	}
	start, end = start.In(loc), end.In(loc)
	day := time.Date(start.Year(), start.Month(), start.Day(), 12, 0, 0, 0, loc)
	last := time.Date(end.Year(), end.Month(), end.Day(), 12, 0, 0, 0, loc)
	var out []time.Time
	for !day.After(last) && len(out) < 366 {
		out = append(out, day)
		day = day.AddDate(0, 0, 1)
	}
	return out
}

// searchStrings are the texts the server and the script show, from the theme's strings.
func (b *build) searchStrings() map[string]string {
	th := b.th
	plural := func(key, form string) string {
		if m, ok := th.strings[key].(map[string]any); ok {
			if s, ok := m[form].(string); ok {
				return s
			}
		}
		return th.translate(key)
	}
	return map[string]string{
		search.StrResultsOne:   plural("search_results", "one"),
		search.StrResultsOther: plural("search_results", "other"),
		search.StrNone:         th.translate("search_none"),
		search.StrHint:         th.translate("search_hint"),
		search.StrEmpty:        th.translate("search_empty"),
		search.StrError:        th.translate("search_error"),
		search.StrLoading:      th.translate("search_loading"),
		search.StrPagination:   th.translate("pagination"),
		search.StrPrevious:     th.translate("previous"),
		search.StrNext:         th.translate("next"),
		search.StrPageN:        th.translate("page_n"),
	}
}

// searchPages renders the theme's search.html, when it has one: the static page, and the
// page the server fills. A theme without it has an index and no page.
func (b *build) searchPages(buf *bytes.Buffer) error {
	t, err := b.searchLayout()
	if err != nil || t == nil {
		return err
	}
	cfg := b.site.Config
	render := func(sv *SearchView) ([]byte, error) {
		d := b.data("search", b.th.translate("search_title"), "", searchPath)
		d.Breadcrumbs = []Link{{Name: b.th.translate("home"), URL: cfg.RelURL("/")}}
		buf.Reset()
		if err := t.ExecuteTemplate(buf, "baseof.html", searchData{Data: d, Search: sv}); err != nil {
			return nil, fmt.Errorf("theme: layout search: %w", err)
		}
		return bytes.Clone(buf.Bytes()), nil
	}
	index := cfg.RelURL(searchPath)
	page, err := render(&SearchView{Static: true, Index: index})
	if err != nil {
		return err
	}
	if err := b.write(searchPath, page); err != nil {
		return err
	}
	tmpl, err := render(&SearchView{Query: search.QueryPlaceholder, Results: template.HTML(search.ResultsPlaceholder), Index: index})
	if err != nil {
		return err
	}
	if !bytes.Contains(tmpl, []byte(search.ResultsPlaceholder)) {
		return fmt.Errorf("theme: layout search.html: .Search.Results is not in the page")
	}
	return b.write(searchPath+search.PageTemplate, tmpl)
}

// searchLayout parses search.html (the site's layouts/ first, then the theme's) with
// baseof.html and the partials, as the other layouts are. It is optional, so that a theme
// made before the search still builds.
func (b *build) searchLayout() (*template.Template, error) {
	themeFS := b.g.theme
	if themeFS == nil {
		themeFS = themes.Default()
	}
	ov := overlay{site: b.site.Layouts, theme: themeFS}
	src, err := ov.read("search.html")
	if err != nil {
		return nil, nil
	}
	base, err := ov.read("baseof.html")
	if err != nil {
		return nil, fmt.Errorf("theme: baseof.html: %w", err)
	}
	t, err := template.New("baseof.html").Funcs(b.th.funcs()).Parse(string(base))
	if err != nil {
		return nil, fmt.Errorf("theme: %w", err)
	}
	names, err := partialNames(ov)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		src, err := ov.read(name)
		if err != nil {
			return nil, fmt.Errorf("theme: %s: %w", name, err)
		}
		if _, err := t.New(name).Parse(string(src)); err != nil {
			return nil, fmt.Errorf("theme: %w", err)
		}
	}
	if _, err := t.New("search.html").Parse(string(src)); err != nil {
		return nil, fmt.Errorf("theme: %w", err)
	}
	return t, nil
}
