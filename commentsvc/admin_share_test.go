package commentsvc

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/parvis/parvis/internal/mail"
	"github.com/parvis/parvis/internal/share"
	"github.com/parvis/parvis/internal/store"
)

const sharedSiteArchive = `
-- parvis.yaml --
title: Testville
baseURL: https://www.testville.example/
language: fr
service:
  mailFrom: "Mairie <mairie@testville.example>"
  moderators:
    - {name: ana, password: "PASSWORD_HASH"}
forms:
  comment:
    fields:
      name: {label: Nom, required: true, max: 40}
      message: {label: Message, type: markdown, required: true, max: 500}
    options: [page, parent, redirect]
    generated: {_id: id, date: date}
    path: "comments/{options.page}"
    filename: "{_id}.yaml"
    antispam: {minSeconds: -1}
-- articles/budget.md --
---
title: Le budget
date: 2026-03-14
---
Le budget.
-- dossiers/finances/_index.md --
---
title: Commission des finances
visibility: shared
---
Travail de la commission.
-- dossiers/finances/note.md --
---
title: Note de cadrage
date: 2026-03-01
---
La note.
`

// shareHarness is the service with shared dossiers: a Manager on its store, mail to an
// outbox, moderators' pages and the admin API.
type shareHarness struct {
	*harness
	m      *share.Manager
	outbox string
}

