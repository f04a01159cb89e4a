package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parvis/parvis/internal/doccheck/doccorpus"
	"github.com/parvis/parvis/internal/store"
	"github.com/parvis/parvis/internal/testenv"
)

// evalJSON runs a script that returns JSON.stringify(...) and decodes it into v.
func evalJSON(t *testing.T, ctx context.Context, js string, v any) {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
}

func navigate(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}

// brokenWords lists the words of the page's table cells that the browser broke across
// lines. A word is what breakable spaces delimit (a no-break space holds "24 000 €"
// together) and a hyphen ends one, as a line may break after it ("Pré-/Vert").
const brokenWords = `(() => {
	const broken = [];
	for (const cell of document.querySelectorAll('.content td, .content th')) {
		const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
		for (let n; (n = walk.nextNode());) {
			const re = /[^ \t\n\r-]+-?/g;
			for (let m; (m = re.exec(n.data));) {
				const r = document.createRange();
				r.setStart(n, m.index);
				r.setEnd(n, m.index + m[0].length);
				const lines = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)));
				if (lines.size > 1) broken.push(m[0]);
			}
		}
	}
	return JSON.stringify(broken);
})()`

// TestTheme checks in Chromium what a reader of the demo site met in the first hour
// (issue 11, findings 9 and 10).
func TestTheme(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are left out by -short")
	}
	axe := testenv.Axe(t)
	b := browser(t)
	d := serveDemo(t)
	const budget = "/articles/budget-participatif-2026-resultats/"

	t.Run("finding 9: tables at 390 px", func(t *testing.T) {
		ctx := tab(t, b)
		viewport(t, ctx, 390, 900)
		navigate(t, ctx, d.url+budget)
		var broken []string
		evalJSON(t, ctx, brokenWords, &broken)
		if len(broken) > 0 {
			t.Errorf("words and numbers broken across lines in the table at 390 px: %q", broken)
		}
		var got struct {
			Tables, Regions, Focusable int
			Names                      []string
			Scrolls, PageScrolls       bool
			Cost, Align                string
		}
		evalJSON(t, ctx, `(() => {
			const out = {Tables: 0, Regions: 0, Focusable: 0, Names: [], Scrolls: false,
				PageScrolls: document.documentElement.scrollWidth > document.documentElement.clientWidth};
			for (const table of document.querySelectorAll('.content table')) {
				out.Tables++;
				const r = table.parentElement;
				if (r.getAttribute('role') !== 'region') continue;
				out.Regions++;
				if (r.tabIndex === 0) out.Focusable++;
				const by = r.getAttribute('aria-labelledby');
				out.Names.push(by ? (document.getElementById(by) || {}).textContent || '' : r.getAttribute('aria-label') || '');
				out.Scrolls = out.Scrolls || r.scrollWidth > r.clientWidth;
			}
			const cost = [...document.querySelectorAll('.content td')].find(c => c.textContent.endsWith('€'));
			out.Cost = cost ? cost.textContent : '';
			out.Align = cost ? getComputedStyle(cost).textAlign : '';
			return JSON.stringify(out);
		})()`, &got)
		if got.Tables == 0 || got.Regions != got.Tables || got.Focusable != got.Tables {
			t.Errorf("%d tables, %d in a region, %d focusable", got.Tables, got.Regions, got.Focusable)
		}
		for _, n := range got.Names {
			if strings.TrimSpace(n) == "" {
				t.Errorf("a table's region has no name: %q", got.Names)
			}
		}
		if !got.Scrolls || got.PageScrolls {
			t.Errorf("at 390 px the table should scroll in its region (%v), not the page (%v)", got.Scrolls, got.PageScrolls)
		}
		if got.Cost != "24\u202f000\u202f€" || got.Align != "right" {
			t.Errorf("the first cost reads %q, aligned %s; want 24 000 € with narrow no-break spaces, aligned right", got.Cost, got.Align)
		}
		if got.Focusable == 0 {
			return
		}
		// The region scrolls by keyboard: it takes the focus and the arrow keys.
		if err := chromedp.Do(ctx, chromedp.Focus(`.content .table-wrap`), chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowRight), chromedp.Sleep(200*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if left, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector('.content .table-wrap').scrollLeft`)); err != nil || left <= 0 {
			t.Errorf("the arrow keys did not scroll the focused table (scrollLeft %v, %v)", left, err)
		}
		res, err := axeRun(ctx, axe)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Violations) > 0 {
			t.Errorf("%s at 390 px: %d violations:%s", budget, len(res.Violations), res)
		}
	})

	t.Run("finding 10: contact in the mobile menu", func(t *testing.T) {
		ctx := tab(t, b)
		noScript(t, ctx)
		viewport(t, ctx, 390, 800)
		navigate(t, ctx, d.url+"/")
		contact := `details.menu-narrow nav a[href="/a-propos/#nous-contacter"]`
		if err := chromedp.Do(ctx, chromedp.Click(`details.menu-narrow > summary`)); err != nil {
			t.Fatal(err)
		}
		waitShown(t, ctx, contact, true)
	})

	t.Run("finding 10: participer once in the desktop header", func(t *testing.T) {
		ctx := tab(t, b)
		viewport(t, ctx, 1280, 800)
		navigate(t, ctx, d.url+"/")
		var shown []string
		evalJSON(t, ctx, `JSON.stringify([...document.querySelectorAll('header.site-header a')]
			.filter(a => a.checkVisibility() && a.textContent.trim() === 'Participer').map(a => a.getAttribute('href')))`, &shown)
		if len(shown) != 1 {
			t.Errorf("the desktop header shows Participer %d times: %q", len(shown), shown)
		}
		waitShown(t, ctx, `header.site-header .tool-links a[href="/a-propos/#nous-contacter"]`, true)
	})

	t.Run("finding 10: invalid text inputs turn red", func(t *testing.T) {
		ctx := tab(t, b)
		navigate(t, ctx, d.url+"/participer/article/")
		var got struct{ Input, Textarea, Valid string }
		// As parvis.js marks a field the browser found invalid.
		evalJSON(t, ctx, `(() => {
			const mark = el => { el.closest('.field').classList.add('invalid'); el.setAttribute('aria-invalid', 'true'); return getComputedStyle(el).boxShadow; };
			const valid = getComputedStyle(document.querySelector('#form-article-author')).boxShadow;
			return JSON.stringify({Input: mark(document.querySelector('#form-article-title')), Textarea: mark(document.querySelector('#form-article-summary')), Valid: valid});
		})()`, &got)
		const red = "rgb(206, 5, 0)"
		if !strings.Contains(got.Input, red) || !strings.Contains(got.Textarea, red) || strings.Contains(got.Valid, red) {
			t.Errorf("underlines: invalid input %q, invalid textarea %q, valid input %q", got.Input, got.Textarea, got.Valid)
		}
	})

	t.Run("finding 10: card summaries end as written", func(t *testing.T) {
		for _, width := range []int64{1280, 390} {
			ctx := tab(t, b)
			viewport(t, ctx, width, 900)
			navigate(t, ctx, d.url+"/")
			var cards []struct {
				Title, Text string
				Clamp       string
				Clipped     bool
			}
			evalJSON(t, ctx, `JSON.stringify([...document.querySelectorAll('.card')].filter(c => c.querySelector('.card-desc')).map(c => {
				const p = c.querySelector('.card-desc'), s = getComputedStyle(p);
				return {Title: c.querySelector('.card-title').textContent.trim(), Text: p.textContent,
					Clamp: s.webkitLineClamp, Clipped: p.scrollHeight > p.clientHeight + 1};
			}))`, &cards)
			found := false
			for _, c := range cards {
				if c.Clamp != "none" || c.Clipped {
					t.Errorf("%d px, %q: the summary is clamped by the style sheet (%s), which adds an ellipsis where it cuts", width, c.Title, c.Clamp)
				}
				if strings.HasSuffix(strings.TrimRight(c.Text, "…"), ".") && strings.HasSuffix(c.Text, "…") {
					t.Errorf("%d px, %q ends in a full stop and an ellipsis: %q", width, c.Title, c.Text)
				}
				if strings.Contains(c.Title, "quarante exposants") { // the article, not the event
					found = true
					if !strings.HasSuffix(c.Text, "13 décembre.") {
						t.Errorf("the Christmas market's card reads %q, want it to end with its first sentence", c.Text)
					}
				}
			}
			if !found {
				t.Errorf("no card for the Christmas market among %d", len(cards))
			}
		}
	})

	t.Run("finding 10: times hold together", func(t *testing.T) {
		ctx := tab(t, b)
		for _, page := range []string{"/", "/articles/extinction-eclairage-nocturne/", "/events/"} {
			navigate(t, ctx, d.url+page)
			var split []string
			evalJSON(t, ctx, `JSON.stringify((document.body.innerText.match(/.{0,12}\b\d{1,2} h( \d\d)?\b.{0,8}/g) || []))`, &split)
			if len(split) > 0 {
				t.Errorf("%s: times with a breakable space: %q", page, split)
			}
		}
	})

	t.Run("finding 10: past events in a dossier", func(t *testing.T) {
		ctx := tab(t, b)
		navigate(t, ctx, d.url+"/dossiers/revision-plu/")
		var cards []struct {
			Title, Status, Border string
		}
		evalJSON(t, ctx, `JSON.stringify([...document.querySelectorAll('.card-event')].map(c => ({
			Title: c.querySelector('.card-title').textContent.trim(),
			Status: (c.querySelector('.card-status') || {}).textContent || '',
			Border: getComputedStyle(c.querySelector('.card-date')).borderTopColor})))`, &cards)
		var past, upcoming int
		for _, c := range cards {
			switch {
			case strings.Contains(c.Title, "première réunion"):
				past++
				if c.Status != "Événement passé" || c.Border == "rgb(0, 0, 145)" {
					t.Errorf("the past event %q looks upcoming: %+v", c.Title, c)
				}
			case strings.Contains(c.Title, "zonage"):
				upcoming++
				if c.Status != "" || c.Border != "rgb(0, 0, 145)" {
					t.Errorf("the upcoming event %q: %+v", c.Title, c)
				}
			}
		}
		if past != 1 || upcoming != 1 {
			t.Errorf("found %d past and %d upcoming event cards: %+v", past, upcoming, cards)
		}
	})

	t.Run("finding 10: the month said once", func(t *testing.T) {
		ctx := tab(t, b)
		navigate(t, ctx, d.url+"/events/2026/12/")
		var shown []string
		// What a sighted reader sees above the month's list, breadcrumbs aside.
		evalJSON(t, ctx, `(() => {
			const out = [], list = document.querySelector('#month-list-title');
			const walk = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
			for (let n; (n = walk.nextNode());) {
				const el = n.parentElement, r = el.getBoundingClientRect();
				if (el.closest('.breadcrumbs') || !n.data.includes('décembre 2026') || r.width <= 1 || r.height <= 1) continue;
				if (list.compareDocumentPosition(n) & Node.DOCUMENT_POSITION_FOLLOWING) continue;
				out.push(el.textContent.trim());
			}
			return JSON.stringify(out);
		})()`, &shown)
		if len(shown) != 1 {
			t.Errorf("the month view shows “décembre 2026” %d times: %q", len(shown), shown)
		}
		if name, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('table.calendar-month caption').textContent`)); err != nil || !strings.HasPrefix(name, "décembre 2026") {
			t.Errorf("the calendar's caption, for screen readers, reads %q (%v)", name, err)
		}
	})

	t.Run("finding 10: footnote back-link named", func(t *testing.T) {
		ctx := tab(t, b)
		navigate(t, ctx, d.url+budget)
		name, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('a.footnote-backref') || {getAttribute: () => 'none'}).getAttribute('aria-label')`))
		if err != nil || name != "Revenir au texte" {
			t.Errorf("the footnote back-link is named %q (%v)", name, err)
		}
	})
}

// upload sends a form with files through the service's intake, as a browser's multipart
// form would, and waits until it awaits a moderator.
func (m *moderation) upload(t *testing.T, form string, fields map[string]string, file, name, ctype string, data []byte) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fields["options[token]"] = m.svc.Checker().Issue(form, time.Now().Add(-time.Minute))
	fields["fields[website]"] = ""
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name="fields[%s]"; filename="%s"`, file, name)}
	h["Content-Type"] = []string{ctype}
	fw, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", m.url+"/api/v1/entries/"+form, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct{ ID string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("the %s was refused: %d %v", form, res.StatusCode, err)
	}
	m.wait(t, out.ID, store.Pending)
	return out.ID
}

