package commentsvc

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/parvis/parvis/internal/forge"
	"github.com/parvis/parvis/internal/store"
)

// adminSite is the site the moderation tests run on: a comment form, an article form, and
// one moderator in parvis.yaml (PASSWORD_HASH is replaced with a hash of anaPassword).
const adminSite = `
-- parvis.yaml --
title: Ville de Testville
baseURL: https://www.testville.example/
language: fr
service:
  moderators:
    - {name: ana, password: "PASSWORD_HASH"}
  REASONS
forms:
  comment:
    title: Commentaire
    fields:
      name: {required: true, max: 80}
      message: {type: markdown, required: true, max: 2000}
    options: [page, parent, redirect]
    generated: {_id: id, date: date}
    path: "comments/{options.page}"
    filename: "{_id}.yaml"
    antispam: {honeypot: website, minSeconds: -1}
  article:
    title: Proposer un article
    fields:
      title: {required: true, max: 120}
      body: {type: markdown, required: true, max: 5000}
      author: {required: true, max: 80}
    generated: {slug: slug, date: date}
    path: "articles/{slug}"
    filename: index.md
    format: markdown
    body: body
    antispam: {minSeconds: -1}
  photo:
    title: Partager une photo
    order: [image, title, caption, alt, author, story]
    fields:
      image: {type: image, label: Photo, required: true, max: 200000}
      title: {label: Titre, required: true}
      caption: {label: Légende, type: textarea, required: true}
      alt: {label: Description de l’image, type: textarea}
      author: {label: Auteur, required: true}
      story: {label: Histoire, type: markdown}
    generated: {slug: slug, date: date}
    path: "photos/{slug}"
    filename: index.md
    format: markdown
    body: story
    antispam: {minSeconds: -1}
  document:
    title: Déposer un document
    order: [file, title, description]
    fields:
      file: {type: file, label: Fichier, required: true, accept: [application/pdf, application/vnd.oasis.opendocument.text], max: 2000000}
      title: {label: Titre du document, required: true}
      description: {label: Présentation, type: markdown, required: true}
    generated: {slug: slug, date: date}
    path: "documents/{slug}"
    filename: index.md
    format: markdown
    body: description
    antispam: {minSeconds: -1}
-- articles/budget.md --
---
title: Le budget 2026
date: 2026-03-14
---
Le budget est voté.
`

const anaPassword = "correct horse battery"

// clock is the service's clock in tests: real time plus what a test adds, so that session
// expiry and lockouts can be tested without waiting.
type clock struct {
	mu   sync.Mutex
	skew time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.skew)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.skew += d
	c.mu.Unlock()
}

// harness is a real service on the real pieces: a Git repository with the gitlocal forge,
// a bbolt store and queue, local uploads, a rebuild that loads the site from the
// repository, the worker running, and the HTTP surface on a loopback server.
type harness struct {
	svc   *Service
	srv   *httptest.Server
	clock *clock
	repo  string
	tr    *http.Transport
}

type harnessConfig struct {
	noAccount bool
	reasons   []string
	language  string
}

func newHarness(t *testing.T, cfgs ...harnessConfig) *harness {
	t.Helper()
	var hc harnessConfig
	if len(cfgs) > 0 {
		hc = cfgs[0]
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(anaPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(adminSite, "PASSWORD_HASH", string(hash), 1)
	if hc.noAccount {
		text = strings.Replace(text, "  moderators:\n    - {name: ana, password: \""+string(hash)+"\"}\n", "", 1)
	}
	reasons := ""
	if len(hc.reasons) > 0 {
		b, _ := json.Marshal(hc.reasons)
		reasons = "reasons: " + string(b)
	}
	text = strings.Replace(text, "REASONS", reasons, 1)
	if hc.language != "" {
		text = strings.Replace(text, "language: fr", "language: "+hc.language, 1)
	}

	repoDir, _, opts := parts(t, text, time.Second)
	c := &clock{}
	svc, err := New(append(opts, WithClock(c.Now))...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()
	srv := httptest.NewServer(svc.Handler())
	tr := &http.Transport{}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
		cancel()
		<-done
	})
	return &harness{svc: svc, srv: srv, clock: c, repo: repoDir, tr: tr}
}

// submitComment posts a comment through the service's intake, as a citizen's browser
// would, and waits for the worker to make it a pending change.
func (h *harness) submitComment(t *testing.T, name, message string) string {
	t.Helper()
	return h.submit(t, "comment", url.Values{
		"fields[name]": {name}, "fields[message]": {message}, "fields[website]": {""},
		"options[page]": {"articles/budget"},
	})
}

func (h *harness) submit(t *testing.T, form string, v url.Values) string {
	t.Helper()
	v.Set("options[token]", h.svc.checker.Issue(form, h.clock.Now().Add(-10*time.Second)))
	req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/entries/"+form, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := (&http.Client{Transport: h.tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("submission refused: %d %v", res.StatusCode, body)
	}
	id, _ := body["id"].(string)
	h.waitStatus(t, id, store.Pending)
	return id
}

