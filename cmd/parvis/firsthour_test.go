package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"

	"github.com/parvis/parvis/commentsvc"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/store"
)

// TestFirstHour1DataFolderFromSite is issue 11, point 1: the moderator added by the hint went to
// another store than the server's, because --data was read from the current folder. The
// data folder is now the site's own, wherever the command runs; a command that would make
// a second store beside a running server refuses.
func TestFirstHour1DataFolderFromSite(t *testing.T) {
	siteDir := writeSite(t, testSite)
	t.Chdir(t.TempDir()) // anywhere but the site
	code, _, errs := cli(t, "", "moderate", "list", "--site", siteDir)
	if code == 0 || !strings.Contains(errs, "no store in "+filepath.Join(siteDir, "var")) {
		t.Errorf("list with no store: %d %s", code, errs)
	}
	code, out, errs := cli(t, "une-phrase-de-passe-longue\n", "moderate", "adduser", "alice", "--site", siteDir, "--password-stdin")
	if code != 0 || !strings.Contains(errs, "Making the store of "+siteDir+" in "+filepath.Join(siteDir, "var")) {
		t.Fatalf("adduser: %d\n%s\n%s", code, out, errs)
	}
	if !storeExists(filepath.Join(siteDir, "var")) {
		t.Fatal("the store is not in the site's var/")
	}
	if _, err := os.Stat("var"); !os.IsNotExist(err) {
		t.Errorf("a store was made in the current folder: %v", err)
	}

	// A server answering for the site's store: another --data is refused.
	own := filepath.Join(siteDir, "var")
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") }))
	defer api.Close()
	info, _ := json.Marshal(map[string]any{"url": api.URL, "pid": os.Getpid()})
	if err := os.WriteFile(filepath.Join(own, "serve.json"), info, 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "var")
	code, _, errs = cli(t, "une-phrase-de-passe-longue\n", "moderate", "adduser", "bob", "--site", siteDir, "--data", other, "--password-stdin")
	if code == 0 || !strings.Contains(errs, "parvis serve runs on this site with the data folder "+own) {
		t.Errorf("adduser beside a running server: %d %s", code, errs)
	}
	if storeExists(other) {
		t.Error("a second store was made beside the running server")
	}
}

