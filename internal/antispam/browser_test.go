package antispam

import (
	"context"
	"errors"
	"fmt"
	"html"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/parvis/parvis/internal/site"
	"golang.org/x/time/rate"
)

const chromium = "/usr/bin/chromium"

// browser starts headless Chromium for one test, or skips it.
func browser(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test")
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("Chromium is not installed")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// formPage is a form as the theme renders it, with a hook that records challenge.js's
// event for the test.
func formPage(challenge string) string {
	return `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Formulaire</title></head><body>
<form method="post" action="/post" data-parvis-form="comment" data-parvis-challenge="` + html.EscapeString(challenge) + `">
<input type="hidden" name="options[token]" value="` + Placeholder + `">
<input type="hidden" name="options[page]" value="/p/">
<p><label for="m">Message</label><textarea id="m" name="fields[message]">Bonjour à tous</textarea></p>
<div class="parvis-question"><input type="hidden" name="options[question]" value="` + QuestionPlaceholder + `">
<label for="a">` + QuestionTextTag + `La question vous sera posée après l’envoi.</span></label> <input id="a" name="options[answer]"></div>
<p><button type="submit">Envoyer</button></p>
</form>
<script>window.results=[];document.addEventListener('parvis:challenge',function(e){window.results.push(e.detail)},true);</script>
<script src="/js/challenge.js"></script>
</body></html>`
}

type rig struct {
	c         *Checker
	site, svc *httptest.Server
}

// newRig serves the site (stamped pages and a static one) and, on another origin, the
// service's challenge endpoint.
func newRig(t *testing.T, difficulty int) *rig {
	t.Helper()
	js, err := os.ReadFile("../../themes/default/static/js/challenge.js")
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{site: httptest.NewUnstartedServer(nil), svc: httptest.NewUnstartedServer(nil)}
	r.c, err = New(Config{
		Secret: secret, Challenge: true, Difficulty: difficulty,
		RatePerIP: rate.Inf, RatePerPage: rate.Inf,
		Origins: []string{"http://" + r.site.Listener.Addr().String()},
		Forms:   map[string]site.AntispamSpec{"comment": {MinSeconds: -1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	challengeURL := "http://" + r.svc.Listener.Addr().String() + "/api/v1/challenge"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /js/challenge.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(js)
	})
	page := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, formPage(challengeURL))
	}
	mux.Handle("GET /{$}", r.c.StampHTML(http.HandlerFunc(page)))
	mux.HandleFunc("GET /static/{$}", page)
	mux.HandleFunc("GET /hard/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, formPage("http://"+r.svc.Listener.Addr().String()+"/hard"))
	})
	mux.HandleFunc("POST /post", func(w http.ResponseWriter, req *http.Request) {
		req.ParseForm()
		ip, _, _ := net.SplitHostPort(req.RemoteAddr)
		f := req.PostFormValue
		v := r.c.Check(Submission{
			Form: "comment", Page: f("options[page]"), IP: ip,
			Token: f("options[token]"), PoW: f("options[pow]"),
			Question: f("options[question]"), Answer: f("options[answer]"),
			Texts: []string{f("fields[message]")},
		}, time.Now())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<p id="verdict">%v %s %s</p>`, v.OK, v.Reason, html.EscapeString(strings.Join(v.Signals, "; ")))
	})
	r.site.Config.Handler = mux
	// /hard is the challenge endpoint asking for more work than the script will try.
	svc := http.NewServeMux()
	svc.Handle("GET /api/v1/challenge", r.c.ChallengeHandler())
	svc.HandleFunc("GET /hard", func(w http.ResponseWriter, req *http.Request) {
		rec := httptest.NewRecorder()
		r.c.ChallengeHandler().ServeHTTP(rec, req)
		maps.Copy(w.Header(), rec.Header())
		w.Header().Del("Content-Length")
		w.Write(regexp.MustCompile(`"difficulty":\d+`).ReplaceAll(rec.Body.Bytes(), []byte(`"difficulty":31`)))
	})
	r.svc.Config.Handler = svc
	r.site.Start()
	r.svc.Start()
	t.Cleanup(r.site.Close)
	t.Cleanup(r.svc.Close)
	return r
}

type result struct {
	Solved bool    `json:"solved"`
	Ms     float64 `json:"ms"`
}

// awaitChallenge waits for challenge.js to report on the page.
func awaitChallenge(ctx context.Context) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second) // generous: CI machines are shared
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[result](`new Promise(function (ok) {
		(function poll() { if (window.results.length) ok(window.results[0]); else setTimeout(poll, 5); })();
	})`, chromedp.EvalAwaitPromise))
}

func verdict(t *testing.T, ctx context.Context) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second) // generous: CI machines are shared
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#verdict")))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestBrowserSolveTime measures challenge.js at the default difficulty in headless
// Chromium, and checks each of its answers with the Go verifier.
func TestBrowserSolveTime(t *testing.T) {
	ctx := browser(t)
	r := newRig(t, DefaultDifficulty)
	const runs = 24
	var ms []float64
	for i := range runs {
		if err := chromedp.Do(ctx, chromedp.Navigate(r.site.URL+"/")); err != nil {
			t.Fatal(err)
		}
		res, err := awaitChallenge(ctx)
		if err != nil || !res.Solved {
			t.Fatalf("%+v, %v", res, err)
		}
		type fields struct{ Token, PoW string }
		got, err := chromedp.Run(ctx, chromedp.Evaluate[fields](`({
			Token: document.querySelector('[name="options[token]"]').value,
			PoW: document.querySelector('[name="options[pow]"]').value})`))
		if err != nil {
			t.Fatal(err)
		}
		// Both solvers count from zero: the browser finds the nonce Go finds.
		if !verifyPoW(got.Token, got.PoW, DefaultDifficulty) || i == 0 && got.PoW != Solve(got.Token, DefaultDifficulty) {
			t.Fatalf("the browser's nonce %q does not verify for %q", got.PoW, got.Token)
		}
		hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('.parvis-question').hidden`))
		if err != nil || !hidden {
			t.Fatalf("question still shown: %v", err)
		}
		ms = append(ms, res.Ms)
	}
	slices.Sort(ms)
	mean := 0.0
	for _, m := range ms {
		mean += m / runs
	}
	t.Logf("%d bits in Chromium: mean %.0f ms, median %.0f ms, min %.0f ms, max %.0f ms",
		DefaultDifficulty, mean, ms[runs/2], ms[0], ms[runs-1])
	if mean > 3000 {
		t.Errorf("mean solve time %.0f ms: far above the few hundred milliseconds aimed at", mean)
	}
}