func newShareHarness(t *testing.T) *shareHarness {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(anaPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	repoDir, st, opts := parts(t, strings.Replace(sharedSiteArchive, "PASSWORD_HASH", string(hash), 1), time.Second)
	out, err := mail.NewOutbox(filepath.Join(t.TempDir(), "outbox"))
	if err != nil {
		t.Fatal(err)
	}
	m := share.New(st, out)
	c := &clock{}
	svc, err := New(append(opts, WithClock(c.Now), WithMail(out), WithSharing(m), WithAdminToken("admintoken"))...)
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
	return &shareHarness{harness: &harness{svc: svc, srv: srv, clock: c, repo: repoDir, tr: tr}, m: m, outbox: out.Dir()}
}

var inviteLink = regexp.MustCompile(`https://www\.testville\.example/shared/[a-z0-9]+/#k=[0-9]+\.[A-Za-z0-9_-]{43}`)

// links reads the outbox: the links each address was sent, oldest first.
func (h *shareHarness) links(t *testing.T) map[string][]string {
	t.Helper()
	entries, err := os.ReadDir(h.outbox)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(h.outbox, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		text, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
		to := regexp.MustCompile(`(?m)^To: <?([^>\r\n]+)>?`).FindSubmatch(text)
		l := inviteLink.FindString(string(text))
		if to == nil || l == "" {
			t.Fatalf("%s: no recipient or no link:\n%s", e.Name(), text)
		}
		out[string(to[1])] = append(out[string(to[1])], l)
	}
	return out
}

// sendAs posts a comment on a page of the shared dossier, with a share token (or none).
func (h *shareHarness) sendAs(t *testing.T, page, token string) (int, map[string]any) {
	t.Helper()
	v := url.Values{
		"fields[name]": {"Membre"}, "fields[message]": {"Un avis de membre."}, "options[page]": {page},
		"options[token]": {h.svc.checker.Issue("comment", h.clock.Now().Add(-10*time.Second))},
	}
	if token != "" {
		v.Set("options[share]", token)
	}
	req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/entries/comment", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := (&http.Client{Transport: h.tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

// TestSharedDossierInvitations: a moderator invites from the moderation pages; the link is
// mailed, the address stays out of every address bar; a member's comment carries the key's
// token and is moderated and published like any other; removing a member rotates the key,
// and the old token is refused.
func TestSharedDossierInvitations(t *testing.T) {
	h := newShareHarness(t)
	c := h.signedIn(t)
	p := c.get("/admin/shared")
	mustContain(t, "the page", p.body, "Dossiers partagés", "Commission des finances", "Personne n’est encore invité", `action="/admin/shared/invite"`)
	if p.StatusCode != 200 {
		t.Fatalf("%d\n%s", p.StatusCode, p.body)
	}
	tok := c.csrf("/admin/shared")
	invite := func(email string) page {
		return c.post("/admin/shared/invite", url.Values{"csrf": {tok}, "dossier": {"dossiers/finances"}, "email": {email}})
	}
	bad := invite("Claire <claire@exemple.fr>")
	if bad.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a bad address: %d", bad.StatusCode)
	}
	mustContain(t, "a bad address's page", bad.body, "Saisissez une adresse électronique", `aria-invalid="true"`, `value="Claire &lt;claire@exemple.fr&gt;"`)
	if res := c.post("/admin/shared/invite", url.Values{"dossier": {"dossiers/finances"}, "email": {"x@y.fr"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d", res.StatusCode)
	}
	if p := h.client(t).post("/admin/shared/invite", url.Values{"dossier": {"dossiers/finances"}, "email": {"x@y.fr"}}); p.StatusCode != http.StatusForbidden {
		t.Errorf("signed out: %d", p.StatusCode)
	}

	for _, email := range []string{"alice@exemple.fr", "bob@exemple.fr"} {
		res := invite(email)
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "done=invited") || strings.Contains(loc, "exemple") {
			t.Fatalf("invite %s: %d %s\n%s", email, res.StatusCode, loc, res.body)
		}
	}
	links := h.links(t)
	key, err := h.m.Key("dossiers/finances")
	if err != nil {
		t.Fatal(err)
	}
	want := "https://www.testville.example" + key.Base() + "#" + key.Fragment()
	if len(links) != 2 || links["alice@exemple.fr"][0] != want || links["bob@exemple.fr"][0] != want {
		t.Fatalf("links %v, want %s", links, want)
	}
	p = c.get("/admin/shared?done=invited")
	mustContain(t, "the page after inviting", p.body, "L’invitation est envoyée", "alice@exemple.fr", "bob@exemple.fr", "envoyé (clé n° 1)", "Retirer alice@exemple.fr du dossier")

	// A member's comment: refused without the token or with a wrong one, taken with it.
	if code, body := h.sendAs(t, "dossiers/finances/note", ""); code != http.StatusUnprocessableEntity || body["error"] != "unknown_page" {
		t.Errorf("without a token: %d %v", code, body)
	}
	if code, body := h.sendAs(t, "dossiers/finances/note", share.Token(bytes.Repeat([]byte{1}, 32))); code != http.StatusUnprocessableEntity || body["error"] != "share_key" {
		t.Errorf("a wrong token: %d %v", code, body)
	}
	code, body := h.sendAs(t, "dossiers/finances/note", key.Token())
	if code != http.StatusAccepted {
		t.Fatalf("a member's comment: %d %v", code, body)
	}
	id := body["id"].(string)
	h.waitStatus(t, id, store.Pending)
	change, err := h.svc.forge.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range change.Files {
		if !strings.HasPrefix(f.Path, "comments/dossiers/finances/note/") || bytes.Contains(f.Data, []byte(key.Token())) {
			t.Errorf("the change writes %s:\n%s", f.Path, f.Data)
		}
	}
	if _, err := h.svc.Approve(context.Background(), id, "ana"); err != nil {
		t.Fatal(err)
	}
	h.waitStatus(t, id, store.Published)

	// Removing Alice: a new key, Bob's new link, the old token refused.
	res := c.post("/admin/shared/revoke", url.Values{"csrf": {tok}, "dossier": {"dossiers/finances"}, "email": {"alice@exemple.fr"}})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "done=revoked&sent=1&v=2") {
		t.Fatalf("revoke: %d %s\n%s", res.StatusCode, res.Header.Get("Location"), res.body)
	}
	key2, _ := h.m.Key("dossiers/finances")
	links = h.links(t)
	if len(links["alice@exemple.fr"]) != 1 || len(links["bob@exemple.fr"]) != 2 {
		t.Errorf("links after the revocation: %v", links)
	}
	if code, body := h.sendAs(t, "dossiers/finances/note", key.Token()); code != http.StatusUnprocessableEntity || body["error"] != "share_key" {
		t.Errorf("the old token after the revocation: %d %v", code, body)
	}
	if code, _ := h.sendAs(t, "dossiers/finances/note", key2.Token()); code != http.StatusAccepted {
		t.Errorf("the new token: %d", code)
	}
	p = c.get("/admin/shared?done=revoked&v=2&sent=1")
	mustContain(t, "the page after revoking", p.body, "Nouvelle clé n° 2 ; nouveaux liens envoyés : 1", "bob@exemple.fr")
	mustNotContain(t, "the page after revoking", p.body, "alice@exemple.fr")
}

// TestSharedDossierAPI: the command line's side, with the admin token.
func TestSharedDossierAPI(t *testing.T) {
	h := newShareHarness(t)
	call := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer admintoken")
		req.Header.Set("Content-Type", "application/json")
		res, err := (&http.Client{Transport: h.tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := call("GET", "/admin/api/shares", ""); code != 200 {
		t.Fatalf("list: %d", code)
	}
	for _, c := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"POST", "/admin/api/shares/finances/invite", `{"email": "claire@exemple.fr"}`, 200, `"version":1`},
		{"POST", "/admin/api/shares/finances/invite", `{"email": "pas une adresse"}`, 400, "not an e-mail address"},
		{"POST", "/admin/api/shares/inconnu/invite", `{"email": "claire@exemple.fr"}`, 404, "not a shared dossier"},
		{"GET", "/admin/api/shares/finances/members", "", 200, `"email":"claire@exemple.fr"`},
		{"POST", "/admin/api/shares/finances/revoke", `{"email": "denis@exemple.fr"}`, 404, "not a member"},
		{"POST", "/admin/api/shares/finances/rotate", "", 200, `"version":2`},
		{"POST", "/admin/api/shares/finances/explode", "", 404, "unknown action"},
		{"GET", "/admin/api/shares", "", 200, `"members":1`},
	} {
		code, body := call(c.method, c.path, c.body)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d %s, want %d with %q", c.method, c.path, code, body, c.code, c.want)
		}
	}
	req, _ := http.NewRequest("GET", h.srv.URL+"/admin/api/shares/finances/members", nil)
	res, err := (&http.Client{Transport: h.tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("members without the token: %d", res.StatusCode)
	}
}
