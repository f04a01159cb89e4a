package generator

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/parvis/parvis/internal/site"
)

const (
	feedItems     = 20
	commentItems  = 50
	sitemapMaxURL = 50000
)

// feedScopes are the feeds the site offers: the whole site (news-like pages) and each section.
var feedScopes = []struct {
	base  string
	kinds []site.Kind
}{
	{"/", []site.Kind{site.KindArticle, site.KindDossier, site.KindDocument}},
	{"/articles/", []site.Kind{site.KindArticle}},
	{"/events/", []site.Kind{site.KindEvent}},
	{"/dossiers/", []site.Kind{site.KindDossier}},
	{"/documents/", []site.Kind{site.KindDocument}},
	{"/photos/", []site.Kind{site.KindPhoto}},
}

// feedLinks lists the feeds a page announces in its head: the site's, and its section's.
func (b *build) feedLinks(kind, url string) []Link {
	cfg := b.site.Config
	links := []Link{
		{Name: "RSS", URL: cfg.RelURL("/index.xml")},
		{Name: "Atom", URL: cfg.RelURL("/atom.xml")},
	}
	for _, sc := range feedScopes[1:] {
		if strings.HasPrefix(url, sc.base) && len(b.sections[strings.Trim(sc.base, "/")]) > 0 {
			links = append(links, Link{Name: "RSS " + b.th.translate("section_"+strings.Trim(sc.base, "/")), URL: cfg.RelURL(sc.base + "index.xml")})
		}
	}
	return links
}

func (b *build) feedJobs() []job {
	var jobs []job
	for _, sc := range feedScopes {
		sc := sc
		var items []*PageView
		for _, k := range sc.kinds {
			items = append(items, b.sections[sectionOf(k)]...)
		}
		if sc.base != "/" && len(items) == 0 {
			continue
		}
		sortViews(items)
		items = items[:min(len(items), feedItems)]
		title := b.site.Config.Title
		if sc.base != "/" {
			title += " – " + b.th.translate("section_"+strings.Trim(sc.base, "/"))
		}
		jobs = append(jobs,
			func(buf *bytes.Buffer) error { return b.write(sc.base+"index.xml", b.rss(title, sc.base, items)) },
			func(buf *bytes.Buffer) error { return b.write(sc.base+"atom.xml", b.atom(title, sc.base, items)) },
		)
	}
	jobs = append(jobs,
		func(*bytes.Buffer) error { return b.write("comments.xml", b.commentsFeed()) },
		func(*bytes.Buffer) error { return b.write("events.ics", b.ics(b.sections["events"])) },
		func(*bytes.Buffer) error { return b.sitemaps() },
		func(*bytes.Buffer) error {
			return b.write("robots.txt", []byte("User-agent: *\nAllow: /\n\nSitemap: "+b.site.Config.AbsURL("/sitemap.xml")+"\n"))
		},
	)
	return jobs
}

func sectionOf(k site.Kind) string {
	for sec, kind := range site.Sections {
		if kind == k {
			return sec
		}
	}
	return ""
}

func (v *PageView) updated() time.Time {
	if !v.Lastmod.IsZero() {
		return v.Lastmod
	}
	return v.Date
}

type rssFeed struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Atom    string     `xml:"xmlns:atom,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title       string    `xml:"title"`
	Link        string    `xml:"link"`
	Description string    `xml:"description"`
	Language    string    `xml:"language"`
	Copyright   string    `xml:"copyright,omitempty"`
	LastBuild   string    `xml:"lastBuildDate,omitempty"`
	Self        atomLink  `xml:"atom:link"`
	Items       []rssItem `xml:"item"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type rssItem struct {
	Title       string   `xml:"title"`
	Link        string   `xml:"link"`
	GUID        rssGUID  `xml:"guid"`
	PubDate     string   `xml:"pubDate,omitempty"`
	Description string   `xml:"description,omitempty"`
	Categories  []string `xml:"category"`
}

type rssGUID struct {
	Value       string `xml:",chardata"`
	IsPermaLink bool   `xml:"isPermaLink,attr"`
}

