package site

import (
	"fmt"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kind is what a page is, given by the folder it lives in.
type Kind string

const (
	KindArticle  Kind = "article"
	KindEvent    Kind = "event"
	KindDossier  Kind = "dossier"
	KindDocument Kind = "document"
	KindPhoto    Kind = "photo"
	KindPage     Kind = "page"
	KindSection  Kind = "section" // a section's or the home page's intro (_index.md)
)

// Sections maps a top-level content folder to the kind of its pages.
var Sections = map[string]Kind{
	"articles":  KindArticle,
	"events":    KindEvent,
	"dossiers":  KindDossier,
	"documents": KindDocument,
	"photos":    KindPhoto,
	"pages":     KindPage,
}

// Page is one published page of the site.
type Page struct {
	Kind    Kind
	Path    string // the source file, e.g. "articles/budget/index.md"
	Ref     string // the content path without extension or index: "articles/budget"
	Section string // the top-level folder: "articles"
	Bundle  string // the bundle's folder, "" for a single-file page
	Slug    string
	URL     string // the site path of the page, e.g. "/articles/budget/"

	Title       string
	Summary     string // from front matter; the generator fills it from the body when empty
	Description string
	Date        time.Time
	Lastmod     time.Time
	Draft       bool
	Tags        []string
	Aliases     []string // site paths that redirect to URL
	Weight      int
	Image       string
	Comments    bool // open to comments
	Params      map[string]any

	// Submitted names the form a citizen sent the page through (front matter
	// "submitted"), "" for an editor's page. Its body is a citizen's text: it is
	// rendered as one (markdown.NewCitizen), whatever markdown.unsafe says, and its
	// files are served as downloads.
	Submitted string

	Body     []byte // Markdown
	BodyLine int    // the line of the file the body starts on

	Resources []*Resource // the bundle's other files

	Event     *Event
	Dossier   *Dossier
	Document  *Document
	Photo     *Photo
	InDossier string // the Ref of the dossier whose folder holds this page
}

// Resource is a file of a page bundle.
type Resource struct {
	Name      string // the file name
	Path      string // content path
	Title     string
	Size      int64
	MediaType string
}

// Event holds what an event page adds.
type Event struct {
	Start, End   time.Time
	AllDay       bool
	Location     *time.Location
	Place        string
	Address      string
	Geo          *Geo
	Registration string
}

// Geo is a point on the map.
type Geo struct{ Lat, Lon float64 }

// Dossier holds what a dossier adds: its items, resolved after loading.
type Dossier struct {
	Visibility string // public or shared
	ItemRefs   []string
	Items      []*Page
}

// Shared reports whether the dossier is shared with chosen people only.
func (d *Dossier) Shared() bool { return d.Visibility == "shared" }

// Document holds a document's files.
type Document struct {
	Files []*Resource
}

// Photo holds a photo's image and credits.
type Photo struct {
	Image   *Resource
	Caption string
	Alt     string
	Author  string
	License string
	Contest string
}

// Param returns a front matter value that Parvis does not interpret itself.
func (p *Page) Param(key string) any { return p.Params[key] }

// known keys, removed from Params once read.
var pageKeys = []string{
	"title", "date", "lastmod", "draft", "tags", "summary", "slug", "aliases", "weight",
	"description", "image", "comments", "publishDate", "expiryDate", "url", "submitted",
}

var kindKeys = map[Kind][]string{
	KindEvent:    {"start", "end", "allDay", "timezone", "location", "address", "geo", "registration"},
	KindDossier:  {"visibility", "items"},
	KindDocument: {"files"},
	KindPhoto:    {"caption", "alt", "author", "license", "contest"},
}

// fields reads typed values out of front matter, collecting faults with their lines.
type fields struct {
	fm   *FrontMatter
	file string
	errs ErrorList
}

func (f *fields) fail(key, format string, args ...any) {
	f.errs = append(f.errs, &Error{File: f.file, Line: f.fm.Line(key), Err: fmt.Errorf(key+": "+format, args...)})
}

func (f *fields) str(key string) string {
	v, ok := f.fm.Values[key]
	if !ok || v == nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case int, int64, float64, bool:
		return fmt.Sprint(x)
	}
	f.fail(key, "expected text, got %T", v)
	return ""
}

func (f *fields) boolean(key string, def bool) bool {
	v, ok := f.fm.Values[key]
	if !ok || v == nil {
		return def
	}
	if b, ok := v.(bool); ok {
		return b
	}
	if s, ok := v.(string); ok {
		if b, err := strconv.ParseBool(s); err == nil {
			return b
		}
	}
	f.fail(key, "expected true or false, got %v", v)
	return def
}

