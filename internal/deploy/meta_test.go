package deploy

import (
	"fmt"
	"github.com/parvis/parvis/internal/headers"
	"testing"
)

func TestContentType(t *testing.T) {
	for _, tc := range []struct{ key, head, want string }{
		{"index.html", "", "text/html; charset=utf-8"},
		{"css/parvis.3f2a9c1d.css", "", "text/css; charset=utf-8"},
		{"js/search.0a1b2c3d.js", "", "text/javascript; charset=utf-8"},
		{"index.xml", `<?xml version="1.0" encoding="utf-8"?><rss version="2.0">`, "application/rss+xml; charset=utf-8"},
		{"atom.xml", "<?xml version=\"1.0\"?>\n<!-- a comment -->\n<feed xmlns=\"http://www.w3.org/2005/Atom\">", "application/atom+xml; charset=utf-8"},
		{"sitemap.xml", `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`, "application/xml; charset=utf-8"},
		{"x.xml", `<?xml version="1.0"?><atom:feed xmlns:atom="http://www.w3.org/2005/Atom">`, "application/atom+xml; charset=utf-8"},
		{"events.ics", "", "text/calendar; charset=utf-8"},
		{"documents/a/Compte-Rendu.PDF", "", "application/pdf"},
		{"photos/x/x-640w.jpg", "", "image/jpeg"},
		{"favicon.svg", "", "image/svg+xml"},
		{"search/d/3/3.bin", "", "application/octet-stream"},
		// What the table does not know is never sniffed: HTML in a file of another name
		// must not be shown as a page.
		{"articles/x/notes.unknown", "<html><script>alert(1)</script>", "application/octet-stream"},
		{"README", "<html>", "application/octet-stream"},
	} {
		if got := contentType(tc.key, []byte(tc.head)); got != tc.want {
			t.Errorf("contentType(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func TestCacheControl(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"css/parvis.3f2a9c1d.css", CacheImmutable},
		{"js/search.0a1b2c3d.js", CacheImmutable},
		{"js/search.js", CacheDefault},
		{"css/parvis.3f2a9c1.css", CacheDefault}, // seven digits: not a fingerprint
		{"index.html", CacheShort},
		{"articles/x/index.html", CacheShort},
		{"index.xml", CacheShort},
		{"comments.xml", CacheShort},
		{"events.ics", CacheShort},
		{"search/index.bin", CacheShort},
		{"articles/x/pont-640w.jpg", CacheDefault},
		{"documents/a/a.pdf", CacheDefault},
	} {
		if got := cacheControl(tc.key); got != tc.want {
			t.Errorf("cacheControl(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func TestHeadersRules(t *testing.T) {
	rules := headers.Parse([]byte("# the site's own\n/articles/*\n  X-Robots-Tag: noindex\n\n/articles/citoyen/compte-rendu.pdf\n" +
		"  content-disposition: attachment\n  Content-Security-Policy: sandbox\nnot a rule\n/pages/\n\tCache-Control: no-cache\n/*\n  Cache-Control: max-age=5\n"))
	for _, tc := range []struct {
		base, key string
		want      string
	}{
		{"", "articles/citoyen/compte-rendu.pdf", "[{X-Robots-Tag noindex} {Content-Disposition attachment} {Content-Security-Policy sandbox} {Cache-Control max-age=5}]"},
		{"", "articles/x/index.html", "[{X-Robots-Tag noindex} {Cache-Control max-age=5}]"},
		{"", "pages/index.html", "[{Cache-Control no-cache} {Cache-Control max-age=5}]"}, // a folder's index is its folder
		// The rules name /articles/..., and this site is under /ville/: only /* is its.
		{"/ville", "articles/citoyen/compte-rendu.pdf", "[{Cache-Control max-age=5}]"},
		{"/ville/", "pages/index.html", "[{Cache-Control max-age=5}]"},
	} {
		if got := fmt.Sprint(rules.Match(sitePaths(tc.base, tc.key)...)); got != tc.want {
			t.Errorf("headers of %q under %q = %s, want %s", tc.key, tc.base, got, tc.want)
		}
	}
	under := headers.Parse([]byte("/ville/documents/*\n  Content-Disposition: attachment\n"))
	if got := fmt.Sprint(under.Match(sitePaths("/ville/", "documents/a/a.pdf")...)); got != "[{Content-Disposition attachment}]" {
		t.Errorf("a rule under the base path: %s", got)
	}
}

func TestNormalize(t *testing.T) {
	a := "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x@parvis\r\nDTSTAMP:20261204T204014Z\r\nDTSTART:20270101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	b := "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x@parvis\r\nDTSTAMP:20261205T081500Z\r\nDTSTART:20270101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	c := "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x@parvis\r\nDTSTAMP:20261205T081500Z\r\nDTSTART:20270102T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if string(normalize("e/e.ics", []byte(a))) != string(normalize("e/e.ics", []byte(b))) {
		t.Error("two builds of one event differ by more than their DTSTAMP")
	}
	if string(normalize("e/e.ics", []byte(b))) == string(normalize("e/e.ics", []byte(c))) {
		t.Error("a moved event is taken as unchanged")
	}
	if string(normalize("e/e.txt", []byte(a))) == string(normalize("e/e.txt", []byte(b))) {
		t.Error("DTSTAMP is dropped from a file that is not iCalendar")
	}
}