func marshalXML(v any) []byte {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		// The feed types hold only strings: encoding cannot fail.
		panic(err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

func (b *build) rss(title, base string, items []*PageView) []byte {
	cfg := b.site.Config
	ch := rssChannel{
		Title: title, Link: cfg.AbsURL(base), Description: cfg.Description, Language: cfg.Language,
		Copyright: cfg.Copyright,
		Self:      atomLink{Href: cfg.AbsURL(base + "index.xml"), Rel: "self", Type: "application/rss+xml"},
	}
	var newest time.Time
	for _, v := range items {
		if u := v.updated(); u.After(newest) {
			newest = u
		}
		ch.Items = append(ch.Items, rssItem{
			Title: v.Title, Link: v.Permalink, GUID: rssGUID{Value: v.Permalink, IsPermaLink: true},
			PubDate: v.Date.Format(time.RFC1123Z), Description: v.Summary, Categories: v.Tags,
		})
	}
	if !newest.IsZero() {
		ch.LastBuild = newest.Format(time.RFC1123Z)
	}
	return marshalXML(rssFeed{Version: "2.0", Atom: "http://www.w3.org/2005/Atom", Channel: ch})
}

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"xml:lang,attr"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  *atomAuthor `xml:"author,omitempty"`
	Rights  string      `xml:"rights,omitempty"`
	Entries []atomEntry `xml:"entry"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	Title      string         `xml:"title"`
	ID         string         `xml:"id"`
	Link       atomLink       `xml:"link"`
	Updated    string         `xml:"updated"`
	Published  string         `xml:"published"`
	Summary    string         `xml:"summary,omitempty"`
	Categories []atomCategory `xml:"category"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

func (b *build) atom(title, base string, items []*PageView) []byte {
	cfg := b.site.Config
	f := atomFeed{
		Lang: cfg.Language, Title: title, ID: cfg.AbsURL(base),
		Links: []atomLink{
			{Href: cfg.AbsURL(base + "atom.xml"), Rel: "self", Type: "application/atom+xml"},
			{Href: cfg.AbsURL(base), Rel: "alternate", Type: "text/html"},
		},
		Rights: cfg.Copyright,
	}
	author := cfg.Publisher
	if author == "" {
		author = cfg.Title
	}
	f.Author = &atomAuthor{Name: author}
	var newest time.Time
	for _, v := range items {
		u := v.updated()
		if u.After(newest) {
			newest = u
		}
		e := atomEntry{
			Title: v.Title, ID: v.Permalink, Link: atomLink{Href: v.Permalink, Rel: "alternate", Type: "text/html"},
			Updated: u.Format(time.RFC3339), Published: v.Date.Format(time.RFC3339), Summary: v.Summary,
		}
		for _, t := range v.Tags {
			e.Categories = append(e.Categories, atomCategory{Term: t})
		}
		f.Entries = append(f.Entries, e)
	}
	if newest.IsZero() {
		newest = time.Unix(0, 0).UTC() // an empty feed: a fixed date keeps the build deterministic
	}
	f.Updated = newest.Format(time.RFC3339)
	return marshalXML(f)
}

// commentsFeed lists the latest comments of the whole site.
func (b *build) commentsFeed() []byte {
	type entry struct {
		c *site.Comment
		v *PageView
	}
	var all []entry
	var walk func([]*site.Comment, *PageView)
	walk = func(l []*site.Comment, v *PageView) {
		for _, c := range l {
			all = append(all, entry{c, v})
			walk(c.Replies, v)
		}
	}
	for _, p := range b.site.Pages {
		walk(b.site.Comments[p.Ref], b.views[p])
	}
	sort.SliceStable(all, func(i, j int) bool {
		if !all[i].c.Date.Equal(all[j].c.Date) {
			return all[i].c.Date.After(all[j].c.Date)
		}
		return all[i].c.ID < all[j].c.ID
	})
	all = all[:min(len(all), commentItems)]
	cfg := b.site.Config
	ch := rssChannel{
		Title: cfg.Title + " – " + b.th.translate("comments"), Link: cfg.AbsURL("/"), Description: b.th.translate("comments_feed"),
		Language: cfg.Language, Self: atomLink{Href: cfg.AbsURL("/comments.xml"), Rel: "self", Type: "application/rss+xml"},
	}
	if len(all) > 0 {
		ch.LastBuild = all[0].c.Date.Format(time.RFC1123Z)
	}
	for _, e := range all {
		link := e.v.Permalink + "#comment-" + e.c.ID
		ch.Items = append(ch.Items, rssItem{
			Title:       b.th.translate("comment_by", e.c.Name, e.v.Title),
			Link:        link,
			GUID:        rssGUID{Value: link, IsPermaLink: true},
			PubDate:     e.c.Date.Format(time.RFC1123Z),
			Description: b.md.Comment.PlainText([]byte(e.c.Body), 500),
		})
	}
	return marshalXML(rssFeed{Version: "2.0", Atom: "http://www.w3.org/2005/Atom", Channel: ch})
}

type sitemapURL struct {
	Loc     string `xml:"loc"`
	Lastmod string `xml:"lastmod,omitempty"`
}

type urlset struct {
	XMLName xml.Name     `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	URLs    []sitemapURL `xml:"url"`
}

type sitemapIndex struct {
	XMLName  xml.Name     `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 sitemapindex"`
	Sitemaps []sitemapURL `xml:"sitemap"`
}

// sitemaps lists every published page and list; above 50,000 addresses (the protocol's limit)
// it writes several files under a sitemap index.
func (b *build) sitemaps() error {
	cfg := b.site.Config
	var urls []sitemapURL
	add := func(u string, t time.Time) {
		s := sitemapURL{Loc: cfg.AbsURL(u)}
		if !t.IsZero() {
			s.Lastmod = t.Format(time.RFC3339)
		}
		urls = append(urls, s)
	}
	add("/", time.Time{})
	for _, sec := range []string{"articles", "events", "dossiers", "documents", "photos"} {
		if len(b.sections[sec]) > 0 {
			add("/"+sec+"/", time.Time{})
		}
	}
	pages := make([]*PageView, 0, len(b.views))
	for _, p := range b.site.Pages {
		pages = append(pages, b.views[p])
	}
	sort.Slice(pages, func(i, j int) bool { return pages[i].URL < pages[j].URL })
	for _, v := range pages {
		add(v.URL, v.updated())
	}
	if len(b.tagOrder) > 0 {
		add("/tags/", time.Time{})
	}
	for _, slug := range b.tagOrder {
		add("/tags/"+slug+"/", time.Time{})
	}
	if len(urls) <= sitemapMaxURL {
		return b.write("sitemap.xml", marshalXML(urlset{URLs: urls}))
	}
	var idx sitemapIndex
	for i := 0; i*sitemapMaxURL < len(urls); i++ {
		part := urls[i*sitemapMaxURL : min(len(urls), (i+1)*sitemapMaxURL)]
		name := fmt.Sprintf("sitemap-%d.xml", i+1)
		if err := b.write(name, marshalXML(urlset{URLs: part})); err != nil {
			return err
		}
		idx.Sitemaps = append(idx.Sitemaps, sitemapURL{Loc: cfg.AbsURL("/" + name)})
	}
	return b.write("sitemap.xml", marshalXML(idx))
}