// TestFirstHour1DataFolderKeptOutOfGit: when the site is a Git repository, its data folder (secret,
// accounts, e-mail addresses) goes in the repository's exclude list, once.
func TestFirstHour1DataFolderKeptOutOfGit(t *testing.T) {
	siteDir := writeSite(t, testSite)
	if _, err := git.PlainInit(siteDir, false); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := keepOutOfGit(siteDir, dataFolder(siteDir, "")); err != nil {
			t.Fatal(err)
		}
	}
	if err := keepOutOfGit(siteDir, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(siteDir, ".git", "info", "exclude"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n/var/\n"); n != 1 {
		t.Errorf("exclude list:\n%s", b)
	}
	if err := os.MkdirAll(filepath.Join(siteDir, "var"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(siteDir, "var", "secret"), []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	// An editor's "git add -A" leaves it out.
	if out, err := exec.Command("git", "-C", siteDir, "add", "-A", "--dry-run").CombinedOutput(); err != nil || strings.Contains(string(out), "var/") {
		t.Errorf("git add -A would take the data folder: %v\n%s", err, out)
	}
}

// tzSite is testSite in another time zone than the machine's.
var tzSite = strings.Replace(testSite, "language: fr\n", "language: fr\ntimeZone: America/New_York\n", 1)

// TestFirstHour5And6DecisionsSignedAndTimesZoned is issue 11, points 5 and 6: with $USER unset a decision
// made from the command line was recorded with no moderator, and the server did not log
// it; times in list and show were UTC with no zone, while /admin/ shows the site's time.
func TestFirstHour5And6DecisionsSignedAndTimesZoned(t *testing.T) {
	siteDir := writeSite(t, tzSite)
	data := filepath.Join(t.TempDir(), "var")
	var logs syncBuffer
	st, err := openState(siteDir, data, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	svc, err := st.service(commentsvc.WithChallenge(false))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(serveMux(st, svc))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if err := st.announce(srv.URL); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: srv, st: st, svc: svc}
	token := ts.formToken(t, "/articles/budget/")
	time.Sleep(1100 * time.Millisecond)
	res := ts.post(t, "comment", comment(token, "Claire M.", "Un avis."), "application/json")
	var a map[string]string
	_ = json.NewDecoder(res.Body).Decode(&a)
	res.Body.Close()
	rec := ts.waitStatus(t, a["id"], store.Pending)

	// Through the running server (serve.json), with no $USER: cli's environment is empty.
	ny, _ := time.LoadLocation("America/New_York")
	zone := rec.Created.In(ny).Format("MST")
	code, out, errs := cli(t, "", "moderate", "list", "--site", siteDir, "--data", data)
	if code != 0 || !strings.Contains(out, rec.Created.In(ny).Format("2006-01-02 15:04 ")+zone) {
		t.Errorf("list: %d, want the time in the site's zone (%s)\n%s%s", code, zone, out, errs)
	}
	code, out, _ = cli(t, "", "moderate", "show", a["id"], "--site", siteDir, "--data", data)
	if code != 0 || !strings.Contains(out, zone) {
		t.Errorf("show: %d, want the zone %s\n%s", code, zone, out)
	}
	code, out, errs = cli(t, "", "moderate", "reject", a["id"], "--reason", "Hors sujet.", "--site", siteDir, "--data", data)
	if code != 0 {
		t.Fatalf("reject: %d\n%s%s", code, out, errs)
	}
	u, _ := user.Current()
	got, err := st.store.Get(a["id"])
	if err != nil || got.Moderator == "" || u != nil && got.Moderator != u.Username {
		t.Errorf("recorded moderator %q, want the system user (%v)", got.Moderator, err)
	}
	if l := logs.String(); !strings.Contains(l, "moderation: reject") || !strings.Contains(l, "via=\"command line\"") || !strings.Contains(l, a["id"]) {
		t.Errorf("the server did not log the decision:\n%s", l)
	}
}

// TestFirstHour4MakeRunInterrupt is issue 11, point 4: Ctrl-C on make run printed "make: *** [...]
// Error 1" although the server stopped cleanly.
func TestFirstHour4MakeRunInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("runs make run")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	root, _ := filepath.Abs("../..")
	addr := freePort(t)
	cmd := exec.Command("make", "-s", "run", "ADDR="+addr, "DATA="+filepath.Join(t.TempDir(), "var"))
	cmd.Dir = root
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("make run did not serve:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Ctrl-C in a terminal: SIGINT to the whole foreground process group.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// make itself dies of the SIGINT it got, as it always does, silently; what must not
	// happen is make reporting the server's clean exit as a failure.
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGINT) {
		t.Errorf("make run after Ctrl-C: %v\n%s", err, out.String())
	}
	if o := out.String(); strings.Contains(o, "***") || strings.Contains(o, "Error") || !strings.Contains(o, "shutting down") {
		t.Errorf("make run after Ctrl-C printed:\n%s", o)
	}
}

// TestFirstHour2SiteBase is issue 11, point 2: a site made for localhost:8080 and served on another
// address sent every comment back to localhost:8080, where the page's own CSP blocked the
// redirect. The site is now built for the address listened on, unless --base-url says
// otherwise; a real address is kept, with a note.
func TestFirstHour2SiteBase(t *testing.T) {
	tests := []struct {
		baseURL, flag, listening, want string
		note                           bool
	}{
		{"http://localhost:8080/", "", "http://localhost:8080", "", false},
		{"http://localhost:8080/", "", "http://127.0.0.1:9090", "http://127.0.0.1:9090/", false},
		{"http://127.0.0.1:8080/ville/", "", "http://localhost:9090", "http://localhost:9090/ville/", false},
		{"http://[::1]:8080/", "", "http://localhost:9090", "http://localhost:9090/", false},
		{"/", "", "http://localhost:9090", "http://localhost:9090/", false},
		{"https://www.ville.example/", "", "http://localhost:8080", "", true},
		{"http://localhost:8080/", "https://essai.ville.example", "http://localhost:9090", "https://essai.ville.example/", false},
	}
	for _, tt := range tests {
		cfg, err := site.ParseConfig([]byte("title: T\nbaseURL: " + tt.baseURL + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		got, note, err := siteBase(cfg, tt.flag, tt.listening)
		if err != nil || got != tt.want || (note != "") != tt.note {
			t.Errorf("baseURL %s, --base-url %q, on %s: %q, note %q, %v; want %q, note %v", tt.baseURL, tt.flag, tt.listening, got, note, err, tt.want, tt.note)
		}
	}
	cfg, _ := site.ParseConfig([]byte("title: T\n"))
	if _, _, err := siteBase(cfg, "ftp://x", "http://localhost:1"); err == nil {
		t.Error("--base-url ftp://x was accepted")
	}
}

// TestFirstHour2ServeElsewhere runs parvis serve on another port than its baseURL's: the comment
// form's redirect and the answer's Location are on the address served.
func TestFirstHour2ServeElsewhere(t *testing.T) {
	siteDir := writeSite(t, testSite) // baseURL: http://localhost:8080/
	data := filepath.Join(t.TempDir(), "var")
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- run(ctx, &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }},
			[]string{"serve", "--site", siteDir, "--data", data, "--addr", addr, "--antispam-challenge", "off"})
	}()
	defer func() { cancel(); <-done }()
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("parvis serve did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	res, err := http.Get(base + "/articles/budget/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(page), `<link rel="canonical" href="`+base+`/articles/budget/">`) || strings.Contains(string(page), "localhost:8080") {
		t.Fatalf("the page does not lead back to %s:\n%s", base, page)
	}
	m := tokenRE.FindSubmatch(page)
	if m == nil {
		t.Fatal("no token")
	}
	time.Sleep(1100 * time.Millisecond)
	v := comment(string(m[1]), "Claire M.", "Un avis.")
	v.Set("options[redirect]", base+"/articles/budget/#comment-sent")
	ts := &testServer{Server: &httptest.Server{URL: base}}
	res = ts.post(t, "comment", v, "")
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, base+"/") {
		t.Errorf("answer %s to %q, want a redirect on %s", res.Status, loc, base)
	}
}