func (f *fields) integer(key string) int {
	switch x := f.fm.Values[key].(type) {
	case nil:
		return 0
	case int:
		return x
	case int64:
		return int(x)
	case uint64:
		return int(x)
	case float64:
		if x == float64(int(x)) {
			return int(x)
		}
	case string:
		if n, err := strconv.Atoi(x); err == nil {
			return n
		}
	}
	f.fail(key, "expected a whole number, got %v", f.fm.Values[key])
	return 0
}

func (f *fields) list(key string) []string {
	switch x := f.fm.Values[key].(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			switch s := e.(type) {
			case string:
				out = append(out, s)
			case int, int64, float64:
				out = append(out, fmt.Sprint(s))
			default:
				f.fail(key, "expected a list of text, found %v", e)
				return nil
			}
		}
		return out
	case []string:
		return x
	}
	f.fail(key, "expected a list, got %v", f.fm.Values[key])
	return nil
}

func (f *fields) date(key string, loc *time.Location) (time.Time, bool) {
	v, ok := f.fm.Values[key]
	if !ok {
		return time.Time{}, false
	}
	t, dateOnly, err := parseDate(v, loc)
	if err != nil {
		f.fail(key, "%v", err)
	}
	return t, dateOnly
}

// newPage builds a page from its file. ref is the content path without extension and index.
func newPage(file, ref string, data []byte, cfg *Config) (*Page, ErrorList) {
	fm, body, bodyLine, err := ParseFrontMatter(data)
	if err != nil {
		e := err.(*Error)
		e.File = file
		return nil, ErrorList{e}
	}
	f := &fields{fm: fm, file: file}
	section, _, _ := strings.Cut(ref, "/")
	p := &Page{
		Kind:     Sections[section],
		Path:     file,
		Ref:      ref,
		Section:  section,
		Body:     body,
		BodyLine: bodyLine,
	}
	if strings.HasSuffix(file, "/index.md") || strings.HasSuffix(file, "/_index.md") {
		p.Bundle = path.Dir(file)
	}
	if path.Base(file) == "_index.md" && !strings.Contains(ref, "/") {
		// A section's intro (articles/_index.md) or the home page's (_index.md): a title and
		// a text for a list, nothing of an event, a document or a photo.
		p.Kind, p.Bundle = KindSection, ""
	}
	if p.Section == "dossiers" && !strings.HasSuffix(file, "/_index.md") {
		// A page in a dossier's folder: an article that belongs to the dossier.
		p.Kind = KindArticle
		p.InDossier = "dossiers/" + strings.Split(ref, "/")[1]
	}

	p.Title = strings.TrimSpace(f.str("title"))
	if p.Title == "" {
		line := fm.Line("title")
		msg := "title: required"
		if fm.Format == "" {
			msg = "no front matter: a page starts with --- (YAML), +++ (TOML) or { (JSON), with a title"
			line = 1
		}
		f.errs = append(f.errs, &Error{File: file, Line: line, Err: fmt.Errorf("%s", msg)})
	}
	p.Submitted = strings.TrimSpace(f.str("submitted"))
	p.Summary = strings.TrimSpace(f.str("summary"))
	p.Description = strings.TrimSpace(f.str("description"))
	p.Draft = f.boolean("draft", false)
	p.Tags = normalizeTags(f.list("tags"))
	p.Weight = f.integer("weight")
	p.Image = f.str("image")
	p.Comments = f.boolean("comments", p.Kind == KindArticle || p.Kind == KindEvent || p.Kind == KindDocument)
	p.Date, _ = f.date("date", cfg.Location)
	p.Lastmod, _ = f.date("lastmod", cfg.Location)

	p.Slug = path.Base(ref)
	if s := f.str("slug"); s != "" {
		if err := checkSlug(s); err != nil {
			f.fail("slug", "%v", err)
		} else {
			p.Slug = s
		}
	}
	p.URL = pageURL(p)
	if p.Kind == KindSection {
		p.URL = "/" + ref + "/"
		if ref == "" {
			p.URL = "/"
		}
	}
	for _, a := range f.list("aliases") {
		u, err := cleanSitePath(a, p.URL)
		if err != nil {
			f.fail("aliases", "%v", err)
			continue
		}
		p.Aliases = append(p.Aliases, u)
	}

	switch p.Kind {
	case KindEvent:
		p.Event = readEvent(f, p, cfg)
	case KindDossier:
		p.Dossier = &Dossier{Visibility: f.str("visibility"), ItemRefs: f.list("items")}
		switch p.Dossier.Visibility {
		case "":
			p.Dossier.Visibility = "public"
		case "public", "shared":
		default:
			f.fail("visibility", "%q is not public or shared", p.Dossier.Visibility)
		}
		for i, r := range p.Dossier.ItemRefs {
			p.Dossier.ItemRefs[i] = strings.TrimSuffix(strings.TrimSuffix(strings.Trim(r, "/"), ".md"), "/index")
		}
	case KindDocument:
		p.Document = &Document{}
	case KindPhoto:
		p.Photo = &Photo{
			Caption: strings.TrimSpace(f.str("caption")),
			Alt:     strings.TrimSpace(f.str("alt")),
			Author:  strings.TrimSpace(f.str("author")),
			License: strings.TrimSpace(f.str("license")),
			Contest: strings.TrimSpace(f.str("contest")),
		}
		if p.Photo.Caption == "" {
			f.fail("caption", "required: a photo needs a caption")
		}
	}

	p.Params = make(map[string]any)
	for k, v := range fm.Values {
		p.Params[k] = v
	}
	for _, k := range pageKeys {
		delete(p.Params, k)
	}
	for _, k := range kindKeys[p.Kind] {
		if k != "files" {
			delete(p.Params, k)
		}
	}
	return p, f.errs
}

