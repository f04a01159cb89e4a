package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const searchTestSite = testSite + `-- articles/ecole.md --
---
title: L'école des Tilleuls rouvre
date: 2026-09-01
---
Après les travaux de l'été, les élèves retrouvent leur école.
-- dossiers/commission/_index.md --
---
title: Commission Zorglub
visibility: shared
---
Le dossier Zorglub est réservé à la commission.
`

// TestServeSearch: parvis serve answers GET /search?q= in plain HTML, in the site's layout,
// for readers without JavaScript, with the results the index gives.
func TestServeSearch(t *testing.T) {
	ts := startServer(t, writeSite(t, searchTestSite))
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	for _, path := range []string{"/search?q=", "/search/?q="} {
		for _, q := range []string{"école", "ECOLE", "écoles"} {
			res, body := get(path + url.QueryEscape(q))
			if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("%s%s: %s", path, q, res.Status)
			}
			for _, want := range []string{
				`<header class="site-header">`, `<footer class="site-footer"`, // the site's layout
				`value="` + q + `"`, // the query in the box
				`1 résultat pour «`, `<a href="/articles/ecole/">L&#39;<mark>école</mark> des Tilleuls rouvre</a>`,
				`<mark>école</mark>.`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("%s%s lacks %q:\n%s", path, q, want, body)
				}
			}
			if strings.Contains(body, "<noscript>") {
				t.Errorf("%s%s says search needs JavaScript, and the server answers it", path, q)
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("%s: CSP %q", path, csp)
			}
		}
	}
	// A query is text, whatever it holds.
	_, body := get("/search?q=" + url.QueryEscape(`"><script>alert(1)</script>`))
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, `value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`) {
		t.Errorf("the query is not escaped:\n%s", body)
	}
	// A shared dossier is not found.
	if _, body := get("/search?q=zorglub"); !strings.Contains(body, "Aucun résultat pour «") {
		t.Errorf("zorglub:\n%s", body)
	}
}
