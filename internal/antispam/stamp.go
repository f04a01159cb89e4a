package antispam

import (
	"bytes"
	"html"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// Stamp replaces every Placeholder in a page with a token issued now, for the form that
// holds it: the enclosing <form>'s data-parvis-form attribute, or else the last segment of
// its action (/api/v1/entries/{form}, and the Staticman route's property). In the same
// <form> it fills in that token's question: its ID for QuestionPlaceholder, its text, in the
// language of the page's <html lang>, inside the element QuestionTextTag opens. A page
// without placeholders comes back as it is.
func (c *Checker) Stamp(page []byte, now time.Time) []byte {
	if !hasPlaceholder(page) {
		return page
	}
	lang := "fr"
	if i := indexFold(page, "<html"); i >= 0 {
		tag := page[i+5:]
		if j := bytes.IndexByte(tag, '>'); j >= 0 {
			if v, ok := attr(tag[:j], "lang"); ok {
				lang = v
			}
		}
	}
	out := make([]byte, 0, len(page)+512)
	var (
		form, tok, nonce string // the current <form>'s name and token, once one was needed
		taken            bool   // a token placeholder holds tok: the next one gets its own
		q                Question
		scanned          int
		markers          = [...]string{Placeholder, QuestionPlaceholder, QuestionTextTag}
		next             [len(markers)]int
	)
	for m := range markers {
		next[m] = index(page, markers[m], 0)
	}
	for {
		m := -1
		for k := range markers {
			if next[k] >= 0 && (m < 0 || next[k] < next[m]) {
				m = k
			}
		}
		if m < 0 {
			break
		}
		i := next[m]
		var opened bool
		if form, opened = lastForm(page[scanned:i], form); opened {
			tok = "" // another <form>, another token
		}
		if tok == "" || m == 0 && taken {
			tok, nonce = c.issue(form, now)
			q, taken = Question{}, false
		}
		if m > 0 && q.ID == "" {
			q = c.question(nonce, lang)
		}
		switch m {
		case 0:
			out = append(append(out, page[scanned:i]...), tok...)
			scanned, taken = i+len(Placeholder), true
		case 1:
			out = append(append(out, page[scanned:i]...), q.ID...)
			scanned = i + len(QuestionPlaceholder)
		case 2:
			open := i + len(QuestionTextTag)
			end := index(page, "</span>", open)
			if end < 0 {
				next[m] = -1
				continue
			}
			out = append(append(out, page[scanned:open]...), html.EscapeString(q.Text)...)
			scanned = end
		}
		for k := range markers {
			if next[k] >= 0 && next[k] < scanned {
				next[k] = index(page, markers[k], scanned)
			}
		}
	}
	return append(out, page[scanned:]...)
}

func hasPlaceholder(page []byte) bool {
	return bytes.Contains(page, []byte(Placeholder)) || bytes.Contains(page, []byte(QuestionPlaceholder))
}

// index finds s in b from offset from, as an offset in b, or -1.
func index(b []byte, s string, from int) int {
	if i := bytes.Index(b[from:], []byte(s)); i >= 0 {
		return from + i
	}
	return -1
}

// lastForm returns the name of the last <form> tag opened in b, or name when there is none,
// and whether b opens one.
func lastForm(b []byte, name string) (string, bool) {
	found := false
	for {
		i := indexFold(b, "<form")
		if i < 0 {
			return name, found
		}
		b = b[i+5:]
		if len(b) > 0 && !isSpace(b[0]) && b[0] != '>' {
			continue
		}
		found = true
		tag := b
		if j := bytes.IndexByte(b, '>'); j >= 0 {
			tag = b[:j]
		}
		if v, ok := attr(tag, "data-parvis-form"); ok && v != "" {
			name = v
		} else if v, ok := attr(tag, "action"); ok {
			if j := strings.IndexAny(v, "?#"); j >= 0 {
				v = v[:j]
			}
			name = path.Base(strings.TrimRight(v, "/"))
		}
	}
}

// attr reads an attribute's value from the inside of a start tag, quoted or not.
func attr(tag []byte, name string) (string, bool) {
	for off := 0; ; {
		i := indexFold(tag[off:], name)
		if i < 0 {
			return "", false
		}
		i += off
		off = i + len(name)
		if i == 0 || !isSpace(tag[i-1]) {
			continue
		}
		rest := bytes.TrimLeft(tag[off:], " \t\r\n")
		if len(rest) == 0 || rest[0] != '=' {
			continue
		}
		rest = bytes.TrimLeft(rest[1:], " \t\r\n")
		if len(rest) > 0 && (rest[0] == '"' || rest[0] == '\'') {
			if j := bytes.IndexByte(rest[1:], rest[0]); j >= 0 {
				return string(rest[1 : 1+j]), true
			}
			return "", false
		}
		j := bytes.IndexAny(rest, " \t\r\n")
		if j < 0 {
			j = len(rest)
		}
		return string(rest[:j]), true
	}
}

// indexFold finds s, in lower-case ASCII, in b whatever b's case.
func indexFold(b []byte, s string) int {
next:
	for i := 0; i+len(s) <= len(b); i++ {
		for j := 0; j < len(s); j++ {
			if b[i+j]|0x20 != s[j] {
				continue next
			}
		}
		return i
	}
	return -1
}

// maxStamped bounds the HTML that StampHTML holds in memory; a larger page goes out
// unstamped, and challenge.js fetches its tokens instead.
const maxStamped = 8 << 20

// StampHTML wraps the handler that serves the site (a file server) and stamps its HTML
// responses. A stamped page is never answered "not modified" and never cached by a shared
// cache, for its tokens are dated; the browser may still keep it for the back button.
func (c *Checker) StampHTML(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		if htmlPath(r.URL.Path) {
			r = r.Clone(r.Context())
			for _, h := range [...]string{"If-Modified-Since", "If-None-Match", "If-Range", "Range"} {
				r.Header.Del(h)
			}
		}
		sw := &stampWriter{ResponseWriter: w, c: c, head: r.Method == http.MethodHead}
		next.ServeHTTP(sw, r)
		sw.finish()
	})
}