// A citizen who posts at once waits for the work, then the post goes through.
func TestBrowserSubmitEarly(t *testing.T) {
	ctx := browser(t)
	r := newRig(t, DefaultDifficulty)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(r.site.URL+"/"),
		chromedp.Click(chromedp.CSS("button")),
	); err != nil {
		t.Fatal(err)
	}
	if v := verdict(t, ctx); !strings.HasPrefix(v, "true ") || strings.Contains(v, "question") {
		t.Fatalf("verdict %q", v)
	}
}

// On static hosting the page fetches its token and its question from the service, on
// another origin.
func TestBrowserStaticPage(t *testing.T) {
	ctx := browser(t)
	r := newRig(t, 12)
	if err := chromedp.Do(ctx, chromedp.Navigate(r.site.URL+"/static/")); err != nil {
		t.Fatal(err)
	}
	if res, err := awaitChallenge(ctx); err != nil || !res.Solved {
		t.Fatalf("%+v, %v", res, err)
	}
	got := questionState(t, ctx)
	if q, ok := r.c.QuestionFor(got.Token, "fr"); !ok || got.ID != q.ID || got.Text != q.Text || !got.Hidden {
		t.Fatalf("the page holds %+v, the token asks %+v", got, q)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("button"))); err != nil {
		t.Fatal(err)
	}
	if v := verdict(t, ctx); !strings.HasPrefix(v, "true ") || strings.Contains(v, "question") {
		t.Fatalf("verdict %q", v)
	}
}

