// Package e2e tests the built demo site in a real browser: headless Chromium driven with
// chromedp, axe-core for accessibility, the anti-spam checker for the forms. The site is built
// from content/ with the default theme and served as `parvis serve` serves it: static files,
// forms stamped with a fresh token, the challenge endpoint, and an entries endpoint that
// records what the forms post. These tests need Chromium and axe-core (scripts/test-deps.sh)
// and are skipped under -short.
package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"github.com/parvis/parvis/generator"
	"github.com/parvis/parvis/internal/antispam"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/testenv"
)

// now is the build's clock: some events are past, some to come.
var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// demo is the demo site, built and served for one test.
type demo struct {
	url     string
	site    *site.Site
	checker *antispam.Checker

	mu    sync.Mutex
	posts []post
}

// post is a submission the site's forms sent, with the anti-spam verdict on it.
type post struct {
	form    string
	values  url.Values
	verdict antispam.Verdict
}

func (d *demo) posted() []post {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]post(nil), d.posts...)
}

// serveDemo builds content/ into a temporary folder and serves it on loopback.
func serveDemo(t *testing.T) *demo {
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
	res, err := generator.New(generator.WithSiteDir(filepath.Join(root, "content")), generator.WithOutput(dir), generator.WithNow(now)).Build(context.Background())
	if err != nil {
		t.Fatalf("build the demo site: %v", err)
	}
	// The checker as the service sets it up, with an easy proof of work and no minimum
	// time, so that the tests need not wait.
	forms := map[string]site.AntispamSpec{}
	for name, f := range res.Site.Config.Forms {
		spec := f.Antispam
		spec.MinSeconds = -1
		forms[name] = spec
	}
	checker, err := antispam.New(antispam.Config{Secret: []byte("e2e-secret-of-32-bytes-at-least!"), Challenge: true, Difficulty: 8, Forms: forms})
	if err != nil {
		t.Fatal(err)
	}
	d := &demo{site: res.Site, checker: checker}
	files := http.FileServer(http.Dir(out))
	mux := http.NewServeMux()
	mux.Handle("GET /", checker.StampHTML(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := filepath.Join(out, filepath.FromSlash(filepath.Clean("/"+r.URL.Path)))
		if fi, err := os.Stat(p); err != nil || fi.IsDir() && !exists(filepath.Join(p, "index.html")) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			http.ServeFile(w, r, filepath.Join(out, "404.html"))
			return
		}
		files.ServeHTTP(w, r)
	})))
	mux.Handle("GET /api/v1/challenge", checker.ChallengeHandler())
	mux.HandleFunc("POST /api/v1/entries/{form}", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(32 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		form := r.PathValue("form")
		f := r.PostForm.Get
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		honeypot := ""
		if spec := res.Site.Config.Forms[form]; spec != nil && spec.Antispam.Honeypot != "" {
			honeypot = f("fields[" + spec.Antispam.Honeypot + "]")
		}
		v := checker.Check(antispam.Submission{
			Form: form, Page: f("options[page]"), IP: ip,
			Token: f("options[token]"), PoW: f("options[pow]"),
			Question: f("options[question]"), Answer: f("options[answer]"),
			Honeypot: honeypot, Texts: []string{f("fields[message]")},
		}, time.Now())
		d.mu.Lock()
		d.posts = append(d.posts, post{form: form, values: r.PostForm, verdict: v})
		d.mu.Unlock()
		// As the service does: back to the page, which says the comment is on its way.
		if to := f("options[redirect]"); to != "" {
			u, err := url.Parse(to)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			http.Redirect(w, r, u.RequestURI()+"#"+u.Fragment, http.StatusSeeOther)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><html lang=fr><title>Reçu</title><p id=receipt>%s</p></html>", form)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	d.url = srv.URL
	return d
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// browser starts headless Chromium for a test and returns a context for its first tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := testenv.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// tab opens a new tab of the browser, closed when the test ends.
func tab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// noScript turns JavaScript off in a tab, as a reader who blocks it has it.
func noScript(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
}

// viewport sets a tab's size: 390 wide is a phone, 1280 a desktop.
func viewport(t *testing.T, ctx context.Context, width, height int64) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatal(err)
	}
}

// pages lists one page of every type of the demo site, by what it shows.
func (d *demo) pages(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{
		"home": "/", "news list": "/articles/", "calendar": "/events/", "past events": "/events/past/",
		"dossiers list": "/dossiers/", "documents list": "/documents/", "gallery": "/photos/",
		"tags": "/tags/", "forms index": "/participer/", "not found": "/nulle-part/",
	}
	mostComments := 0
	for _, p := range d.site.Pages {
		key := string(p.Kind)
		if p.Kind == site.KindArticle {
			if n := site.CountComments(d.site.Comments[p.Ref]); n > mostComments {
				mostComments = n
				out["article with comments"] = p.URL
			}
			if p.InDossier != "" {
				key = "dossier page"
			}
		}
		if _, ok := out[key]; !ok {
			out[key] = p.URL
		}
		if len(p.Tags) > 0 && out["tag"] == "" {
			out["tag"] = "/tags/" + generator.Slugify(p.Tags[0]) + "/"
		}
		if p.Event != nil && out["month"] == "" {
			out["month"] = p.Event.Start.In(d.site.Config.Location).Format("/events/2006/01/")
		}
	}
	for name := range d.site.Config.Forms {
		if name != "comment" {
			out["form "+name] = "/participer/" + name + "/"
		}
	}
	for _, kind := range []string{"article", "article with comments", "event", "dossier", "document", "photo", "page", "tag", "month"} {
		if out[kind] == "" {
			t.Errorf("the demo site has no %s page", kind)
		}
	}
	return out
}

// axeResult is what axe.run reports, reduced to what a failure message needs.
type axeResult struct {
	Violations []struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []struct {
			Target  []any  `json:"target"`
			HTML    string `json:"html"`
			Summary string `json:"failureSummary"`
		} `json:"nodes"`
	} `json:"violations"`
	Passes int `json:"passes"`
}

