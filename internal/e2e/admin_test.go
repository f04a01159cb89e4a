package e2e

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"

	"github.com/parvis/parvis/commentsvc"
	"github.com/parvis/parvis/generator"
	"github.com/parvis/parvis/internal/antispam"
	"github.com/parvis/parvis/internal/blob/localfs"
	"github.com/parvis/parvis/internal/forge/gitlocal"
	qbolt "github.com/parvis/parvis/internal/queue/bolt"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/store"
	"github.com/parvis/parvis/internal/testenv"
)

// moderation is the demo site with the real submission service, as parvis serve runs it:
// a working Git repository made from content/, the gitlocal forge, a bbolt store and queue,
// and the site rebuilt by the generator after each approval.
type moderation struct {
	url   string
	svc   *commentsvc.Service
	store *store.Store
	site  *site.Site
}

const moderatorPassword = "un mot de passe assez long"

func serveModeration(t *testing.T) *moderation {
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
	cache := filepath.Join(dir, "cache")
	build := func(ctx context.Context) (*site.Site, error) {
		o, err := generator.NewDirOutput(out)
		if err != nil {
			return nil, err
		}
		res, err := generator.New(generator.WithSiteDir(repoDir), generator.WithOutput(o), generator.WithNow(now), generator.WithCacheDir(cache)).Build(ctx)
		if err != nil {
			return nil, err
		}
		return res.Site, nil
	}
	built, err := build(context.Background())
	if err != nil {
		t.Fatalf("build the demo site: %v", err)
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
		commentsvc.WithBlobs(blobs), commentsvc.WithRebuild(build), commentsvc.WithSecret([]byte("e2e-secret-of-32-bytes-at-least!")),
		commentsvc.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), commentsvc.WithChallenge(false),
		commentsvc.WithAntispam(antispam.Config{RatePerIP: rate.Inf, RatePerPage: rate.Inf}),
	)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(moderatorPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.AddModerator("ana", string(hash)); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", svc.Checker().StampHTML(http.FileServer(http.Dir(out))))
	for _, p := range []string{"/api/", "/admin/"} {
		mux.Handle(p, svc.Handler())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		_ = q.Close()
		_ = db.Close()
	})
	return &moderation{url: srv.URL, svc: svc, store: st, site: built}
}

// comment sends a comment through the service's intake and waits until it awaits a
// moderator.
func (m *moderation) comment(t *testing.T, page, name, message string) string {
	t.Helper()
	v := url.Values{
		"fields[name]": {name}, "fields[message]": {message}, "fields[website]": {""},
		"options[page]": {page}, "options[token]": {m.svc.Checker().Issue("comment", time.Now().Add(-10*time.Second))},
	}
	req, _ := http.NewRequest("POST", m.url+"/api/v1/entries/comment", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ ID string }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("the comment was refused: %d %v", res.StatusCode, err)
	}
	m.wait(t, body.ID, store.Pending)
	return body.ID
}

