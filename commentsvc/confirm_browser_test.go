package commentsvc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/parvis/parvis/internal/antispam"
	"github.com/parvis/parvis/internal/testenv"
)

// staticComment is the comment form as a static page renders it: placeholders for the token
// and the question, which nothing stamps on static hosting, and no script.
const staticComment = `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Le budget</title></head>
<body><main><h1>Le budget</h1>
<form method="post" action="/api/v1/entries/comment" data-parvis-form="comment">
<input type="hidden" name="options[page]" value="articles/budget">
<input type="hidden" name="options[redirect]" value="/articles/budget/#comment-sent">
<input type="hidden" name="options[token]" value="` + antispam.Placeholder + `">
<input type="hidden" name="options[pow]" value="">
<p><label for="name">Nom</label> <input id="name" name="fields[name]" required></p>
<p><label for="message">Message</label> <textarea id="message" name="fields[message]" required></textarea></p>
<div class="parvis-question"><input type="hidden" name="options[question]" value="` + antispam.QuestionPlaceholder + `">
<label for="answer">` + antispam.QuestionTextTag + `Une question vous sera posée après l’envoi.</span></label>
<input id="answer" name="options[answer]"></div>
<p><button type="submit">Envoyer</button></p>
</form><p id="comment-sent">Merci.</p></main></body></html>`

// Finding 5, in Chromium with JavaScript off: a static page posts no token; the service's
// page asks the token's question, keeps what was typed, and sends it once answered. With
// JavaScript on, axe-core finds no WCAG 2.1 A or AA fault in that page.
func TestFinding5ConfirmPageInBrowser(t *testing.T) {
	path := testenv.Chromium(t)
	axe := testenv.Axe(t)
	f, _ := challenged(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /articles/budget/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, staticComment)
	})
	mux.Handle("/api/", f.svc.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatal(err)
	}
	tab := func(script bool) context.Context {
		ctx, cancel := chromedp.NewContext(browser)
		t.Cleanup(cancel)
		ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
		t.Cleanup(cancelTimeout)
		if !script {
			if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
				t.Fatal(err)
			}
		}
		return ctx
	}
	message := "Une fontaine « rénovée » & <b>propre</b>, enfin !"
	toConfirm := func(ctx context.Context) {
		t.Helper()
		if err := chromedp.Do(ctx,
			chromedp.Navigate(srv.URL+"/articles/budget/"),
			chromedp.SendKeys(`#name`, "Lucie T."),
			chromedp.SendKeys(`#message`, message),
			chromedp.Click(`button[type=submit]`),
			chromedp.WaitVisible(`#answer[required]`),
		); err != nil {
			t.Fatalf("send the static form: %v", err)
		}
	}

	ctx := tab(false)
	toConfirm(ctx)
	token, err1 := chromedp.Run(ctx, chromedp.Value(`[name="options[token]"]`))
	label, err2 := chromedp.Run(ctx, chromedp.Text(`label[for=answer]`))
	summary, err3 := chromedp.Run(ctx, chromedp.Text(`dl.summary`))
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	q, ok := f.svc.checker.QuestionFor(token, "fr")
	if !ok || !strings.HasPrefix(label, q.Text) || !strings.Contains(summary, message) {
		t.Fatalf("the page asks %q (its token: %+v) and shows %q", label, q, summary)
	}
	answer, _ := f.svc.checker.AnswerFor(token)
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(`#answer`, answer),
		chromedp.Click(`button[type=submit]`),
	); err != nil {
		t.Fatalf("answer and send again: %v", err)
	}
	// Back on the form's page, which thanks the reader.
	const back = `location.pathname + location.hash == "/articles/budget/#comment-sent" && document.readyState == "complete"`
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](back)); err == nil && done {
			break
		}
		if time.Now().After(deadline) {
			cur, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
			t.Fatalf("the answered page did not lead back to the form's page: %s", cur)
		}
	}
	if p := leaseOne(t, f); p.Fields["message"] != message || p.Fields["name"] != "Lucie T." {
		t.Errorf("what was typed did not survive: %+v", p.Fields)
	}

	// axe-core needs JavaScript; the page itself runs none.
	ctx = tab(true)
	toConfirm(ctx)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axe)); err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
		.then(r => JSON.stringify({violations: r.violations.map(v => v.id + ": " + v.help), passes: r.passes.length}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Violations []string
		Passes     int
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) > 0 || res.Passes == 0 {
		t.Errorf("axe-core: %d passes, violations %q", res.Passes, res.Violations)
	}
}