// axeRun injects axe-core into the page and runs the WCAG 2.1 A and AA rules.
func axeRun(ctx context.Context, source string) (*axeResult, error) {
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](source)); err != nil {
		return nil, fmt.Errorf("inject axe-core: %w", err)
	}
	const run = `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]})
		.then(r => JSON.stringify({violations: r.violations, passes: r.passes.length}))`
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("axe.run: %w", err)
	}
	var res axeResult
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

func (r *axeResult) String() string {
	var b strings.Builder
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "\n  %s (%s): %s", v.ID, v.Impact, v.Help)
		for i, n := range v.Nodes {
			if i == 5 {
				fmt.Fprintf(&b, "\n    … and %d more", len(v.Nodes)-5)
				break
			}
			fmt.Fprintf(&b, "\n    %v %s\n      %s", n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", "\n      "))
		}
	}
	return b.String()
}

// TestSite runs the browser checks on one build of the demo site.
func TestSite(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are left out by -short")
	}
	axe := testenv.Axe(t)
	b := browser(t)
	d := serveDemo(t)
	pages := d.pages(t)

	t.Run("accessibility", func(t *testing.T) {
		// First, that the check finds faults: a page without a language or an image's text.
		ctx := tab(t, b)
		if err := chromedp.Do(ctx, chromedp.Navigate(`data:text/html,<!doctype html><title>x</title><main><h1>x</h1><img src="data:,"></main>`)); err != nil {
			t.Fatal(err)
		}
		res, err := axeRun(ctx, axe)
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]bool{}
		for _, v := range res.Violations {
			found[v.ID] = true
		}
		if !found["html-has-lang"] || !found["image-alt"] {
			t.Fatalf("axe-core missed faults of a broken page:%s", res)
		}
		for _, width := range []int64{1280, 390} {
			ctx := tab(t, b)
			viewport(t, ctx, width, 900)
			for _, name := range sortedKeys(pages) {
				if err := chromedp.Do(ctx, chromedp.Navigate(d.url+pages[name])); err != nil {
					t.Fatalf("%s (%s): %v", name, pages[name], err)
				}
				res, err := axeRun(ctx, axe)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if len(res.Violations) > 0 {
					t.Errorf("%s (%s) at %d px: %d WCAG 2.1 A/AA violations:%s", name, pages[name], width, len(res.Violations), res)
				}
				if res.Passes < 10 {
					t.Errorf("%s: axe-core passed only %d rules: did it run?", name, res.Passes)
				}
			}
		}
	})

	t.Run("no other origin, no cookie", func(t *testing.T) {
		ctx := tab(t, b)
		var mu sync.Mutex
		var foreign []string
		requests := 0
		self, _ := url.Parse(d.url)
		chromedp.Listen(ctx, func(ev any) {
			if e, ok := ev.(*network.EventRequestWillBeSent); ok {
				u, err := url.Parse(e.Request.URL)
				mu.Lock()
				defer mu.Unlock()
				requests++
				if err == nil && u.Scheme == "blob" { // a worker made by challenge.js: blob:<origin>/<id>
					u, err = url.Parse(u.Opaque)
				}
				if err != nil || u.Scheme != "data" && u.Host != self.Host {
					foreign = append(foreign, e.Request.URL)
				}
			}
		})
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			t.Fatal(err)
		}
		for _, name := range sortedKeys(pages) {
			if err := chromedp.Do(ctx, chromedp.Navigate(d.url+pages[name]), chromedp.Sleep(50*time.Millisecond)); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if c, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`)); err != nil || c != "" {
				t.Errorf("%s: document.cookie is %q (%v)", name, c, err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if len(foreign) > 0 {
			t.Errorf("requests to another origin: %v", foreign)
		}
		if requests < len(pages)*3 {
			t.Errorf("saw only %d requests for %d pages: is the listener working?", requests, len(pages))
		}
		cookies, err := chromedp.CallBrowser(ctx, storage.GetCookies, storage.GetCookiesParams{})
		if err != nil {
			t.Fatal(err)
		}
		if len(cookies.Cookies) > 0 {
			t.Errorf("the browser holds %d cookies, want none: %v", len(cookies.Cookies), cookies.Cookies[0])
		}
	})

	t.Run("mobile menu without JavaScript", func(t *testing.T) {
		ctx := tab(t, b)
		noScript(t, ctx)
		viewport(t, ctx, 390, 800)
		if err := chromedp.Do(ctx, chromedp.Navigate(d.url+"/")); err != nil {
			t.Fatal(err)
		}
		link := `details.menu-narrow nav a[href="/events/"]`
		waitShown(t, ctx, `nav.menu-wide`, false)
		waitShown(t, ctx, link, false) // folded
		if err := chromedp.Do(ctx, chromedp.Click(`details.menu-narrow > summary`)); err != nil {
			t.Fatal(err)
		}
		waitShown(t, ctx, link, true)
		if err := chromedp.Do(ctx, chromedp.Click(link)); err != nil {
			t.Fatal(err)
		}
		waitTrue(t, ctx, `location.pathname == "/events/" && document.readyState == "complete"`)
		// On a desktop the bar shows, the disclosure does not.
		viewport(t, ctx, 1280, 800)
		waitShown(t, ctx, `nav.menu-wide a[href="/events/"][aria-current="page"]`, true)
		waitShown(t, ctx, `details.menu-narrow`, false)
	})

	t.Run("comment without JavaScript", func(t *testing.T) {
		ctx := tab(t, b)
		noScript(t, ctx)
		page := pages["article with comments"]
		ref := d.site.Pages[0].Ref
		for _, p := range d.site.Pages {
			if p.URL == page {
				ref = p.Ref
			}
		}
		parent := d.site.Comments[ref][0].ID
		before := len(d.posted())
		if err := chromedp.Do(ctx,
			chromedp.Navigate(d.url+page),
			chromedp.WaitVisible(`.parvis-question`), // no script hides it
		); err != nil {
			t.Fatal(err)
		}
		// Finding 5: the page was stamped with a token and that token's question, which
		// the reader answers (the test asks the checker, which holds the secret).
		token, err1 := chromedp.Run(ctx, chromedp.Value(`#form-comment [name="options[token]"]`))
		text, err2 := chromedp.Run(ctx, chromedp.Text(`#form-comment .parvis-question-text`))
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		q, ok := d.checker.QuestionFor(token, d.site.Config.Language)
		answer, _ := d.checker.AnswerFor(token)
		if !ok || q.Text != text {
			t.Fatalf("the page asks %q, its token %+v", text, q)
		}
		err := chromedp.Do(ctx,
			chromedp.SendKeys(`#form-comment-name`, "Lucie T."),
			chromedp.SendKeys(`#form-comment-message`, "Merci pour ces informations."),
			chromedp.SetValue(`#form-comment-parent`, parent),
			chromedp.SendKeys(`#form-comment-answer`, answer),
			chromedp.Click(`#form-comment button[type=submit]`),
		)
		if err != nil {
			t.Fatalf("fill in and send the comment form: %v", err)
		}
		// The service's answer: without JavaScript, the receipt (which links back to the page).
		waitShown(t, ctx, `#receipt`, true)
		posts := d.posted()
		if len(posts) != before+1 {
			t.Fatalf("%d submissions arrived, want 1", len(posts)-before)
		}
		p := posts[len(posts)-1]
		want := map[string]string{
			"fields[name]": "Lucie T.", "fields[message]": "Merci pour ces informations.", "fields[website]": "",
			"options[page]": ref, "options[parent]": parent, "options[redirect]": "",
			"options[question]": q.ID, "options[answer]": answer, "options[pow]": "", "options[token]": token,
		}
		for k, v := range want {
			if got := p.values.Get(k); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
		if !p.verdict.OK || !slices.Contains(p.verdict.Signals, "answered the question (no JavaScript)") {
			t.Errorf("verdict %+v, want the answer accepted", p.verdict)
		}
	})

	t.Run("reply with JavaScript", func(t *testing.T) {
		ctx := tab(t, b)
		page := pages["article with comments"]
		before := len(d.posted())
		err := chromedp.Do(ctx,
			chromedp.Navigate(d.url+page),
			// challenge.js solves the proof of work and hides the question.
			chromedp.WaitNotVisible(`.parvis-question`),
			chromedp.Click(`li.comment a.reply-link`),
			// The form moved under the comment answered.
			chromedp.WaitVisible(`li.comment > #comment-form`),
			chromedp.SendKeys(`#form-comment-name`, "Paul R."),
			chromedp.SendKeys(`#form-comment-message`, "Je serai là aussi."),
			chromedp.Click(`#form-comment button[type=submit]`),
		)
		if err != nil {
			t.Fatalf("reply to a comment: %v", err)
		}
		waitShown(t, ctx, `#comment-sent`, true)
		posts := d.posted()
		if len(posts) != before+1 {
			t.Fatalf("%d submissions arrived, want 1", len(posts)-before)
		}
		p := posts[len(posts)-1]
		if !p.verdict.OK {
			t.Errorf("the reply was refused: %+v", p.verdict)
		}
		if p.values.Get("options[parent]") == "" || p.values.Get("options[pow]") == "" {
			t.Errorf("the reply lacks its parent or its proof of work: %v", p.values)
		}
	})

	if dir := os.Getenv("PARVIS_SCREENSHOTS"); dir != "" {
		t.Run("screenshots", func(t *testing.T) { screenshots(t, b, d, pages, dir) })
	}
}

