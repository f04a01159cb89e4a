package generator

import (
	"bytes"
	"fmt"
	"html/template"
	"slices"
	"time"

	"github.com/parvis/parvis/internal/site"
)

const (
	homeArticles = 6
	homeEvents   = 4
	homeDossiers = 3
	homePhotos   = 4
	galleryPage  = 24
)

// listJobs makes every page that lists others: sections, tags, the calendar, home, 404.
func (b *build) listJobs() []job {
	var jobs []job
	for _, sec := range []string{"articles", "dossiers", "documents"} {
		sec := sec
		jobs = append(jobs, b.paginate("/"+sec+"/", b.sections[sec], b.site.Config.Paginate, "section", func(d *Data) error {
			return b.sectionData(d, sec)
		})...)
	}
	photos := b.galleryOrder()
	jobs = append(jobs, b.paginate("/photos/", photos, galleryPage, "gallery", func(d *Data) error {
		d.Groups = b.contestGroups(d.Pages)
		return b.sectionData(d, "photos")
	})...)
	jobs = append(jobs, b.calendarJobs()...)
	jobs = append(jobs, b.tagJobs()...)
	jobs = append(jobs, b.homeJob(), b.notFoundJob())
	return jobs
}

// sectionData fills a list's title and intro from the section's _index.md, if any. The
// intro shows on the list's first page only.
func (b *build) sectionData(d *Data, sec string) error {
	d.Section = sec
	d.Title = b.sectionTitle(sec)
	if in, ok := b.intros[sec]; ok {
		d.Description = in.desc
		if d.Pager == nil || d.Pager.Number == 1 {
			d.Intro = in.html
		}
	}
	d.Breadcrumbs = []Link{{Name: b.th.translate("home"), URL: b.site.Config.RelURL("/")}}
	return nil
}

// intro is a section's _index.md, rendered once for all its list pages.
type intro struct {
	html template.HTML
	desc string
}

// renderIntros renders the sections' and the home page's _index.md bodies.
func (b *build) renderIntros() error {
	b.intros = map[string]intro{}
	for sec, idx := range b.site.Sections {
		in := intro{desc: idx.Description}
		if len(bytes.TrimSpace(idx.Body)) > 0 {
			var buf bytes.Buffer
			info, err := b.md.Editor.Render(&buf, idx.Body)
			if err != nil {
				return &site.Error{File: idx.Path, Line: idx.BodyLine, Err: err}
			}
			in.html = template.HTML(buf.String())
			if in.desc == "" {
				in.desc = info.Summary
			}
		}
		b.intros[sec] = in
	}
	return nil
}

// pagerLinks picks the numbered links of page n among len(urls): the first, the last, and
// two on each side of n, with a gap for each run of left-out numbers (a gap that would hide
// a single number shows the number instead).
func pagerLinks(n int, urls []string) []PagerLink {
	total := len(urls)
	if total < 2 {
		return nil
	}
	var out []PagerLink
	add := func(i int) {
		out = append(out, PagerLink{Number: i, URL: urls[i-1], Current: i == n})
	}
	prev := 0
	for _, i := range []int{1, n - 2, n - 1, n, n + 1, n + 2, total} {
		if i <= prev || i < 1 || i > total {
			continue
		}
		switch {
		case i-prev == 2:
			add(prev + 1)
		case i-prev > 2:
			out = append(out, PagerLink{Gap: true})
		}
		add(i)
		prev = i
	}
	return out
}

// paginate splits items into pages of size n under base (base, base/page/2/, …); each page
// is rendered with layout after fill adds what is particular to the list.
func (b *build) paginate(base string, items []*PageView, n int, layout string, fill func(*Data) error) []job {
	total := (len(items) + n - 1) / n
	if total == 0 {
		total = 1
	}
	cfg := b.site.Config
	pageURL := func(i int) string {
		if i == 1 {
			return base
		}
		return fmt.Sprintf("%spage/%d/", base, i)
	}
	urls := make([]string, total)
	for i := range urls {
		urls[i] = cfg.RelURL(pageURL(i + 1))
	}
	jobs := make([]job, 0, total)
	for i := 1; i <= total; i++ {
		i := i
		jobs = append(jobs, func(buf *bytes.Buffer) error {
			lo, hi := (i-1)*n, i*n
			if hi > len(items) {
				hi = len(items)
			}
			d := b.data(layout, "", "", pageURL(i))
			d.Pages = items[lo:hi]
			d.Pager = &Pager{Number: i, Total: total, First: urls[0], Last: urls[total-1], Links: pagerLinks(i, urls)}
			if i > 1 {
				d.Pager.Prev = urls[i-2]
			}
			if i < total {
				d.Pager.Next = urls[i]
			}
			if err := fill(d); err != nil {
				return err
			}
			if i > 1 {
				d.Title = fmt.Sprintf("%s – %s", d.Title, b.th.translate("page_n", i))
			}
			if err := b.th.execute(buf, layout, d); err != nil {
				return err
			}
			return b.write(pageURL(i), buf.Bytes())
		})
	}
	return jobs
}

