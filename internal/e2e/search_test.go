package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parvis/parvis/generator"
	"github.com/parvis/parvis/internal/search"
	"github.com/parvis/parvis/internal/testenv"
)

// searchCSP is the policy parvis serve sends with the site's pages: the script must work
// under it, fetching nothing but the site's own files.
const searchCSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; " +
	"worker-src 'self' blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'self'"

// searchHosts builds the demo site once and serves it twice: as a static bucket serves it
// (files only), and as parvis serve does, with GET /search answered in plain HTML.
func searchHosts(t *testing.T) (static, server string) {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "public")
	dir, err := generator.NewDirOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	// The resized photos are kept between runs (the cache is keyed by content), so that
	// this test costs seconds.
	cache, err := testenv.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	g := generator.New(generator.WithSiteDir(filepath.Join(root, "content")), generator.WithOutput(dir), generator.WithNow(now),
		generator.WithCacheDir(filepath.Join(cache, "e2e-images")))
	if _, err := g.Build(context.Background()); err != nil {
		t.Fatalf("build the demo site: %v", err)
	}
	files := http.FileServer(http.Dir(out))
	withCSP := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", searchCSP)
			h.ServeHTTP(w, r)
		})
	}
	bucket := httptest.NewServer(withCSP(files))
	t.Cleanup(bucket.Close)
	mux := http.NewServeMux()
	mux.Handle("/", files)
	h := search.Handler(os.DirFS(filepath.Join(out, "search")), nil)
	mux.Handle("GET /search", h)
	mux.Handle("GET /search/{$}", h)
	srv := httptest.NewServer(withCSP(mux))
	t.Cleanup(srv.Close)
	return bucket.URL, srv.URL
}

// searchHit is a result as the reader sees it.
type searchHit struct {
	URL, Title, Meta, Excerpt string // Title and Excerpt as HTML, with their marks
}

const readHits = `JSON.stringify(Array.from(document.querySelectorAll('#search-results .search-hit')).map(li => ({
	URL: li.querySelector('a').getAttribute('href'),
	Title: li.querySelector('.search-hit-title a').innerHTML,
	Meta: (li.querySelector('.search-hit-meta') || {}).textContent || '',
	Excerpt: li.querySelector('.search-hit-excerpt').innerHTML})))`

func hits(t *testing.T, ctx context.Context) []searchHit {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](readHits))
	if err != nil {
		t.Fatal(err)
	}
	var l []searchHit
	if err := json.Unmarshal([]byte(raw), &l); err != nil {
		t.Fatal(err)
	}
	return l
}

func hasURL(l []searchHit, u string) bool {
	return slices.ContainsFunc(l, func(h searchHit) bool { return h.URL == u })
}

