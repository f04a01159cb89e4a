package commentsvc

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/parvis/parvis/generator"
)

// citizenArchive is a site with the comment form and a proposal form for articles, built by
// the generator with the default theme: the pages a refused form comes back in.
const citizenArchive = `
-- parvis.yaml --
title: Testville
baseURL: https://www.testville.example/
language: fr
timeZone: Europe/Paris
forms:
  comment:
    title: Laisser un commentaire
    order: [name, message, email]
    fields:
      name: {label: Votre nom, required: true, max: 40}
      message: {label: Votre commentaire, type: markdown, required: true, max: 500}
      email: {label: Votre adresse, type: email, private: true}
    options: [page, parent, redirect]
    generated: {_id: id, date: date}
    path: "comments/{options.page}"
    filename: "{_id}.yaml"
    antispam: {honeypot: website, minSeconds: -1}
  article:
    title: Proposer un article
    order: [title, topic, body, image, agree]
    fields:
      title: {label: Titre, required: true, min: 5, max: 120}
      topic: {label: Thème, type: choice, choices: [culture, sport, travaux, écoles, voirie, santé], required: true}
      body: {label: Texte de l'article, type: markdown, required: true, min: 200, max: 20000}
      image: {label: Illustration, type: image, max: 200000}
      agree: {label: J’accepte la publication, type: choice, choices: [oui]}
    generated: {slug: slug}
    path: "articles/{slug}"
    filename: "index.md"
    format: markdown
    body: body
    antispam: {honeypot: website, minSeconds: -1}
-- articles/budget.md --
---
title: Le budget 2026
date: 2026-03-14
---
Le budget.
-- comments/articles/budget/c1.yaml --
_id: c1
name: Claire
date: 2026-03-15
message: Bonjour.
`

// article324 is the proposal the issue lost: 324 characters, with what HTML must escape.
var article324 = func() string {
	s := "Le « marché » du samedi <b>revient</b> place des Tilleuls & rue \"Haute\" :\r\n" +
		"</textarea><script>alert(1)</script> les producteurs seront là dès 8 h, "
	for len([]rune(s)) < 324 {
		s += "avec des légumes, "
	}
	return string([]rune(s)[:324])
}()

type citizenFixture struct {
	*fixture
	clock *clock
	out   string
}

