package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"golang.org/x/tools/txtar"

	"github.com/parvis/parvis/commentsvc"
	"github.com/parvis/parvis/internal/store"
)

// testSite is a small site whose comment form waits one second, not three.
const testSite = `
-- parvis.yaml --
title: Ville de Testville
baseURL: http://localhost:8080/
language: fr
forms:
  comment:
    fields:
      name: {required: true, max: 80}
      message: {type: markdown, required: true, max: 2000}
      email: {type: email, private: true}
    options: [page, parent, redirect]
    transforms: [{field: email, op: hash, to: avatar}]
    generated: {_id: id, date: date}
    path: "comments/{options.page}"
    filename: "{_id}.yaml"
    antispam: {honeypot: website, minSeconds: 1}
-- articles/budget.md --
---
title: Le budget
date: 2026-03-14
---
Le budget est voté.
`

func writeSite(t *testing.T, archive string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range txtar.Parse([]byte(archive)).Files {
		p := filepath.Join(dir, f.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// testServer runs parvis serve's wiring in-process: a working repository made from the site,
// the store, the worker, the site and the service on one httptest server.
type testServer struct {
	*httptest.Server
	st  *state
	svc *commentsvc.Service
}

func startServer(t *testing.T, siteDir string, opts ...commentsvc.Option) *testServer {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := openState(siteDir, filepath.Join(t.TempDir(), "var"), log)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := st.service(append([]commentsvc.Option{commentsvc.WithChallenge(false)}, opts...)...)
	if err != nil {
		st.close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()
	ts := httptest.NewServer(serveMux(st, svc))
	t.Cleanup(func() {
		ts.Close()
		cancel()
		<-done
		st.close()
	})
	return &testServer{Server: ts, st: st, svc: svc}
}

var tokenRE = regexp.MustCompile(`name="options\[token\]" value="([^"]+)"`)

// formToken fetches a page and returns the anti-spam token its form carries.
func (ts *testServer) formToken(t *testing.T, path string) string {
	t.Helper()
	res, err := http.Get(ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := tokenRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no token in %s:\n%s", path, body)
	}
	return string(m[1])
}

func (ts *testServer) post(t *testing.T, form string, v url.Values, accept string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/entries/"+form, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (ts *testServer) getJSON(t *testing.T, u string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// waitStatus polls the store until the record reaches status.
func (ts *testServer) waitStatus(t *testing.T, id string, status store.Status) *store.Record {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := ts.st.store.Get(id); err == nil && r.Status == status {
			return r
		}
		time.Sleep(20 * time.Millisecond)
	}
	r, err := ts.st.store.Get(id)
	t.Fatalf("%s did not reach %s: %+v, %v", id, status, r, err)
	return nil
}

func comment(token, name, message string) url.Values {
	return url.Values{
		"fields[name]":      {name},
		"fields[message]":   {message},
		"fields[email]":     {"claire@example.org"},
		"fields[website]":   {""},
		"options[page]":     {"articles/budget"},
		"options[redirect]": {"http://localhost:8080/articles/budget/#comments"},
		"options[token]":    {token},
	}
}

// TestSubmitApprovePublish follows a comment from the form to the rebuilt page, and another
// from the form to the receipt that gives the moderator's reason.
func TestSubmitApprovePublish(t *testing.T) {
	ts := startServer(t, writeSite(t, testSite))
	token := ts.formToken(t, "/articles/budget/")
	time.Sleep(1100 * time.Millisecond) // the form's minimum time

	res := ts.post(t, "comment", comment(token, "Claire M.", "Merci pour ces **précisions**."), "application/json")
	if res.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("status %d: %s", res.StatusCode, b)
	}
	var accepted struct{ ID, Status, StatusURL string }
	var raw map[string]string
	if err := json.NewDecoder(res.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	accepted.ID, accepted.Status, accepted.StatusURL = raw["id"], raw["status"], raw["status_url"]
	if accepted.ID == "" || accepted.Status != "pending" || !strings.Contains(accepted.StatusURL, "/api/v1/submissions/"+accepted.ID+"?token=") {
		t.Fatalf("answer: %+v", raw)
	}
	rec := ts.waitStatus(t, accepted.ID, store.Pending)

	// The pending change is a branch of the working repository, and the e-mail is not in it.
	repo, err := git.PlainOpen(ts.st.repoDir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName("parvis/"+accepted.ID), true)
	if err != nil {
		t.Fatalf("no branch for the change: %v", err)
	}
	commit, _ := repo.CommitObject(ref.Hash())
	if strings.Contains(commit.Message+commit.Author.Email, "claire@example.org") {
		t.Errorf("the e-mail reached the commit: %s", commit.Message)
	}
	if len(rec.Files) != 1 || !strings.HasPrefix(rec.Files[0], "comments/articles/budget/") {
		t.Errorf("record files: %v", rec.Files)
	}

	var rc map[string]string
	ts.getJSON(t, accepted.StatusURL, &rc)
	if rc["status"] != "pending" {
		t.Errorf("receipt before approval: %v", rc)
	}

	if _, err := ts.svc.Approve(context.Background(), accepted.ID, "ana"); err != nil {
		t.Fatal(err)
	}
	pub := ts.waitStatus(t, accepted.ID, store.Published)
	if !strings.HasSuffix(pub.URL, "/articles/budget/#comment-"+accepted.ID) {
		t.Errorf("published URL %q", pub.URL)
	}
	ts.getJSON(t, accepted.StatusURL, &rc)
	if rc["status"] != "published" || rc["url"] != pub.URL {
		t.Errorf("receipt after approval: %v", rc)
	}
	page, _ := http.Get(ts.URL + "/articles/budget/")
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.Contains(string(body), "<strong>précisions</strong>") || !strings.Contains(string(body), `id="comment-`+accepted.ID+`"`) {
		t.Errorf("the rebuilt page lacks the comment:\n%s", body)
	}

	// A second comment, rejected: the receipt gives the reason, as JSON and as a page.
	res = ts.post(t, "comment", comment(token, "Bob", "Hors sujet."), "")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "http://localhost:8080/articles/budget/#comments" {
		t.Fatalf("status %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	var id string
	for id == "" {
		l, _ := ts.st.store.List("", 0, store.Pending)
		if len(l) > 0 {
			id = l[0].ID
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := ts.svc.Reject(context.Background(), id, "ana", "Message hors sujet"); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Reference(plumbing.NewBranchReferenceName("parvis/"+id), true); err == nil {
		t.Error("the rejected change's branch is still there")
	}
	statusURL := ts.URL + "/api/v1/submissions/" + id + "?token=" + ts.svc.ReceiptToken(id)
	ts.getJSON(t, statusURL, &rc)
	if rc["status"] != "rejected" || rc["reason"] != "Message hors sujet" {
		t.Errorf("receipt after rejection: %v", rc)
	}
	page, _ = http.Get(statusURL)
	body, _ = io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.Contains(string(body), "Message hors sujet") || !strings.Contains(string(body), "Refusée") {
		t.Errorf("the receipt page lacks the reason:\n%s", body)
	}
	// A wrong token shows nothing.
	wrong, _ := http.Get(ts.URL + "/api/v1/submissions/" + id + "?token=x")
	if wrong.StatusCode != http.StatusNotFound {
		t.Errorf("a wrong receipt token gave %d", wrong.StatusCode)
	}
	wrong.Body.Close()
}
