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
	FormsURL    string // the index of the proposal forms; empty when the site has none
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
	MapURL       string      // an event's place on OpenStreetMap (a plain link), from geo or address
	Address      string      // an event's address, without the place's name when it starts with it
	Past         bool        // an event that has ended at the build's time
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
	Avatar  string        // the keyed hash (may be empty)
	Tone    int           // 0 to 7, from the hash or the name: a stable colour for the initial
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
	// Links are the numbered links to show: the first and last pages, and a few around this
	// one, with a Gap where numbers are left out. A list of a thousand pages thus gets about
	// nine links, not a thousand.
	Links []PagerLink
}

// PagerLink is a numbered link of a Pager, or a gap between two of them.
type PagerLink struct {
	Number  int
	URL     string
	Current bool
	Gap     bool // "…": Number and URL are empty
}

// Group is a titled part of a list: a dossier's items of one kind, a contest's photos.
type Group struct {
	Name  string // the heading
	Key   string // the kind (article, event, document…), or the contest's slug; "" for the rest
	Pages []*PageView
}

// FormView is a submission form as the layouts render it: a form of parvis.yaml, set for the
// page it is on. Every form posts fields[<name>] and options[…] to Action.
type FormView struct {
	Name      string // the form's key in parvis.yaml: comment, article, event…
	Title     string
	URL       string // the form's own page (/participer/<name>/); empty for the comment form
	Action    string // where it posts: <service>/api/v1/entries/<name>
	Challenge string // the service's proof-of-work endpoint, for challenge.js
	Multipart bool   // a field is an upload: enctype="multipart/form-data"
	Moderated bool   // submissions wait for a moderator
	Fields    []*FieldView
	// FieldsHTML is Fields rendered once per build with partials/field.html: the fields are
	// the same on every page, so the comment form under ten thousand pages costs one
	// rendering, not ten thousand.
	FieldsHTML template.HTML
	Required   bool // at least one field is required (the layout explains the mark)

	// Options sent as hidden inputs, each only when the form's policy accepts it.
	Page                 string // options[page]: the page's Ref
	Redirect             string // options[redirect]: where to come back, absolute
	HasPage, HasRedirect bool
	// ReplyTo lists the comments one may answer (options[parent]), in thread order; nil when
	// the form takes no parent.
	ReplyTo  []*CommentView
	HasReply bool

	// Anti-spam (see internal/antispam). Token is a placeholder in the static HTML that the
	// serving process, or challenge.js on static hosting, replaces with a signed token.
	Token    string
	Honeypot string // the honeypot field's name; empty when the form has none
	// Question is asked of people without JavaScript; challenge.js hides it once it has
	// solved the proof of work. Zero when the form's challenge is off.
	Question Question
}

// FieldView is one field of a FormView.
type FieldView struct {
	Name     string // the field's key: the input is named fields[<Name>]
	ID       string // the element id, unique on the page
	Label    string
	Help     string
	Type     string // the policy's type: text, textarea, markdown, email, url, date, datetime, choice, image, file
	Control  string // the element to use: input, textarea, select, radio
	Input    string // for Control input: the HTML type (text, email, url, date, datetime-local, file)
	Required bool
	Min, Max int   // characters (uploads: Max is bytes, shown as MaxSize)
	MaxSize  int64 // uploads: the largest file, in bytes
	Pattern  string
	Choices  []string
	Accept   string // uploads: the accepted media types, comma-separated
	Formats  string // uploads: the accepted formats for people (PDF, ODT)
	Private  bool   // never published
	Auto     string // the autocomplete token (name, email, url), or ""
	Rows     int    // text areas
	// DescribedBy lists the ids of the texts that describe the control, for aria-describedby:
	// <ID>-help (when there is help), <ID>-file (uploads: formats and size), <ID>-error (the
	// slot where an error is shown).
	DescribedBy string
}

// Question is an anti-spam question for people without JavaScript.
type Question struct {
	ID   string
	Text string
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
	Prev, Next string      // neighbouring months' pages, empty at the ends
	Count      int         // events on the month's days (an event of several days counts once a day)
	Events     []*PageView // the month's events, each once, by start
}

// Data is what a layout is executed with. Fields that do not apply are zero.
type Data struct {
	Site        *SiteView
	Kind        string // the layout: home, article, event, …, section, tag, tags, gallery, calendar, month, form, forms, 404
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
	CommentForm  *FormView // set when CommentsOpen

	// Forms: Form on a form's page; Forms on the forms' index (or a page listing forms).
	Form     *FormView
	Forms    []*FormView
	HasForms bool // the page holds a form: the layout loads the anti-spam script

	Groups []Group // a dossier's items by kind; the gallery's photos by contest

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
	Month  *Month // a month's page; on the calendar, the current month (or the next with events)
}