// openChange makes a pending submission straight on the forge and in the store, as the
// worker does, for changes the intake would not take (a reply to a vanished comment).
func (h *harness) openChange(t *testing.T, id, title string, files ...forge.File) {
	t.Helper()
	c := &forge.Change{ID: id, Form: "comment", Page: "articles/budget", Title: title, Author: "Test", Files: files}
	p, err := h.svc.forge.Open(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	rec := &store.Record{ID: id, Form: "comment", Page: "articles/budget", Title: title, Author: "Test", Status: store.Pending, Change: p.Branch, Created: time.Now()}
	for _, f := range files {
		rec.Files = append(rec.Files, f.Path)
	}
	if err := h.svc.store.Put(rec); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) record(t *testing.T, id string) *store.Record {
	t.Helper()
	r, err := h.svc.store.Get(id)
	if err != nil {
		t.Fatalf("record %s: %v", id, err)
	}
	return r
}

// waitStatus polls the store until the record reaches status.
func (h *harness) waitStatus(t *testing.T, id string, status store.Status) *store.Record {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := h.svc.store.Get(id); err == nil && r.Status == status {
			return r
		}
		time.Sleep(10 * time.Millisecond)
	}
	r, err := h.svc.store.Get(id)
	t.Fatalf("%s did not reach %s: %+v, %v", id, status, r, err)
	return nil
}

// client is a browser: a cookie jar, no automatic redirects, and the Origin a browser
// sends with a form.
type client struct {
	t *testing.T
	h *harness
	c *http.Client
}

func (h *harness) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, h: h, c: &http.Client{
		Jar: jar, Transport: h.tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is a response with its body read.
type page struct {
	*http.Response
	body string
}

func (c *client) do(req *http.Request) page {
	c.t.Helper()
	res, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return page{res, string(b)}
}

func (c *client) get(path string) page {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.h.srv.URL+path, nil)
	return c.do(req)
}

// post sends a form. headers replace the browser's defaults; an empty value removes one.
func (c *client) post(path string, form url.Values, headers ...string) page {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.h.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.h.srv.URL)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	return c.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the token the forms of a page carry.
func (c *client) csrf(path string) string {
	c.t.Helper()
	p := c.get(path)
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		c.t.Fatalf("no CSRF token in %s (%d):\n%s", path, p.StatusCode, p.body)
	}
	return html.UnescapeString(m[1])
}

// login signs in through the login form and returns the answer.
func (c *client) login(name, password string) page {
	c.t.Helper()
	tok := c.csrf("/admin/login")
	return c.post("/admin/login", url.Values{"csrf": {tok}, "name": {name}, "password": {password}})
}

// signedIn returns a client signed in as ana.
func (h *harness) signedIn(t *testing.T) *client {
	t.Helper()
	c := h.client(t)
	if p := c.login("ana", anaPassword); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d\n%s", p.StatusCode, p.body)
	}
	return c
}

func (c *client) cookie(name string) *http.Cookie {
	u, _ := url.Parse(c.h.srv.URL + "/admin/")
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

func setCookie(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func mustContain(t *testing.T, where, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", where, w)
		}
	}
}

func mustNotContain(t *testing.T, where, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("%s holds %q", where, w)
		}
	}
}
