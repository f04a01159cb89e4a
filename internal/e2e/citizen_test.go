package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"
	"go.etcd.io/bbolt"
	"golang.org/x/time/rate"

	"github.com/parvis/parvis/commentsvc"
	"github.com/parvis/parvis/generator"
	"github.com/parvis/parvis/internal/antispam"
	"github.com/parvis/parvis/internal/blob/localfs"
	"github.com/parvis/parvis/internal/forge/gitlocal"
	qbolt "github.com/parvis/parvis/internal/queue/bolt"
	"github.com/parvis/parvis/internal/store"
	"github.com/parvis/parvis/internal/testenv"
)

// citizen is the demo site served as parvis serve serves it (its pages under the site's
// policy, stamped; the service beside them, reading the built pages), the anti-spam check
// on with an easy proof of work and no minimum time.
type citizen struct {
	url string
	svc *commentsvc.Service
	cut atomic.Bool // the connection of each submission is cut, as a network failure does
}

// sitePolicy is the Content-Security-Policy parvis serve gives the site's pages.
const sitePolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; " +
	"worker-src 'self' blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'self'"

func serveCitizen(t *testing.T) *citizen {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	repoDir, out := filepath.Join(dir, "repo"), filepath.Join(dir, "public")
	if err := copyDir(filepath.Join(root, "content"), repoDir); err != nil {
		t.Fatal(err)
	}
	commitAll(t, repoDir)
	o, err := generator.NewDirOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	res, err := generator.New(generator.WithSiteDir(repoDir), generator.WithOutput(o), generator.WithNow(now)).Build(context.Background())
	if err != nil {
		t.Fatalf("build the demo site: %v", err)
	}
	built := res.Site
	for _, f := range built.Config.Forms {
		f.Antispam.MinSeconds = -1 // the tests type faster than people
	}
	db, err := bbolt.Open(filepath.Join(dir, "parvis.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := qbolt.New(db)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.New(db)
	if err != nil {
		t.Fatal(err)
	}
	fg, err := gitlocal.Open(repoDir, gitlocal.Options{BotName: built.Config.Title, BotEmail: "noreply@belcombe.example"})
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := localfs.New(filepath.Join(dir, "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := commentsvc.New(
		commentsvc.WithSite(built), commentsvc.WithQueue(q), commentsvc.WithStore(st), commentsvc.WithForge(fg),
		commentsvc.WithBlobs(blobs), commentsvc.WithSecret([]byte("e2e-secret-of-32-bytes-at-least!")),
		commentsvc.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), commentsvc.WithChallenge(true),
		commentsvc.WithAntispam(antispam.Config{RatePerIP: rate.Inf, RatePerPage: rate.Inf, Difficulty: 8}),
		commentsvc.WithPages(commentsvc.DirPages(out)),
	)
	if err != nil {
		t.Fatal(err)
	}
	site := svc.Checker().StampHTML(http.FileServer(http.Dir(out)))
	mux := http.NewServeMux()
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", sitePolicy)
		site.ServeHTTP(w, r)
	}))
	c := &citizen{svc: svc}
	mux.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.cut.Load() && r.Method == http.MethodPost {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		svc.Handler().ServeHTTP(w, r)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		_ = q.Close()
		_ = db.Close()
	})
	c.url = srv.URL
	return c
}

// policyWatch collects what the browser logs of Content-Security-Policy refusals: a form
// whose redirect the page's policy blocks leaves only that trace.
func policyWatch(t *testing.T, ctx context.Context) func() []string {
	var mu sync.Mutex
	var seen []string
	chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok && strings.Contains(e.Entry.Text, "Content Security Policy") {
			mu.Lock()
			seen = append(seen, e.Entry.Text)
			mu.Unlock()
		}
	})
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// scripts turns a tab's JavaScript back on, for axe-core, on the page as it was loaded.
func scripts(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false}); err != nil {
		t.Fatal(err)
	}
}

func noViolations(t *testing.T, ctx context.Context, axe, what string) {
	t.Helper()
	res, err := axeRun(ctx, axe)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(res.Violations) > 0 || res.Passes < 10 {
		t.Errorf("%s: %d WCAG 2.1 A/AA violations (%d rules passed):%s", what, len(res.Violations), res.Passes, res)
	}
}