type pageQuestion struct {
	Token, ID, Text, Status string
	Hidden, Required        bool
}

func questionState(t *testing.T, ctx context.Context) pageQuestion {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[pageQuestion](`({
		Token: document.querySelector('[name="options[token]"]').value,
		ID: document.querySelector('[name="options[question]"]').value,
		Text: document.querySelector('.parvis-question-text').textContent,
		Status: document.querySelector('[role=status]').textContent,
		Hidden: document.querySelector('.parvis-question').hidden,
		Required: document.querySelector('#a').required})`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// When the service cannot be reached there is no token, hence no question yet: the page
// says that one will be asked after sending, and the field is not required.
func TestBrowserChallengeFails(t *testing.T) {
	ctx := browser(t)
	r := newRig(t, 12)
	r.svc.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(r.site.URL+"/static/")); err != nil {
		t.Fatal(err)
	}
	if res, err := awaitChallenge(ctx); err != nil || res.Solved {
		t.Fatalf("%+v, %v", res, err)
	}
	s := questionState(t, ctx)
	if s.Hidden || s.Required || s.ID != QuestionPlaceholder || !strings.Contains(s.Text, "après l’envoi") ||
		!strings.Contains(s.Status, "après l’envoi") {
		t.Fatalf("%+v", s)
	}
}

// When the token came but the work cannot be done (here a difficulty past what the script
// tries), the token's question shows, required, and answering it is the way through.
func TestBrowserWorkFailsQuestionShown(t *testing.T) {
	ctx := browser(t)
	r := newRig(t, 12)
	if err := chromedp.Do(ctx, chromedp.Navigate(r.site.URL+"/hard/")); err != nil {
		t.Fatal(err)
	}
	if res, err := awaitChallenge(ctx); err != nil || res.Solved {
		t.Fatalf("%+v, %v", res, err)
	}
	s := questionState(t, ctx)
	q, ok := r.c.QuestionFor(s.Token, "fr")
	if !ok || s.Hidden || !s.Required || s.ID != q.ID || s.Text != q.Text || !strings.Contains(s.Status, "question") {
		t.Fatalf("%+v, want the question %+v", s, q)
	}
	answer, _ := r.c.AnswerFor(s.Token)
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#a"), answer),
		chromedp.Click(chromedp.CSS("button")),
	); err != nil {
		t.Fatal(err)
	}
	if v := verdict(t, ctx); !strings.HasPrefix(v, "true ") || !strings.Contains(v, "answered the question") {
		t.Fatalf("verdict %q", v)
	}
}

// Without JavaScript the question stamped into the page is the way through: the token's.
func TestBrowserNoJavaScript(t *testing.T) {
	ctx := browser(t)
	r := newRig(t, DefaultDifficulty)
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(r.site.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#a")),
	); err != nil {
		t.Fatal(err)
	}
	// Read through the DOM, as the page's own scripts are off.
	token, err1 := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`[name="options[token]"]`)))
	id, err2 := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`[name="options[question]"]`)))
	text, err3 := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".parvis-question-text")))
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	q, ok := r.c.QuestionFor(token, "fr")
	if !ok || q.ID != id || q.Text != text {
		t.Fatalf("the page asks %q (%s), its token %+v", text, id, q)
	}
	answer, _ := r.c.AnswerFor(token)
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#a"), answer),
		chromedp.Click(chromedp.CSS("button")),
	); err != nil {
		t.Fatal(err)
	}
	if v := verdict(t, ctx); !strings.HasPrefix(v, "true ") || !strings.Contains(v, "answered the question") {
		t.Fatalf("verdict %q", v)
	}
}