// newCitizen runs the service on citizenArchive, its pages built by the generator and read
// from the output folder as parvis serve does, the challenge on.
func newCitizen(t *testing.T, opts ...Option) *citizenFixture {
	t.Helper()
	repo, st, all := parts(t, citizenArchive, time.Hour)
	out := filepath.Join(t.TempDir(), "public")
	o, err := generator.NewDirOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := generator.New(generator.WithSiteDir(repo), generator.WithOutput(o)).Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := &clock{}
	svc, err := New(append(append(all, WithChallenge(true), WithClock(c.Now), WithPages(DirPages(out))), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	return &citizenFixture{fixture: &fixture{svc: svc, srv: srv, repo: repo, st: st}, clock: c, out: out}
}

// page is a parsed answer.
type answerPage struct {
	res  *http.Response
	body string
	doc  *html.Node
}

func readPage(t *testing.T, res *http.Response) answerPage {
	t.Helper()
	b, _ := io.ReadAll(res.Body)
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return answerPage{res: res, body: string(b), doc: doc}
}

func (p answerPage) byID(id string) *html.Node {
	for n := range p.doc.Descendants() {
		if n.Type == html.ElementNode && attr(n, "id") == id {
			return n
		}
	}
	return nil
}

func (p answerPage) named(name string) *html.Node {
	for n := range p.doc.Descendants() {
		if n.Type == html.ElementNode && attr(n, "name") == name {
			return n
		}
	}
	return nil
}

// Finding 7: with JavaScript off, a wrong answer to the question re-shows the form's own
// page, in the site's layout, with the 324-character article intact, escaped, and a fresh
// token whose question the page asks, the fault next to the answer.
func TestFirstHour7WrongAnswerKeepsTheArticle(t *testing.T) {
	f := newCitizen(t)
	tok := f.svc.checker.Issue("article", f.clock.Now())
	q, _ := f.svc.checker.QuestionFor(tok, "fr")
	v := url.Values{
		"fields[title]": {"Le marché revient"}, "fields[topic]": {"culture"}, "fields[body]": {article324},
		"fields[agree]": {"oui"}, "fields[website]": {""},
		"options[token]": {tok}, "options[question]": {q.ID}, "options[answer]": {"une réponse au hasard"}, "options[pow]": {""},
	}
	res := f.post(t, "/api/v1/entries/article", form, v.Encode(), map[string]string{"Referer": "https://www.testville.example/participer/article/"})
	p := readPage(t, res)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s:\n%s", res.StatusCode, res.Header.Get("Content-Type"), p.body)
	}
	if d := os.Getenv("PARVIS_DUMP"); d != "" {
		os.WriteFile(d, []byte(p.body), 0o644)
	}
	// The site's page: its header, menu and footer, its title marked.
	for _, want := range []string{`<header class="site-header">`, `<footer class="site-footer"`, "<h1>Proposer un article</h1>",
		"<title>Encore une étape – Proposer un article"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	body := p.named("fields[body]")
	if body == nil || body.DataAtom != atom.Textarea || strings.ReplaceAll(textOf(body), "\r\n", "\n") != strings.ReplaceAll(article324, "\r\n", "\n") {
		t.Fatalf("the article did not come back intact: %q", textOf(body))
	}
	if strings.Contains(p.body, "<script>alert") || strings.Contains(p.body, "<b>revient") {
		t.Error("what was typed is not escaped")
	}
	if got := attr(p.named("fields[title]"), "value"); got != "Le marché revient" {
		t.Errorf("title %q", got)
	}
	for o := range p.named("fields[topic]").Descendants() {
		if o.DataAtom == atom.Option && hasAttr(o, "selected") != (attr(o, "value") == "culture") {
			t.Errorf("option %q selected: %v", attr(o, "value"), hasAttr(o, "selected"))
		}
	}
	if !hasAttr(p.named("fields[agree]"), "checked") {
		t.Error("the box ticked is not ticked again")
	}
	// A fresh token and its own question; the answer empty, required, and its fault beside it.
	newTok := attr(p.named("options[token]"), "value")
	nq, ok := f.svc.checker.QuestionFor(newTok, "fr")
	if !ok || newTok == tok || attr(p.named("options[question]"), "value") != nq.ID {
		t.Fatalf("token %q (the posted one: %v), question %q", newTok, newTok == tok, attr(p.named("options[question]"), "value"))
	}
	var text string
	for n := range p.doc.Descendants() {
		if hasClass(n, "parvis-question-text") {
			text = textOf(n)
		}
	}
	answer := p.named("options[answer]")
	if text != nq.Text || attr(answer, "value") != "" || !hasAttr(answer, "required") || attr(answer, "aria-invalid") != "true" {
		t.Errorf("question %q (want %q), answer %v", text, nq.Text, answer.Attr)
	}
	slot := p.byID(attr(answer, "id") + "-error")
	if slot == nil || !strings.Contains(attr(answer, "aria-describedby"), attr(slot, "id")) || !strings.Contains(textOf(slot), "n’était pas la bonne") {
		t.Errorf("the answer's message: %v", answer.Attr)
	}
	summary := p.byID("form-article-errors")
	if summary == nil || attr(summary, "role") != "alert" || !strings.Contains(renderNode(summary), `href="#`+attr(answer, "id")+`"`) {
		t.Errorf("summary: %s", renderNode(summary))
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "form-action 'self'") {
		t.Errorf("CSP %q", csp)
	}
	// Answered, the page sends the article, whole.
	v2 := url.Values{}
	for n := range p.byID("form-article").Descendants() {
		if n.Type != html.ElementNode || attr(n, "name") == "" {
			continue
		}
		switch {
		case n.DataAtom == atom.Textarea:
			v2.Set(attr(n, "name"), textOf(n))
		case n.DataAtom == atom.Select:
			for o := range n.Descendants() {
				if hasAttr(o, "selected") {
					v2.Set(attr(n, "name"), attr(o, "value"))
				}
			}
		case attr(n, "type") == "radio" || attr(n, "type") == "checkbox":
			if hasAttr(n, "checked") {
				v2.Set(attr(n, "name"), attr(n, "value"))
			}
		case attr(n, "type") != "file" && n.DataAtom == atom.Input:
			v2.Set(attr(n, "name"), attr(n, "value"))
		}
	}
	a, _ := f.svc.checker.AnswerFor(newTok)
	v2.Set("options[answer]", a)
	res = f.post(t, "/api/v1/entries/article", form, v2.Encode(), map[string]string{"Origin": f.srv.URL, "Referer": f.srv.URL + "/api/v1/entries/article"})
	if res.StatusCode != http.StatusSeeOther {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("answered: %d %s", res.StatusCode, b)
	}
	if got := leaseOne(t, f.fixture); strings.ReplaceAll(got.Fields["body"], "\r\n", "\n") != strings.ReplaceAll(article324, "\r\n", "\n") {
		t.Errorf("queued %q", got.Fields["body"])
	}
}

// Finding 7: each message stands next to its field, tied with aria-describedby and marked
// aria-invalid, and the summary links to each; what was typed comes back, files excepted.
func TestFirstHour7MessagesNextToFields(t *testing.T) {
	f := newCitizen(t)
	v := f.answeredIn("comment", url.Values{
		"fields[name]": {""}, "fields[message]": {strings.Repeat("trop long ", 60)}, "fields[email]": {"claire@example.org"},
		"fields[website]": {""}, "options[page]": {"articles/budget"}, "options[parent]": {"c1"},
	})
	p := readPage(t, f.post(t, "/api/v1/entries/comment", form, v.Encode(), map[string]string{"Referer": "https://www.testville.example/articles/budget/"}))
	if p.res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(p.body, "<h1>Le budget 2026</h1>") {
		t.Fatalf("%d, not the article's page:\n%s", p.res.StatusCode, p.body)
	}
	for key, want := range map[string]string{"fields[name]": "obligatoire", "fields[message]": "au plus 500"} {
		c := p.named(key)
		id := attr(c, "id")
		slot := p.byID(id + "-error")
		if attr(c, "aria-invalid") != "true" || slot == nil || !strings.Contains(textOf(slot), want) ||
			!strings.Contains(" "+attr(c, "aria-describedby")+" ", " "+id+"-error ") {
			t.Errorf("%s: %v, slot %q", key, c.Attr, textOf(slot))
		}
		if !hasClass(c.Parent, "invalid") {
			t.Errorf("%s: its field is not marked", key)
		}
		if !strings.Contains(renderNode(p.byID("form-comment-errors")), `<a href="#`+id+`">`) {
			t.Errorf("the summary does not link to %s", id)
		}
	}
	if attr(p.named("fields[email]"), "value") != "claire@example.org" || attr(p.named("fields[email]"), "aria-invalid") != "" {
		t.Errorf("e-mail %v", p.named("fields[email]").Attr)
	}
	if !strings.Contains(textOf(p.named("fields[message]")), "trop long trop long") {
		t.Error("the message did not come back")
	}
	for o := range p.named("options[parent]").Descendants() {
		if o.DataAtom == atom.Option && attr(o, "value") == "c1" && !hasAttr(o, "selected") {
			t.Error("the comment replied to is not chosen again")
		}
	}
	// The summary comes first in the form and takes the focus.
	box := p.byID("form-comment-errors")
	if box.Parent != p.byID("form-comment") || !hasAttr(box, "autofocus") || attr(box, "tabindex") != "-1" {
		t.Errorf("summary %v under %v", box.Attr, box.Parent.Attr)
	}

	// A file cannot come back: the page says to choose it again, next to it.
	var img bytes.Buffer
	png.Encode(&img, image.NewGray(image.Rect(0, 0, 20, 20)))
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	tok := f.svc.checker.Issue("article", f.clock.Now())
	a, _ := f.svc.checker.AnswerFor(tok)
	q, _ := f.svc.checker.QuestionFor(tok, "fr")
	for k, val := range map[string]string{"fields[title]": "Court", "fields[topic]": "sport", "fields[body]": "Trop court.",
		"options[token]": tok, "options[question]": q.ID, "options[answer]": a} {
		mw.WriteField(k, val)
	}
	fw, _ := mw.CreateFormFile("fields[image]", "lavoir.png")
	fw.Write(img.Bytes())
	mw.Close()
	p = readPage(t, f.post(t, "/api/v1/entries/article", mw.FormDataContentType(), buf.String(), nil))
	file := p.named("fields[image]")
	if p.res.StatusCode != http.StatusUnprocessableEntity || file == nil || hasAttr(file, "value") {
		t.Fatalf("%d, file input %v", p.res.StatusCode, file)
	}
	if slot := p.byID(attr(file, "id") + "-error"); slot == nil || !strings.Contains(textOf(slot), "choisissez-le à nouveau") ||
		!strings.Contains(textOf(slot), "Illustration") {
		t.Errorf("the file's slot says %q", textOf(slot))
	}
	if !strings.Contains(textOf(p.byID("form-article-body-error")), "au moins 200") {
		t.Errorf("body: %q", textOf(p.byID("form-article-body-error")))
	}
}

// answeredIn completes a post with a token of form and its answer.
func (f *citizenFixture) answeredIn(form string, v url.Values) url.Values {
	tok := f.svc.checker.Issue(form, f.clock.Now())
	q, _ := f.svc.checker.QuestionFor(tok, "fr")
	a, _ := f.svc.checker.AnswerFor(tok)
	v.Set("options[token]", tok)
	v.Set("options[question]", q.ID)
	v.Set("options[answer]", a)
	return v
}

// Finding 7: a post too large for its form (413) comes back with its text, read past the
// file's bytes; without the site's pages, the service's own form stands in, filled as well.
func TestFirstHour7TooLargeAndWithoutPages(t *testing.T) {
	f := newCitizen(t)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("fields[title]", "Le lavoir restauré")
	mw.WriteField("fields[body]", article324)
	fw, _ := mw.CreateFormFile("fields[image]", "grand.png")
	fw.Write(bytes.Repeat([]byte{0x89}, 3<<20))
	mw.WriteField("fields[topic]", "travaux")
	mw.Close()
	p := readPage(t, f.post(t, "/api/v1/entries/article", mw.FormDataContentType(), buf.String(), nil))
	if p.res.StatusCode != http.StatusRequestEntityTooLarge || attr(p.named("fields[title]"), "value") != "Le lavoir restauré" ||
		!strings.Contains(textOf(p.named("fields[body]")), "producteurs") {
		t.Fatalf("%d:\n%.2000s", p.res.StatusCode, p.body)
	}
	if !strings.Contains(renderNode(p.byID("form-article-errors")), "trop volumineux") ||
		!strings.Contains(textOf(p.byID("form-article-image-error")), "choisissez-le à nouveau") {
		t.Errorf("summary %s", renderNode(p.byID("form-article-errors")))
	}

	// No pages: the service's own form, with the messages next to the fields.
	_, _, opts := parts(t, citizenArchive, time.Hour)
	svc, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	alone := &fixture{svc: svc, srv: httptest.NewServer(svc.Handler())}
	t.Cleanup(alone.srv.Close)
	v := alone.comment(map[string]string{"fields[name]": "", "fields[message]": "Un avis <i>réfléchi</i>", "fields[website]": ""})
	p = readPage(t, alone.post(t, "/api/v1/entries/comment", form, v.Encode(), nil))
	name := p.named("fields[name]")
	if p.res.StatusCode != http.StatusUnprocessableEntity || attr(name, "aria-invalid") != "true" ||
		!strings.Contains(textOf(p.byID("form-comment-name-error")), "obligatoire") ||
		textOf(p.named("fields[message]")) != "Un avis <i>réfléchi</i>" || attr(p.named("options[page]"), "value") != "articles/budget" {
		t.Errorf("%d:\n%s", p.res.StatusCode, p.body)
	}
}

// Finding 7, and the redirect of finding 2: a redirect the posting page's policy would
// block (form-action) is never sent; the answer goes where the page may follow.
func TestFirstHour7NoRedirectTheCSPBlocks(t *testing.T) {
	f := newCitizen(t)
	send := func(redirect string, h map[string]string) string {
		t.Helper()
		v := f.answeredIn("comment", url.Values{"fields[name]": {"Lucie"}, "fields[message]": {"Bonjour " + redirect + h["Origin"]},
			"options[page]": {"articles/budget"}, "options[redirect]": {redirect}})
		res := f.post(t, "/api/v1/entries/comment", form, v.Encode(), h)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%d", res.StatusCode)
		}
		return res.Header.Get("Location")
	}
	site := "https://www.testville.example/articles/budget/#comment-sent"
	// From the site's own pages: its own origin.
	if got := send(site, map[string]string{"Origin": "https://www.testville.example"}); got != site {
		t.Errorf("from the site: %q", got)
	}
	// The site served on the address the service listens on (made for another): the page
	// comes back on the address it was posted from.
	if got := send(site, map[string]string{"Origin": f.srv.URL}); got != f.srv.URL+"/articles/budget/#comment-sent" {
		t.Errorf("from %s: %q", f.srv.URL, got)
	}
	// No redirect: the receipt, relative to the address posted to when the page's origin is
	// not the one receipts' links name.
	v := f.answeredIn("comment", url.Values{"fields[name]": {"Lucie"}, "fields[message]": {"Sans retour"}, "options[page]": {"articles/budget"}})
	res := f.post(t, "/api/v1/entries/comment", form, v.Encode(), map[string]string{"Origin": f.srv.URL})
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "../../../api/v1/submissions/") {
		t.Errorf("%d to %q", res.StatusCode, loc)
	} else if u, _ := url.Parse(f.srv.URL + "/api/v1/entries/comment"); u.ResolveReference(mustURL(t, loc)).Path[:len("/api/v1/submissions/")] != "/api/v1/submissions/" {
		t.Errorf("%q does not resolve to the receipt", loc)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Finding 8: the receipt is a page of the site (header, menu, footer) that says what was
// sent, when in the site's time, where it will appear and where it stands, and gives its own
// address; every confirmation links to it. The JSON answer stays as it was.
func TestFirstHour8ReceiptIsAPageOfTheSite(t *testing.T) {
	f := newCitizen(t)
	f.clock.Advance(time.Until(time.Date(2026, 3, 16, 9, 5, 0, 0, time.UTC)))
	message := "Merci pour ces <précisions> & pour la carte des travaux, très claire. " + strings.Repeat("Encore un mot. ", 12)
	v := f.answeredIn("comment", url.Values{"fields[name]": {"Lucie"}, "fields[message]": {message}, "options[page]": {"articles/budget"}})
	res := f.post(t, "/api/v1/entries/comment", form, v.Encode(), nil)
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "/api/v1/submissions/") {
		t.Fatalf("without JavaScript: %d to %q, want the receipt", res.StatusCode, loc)
	}
	get := func(accept string) *http.Response {
		u, _ := url.Parse(loc)
		req, _ := http.NewRequest("GET", f.srv.URL+u.RequestURI(), nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	p := readPage(t, get(""))
	if d := os.Getenv("PARVIS_DUMP"); d != "" {
		os.WriteFile(d, []byte(p.body), 0o644)
	}
	for _, want := range []string{
		`<header class="site-header">`, `<nav`, `<footer class="site-footer"`, "<title>Suivi de votre contribution – Testville</title>",
		"<h1>Suivi de votre contribution</h1>", "Reçue", "Laisser un commentaire",
		"Merci pour ces &lt;précisions&gt; &amp; pour la carte des travaux", "…",
		"16 mars 2026 à 10\u00a0h\u00a005", `datetime="2026-03-16T10:05+01:00"`,
		`<a href="/articles/budget/">Le budget 2026</a>`, `href="/articles/budget/#comments"`, "Revenir à la page",
		"ajoutez-la à vos favoris ou copiez son adresse",
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the receipt lacks %q", want)
		}
	}
	if strings.Contains(p.body, "Gardez l’adresse") || strings.Contains(p.body, "<précisions>") {
		t.Error("the receipt asks to keep its address, or shows raw markup")
	}
	id := strings.TrimPrefix(mustURL(t, loc).Path, "/api/v1/submissions/")
	if !strings.Contains(p.body, ">https://www.testville.example/api/v1/submissions/"+id+"?token=") {
		t.Error("the receipt does not give its own address")
	}
	var js map[string]any
	decodeJSON(t, get("application/json"), &js)
	if len(js) != 2 || js["id"] != id || js["status"] != "pending" {
		t.Errorf("JSON receipt %v", js)
	}

	// Recorded, then rejected: the moderator's reason, escaped.
	f.run(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := f.st.Get(id); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker did not record the comment")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(readPage(t, get("")).body, "En attente de modération") {
		t.Error("pending is not said")
	}
	if _, err := f.svc.Reject(context.Background(), id, "ana", "Hors <sujet>"); err != nil {
		t.Fatal(err)
	}
	p = readPage(t, get(""))
	if !strings.Contains(p.body, "Refusée") || !strings.Contains(p.body, "Hors &lt;sujet&gt;") || !strings.Contains(p.body, "Merci pour ces") {
		t.Errorf("rejected:\n%s", p.body)
	}
	// A wrong token: the site's page too, saying so.
	bad := readPage(t, func() *http.Response {
		res, err := http.Get(f.srv.URL + "/api/v1/submissions/" + id + "?token=nope")
		if err != nil {
			t.Fatal(err)
		}
		return res
	}())
	if bad.res.StatusCode != http.StatusNotFound || !strings.Contains(bad.body, `<header class="site-header">`) || !strings.Contains(bad.body, "Aucune contribution") {
		t.Errorf("%d:\n%s", bad.res.StatusCode, bad.body)
	}
}

func renderNode(n *html.Node) string {
	if n == nil {
		return "<nil>"
	}
	var b bytes.Buffer
	html.Render(&b, n)
	return b.String()
}

// Finding 7, for a service that runs apart from the site: the refused form's page is
// fetched from the site's address, its links made absolute there, and its policy allows
// the site's files.
func TestFirstHour7PagesFromTheSitesAddress(t *testing.T) {
	f := newCitizen(t)
	bucket := httptest.NewServer(http.FileServer(http.Dir(f.out)))
	t.Cleanup(bucket.Close)
	_, _, opts := parts(t, citizenArchive, time.Hour)
	svc, err := New(append(opts, WithPagesFrom(bucket.URL, nil))...)
	if err != nil {
		t.Fatal(err)
	}
	apart := &fixture{svc: svc, srv: httptest.NewServer(svc.Handler())}
	t.Cleanup(apart.srv.Close)
	v := apart.comment(map[string]string{"fields[name]": ""})
	p := readPage(t, apart.post(t, "/api/v1/entries/comment", form, v.Encode(), nil))
	if p.res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(p.body, "<h1>Le budget 2026</h1>") ||
		!strings.Contains(p.body, `href="`+bucket.URL+`/css/parvis.`) || !strings.Contains(p.body, `src="`+bucket.URL+`/js/parvis.`) ||
		!strings.Contains(p.body, `href="#form-comment-name"`) {
		t.Fatalf("%d:\n%.3000s", p.res.StatusCode, p.body)
	}
	if csp := p.res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self' "+bucket.URL) {
		t.Errorf("CSP %q", csp)
	}
	// A page that cannot be had in time is no failure: the service's own form answers.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(time.Second) }))
	t.Cleanup(slow.Close)
	_, _, opts = parts(t, citizenArchive, time.Hour)
	svc, err = New(append(opts, WithPagesFrom(slow.URL, &http.Client{Timeout: 200 * time.Millisecond}))...)
	if err != nil {
		t.Fatal(err)
	}
	late := &fixture{svc: svc, srv: httptest.NewServer(svc.Handler())}
	t.Cleanup(late.srv.Close)
	p = readPage(t, late.post(t, "/api/v1/entries/comment", form, late.comment(map[string]string{"fields[name]": ""}).Encode(), nil))
	if p.res.StatusCode != http.StatusUnprocessableEntity || p.named("fields[name]") == nil || attr(p.named("fields[name]"), "aria-invalid") != "true" {
		t.Errorf("%d:\n%s", p.res.StatusCode, p.body)
	}
}