func (b *build) tagJobs() []job {
	cfg := b.site.Config
	var jobs []job
	all := make([]Link, 0, len(b.tagOrder))
	for _, slug := range b.tagOrder {
		ts := b.tags[slug]
		all = append(all, Link{Name: ts.name, URL: cfg.RelURL("/tags/" + slug + "/"), N: len(ts.pages)})
		jobs = append(jobs, b.paginate("/tags/"+slug+"/", ts.pages, cfg.Paginate, "tag", func(d *Data) error {
			d.Section = ts.name
			d.Title = b.th.translate("tag_title", ts.name)
			d.Breadcrumbs = []Link{{Name: b.th.translate("home"), URL: cfg.RelURL("/")}, {Name: b.th.translate("tags"), URL: cfg.RelURL("/tags/")}}
			return nil
		})...)
	}
	jobs = append(jobs, func(buf *bytes.Buffer) error {
		d := b.data("tags", b.th.translate("tags"), "", "/tags/")
		d.Tags = all
		d.Breadcrumbs = []Link{{Name: b.th.translate("home"), URL: cfg.RelURL("/")}}
		if err := b.th.execute(buf, "tags", d); err != nil {
			return err
		}
		return b.write("/tags/", buf.Bytes())
	})
	return jobs
}

// upcoming reports whether an event has not ended at the build's time.
func (b *build) upcoming(v *PageView) bool {
	e := v.Event
	end := e.End
	if end.IsZero() {
		end = e.Start
	}
	if e.AllDay {
		y, m, d := end.In(e.Location).Date()
		end = time.Date(y, m, d+1, 0, 0, 0, 0, e.Location)
	} else if e.End.IsZero() {
		end = end.Add(2 * time.Hour) // an event without an end is still "on" shortly after it starts
	}
	return end.After(b.g.now)
}

func (b *build) splitEvents() (upcoming, past []*PageView) {
	for _, v := range b.sections["events"] { // by start, oldest first
		if b.upcoming(v) {
			upcoming = append(upcoming, v)
		} else {
			past = append(past, v)
		}
	}
	// Past events newest first.
	for i, j := 0, len(past)-1; i < j; i, j = i+1, j-1 {
		past[i], past[j] = past[j], past[i]
	}
	return upcoming, past
}

func (b *build) calendarJobs() []job {
	cfg := b.site.Config
	upcoming, past := b.splitEvents()
	months := b.months()
	home := Link{Name: b.th.translate("home"), URL: cfg.RelURL("/")}
	agenda := Link{Name: b.th.translate("section_events"), URL: cfg.RelURL("/events/")}
	jobs := []job{func(buf *bytes.Buffer) error {
		d := b.data("calendar", "", "", "/events/")
		if err := b.sectionData(d, "events"); err != nil {
			return err
		}
		d.Pages = upcoming
		d.Upcoming = upcoming
		d.Past = past[:min(len(past), cfg.Paginate)]
		d.Months = months
		d.Month = b.currentMonth(months)
		if err := b.th.execute(buf, "calendar", d); err != nil {
			return err
		}
		return b.write("/events/", buf.Bytes())
	}}
	jobs = append(jobs, b.paginate("/events/past/", past, cfg.Paginate, "section", func(d *Data) error {
		d.Section = "events"
		d.Title = b.th.translate("past_events")
		d.Breadcrumbs = []Link{home, agenda}
		return nil
	})...)
	for _, m := range months {
		m := m
		jobs = append(jobs, func(buf *bytes.Buffer) error {
			d := b.data("month", b.th.formatDate("month", m.Start), "", m.URL)
			d.Month = m
			d.Months = months
			d.Section = "events"
			d.Breadcrumbs = []Link{home, agenda}
			if err := b.th.execute(buf, "month", d); err != nil {
				return err
			}
			return b.write(m.URL, buf.Bytes())
		})
	}
	return jobs
}

