package generator

import (
	"html/template"
	"time"

	"github.com/parvis/parvis/internal/site"
)

// The types below are the data the theme's layouts receive. themes/default/README.md
// documents them; keep the two in step.

// SiteView is the site-wide data, the same for every page.
type SiteView struct {
	Title       string
	Description string
	BaseURL     string
	Language    string
	Publisher   string
	Copyright   string
	ServiceURL  string // where forms post; empty means the site's own origin
	Menu        []site.MenuItem
	Footer      []site.MenuItem
	Params      map[string]any
	Forms       map[string]*site.FormSpec
	Now         time.Time // the build's clock
	Year        int
	HasPhotos   bool
	HasEvents   bool
}

// PageView is one page as the layouts see it. It embeds the content model's Page, so
// .Title, .Date, .Tags, .Event, .Dossier, .Document and .Photo are there as loaded.
type PageView struct {
	*site.Page
	RelPermalink string // the site path, with the base URL's folder
	Permalink    string // absolute
	Summary      string
	Description  string
	ReadingTime  int // minutes
	Headings     []Heading
	TagLinks     []Link
	CommentCount int
	InDossiers   []*PageView // the dossiers that gather this page
	Items        []*PageView // a dossier's items
	Files        []FileView  // a document's files, or a bundle's attachments
	Image        *ImageView  // a photo's image with its thumbnails, or the page's image
	ICS          string      // an event's .ics file
	Prev, Next   *PageView   // neighbours in the section, by date
}

// Heading is an h2 or h3 of the page, for a table of contents.
type Heading struct {
	Level int
	ID    string
	Text  string
}

// Link is a labelled URL.
type Link struct {
	Name string
	URL  string
	N    int // a count, where one applies (pages of a tag)
}

// FileView is a downloadable file.
type FileView struct {
	Name      string
	Title     string
	URL       string
	Size      int64
	MediaType string
}

// ImageView is an image with its resized versions for srcset.
type ImageView struct {
	URL    string
	Width  int
	Height int
	Thumb  string // a mid-sized version, for lists
	Srcset string // "url 320w, url 640w, …"
	Alt    string
}

// CommentView is a comment, rendered and threaded.
type CommentView struct {
	ID      string
	Anchor  string // the element id: comment-<id>
	Name    string
	Date    time.Time
	HTML    template.HTML // sanitized
	Avatar  string        // the keyed hash; the theme derives a colour from it
	Initial string
	Depth   int
	Parent  string
	Replies []*CommentView
}

// Pager is the position of a list page among its siblings.
type Pager struct {
	Number, Total int
	First, Last   string
	Prev, Next    string
	Pages         []Link // every page, for numbered links
}

// Day is a cell of a month's calendar.
type Day struct {
	Date    time.Time
	InMonth bool
	Today   bool
	Events  []*PageView
}

// Month is a calendar month with its weeks, Monday first.
type Month struct {
	Year       int
	Month      time.Month
	Start      time.Time
	URL        string
	Weeks      [][]Day
	Prev, Next string // neighbouring months' pages, empty at the ends
	Count      int
}

// Data is what a layout is executed with. Fields that do not apply are zero.
type Data struct {
	Site        *SiteView
	Kind        string // the layout: home, article, event, …, section, tag, tags, gallery, calendar, month, 404
	Title       string
	Description string
	URL         string // the site path of this output
	Permalink   string
	Lang        string
	Image       string // absolute URL of the Open Graph image
	Feeds       []Link // RSS/Atom alternates for <head>
	Breadcrumbs []Link

	Page         *PageView // single pages
	Content      template.HTML
	Comments     []*CommentView
	CommentCount int
	CommentsOpen bool

	Section string        // lists: the section's folder (articles, events…) or the tag
	Intro   template.HTML // a section's _index.md body
	Pages   []*PageView   // lists: this pager page's items
	Pager   *Pager
	Tags    []Link // tags page: every tag with its count

	// Home page.
	Articles []*PageView
	Upcoming []*PageView
	Dossiers []*PageView
	Photos   []*PageView

	// Calendar.
	Past   []*PageView
	Months []*Month
	Month  *Month
}