// TestModerationContribution is finding 11 in Chromium: a proposed photo and a document,
// as a moderator sees them. The photo is shown, the document is a download, the preview's
// frame loads, the diff is one click away, and the pages pass axe-core at both widths.
func TestModerationContribution(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are left out by -short")
	}
	axe := testenv.Axe(t)
	b := browser(t)
	m := serveModeration(t)

	pic := image.NewRGBA(image.Rect(0, 0, 120, 80))
	for x := range 120 {
		for y := range 80 {
			pic.Set(x, y, color.RGBA{uint8(x * 2), uint8(y * 3), 150, 255})
		}
	}
	var img bytes.Buffer
	if err := png.Encode(&img, pic); err != nil {
		t.Fatal(err)
	}
	photo := m.upload(t, "photo", map[string]string{
		"fields[title]": "Le lavoir au printemps", "fields[caption]": "Le lavoir des Granges, un matin d'avril.",
		"fields[alt]": "Un lavoir en pierre sous des saules.", "fields[author]": "Odette L.", "fields[license]": "CC-BY-4.0",
	}, "image", "lavoir.png", "image/png", img.Bytes())
	doc := m.upload(t, "document", map[string]string{
		"fields[title]": "Compte rendu de l'assemblée générale", "fields[description]": "Le compte rendu de l'assemblée générale du comité des fêtes.",
	}, "file", "compte-rendu.pdf", "application/pdf", doccorpus.LibreOffice())

	ctx := tab(t, b)
	var mu sync.Mutex
	previews := map[string]int64{}
	chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventResponseReceived); ok && strings.HasSuffix(e.Response.URL, "/preview") {
			mu.Lock()
			previews[e.Response.URL] = e.Response.Status
			mu.Unlock()
		}
	})
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(m.url+"/admin/"),
		chromedp.WaitVisible(`#name`),
		chromedp.SendKeys(`#name`, "ana"),
		chromedp.SendKeys(`#password`, moderatorPassword),
		chromedp.Click(`main form button[type=submit]`),
		chromedp.WaitVisible(`table#selection`),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	for _, width := range []int64{1280, 390} {
		viewport(t, ctx, width, 900)
		for _, id := range []string{photo, doc} {
			navigate(t, ctx, m.url+"/admin/submissions/"+id)
			var got struct {
				H1, Fields              string
				Photo                   int
				Alt, Caption            string
				Links                   []string
				DiffShown, DetailsFound bool
			}
			evalJSON(t, ctx, `(() => {
				const img = document.querySelector('figure.photo img');
				return JSON.stringify({H1: document.querySelector('h1').textContent,
					Fields: (document.querySelector('dl.fields') || {}).innerText || '',
					Photo: img && img.complete ? img.naturalWidth : 0, Alt: img ? img.alt : '',
					Caption: (document.querySelector('figure.photo figcaption') || {}).textContent || '',
					Links: [...document.querySelectorAll('ul.documents a[download]')].map(a => a.getAttribute('href')),
					DiffShown: document.querySelector('.diff').checkVisibility(),
					DetailsFound: !!document.querySelector('details.diff-details:not([open]) .diff')});
			})()`, &got)
			if got.DiffShown || !got.DetailsFound {
				t.Errorf("%s: the diff shows as the page opens (%v, behind details: %v)", got.H1, got.DiffShown, got.DetailsFound)
			}
			if id == photo {
				if got.Photo != 120 || got.Alt != "Un lavoir en pierre sous des saules." || got.Caption != "Le lavoir des Granges, un matin d’avril." && got.Caption != "Le lavoir des Granges, un matin d'avril." {
					t.Errorf("the photo: width %d, alt %q, caption %q", got.Photo, got.Alt, got.Caption)
				}
				if !strings.Contains(got.Fields, "Licence") || !strings.Contains(got.Fields, "CC-BY-4.0") || !strings.Contains(got.Fields, "Odette L.") {
					t.Errorf("the photo's fields read %q", got.Fields)
				}
			} else if len(got.Links) != 1 || !strings.HasSuffix(got.Links[0], ".pdf") {
				t.Errorf("the document's download links: %q", got.Links)
			}
			res, err := axeRun(ctx, axe)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Violations) > 0 {
				t.Errorf("%s at %d px: %d WCAG 2.1 A/AA violations:%s", got.H1, width, len(res.Violations), res)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range []string{photo, doc} {
		if st := previews[m.url+"/admin/submissions/"+id+"/preview"]; st != http.StatusOK {
			t.Errorf("the preview frame of %s answered %d, want 200: %v", id, st, previews)
		}
	}
}
