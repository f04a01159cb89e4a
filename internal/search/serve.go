package search

import (
	"bytes"
	"errors"
	"html"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// The search page. The generator writes the theme's search layout twice: page.html, for
// static hosting, which the script fills; and PageTemplate, the same page with placeholders
// where the query and the results go, which Handler fills for readers without JavaScript.
const (
	// PageTemplate is the page Handler fills, in the index's folder.
	PageTemplate = "_page.html"
	// QueryPlaceholder stands for the query, in the search box's value attribute.
	QueryPlaceholder = "parvis-search-query"
	// ResultsPlaceholder stands for the results, inside the results' container.
	ResultsPlaceholder = "<!--parvis-search-results-->"
)

// The interface's texts, kept in the manifest (Options.Strings). "%d" is a count and "%s"
// the query, each replaced once.
const (
	StrResultsOne   = "results_one"   // "%d résultat pour « %s »"
	StrResultsOther = "results_other" // "%d résultats pour « %s »"
	StrNone         = "none"          // "Aucun résultat pour « %s »."
	StrHint         = "hint"          // what to try when nothing is found
	StrEmpty        = "empty"         // the query has no word to look for
	StrError        = "error"         // the search failed
	StrLoading      = "loading"
	StrPagination   = "pagination" // the pager's label
	StrPrevious     = "previous"
	StrNext         = "next"
	StrPageN        = "page_n" // "page %d"
)

func format(s string, n int, q string) string {
	s = strings.Replace(s, "%d", strconv.Itoa(n), 1)
	return strings.Replace(s, "%s", q, 1)
}

// RenderResults writes the results as HTML, the same markup the script builds: a status
// line (a live region, so that a screen reader hears the count), the hits as a list, each
// a heading with its link, a meta line and an excerpt, and a pager. Every text is escaped;
// the marks around the words found are the only markup.
func RenderResults(w *bytes.Buffer, ix *Index, res *Results) {
	esc := func(s string) { w.WriteString(html.EscapeString(s)) }
	spans := func(l []Span) {
		for _, s := range l {
			if s.Mark {
				w.WriteString("<mark>")
				esc(s.Text)
				w.WriteString("</mark>")
			} else {
				esc(s.Text)
			}
		}
	}
	w.WriteString(`<p class="search-status" role="status">`)
	q := strings.TrimSpace(res.Query)
	switch {
	case q == "":
	case res.Empty:
		esc(ix.String(StrEmpty))
	case res.Total == 0:
		esc(format(ix.String(StrNone), 0, q))
	case res.Total == 1:
		esc(format(ix.String(StrResultsOne), 1, q))
	default:
		esc(format(ix.String(StrResultsOther), res.Total, q))
	}
	w.WriteString("</p>\n")
	if q != "" && !res.Empty && res.Total == 0 {
		w.WriteString(`<p class="search-hint">`)
		esc(ix.String(StrHint))
		w.WriteString("</p>\n")
	}
	if len(res.Hits) == 0 {
		return
	}
	w.WriteString(`<ol class="search-hits" start="` + strconv.Itoa((res.Page-1)*PerPage+1) + `">` + "\n")
	for _, h := range res.Hits {
		w.WriteString(`<li class="search-hit"><h2 class="search-hit-title"><a href="`)
		esc(h.URL)
		w.WriteString(`">`)
		spans(h.Title)
		w.WriteString("</a></h2>")
		if h.Meta != "" {
			w.WriteString(`<p class="search-hit-meta">`)
			esc(h.Meta)
			w.WriteString("</p>")
		}
		w.WriteString(`<p class="search-hit-excerpt">`)
		spans(h.Excerpt)
		w.WriteString("</p></li>\n")
	}
	w.WriteString("</ol>\n")
	if res.Pages > 1 {
		link := func(page int, class, rel, label string) {
			w.WriteString(`<li><a class="` + class + `" rel="` + rel + `" href="?`)
			esc("q=" + url.QueryEscape(res.Query) + "&page=" + strconv.Itoa(page))
			w.WriteString(`">`)
			esc(label)
			w.WriteString(`<span class="sr-only"> – `)
			esc(format(ix.String(StrPageN), page, ""))
			w.WriteString("</span></a></li>")
		}
		w.WriteString(`<nav class="pager" aria-label="`)
		esc(ix.String(StrPagination))
		w.WriteString(`"><ul>`)
		if res.Page > 1 {
			link(res.Page-1, "pager-prev", "prev", ix.String(StrPrevious))
		}
		w.WriteString(`<li><span class="pager-gap">`)
		esc(strconv.Itoa(res.Page) + " / " + strconv.Itoa(res.Pages))
		w.WriteString("</span></li>")
		if res.Page < res.Pages {
			link(res.Page+1, "pager-next", "next", ix.String(StrNext))
		}
		w.WriteString("</ul></nav>\n")
	}
}

// Handler answers GET /search?q=&page= in plain HTML: the site's search page with the
// results in it, for readers without JavaScript. dir is the index's folder in the built
// site (search/); the handler reads it on each request, so a rebuild is seen at once.
func Handler(dir fs.FS, log *slog.Logger) http.Handler {
	h := &handler{dir: dir, log: log}
	return h
}

type handler struct {
	dir fs.FS
	log *slog.Logger

	mu  sync.Mutex
	raw []byte // the manifest ix was opened from
	ix  *Index
}

// index returns the index, opening it again when the manifest has changed (a rebuild).
func (h *handler) index() (*Index, error) {
	raw, err := fs.ReadFile(h.dir, "index.bin")
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ix != nil && bytes.Equal(raw, h.raw) {
		return h.ix, nil
	}
	ix, err := openManifest(h.dir, raw)
	if err != nil {
		return nil, err
	}
	h.ix, h.raw = ix, raw
	return ix, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	tmpl, err := fs.ReadFile(h.dir, PageTemplate)
	var ix *Index
	if err == nil {
		ix, err = h.index()
	}
	if errors.Is(err, fs.ErrNotExist) {
		http.Error(w, "This site has no search.", http.StatusNotFound)
		return
	}
	var res *Results
	if err == nil {
		res, err = ix.Search(q, page)
	}
	var body bytes.Buffer
	status := http.StatusOK
	if err != nil {
		// A broken or half-replaced index: say so in the page rather than fail bare.
		if h.log != nil {
			h.log.Error("search", "query", q, "err", err)
		}
		status = http.StatusInternalServerError
		if ix == nil {
			http.Error(w, "The search is not available.", status)
			return
		}
		body.WriteString(`<p class="search-status" role="status">`)
		body.WriteString(html.EscapeString(ix.String(StrError)))
		body.WriteString("</p>\n")
	} else {
		RenderResults(&body, ix, res)
	}
	out := bytes.Replace(tmpl, []byte(QueryPlaceholder), []byte(html.EscapeString(q)), -1)
	out = bytes.Replace(out, []byte(ResultsPlaceholder), body.Bytes(), 1)
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Robots-Tag", "noindex")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(out)
	}
}