// months lays out every month from the first event's to the last's, with weeks from Monday.
func (b *build) months() []*Month {
	events := b.sections["events"]
	if len(events) == 0 {
		return nil
	}
	cfg := b.site.Config
	loc := cfg.Location
	first := events[0].Event.Start.In(loc)
	last := first
	for _, v := range events {
		end := v.Event.End
		if end.IsZero() {
			end = v.Event.Start
		}
		if end.After(last) {
			last = end.In(loc)
		}
	}
	now := b.g.now.In(loc)
	byDay := map[string][]*PageView{}
	for _, v := range events {
		start := v.Event.Start.In(loc)
		end := v.Event.End
		if end.IsZero() || !v.Event.AllDay && end.Sub(v.Event.Start) < 24*time.Hour {
			end = start
		}
		end = end.In(loc)
		for d, n := start, 0; !dateAfter(d, end) && n < 62; d, n = d.AddDate(0, 0, 1), n+1 {
			k := d.Format("2006-01-02")
			byDay[k] = append(byDay[k], v)
		}
	}
	var out []*Month
	for m := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, loc); !m.After(last); m = m.AddDate(0, 1, 0) {
		mo := &Month{Year: m.Year(), Month: m.Month(), Start: m, URL: fmt.Sprintf("/events/%04d/%02d/", m.Year(), m.Month())}
		// Weeks start on Monday.
		offset := (int(m.Weekday()) + 6) % 7
		day := m.AddDate(0, 0, -offset)
		for {
			week := make([]Day, 7)
			for i := range week {
				k := day.Format("2006-01-02")
				week[i] = Day{Date: day, InMonth: day.Month() == m.Month(), Today: k == now.Format("2006-01-02")}
				if week[i].InMonth {
					week[i].Events = byDay[k]
					mo.Count += len(byDay[k])
					for _, v := range byDay[k] {
						if !slices.Contains(mo.Events, v) {
							mo.Events = append(mo.Events, v)
						}
					}
				}
				day = day.AddDate(0, 0, 1)
			}
			mo.Weeks = append(mo.Weeks, week)
			if day.Month() != m.Month() {
				break
			}
		}
		out = append(out, mo)
	}
	for i, mo := range out {
		if i > 0 {
			mo.Prev = cfg.RelURL(out[i-1].URL)
		}
		if i+1 < len(out) {
			mo.Next = cfg.RelURL(out[i+1].URL)
		}
		mo.URL = cfg.RelURL(mo.URL)
	}
	return out
}

func dateAfter(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	if ay != by {
		return ay > by
	}
	if am != bm {
		return am > bm
	}
	return ad > bd
}

func (b *build) homeJob() job {
	return func(buf *bytes.Buffer) error {
		d := b.data("home", b.site.Config.Title, b.site.Config.Description, "/")
		if idx := b.site.Sections[""]; idx != nil && idx.Title != "" {
			d.Title = idx.Title // the home page's heading; <title> keeps the site's name
		}
		d.Intro = b.intros[""].html
		arts := b.sections["articles"]
		d.Articles = arts[:min(len(arts), homeArticles)]
		up, _ := b.splitEvents()
		d.Upcoming = up[:min(len(up), homeEvents)]
		dos := b.sections["dossiers"]
		d.Dossiers = dos[:min(len(dos), homeDossiers)]
		d.Photos = b.photos[:min(len(b.photos), homePhotos)]
		if err := b.th.execute(buf, "home", d); err != nil {
			return err
		}
		return b.write("/", buf.Bytes())
	}
}

func (b *build) notFoundJob() job {
	return func(buf *bytes.Buffer) error {
		d := b.data("404", b.th.translate("not_found"), "", "/404.html")
		if err := b.th.execute(buf, "404", d); err != nil {
			return err
		}
		return b.write("404.html", buf.Bytes())
	}
}

// currentMonth picks the month the calendar page shows: the build's month, else the first
// month after it, else the last one.
func (b *build) currentMonth(months []*Month) *Month {
	if len(months) == 0 {
		return nil
	}
	now := b.g.now.In(b.site.Config.Location)
	this := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
	for _, m := range months {
		if !m.Start.Before(this) {
			return m
		}
	}
	return months[len(months)-1]
}

// galleryOrder orders the photos for the gallery: by contest, the contest with the newest
// photo first, then the photos of no contest; newest first within each.
func (b *build) galleryOrder() []*PageView {
	type contest struct {
		name   string
		photos []*PageView
	}
	var contests []*contest
	byName := map[string]*contest{}
	var rest []*PageView
	for _, v := range b.photos { // newest first
		name := v.Photo.Contest
		if name == "" {
			rest = append(rest, v)
			continue
		}
		c := byName[name]
		if c == nil {
			c = &contest{name: name}
			byName[name] = c
			contests = append(contests, c)
		}
		c.photos = append(c.photos, v)
	}
	out := make([]*PageView, 0, len(b.photos))
	for _, c := range contests {
		out = append(out, c.photos...)
	}
	return append(out, rest...)
}

// contestGroups splits a gallery page's photos by contest. Without any contest it returns
// one group with no name.
func (b *build) contestGroups(photos []*PageView) []Group {
	var groups []Group
	any := false
	for _, v := range photos {
		name := v.Photo.Contest
		any = any || name != ""
		if len(groups) == 0 || groups[len(groups)-1].Key != Slugify(name) {
			g := Group{Name: name, Key: Slugify(name)}
			if name == "" {
				g.Name = b.th.translate("other_photos")
			}
			groups = append(groups, g)
		}
		g := &groups[len(groups)-1]
		g.Pages = append(g.Pages, v)
	}
	if !any && len(groups) == 1 {
		groups[0].Name = ""
	}
	return groups
}