func readEvent(f *fields, p *Page, cfg *Config) *Event {
	e := &Event{Location: cfg.Location}
	if tz := f.str("timezone"); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			f.fail("timezone", "unknown time zone %q", tz)
		} else {
			e.Location = loc
		}
	}
	if _, ok := f.fm.Values["start"]; !ok {
		f.fail("start", "required: an event needs a start")
	}
	var startDateOnly, endDateOnly bool
	e.Start, startDateOnly = f.date("start", e.Location)
	e.End, endDateOnly = f.date("end", e.Location)
	e.AllDay = f.boolean("allDay", startDateOnly && (e.End.IsZero() || endDateOnly))
	if !e.Start.IsZero() {
		e.Start = e.Start.In(e.Location)
	}
	if !e.End.IsZero() {
		e.End = e.End.In(e.Location)
		if e.End.Before(e.Start) {
			f.fail("end", "the event ends (%s) before it starts (%s)", e.End.Format(time.RFC3339), e.Start.Format(time.RFC3339))
		}
	}
	e.Place = strings.TrimSpace(f.str("location"))
	e.Address = strings.TrimSpace(f.str("address"))
	if r := f.str("registration"); r != "" {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "mailto") {
			f.fail("registration", "%q is not an http(s) or mailto link", r)
		} else {
			e.Registration = r
		}
	}
	if g, ok := f.fm.Values["geo"]; ok {
		m, _ := g.(map[string]any)
		lat, ok1 := number(m["lat"])
		lon, ok2 := number(m["lon"])
		if !ok1 || !ok2 || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
			f.fail("geo", "expected {lat: …, lon: …} in degrees")
		} else {
			e.Geo = &Geo{Lat: lat, Lon: lon}
		}
	}
	if p.Date.IsZero() {
		p.Date = e.Start
	}
	return e
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func pageURL(p *Page) string {
	dir := path.Dir(p.Ref)
	switch {
	case p.Kind == KindPage:
		return "/" + p.Slug + "/"
	case dir == ".":
		return "/" + p.Slug + "/"
	}
	return "/" + dir + "/" + p.Slug + "/"
}

// checkSlug refuses a slug that would leave its folder or make an odd URL.
func checkSlug(s string) error {
	switch {
	case strings.ContainsAny(s, "/\\?#%"):
		return fmt.Errorf("%q must not contain / \\ ? # or %%", s)
	case s == "." || s == ".." || strings.HasPrefix(s, "."):
		return fmt.Errorf("%q must not start with a dot", s)
	case strings.ContainsAny(s, "\x00\r\n\t "):
		return fmt.Errorf("%q must not contain spaces or control characters", s)
	}
	return nil
}

// cleanSitePath turns an alias (absolute, or relative to the page) into a clean site path
// ending in /, refusing one that would leave the output folder.
func cleanSitePath(a, base string) (string, error) {
	if a == "" || strings.ContainsAny(a, "\\\x00?#") || strings.Contains(a, "://") {
		return "", fmt.Errorf("%q is not a site path", a)
	}
	full := a
	if !strings.HasPrefix(a, "/") {
		full = base + a
	}
	for _, seg := range strings.Split(full, "/") {
		if seg == ".." {
			return "", fmt.Errorf("%q leaves the site's folder", a)
		}
	}
	c := path.Clean(full)
	if c == "/" {
		return "", fmt.Errorf("%q would replace the home page", a)
	}
	if path.Ext(c) != ".html" {
		c += "/"
	}
	return c, nil
}

func normalizeTags(tags []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || seen[strings.ToLower(t)] {
			continue
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	return out
}

// byDate orders pages newest first, then by weight, then by path, so that lists are stable.
func byDate(ps []*Page) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if !a.Date.Equal(b.Date) {
			return a.Date.After(b.Date)
		}
		if a.Weight != b.Weight {
			return a.Weight < b.Weight
		}
		return a.Path < b.Path
	})
}
