package commentsvc

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"go.etcd.io/bbolt"
	"golang.org/x/time/rate"
	"golang.org/x/tools/txtar"

	"github.com/parvis/parvis/internal/antispam"
	"github.com/parvis/parvis/internal/blob/localfs"
	"github.com/parvis/parvis/internal/forge/gitlocal"
	qbolt "github.com/parvis/parvis/internal/queue/bolt"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/store"
)

// siteArchive is the site the service tests run on: a comment form with every rule on, and a
// page whose comments are closed.
const siteArchive = `
-- parvis.yaml --
title: Testville
baseURL: https://www.testville.example/
language: fr
forms:
  comment:
    fields:
      name: {label: Nom, required: true, max: 40}
      message: {label: Message, type: markdown, required: true, max: 500}
      email: {type: email, private: true}
    options: [page, parent, redirect]
    transforms: [{field: email, op: hash, to: avatar}]
    generated: {_id: id, date: date}
    path: "comments/{options.page}"
    filename: "{_id}.yaml"
    antispam: {honeypot: website, minSeconds: -1, maxLinks: 1, blockedWords: [casino]}
  photo:
    fields:
      title: {required: true}
      caption: {required: true}
      story: {type: markdown}
      image: {type: image, required: true, max: 200000}
    generated: {slug: slug}
    path: "photos/{slug}"
    filename: "index.md"
    format: markdown
    body: story
-- articles/budget.md --
---
title: Le budget
date: 2026-03-14
---
Le budget.
-- articles/ferme.md --
---
title: Fermé
date: 2026-03-14
comments: false
---
Sans commentaires.
-- comments/articles/budget/c1.yaml --
_id: c1
name: Claire
date: 2026-03-15
message: Bonjour.
`

type fixture struct {
	svc  *Service
	srv  *httptest.Server
	repo string
	st   *store.Store
}

// parts makes the real pieces a service runs on, in t.TempDir(): the site of archive
// committed in a Git repository with the gitlocal forge on it, a bbolt store and queue
// (closed when the test ends), local uploads, and a rebuild that loads the site from the
// repository. It returns the repository's folder, the store, and the options giving all
// of it to New, with the site as first loaded.
func parts(t testing.TB, archive string, poll time.Duration) (string, *store.Store, []Option) {
	t.Helper()
	dir := t.TempDir()
	repoDir := filepath.Join(dir, "repo")
	for _, f := range txtar.Parse([]byte(archive)).Files {
		p := filepath.Join(repoDir, f.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repo, err := git.PlainInitWithOptions(repoDir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")}})
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := repo.Worktree()
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "Mairie", Email: "mairie@testville.example", When: time.Now()}
	if _, err := wt.Commit("Import the site", &git.CommitOptions{Author: sig, Committer: sig}); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(filepath.Join(dir, "parvis.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := qbolt.New(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		q.Close()
		db.Close()
	})
	st, err := store.New(db)
	if err != nil {
		t.Fatal(err)
	}
	fg, err := gitlocal.Open(repoDir, gitlocal.Options{BotName: "Testville", BotEmail: "noreply@testville.example", PollInterval: poll})
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := localfs.New(filepath.Join(dir, "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	load := func(context.Context) (*site.Site, error) { return site.Load(os.DirFS(repoDir), site.Options{}) }
	s, err := load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return repoDir, st, []Option{
		WithSite(s), WithQueue(q), WithStore(st), WithForge(fg), WithBlobs(blobs), WithRebuild(load),
		WithSecret([]byte("0123456789abcdef0123456789abcdef")), WithChallenge(false),
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		WithAntispam(antispam.Config{RatePerIP: rate.Inf, RatePerPage: rate.Inf}),
	}
}

// newFixture runs a service on real parts (see parts), serving on a loopback server; its
// background work starts with run.
func newFixture(t testing.TB, opts ...Option) *fixture {
	t.Helper()
	repoDir, st, all := parts(t, siteArchive, 50*time.Millisecond)
	svc, err := New(append(append(all, WithAdminToken("admintoken")), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	return &fixture{svc: svc, srv: srv, repo: repoDir, st: st}
}

// run starts the service's background work for the test.
func (f *fixture) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = f.svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// token issues a form token aged enough to pass.
func (f *fixture) token(form string) string {
	return f.svc.checker.Issue(form, time.Now().Add(-10*time.Second))
}

func (f *fixture) comment(overrides map[string]string) url.Values {
	v := url.Values{
		"fields[name]":    {"Claire M."},
		"fields[message]": {"Merci pour ces précisions."},
		"options[page]":   {"articles/budget"},
		"options[token]":  {f.token("comment")},
	}
	for k, val := range overrides {
		if val == "\x00" {
			v.Del(k)
		} else {
			v.Set(k, val)
		}
	}
	return v
}

func (f *fixture) post(t *testing.T, path, contentType, body string, headers map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}