// TestSearch finds a demo article by a word with and without its accent, in real Chromium:
// with JavaScript on a static host (the script reads the index), with JavaScript off on
// parvis serve (the server fills the page), by keyboard, and checks that the search page
// and its results pass axe-core. On a static host without JavaScript, the page says that
// search needs it there.
func TestSearch(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are left out by -short")
	}
	axe := testenv.Axe(t)
	b := browser(t)
	static, server := searchHosts(t)
	const article = "/articles/mediatheque-horaires-elargis/"
	queries := []string{"médiathèque", "mediatheque", "MÉDIATHÈQUES"}

	accessible := func(t *testing.T, ctx context.Context, what string) {
		t.Helper()
		res, err := axeRun(ctx, axe)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Violations) > 0 {
			t.Errorf("%s: %d WCAG 2.1 A/AA violations:%s", what, len(res.Violations), res)
		}
		if res.Passes < 10 {
			t.Errorf("%s: axe-core passed only %d rules: did it run?", what, res.Passes)
		}
	}
	results := map[string][]searchHit{} // by query, from the script, to compare with the server's

	t.Run("JavaScript on a static host", func(t *testing.T) {
		ctx := tab(t, b)
		if err := chromedp.Do(ctx, chromedp.Navigate(static+"/search/")); err != nil {
			t.Fatal(err)
		}
		accessible(t, ctx, "the search page")
		for _, q := range queries {
			if err := chromedp.Do(ctx, chromedp.Navigate(static+"/search/?q="+url.QueryEscape(q))); err != nil {
				t.Fatal(err)
			}
			waitTrue(t, ctx, `document.querySelectorAll('#search-results .search-hit').length > 0`)
			l := hits(t, ctx)
			if !hasURL(l, article) || !strings.Contains(l[0].Title, "<mark>") {
				t.Errorf("%q: %+v", q, l)
			}
			results[q] = l
			if got := evalSearch(t, ctx, `document.querySelector('#search-q').value`); got != q {
				t.Errorf("the search box holds %q, want %q", got, q)
			}
		}
		accessible(t, ctx, "results from the script")
		// A search from the page's form updates the results in place.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('#search-q').value = ''`)); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.SendKeys(`#search-q`, "zzzintrouvable"+kb.Enter)); err != nil {
			t.Fatal(err)
		}
		waitTrue(t, ctx, `document.querySelector('.search-status').textContent.includes('Aucun résultat') && location.search.includes('zzzintrouvable')`)
		accessible(t, ctx, "no results")
		// An event by its date.
		if err := chromedp.Do(ctx, chromedp.Navigate(static+"/search/?q="+url.QueryEscape("5 décembre"))); err != nil {
			t.Fatal(err)
		}
		waitTrue(t, ctx, `document.querySelectorAll('#search-results .search-hit').length > 0`)
		if l := hits(t, ctx); l[0].URL != "/events/atelier-compostage/" || !strings.Contains(l[0].Meta, "5 décembre 2026") {
			t.Errorf("5 décembre: %+v", l)
		}
	})

	t.Run("JavaScript off on a static host", func(t *testing.T) {
		ctx := tab(t, b)
		noScript(t, ctx)
		if err := chromedp.Do(ctx, chromedp.Navigate(static+"/search/?q=mediatheque")); err != nil {
			t.Fatal(err)
		}
		text := evalSearch(t, ctx, `document.querySelector('main').innerText`)
		if !strings.Contains(text, "la recherche a besoin de JavaScript") || len(hits(t, ctx)) != 0 {
			t.Errorf("the static page without JavaScript:\n%s", text)
		}
	})

	t.Run("JavaScript off on parvis serve", func(t *testing.T) {
		ctx := tab(t, b)
		noScript(t, ctx)
		for _, q := range queries {
			for _, path := range []string{"/search?q=", "/search/?q="} {
				if err := chromedp.Do(ctx, chromedp.Navigate(server+path+url.QueryEscape(q))); err != nil {
					t.Fatal(err)
				}
				l := hits(t, ctx)
				if !hasURL(l, article) {
					t.Errorf("%s%s: %+v", path, q, l)
				}
				// The server and the script find the same, in the same order, with the
				// same excerpts and marks.
				if fmt.Sprint(l) != fmt.Sprint(results[q]) {
					t.Errorf("%q: the server's results differ from the script's:\n%+v\n%+v", q, l, results[q])
				}
			}
		}
		text := evalSearch(t, ctx, `document.querySelector('main').innerText`)
		if strings.Contains(text, "JavaScript") || !strings.Contains(text, "résultats pour «\u00a0MÉDIATHÈQUES\u00a0»") {
			t.Errorf("the server's page:\n%s", text)
		}
		// axe-core needs scripts: it checks the same page with them on, where the script
		// leaves the server's results as they are.
		ctx = tab(t, b)
		if err := chromedp.Do(ctx, chromedp.Navigate(server+"/search?q=m%C3%A9diath%C3%A8que")); err != nil {
			t.Fatal(err)
		}
		if l := hits(t, ctx); fmt.Sprint(l) != fmt.Sprint(results["médiathèque"]) {
			t.Errorf("with scripts on, the server's page changed:\n%+v", l)
		}
		accessible(t, ctx, "results from the server")
	})

	t.Run("by keyboard", func(t *testing.T) {
		for _, host := range []struct {
			name, url string
			script    bool
		}{{"static host", static, true}, {"parvis serve without JavaScript", server, false}} {
			ctx := tab(t, b)
			if !host.script {
				noScript(t, ctx)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(host.url+"/")); err != nil {
				t.Fatal(err)
			}
			// Tab to the header's search box, type, Enter.
			tabTo(t, ctx, `document.activeElement && document.activeElement.id === 'header-q'`)
			if err := chromedp.Do(ctx, chromedp.KeyEvent("médiathèque"), chromedp.KeyEvent(kb.Enter)); err != nil {
				t.Fatal(err)
			}
			waitTrue(t, ctx, `location.pathname === '/search/' && document.querySelectorAll('#search-results .search-hit').length > 0`)
			// Tab on to the first result, and open it.
			tabTo(t, ctx, `document.activeElement && document.activeElement.matches('.search-hit a')`)
			if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
				t.Fatal(err)
			}
			waitTrue(t, ctx, `location.pathname !== '/search/' && document.readyState === 'complete'`)
			if p := evalSearch(t, ctx, `location.pathname`); p != article {
				t.Errorf("%s: the first result for médiathèque is %s", host.name, p)
			}
		}
	})

	t.Run("the script and the server read words alike", func(t *testing.T) {
		ctx := tab(t, b)
		if err := chromedp.Do(ctx, chromedp.Navigate(static+"/search/")); err != nil {
			t.Fatal(err)
		}
		waitTrue(t, ctx, `!!window.parvisSearch`)
		texts := []string{
			"L’École des Tilleuls ouvre ses portes le 12 mars 2026",
			"les bureaux, journaux et jeux d'aujourd'hui, jusqu'au 1er avril",
			"ŒUVRES, Straße, naïve, lʼécole, ﬁnances ½",
			"March 12, 2026 — 2026-03-12 — 12/03/2026 — 12 / 03 / 2026",
			"e\u0301cole qu’Annie lorsqu'Alice " + strings.Repeat("x", 41),
			"Réunion publique au Pré-Bas : 24 000 € pour l'éclairage",
		}
		for _, lang := range []string{"fr", "en"} {
			for _, s := range texts {
				js := fmt.Sprintf(`JSON.stringify(window.parvisSearch.terms(%q, %q))`, s, lang)
				var got []string
				if err := json.Unmarshal([]byte(evalSearch(t, ctx, js)), &got); err != nil {
					t.Fatal(err)
				}
				if want := search.Terms(s, lang); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s %q: the script reads %q, the server %q", lang, s, got, want)
				}
			}
			var stop []string
			_ = json.Unmarshal([]byte(evalSearch(t, ctx, fmt.Sprintf(`JSON.stringify(Object.keys(window.parvisSearch.stop[%q]).sort())`, lang))), &stop)
			if want := search.StopWords(lang); fmt.Sprint(stop) != fmt.Sprint(want) {
				t.Errorf("%s stop words: the script has %v, the server %v", lang, stop, want)
			}
		}
	})
}

// tabTo presses Tab until cond holds, at most 40 times.
func tabTo(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	for range 40 {
		if evalSearch(t, ctx, cond) == "true" {
			return
		}
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("40 presses of Tab did not reach %s", cond)
}

// evalSearch evaluates an expression and returns it as text.
func evalSearch(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`String(`+js+`)`))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