func evalString(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return s
}

// article324 is the article the issue lost: 324 characters, on three lines.
var article324 = func() string {
	s := "Le club de lecture de Belcombe reprend ses rencontres le premier jeudi du mois, à la médiathèque.\n" +
		"Chacun apporte un livre qu’il a aimé & le présente en quelques mots ; on boit un café <b>ensemble</b>.\n"
	for len([]rune(s)) < 324 {
		s += "Ouvert à toutes et à tous, "
	}
	return string([]rune(s)[:324])
}()

// TestCitizen follows a citizen through the demo's forms in Chromium: a refused form comes
// back filled, in the site's layout, with JavaScript off (findings 7) and on, and every
// confirmation leads to a receipt that is a page of the site (finding 8); axe-core finds no
// WCAG 2.1 A or AA fault in the refilled form or the receipt.
func TestCitizen(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are left out by -short")
	}
	axe := testenv.Axe(t)
	b := browser(t)
	c := serveCitizen(t)

	t.Run("wrong answer without JavaScript", func(t *testing.T) {
		ctx := tab(t, b)
		blocked := policyWatch(t, ctx)
		noScript(t, ctx)
		err := chromedp.Do(ctx,
			chromedp.Navigate(c.url+"/participer/article/"),
			chromedp.WaitVisible(`#form-article-answer`),
			chromedp.SendKeys(`#form-article-title`, "Le club de lecture reprend"),
			chromedp.SendKeys(`#form-article-summary`, "Une rencontre par mois à la médiathèque."),
			chromedp.SetValue(`#form-article-body`, article324),
			chromedp.SendKeys(`#form-article-author`, "Les amis du livre"),
			chromedp.SendKeys(`#form-article-answer`, "une réponse au hasard"),
			chromedp.Click(`#form-article button[type=submit]`),
			chromedp.WaitVisible(`#form-article-errors`),
		)
		if err != nil {
			t.Fatalf("send the article with a wrong answer: %v", err)
		}
		// The form's page, in the site's layout, the article intact, the fault by the question.
		for js, want := range map[string]string{
			`location.pathname`: "/api/v1/entries/article",
			`document.querySelector("#form-article-body").value`:                                                           article324,
			`document.querySelector("#form-article-title").value`:                                                          "Le club de lecture reprend",
			`document.querySelector("#form-article-author").value`:                                                         "Les amis du livre",
			`document.querySelector("#form-article-answer").value`:                                                         "",
			`document.querySelector("#form-article-answer").getAttribute("aria-invalid")`:                                  "true",
			`String(!!document.querySelector("header.site-header nav") && !!document.querySelector("footer.site-footer"))`: "true",
			`document.activeElement.id`:                                                                                    "form-article-errors",
			`document.querySelector("#form-article-errors a").getAttribute("href")`:                                        "#form-article-answer",
		} {
			if got := evalString(t, ctx, js); got != want {
				t.Errorf("%s = %q, want %q", js, got, want)
			}
		}
		if got := evalString(t, ctx, `document.querySelector("#form-article-answer-error").textContent`); !strings.Contains(got, "n’était pas la bonne") {
			t.Errorf("the question's message: %q", got)
		}
		if got := evalString(t, ctx, `document.querySelector("#form-article-answer").getAttribute("aria-describedby")`); !strings.Contains(got, "form-article-answer-error") {
			t.Errorf("aria-describedby %q", got)
		}
		// The page asks its token's question; answered, it sends the article to the receipt.
		token := evalString(t, ctx, `document.querySelector('#form-article [name="options[token]"]').value`)
		question := evalString(t, ctx, `document.querySelector("#form-article .parvis-question-text").textContent`)
		if q, ok := c.svc.Checker().QuestionFor(token, "fr"); !ok || q.Text != question {
			t.Fatalf("the page asks %q, its token %q", question, q.Text)
		}
		scripts(t, ctx)
		noViolations(t, ctx, axe, "the refilled form")
		noScript(t, ctx)
		answer, _ := c.svc.Checker().AnswerFor(token)
		err = chromedp.Do(ctx,
			chromedp.SendKeys(`#form-article-answer`, answer),
			chromedp.Click(`#form-article button[type=submit]`),
			chromedp.WaitVisible(`.page-receipt`),
		)
		if err != nil {
			t.Fatalf("answer and send again: %v", err)
		}
		body := evalString(t, ctx, `document.querySelector("main").innerText`)
		for _, want := range []string{"Suivi de votre contribution", "Proposer un article", "Le club de lecture reprend", "Reçue le", "décembre 2026"} {
			if !strings.Contains(body, want) {
				t.Errorf("the receipt lacks %q:\n%s", want, body)
			}
		}
		if evalString(t, ctx, `String(!!document.querySelector("header.site-header nav"))`) != "true" {
			t.Error("the receipt has no site header")
		}
		scripts(t, ctx)
		noViolations(t, ctx, axe, "the receipt")
		if l := blocked(); len(l) > 0 {
			t.Errorf("the browser blocked: %v", l)
		}
	})

	t.Run("comment without JavaScript", func(t *testing.T) {
		ctx := tab(t, b)
		blocked := policyWatch(t, ctx)
		noScript(t, ctx)
		page := "/articles/budget-participatif-2026-resultats/"
		if err := chromedp.Do(ctx, chromedp.Navigate(c.url+page), chromedp.WaitVisible(`#form-comment-answer`)); err != nil {
			t.Fatal(err)
		}
		token := evalString(t, ctx, `document.querySelector('#form-comment [name="options[token]"]').value`)
		answer, _ := c.svc.Checker().AnswerFor(token)
		err := chromedp.Do(ctx,
			chromedp.SendKeys(`#form-comment-name`, "Lucie T."),
			chromedp.SendKeys(`#form-comment-message`, "Merci pour ces résultats, très clairs."),
			chromedp.SendKeys(`#form-comment-answer`, answer),
			chromedp.Click(`#form-comment button[type=submit]`),
			chromedp.WaitVisible(`.page-receipt`),
		)
		if err != nil {
			t.Fatalf("send the comment: %v", err)
		}
		body := evalString(t, ctx, `document.querySelector("main").innerText`)
		for _, want := range []string{"Laisser un commentaire", "Merci pour ces résultats, très clairs.", "Revenir à la page"} {
			if !strings.Contains(body, want) {
				t.Errorf("the receipt lacks %q:\n%s", want, body)
			}
		}
		// Its address is on it, and it leads back to the page.
		self := evalString(t, ctx, `document.querySelector(".receipt-link a").textContent`)
		if !strings.Contains(self, "/api/v1/submissions/") || !strings.Contains(evalString(t, ctx, `location.href`), strings.SplitN(self, "/api/", 2)[1]) {
			t.Errorf("the receipt gives %q as its address", self)
		}
		if err := chromedp.Do(ctx, chromedp.Click(`.receipt-back a`), chromedp.WaitVisible(`#comments`)); err != nil {
			t.Fatal(err)
		}
		if got := evalString(t, ctx, `location.pathname + location.hash`); got != page+"#comments" {
			t.Errorf("back to %q", got)
		}
		if l := blocked(); len(l) > 0 {
			t.Errorf("the browser blocked: %v", l)
		}
	})

	t.Run("comment with JavaScript", func(t *testing.T) {
		ctx := tab(t, b)
		blocked := policyWatch(t, ctx)
		page := "/articles/budget-participatif-2026-resultats/"
		err := chromedp.Do(ctx,
			chromedp.Navigate(c.url+page),
			chromedp.WaitNotVisible(`.parvis-question`), // the proof of work is done
			chromedp.SendKeys(`#form-comment-name`, "Lucie lucie@example.org"),
			chromedp.SendKeys(`#form-comment-message`, "Un avis qui compte, écrit avec soin."),
			chromedp.Click(`#form-comment button[type=submit]`),
			chromedp.WaitVisible(`#form-comment-errors`),
		)
		if err != nil {
			t.Fatalf("send a comment the service refuses: %v", err)
		}
		for js, want := range map[string]string{
			`location.pathname`:         page,
			`document.activeElement.id`: "form-comment-errors",
			`document.querySelector("#form-comment-name").getAttribute("aria-invalid")`: "true",
			`document.querySelector("#form-comment-message").value`:                     "Un avis qui compte, écrit avec soin.",
			`document.querySelector("#form-comment-errors a").getAttribute("href")`:     "#form-comment-name",
		} {
			if got := evalString(t, ctx, js); got != want {
				t.Errorf("%s = %q, want %q", js, got, want)
			}
		}
		if got := evalString(t, ctx, `document.querySelector("#form-comment-name-error").textContent`); !strings.Contains(got, "adresse électronique") {
			t.Errorf("the name's message: %q", got)
		}
		noViolations(t, ctx, axe, "the form refused with JavaScript")
		err = chromedp.Do(ctx,
			chromedp.SetValue(`#form-comment-name`, "Lucie"),
			chromedp.Click(`#form-comment button[type=submit]`),
			chromedp.WaitVisible(`#comment-sent .sent-receipt a`),
		)
		if err != nil {
			t.Fatalf("send it corrected: %v", err)
		}
		for js, want := range map[string]string{
			`location.pathname`:         page,
			`document.activeElement.id`: "comment-sent",
			`String(!!document.querySelector("#form-comment-errors"))`:                "false",
			`document.querySelector("#form-comment .parvis-send-status").textContent`: "Votre envoi est enregistré.",
			`document.querySelector("#form-comment-message").value`:                   "",
		} {
			if got := evalString(t, ctx, js); got != want {
				t.Errorf("%s = %q, want %q", js, got, want)
			}
		}
		noViolations(t, ctx, axe, "the confirmation in place")
		// One token, one submission: the form took another for the next comment.
		first := evalString(t, ctx, `document.querySelector("#comment-sent .sent-receipt a").href`)
		err = chromedp.Do(ctx,
			chromedp.WaitNotVisible(`.parvis-question`),
			chromedp.SendKeys(`#form-comment-name`, "Lucie"),
			chromedp.SendKeys(`#form-comment-message`, "Et un second avis, plus court."),
			chromedp.Click(`#form-comment button[type=submit]`),
		)
		if err != nil {
			t.Fatal(err)
		}
		waitTrue(t, ctx, fmt.Sprintf(`(a => !!a && a.href != %q)(document.querySelector("#comment-sent .sent-receipt a"))`, first))
		if err := chromedp.Do(ctx, chromedp.Click(`#comment-sent .sent-receipt a`), chromedp.WaitVisible(`.page-receipt`)); err != nil {
			t.Fatal(err)
		}
		if body := evalString(t, ctx, `document.querySelector("main").innerText`); !strings.Contains(body, "Et un second avis") {
			t.Errorf("the receipt:\n%s", body)
		}
		if l := blocked(); len(l) > 0 {
			t.Errorf("the browser blocked: %v", l)
		}
	})

	t.Run("network failure with JavaScript", func(t *testing.T) {
		ctx := tab(t, b)
		c.cut.Store(true)
		defer c.cut.Store(false)
		err := chromedp.Do(ctx,
			chromedp.Navigate(c.url+"/articles/budget-participatif-2026-resultats/"),
			chromedp.WaitNotVisible(`.parvis-question`),
			chromedp.SendKeys(`#form-comment-name`, "Paul"),
			chromedp.SendKeys(`#form-comment-message`, "Un message qui ne doit pas se perdre."),
			chromedp.Click(`#form-comment button[type=submit]`),
			chromedp.WaitVisible(`#form-comment-errors`),
		)
		if err != nil {
			t.Fatalf("send without a network: %v", err)
		}
		if got := evalString(t, ctx, `document.querySelector("#form-comment-errors").textContent`); !strings.Contains(got, "n’a pas pu être joint") {
			t.Errorf("the message: %q", got)
		}
		if got := evalString(t, ctx, `document.querySelector("#form-comment-message").value`); got != "Un message qui ne doit pas se perdre." {
			t.Errorf("the message was lost: %q", got)
		}
	})
}