// TestFirstHour3InitSpeaksTheSiteLanguage is issue 11, point 3: parvis init made an English form on a
// French site, its change titles read "comment: Bienvenue", and it said nothing of
// moderators or Git.
func TestFirstHour3InitSpeaksTheSiteLanguage(t *testing.T) {
	for _, tt := range []struct {
		lang, article  string
		want, unwanted []string
		title          string
	}{
		{"fr", "bienvenue", []string{"Votre nom", "Votre commentaire", "Laisser un commentaire"}, []string{">Name<", ">Message<", ">Email<"}, "Commentaire sur « Bienvenue »"},
		{"en", "bienvenue", []string{"Your name", "Your comment", "Leave a comment"}, []string{">Name<", ">Message<", "Votre"}, "Comment on “Welcome”"},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ville")
			code, out, errs := cli(t, "", "init", "--lang", tt.lang, dir)
			if code != 0 {
				t.Fatalf("init: %d %s", code, errs)
			}
			for _, w := range []string{"parvis moderate adduser NAME --site " + dir, "git -C " + dir + " init", "parvis serve --site " + dir} {
				if !strings.Contains(out, w) {
					t.Errorf("init does not say %q:\n%s", w, out)
				}
			}
			ts := startServer(t, dir)
			res, err := http.Get(ts.URL + "/articles/" + tt.article + "/")
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(res.Body)
			res.Body.Close()
			for _, w := range tt.want {
				if !strings.Contains(string(page), w) {
					t.Errorf("the article's form lacks %q", w)
				}
			}
			for _, w := range tt.unwanted {
				if strings.Contains(string(page), w) {
					t.Errorf("the article's form holds %q", w)
				}
			}
			m := tokenRE.FindSubmatch(page)
			if m == nil {
				t.Fatal("no token")
			}
			time.Sleep(3100 * time.Millisecond) // the skeleton's minimum time
			v := comment(string(m[1]), "Claire M.", "Un premier avis.")
			v.Set("options[page]", "articles/"+tt.article)
			v.Del("options[redirect]")
			res = ts.post(t, "comment", v, "application/json")
			var a map[string]string
			_ = json.NewDecoder(res.Body).Decode(&a)
			res.Body.Close()
			if a["id"] == "" {
				t.Fatalf("comment: %s %v", res.Status, a)
			}
			if rec := ts.waitStatus(t, a["id"], store.Pending); rec.Title != tt.title {
				t.Errorf("change title %q, want %q", rec.Title, tt.title)
			}
		})
	}
}