func (m *moderation) wait(t *testing.T, id string, status store.Status) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second) // a rebuild under the race detector is slow
	for time.Now().Before(deadline) {
		if r, err := m.store.Get(id); err == nil && r.Status == status {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r, err := m.store.Get(id)
	t.Fatalf("%s did not reach %s: %+v, %v", id, status, r, err)
}

// TestAdmin moderates in headless Chromium: sign in, read the queue and a submission,
// approve it, with JavaScript off as the pages need none; axe-core checks every page.
func TestAdmin(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are left out by -short")
	}
	axe := testenv.Axe(t)
	b := browser(t)
	m := serveModeration(t)
	var ref string
	for _, p := range m.site.Pages {
		if p.Kind == site.KindArticle && p.Comments {
			ref = p.Ref
			break
		}
	}
	approved := m.comment(t, ref, "Claire M.", "Merci pour ces **précisions**.")
	// A name that would run a script if a page put it in as markup, or if the pages'
	// Content-Security-Policy let inline handlers run.
	hostile := m.comment(t, ref, `<img src=x onerror="window.pwned=1">`, "Un avis <script>window.pwned=2</script> tranché.")

	// Without JavaScript: sign in, open the submission from the queue, approve it.
	ctx := tab(t, b)
	noScript(t, ctx)
	err := chromedp.Do(ctx,
		chromedp.Navigate(m.url+"/admin/"),
		chromedp.WaitVisible(`#name`),
		chromedp.SendKeys(`#name`, "ana"),
		chromedp.SendKeys(`#password`, moderatorPassword),
		chromedp.Click(`main form button[type=submit]`),
		chromedp.WaitVisible(`table#selection`),
		chromedp.Click(`a[href="/admin/submissions/`+approved+`"]`),
		chromedp.WaitVisible(`form[action$="/approve"] button`),
		chromedp.Click(`form[action$="/approve"] button`),
		chromedp.WaitVisible(`.notice-success`),
	)
	if err != nil {
		t.Fatalf("sign in and approve: %v", err)
	}
	notice, err := chromedp.Run(ctx, chromedp.Text(`.notice-success`))
	if err != nil || !strings.Contains(notice, "Approuvée") {
		t.Errorf("the notice after approving reads %q (%v)", notice, err)
	}
	m.wait(t, approved, store.Published)
	if r, _ := m.store.Get(approved); r.Moderator != "ana" {
		t.Errorf("the decision is recorded for %q", r.Moderator)
	}

	// With JavaScript on (axe-core needs it): every page, at desktop and phone widths,
	// including a form sent back with errors. The tab shares the signed-in session.
	pages := []struct {
		name    string
		actions []chromedp.Action[chromedp.Void]
	}{
		{"queue", []chromedp.Action[chromedp.Void]{chromedp.Navigate(m.url + "/admin/"), chromedp.WaitVisible(`table#selection`)}},
		{"pending submission", []chromedp.Action[chromedp.Void]{chromedp.Navigate(m.url + "/admin/submissions/" + hostile), chromedp.WaitVisible(`iframe.preview`)}},
		// The Git diff is one click away, behind a <details> (issue 11, finding 11).
		{"pending submission, diff open", []chromedp.Action[chromedp.Void]{chromedp.Click(`details.diff-details > summary`), chromedp.WaitVisible(`.diff`)}},
		{"published submission", []chromedp.Action[chromedp.Void]{chromedp.Navigate(m.url + "/admin/submissions/" + approved), chromedp.WaitVisible(`.badge`)}},
		{"published list", []chromedp.Action[chromedp.Void]{chromedp.Navigate(m.url + "/admin/?status=published"), chromedp.WaitVisible(`table`)}},
		{"bulk without selection", []chromedp.Action[chromedp.Void]{chromedp.Navigate(m.url + "/admin/"), chromedp.Click(`button[value=reject]`), chromedp.WaitVisible(`#selection-error`)}},
		{"reject without reason", []chromedp.Action[chromedp.Void]{chromedp.Navigate(m.url + "/admin/submissions/" + hostile), chromedp.Click(`form[action$="/reject"] button`), chromedp.WaitVisible(`#reason-error`)}},
		{"not found", []chromedp.Action[chromedp.Void]{chromedp.Navigate(m.url + "/admin/nulle-part"), chromedp.WaitVisible(`h1`)}},
	}
	for _, width := range []int64{1280, 390} {
		ctx := tab(t, b)
		viewport(t, ctx, width, 900)
		for _, p := range pages {
			if err := chromedp.Do(ctx, p.actions...); err != nil {
				t.Fatalf("%s at %d px: %v", p.name, width, err)
			}
			res, err := axeRun(ctx, axe)
			if err != nil {
				t.Fatalf("%s: %v", p.name, err)
			}
			if len(res.Violations) > 0 {
				t.Errorf("%s at %d px: %d WCAG 2.1 A/AA violations:%s", p.name, width, len(res.Violations), res)
			}
			if res.Passes == 0 {
				t.Errorf("%s: axe-core checked nothing", p.name)
			}
			if pwned, err := chromedp.Run(ctx, chromedp.Evaluate[string](`typeof window.pwned`)); err != nil || pwned != "undefined" {
				t.Errorf("%s: a citizen's markup ran (%q, %v)", p.name, pwned, err)
			}
		}
	}
	if r, _ := m.store.Get(hostile); r.Status != store.Pending {
		t.Errorf("the forms sent back with errors decided the submission: %s", r.Status)
	}

	// A fresh browser profile without the session is sent to the login page, which passes
	// axe too, before and after a failed attempt.
	anon, cancel := chromedp.NewContext(b, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	anon, cancelTimeout := context.WithTimeout(anon, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	for _, p := range []struct {
		name    string
		actions []chromedp.Action[chromedp.Void]
	}{
		{"login", []chromedp.Action[chromedp.Void]{chromedp.Navigate(m.url + "/admin/submissions/" + hostile), chromedp.WaitVisible(`#password`)}},
		{"login failed", []chromedp.Action[chromedp.Void]{chromedp.SendKeys(`#name`, "ana"), chromedp.SendKeys(`#password`, "faux"), chromedp.Click(`main form button[type=submit]`), chromedp.WaitVisible(`#login-error`)}},
	} {
		if err := chromedp.Do(anon, p.actions...); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		res, err := axeRun(anon, axe)
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		if len(res.Violations) > 0 {
			t.Errorf("%s: %d WCAG 2.1 A/AA violations:%s", p.name, len(res.Violations), res)
		}
	}

	if dir := os.Getenv("PARVIS_SCREENSHOTS"); dir != "" {
		adminScreenshots(t, b, m, dir, hostile)
	}
}

// adminScreenshots writes the moderation pages as PNGs, for people to look at.
func adminScreenshots(t *testing.T, b context.Context, m *moderation, dir, id string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, width := range []int64{1280, 390} {
		ctx := tab(t, b)
		viewport(t, ctx, width, 900)
		for name, path := range map[string]string{"admin-queue": "/admin/", "admin-submission": "/admin/submissions/" + id, "admin-published": "/admin/?status=published"} {
			if err := chromedp.Do(ctx, chromedp.Navigate(m.url+path), chromedp.Sleep(200*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			suffix := "-desktop.png"
			if width < 600 {
				suffix = "-mobile.png"
			}
			if err := os.WriteFile(filepath.Join(dir, name+suffix), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// copyDir copies a site's files, leaving out dot-files and built output.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel != "." && (strings.HasPrefix(d.Name(), ".") || rel == "public" || rel == "var") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// commitAll makes dir a Git repository whose main branch holds its files.
func commitAll(t *testing.T, dir string) {
	t.Helper()
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")}})
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "Mairie de Belcombe", Email: "noreply@belcombe.example", When: now}
	if _, err := wt.Commit("Import the site", &git.CommitOptions{Author: sig, Committer: sig}); err != nil {
		t.Fatal(err)
	}
}