// htmlPath tells the paths that may be pages: folders, .html files and extensionless names.
func htmlPath(p string) bool {
	ext := path.Ext(p)
	return strings.HasSuffix(p, "/") || ext == "" || ext == ".html" || ext == ".htm"
}

type stampWriter struct {
	http.ResponseWriter
	c       *Checker
	status  int
	buf     []byte
	holding bool // an HTML body is held to be stamped
	head    bool
	started bool // the header went out
}

func (w *stampWriter) WriteHeader(code int) {
	if w.started || w.status != 0 {
		return
	}
	w.status = code
	h := w.Header()
	ct := h.Get("Content-Type")
	if strings.HasPrefix(ct, "text/html") && h.Get("Content-Encoding") == "" && code != http.StatusNotModified {
		w.holding = true
		return
	}
	w.started = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *stampWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", http.DetectContentType(p))
		}
		w.WriteHeader(http.StatusOK)
	}
	if !w.holding {
		return w.ResponseWriter.Write(p)
	}
	if len(w.buf)+len(p) > maxStamped {
		w.holding = false
		w.started = true
		w.ResponseWriter.WriteHeader(w.status)
		if _, err := w.ResponseWriter.Write(w.buf); err != nil {
			return 0, err
		}
		w.buf = nil
		return w.ResponseWriter.Write(p)
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// Flush is deferred while a page is held: a stamped page goes out whole.
func (w *stampWriter) Flush() {
	if !w.holding {
		http.NewResponseController(w.ResponseWriter).Flush()
	}
}

func (w *stampWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *stampWriter) finish() {
	if !w.holding {
		return
	}
	h := w.Header()
	body := w.buf
	if w.head || hasPlaceholder(body) {
		// A HEAD cannot know the stamped length; it may be a page with forms.
		body = w.c.Stamp(body, w.c.now())
		h.Del("ETag")
		h.Del("Last-Modified")
		h.Set("Cache-Control", "private, no-cache")
	}
	switch {
	case w.head:
		h.Del("Content-Length")
	case h.Get("Content-Length") != "":
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.ResponseWriter.WriteHeader(w.status)
	w.ResponseWriter.Write(body)
}