// screenshots writes full-page PNGs of the main pages at desktop and phone widths into dir,
// for people to look at (PARVIS_SCREENSHOTS=dir go test ./internal/e2e).
func screenshots(t *testing.T, b context.Context, d *demo, pages map[string]string, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		name  string
		width int64
	}{{"desktop", 1280}, {"mobile", 390}} {
		ctx := tab(t, b)
		viewport(t, ctx, w.width, 900)
		for _, name := range sortedKeys(pages) {
			if err := chromedp.Do(ctx, chromedp.Navigate(d.url+pages[name]), chromedp.Sleep(300*time.Millisecond)); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			file := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+"-"+w.name+".png")
			if err := os.WriteFile(file, png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// waitShown waits until the element that sel finds is rendered (or not), as the reader
// sees it: not hidden, not in a closed <details>. It asks the page through DevTools, which
// works with the page's own scripts off.
func waitShown(t *testing.T, ctx context.Context, sel string, shown bool) {
	t.Helper()
	js := fmt.Sprintf(`(e => !!e && e.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true}))(document.querySelector(%q))`, sel)
	if !shown {
		js = "!" + js
	}
	waitTrue(t, ctx, js)
}

// waitTrue waits until a JavaScript expression is true, for up to ten seconds.
func waitTrue(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still not true after 10 s: %s (%v)", js, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
