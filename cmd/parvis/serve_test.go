package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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

	// A second comment, rejected: the receipt gives the reason, as JSON and as a page. It
	// comes from another page load: a token carries one submission.
	token = ts.formToken(t, "/articles/budget/")
	time.Sleep(1100 * time.Millisecond)
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

// oneShot closes each connection after its request, so that none is left open to count
// against the per-address cap.
var oneShot = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// syncBuffer is a log the server writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// runServeFor runs parvis serve in-process with args and environment, until the test ends,
// and returns its log once /healthz answers on addr.
func runServeFor(t *testing.T, addr string, vars map[string]string, args ...string) *syncBuffer {
	t.Helper()
	// The runtime is the test's own: GOGC and the others are "set".
	vals := map[string]string{"GOGC": "100", "GOMEMLIMIT": "off", "GOMAXPROCS": "2"}
	for k, v := range vars {
		vals[k] = v
	}
	var log syncBuffer
	e := &env{stdin: strings.NewReader(""), stdout: &log, stderr: &log, getenv: func(k string) string { return vals[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, e, append([]string{"serve", "--addr", addr, "--antispam-challenge", "off"}, args...))
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("parvis serve did not stop:\n%s", log.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case code := <-done:
			t.Fatalf("parvis serve exited with %d:\n%s", code, log.String())
		default:
		}
		if res, err := oneShot.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return &log
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("parvis serve did not start:\n%s", log.String())
	return nil
}

// holdConn opens a connection from a local address and asks /healthz on it, keeping the
// connection open; it reports the status, or 0 when the connection was closed instead.
func holdConn(t *testing.T, from, to string) int {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", to)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

func statusOf(t *testing.T, req *http.Request) (int, *http.Response) {
	t.Helper()
	res, err := oneShot.Transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, res
}

// TestServeHardening runs parvis serve itself with its defaults, then with a proxy and a
// metrics token set, and checks what findings 6 and 10 are about: forwarded headers are
// believed only from the configured proxies, /metrics is not public, the receipt's
// address is not taken from Host, and one address cannot hold every connection.
func TestServeHardening(t *testing.T) {
	siteDir := writeSite(t, testSite)
	t.Run("defaults", func(t *testing.T) {
		addr, maddr := freePort(t), freePort(t)
		runServeFor(t, addr, nil, "--site", siteDir, "--data", filepath.Join(t.TempDir(), "var"),
			"--metrics-addr", maddr, "--max-conns-per-ip", "3")
		base := "http://" + addr

		// Finding 6: a peer that is no configured proxy does not say it came over HTTPS.
		req, _ := http.NewRequest("GET", base+"/admin/login", nil)
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Forwarded-For", "198.51.100.1")
		if _, res := statusOf(t, req); secureCookie(res, "parvis_login") {
			t.Error("X-Forwarded-Proto from any peer made the login cookie Secure")
		}

		// Finding 10: /metrics is on its own address only.
		for u, want := range map[string]int{base + "/metrics": 404, "http://" + maddr + "/metrics": 200, base + "/healthz": 200} {
			req, _ := http.NewRequest("GET", u, nil)
			if got, _ := statusOf(t, req); got != want {
				t.Errorf("GET %s: %d, want %d", u, got, want)
			}
		}

		// Finding 10: Host decides neither the receipt's address nor the redirect.
		req, _ = http.NewRequest("GET", base+"/articles/budget/", nil)
		res, err := oneShot.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := tokenRE.FindSubmatch(page)
		if m == nil {
			t.Fatalf("no token on the page:\n%s", page)
		}
		token := string(m[1])
		time.Sleep(1100 * time.Millisecond) // the form's minimum time
		v := comment(token, "Claire", "Bonjour")
		v.Set("options[redirect]", "http://evil.example/")
		req, _ = http.NewRequest("POST", base+"/api/v1/entries/comment", strings.NewReader(v.Encode()))
		req.Host = "evil.example"
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if _, res := statusOf(t, req); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), base+"/api/v1/submissions/") {
			t.Errorf("Host: evil.example: %d to %q, want the receipt on %s", res.StatusCode, res.Header.Get("Location"), base)
		}

		// Finding 10: three connections from one address, not four; others still get in.
		// (The connections of the requests above may take a moment to be let go.)
		for held, deadline := 0, time.Now().Add(5*time.Second); held < 3; {
			if got := holdConn(t, "127.0.0.1", addr); got == http.StatusOK {
				held++
			} else if time.Now().After(deadline) {
				t.Fatalf("connection %d: %d", held+1, got)
			}
		}
		if got := holdConn(t, "127.0.0.1", addr); got == http.StatusOK {
			t.Error("a fourth connection from one address was let in")
		}
		if got := holdConn(t, "127.0.0.2", addr); got != http.StatusOK {
			t.Errorf("another address: %d", got)
		}
	})
	t.Run("a proxy and a token from the environment", func(t *testing.T) {
		addr := freePort(t)
		const token = "a-long-enough-metrics-token"
		runServeFor(t, addr, map[string]string{"PARVIS_TRUSTED_PROXIES": "127.0.0.1", "PARVIS_METRICS_TOKEN": token},
			"--site", siteDir, "--data", filepath.Join(t.TempDir(), "var"), "--max-conns-per-ip", "2")
		base := "http://" + addr
		req, _ := http.NewRequest("GET", base+"/admin/login", nil)
		req.Header.Set("X-Forwarded-Proto", "https")
		if _, res := statusOf(t, req); !secureCookie(res, "parvis_login") {
			t.Error("X-Forwarded-Proto from the trusted proxy did not make the login cookie Secure")
		}
		for auth, want := range map[string]int{"": 401, "Bearer " + token: 200} {
			req, _ := http.NewRequest("GET", base+"/metrics", nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			if got, _ := statusOf(t, req); got != want {
				t.Errorf("/metrics with %q: %d, want %d", auth, got, want)
			}
		}
		// The proxy carries everyone's connections: it is not capped.
		for i := range 4 {
			if got := holdConn(t, "127.0.0.1", addr); got != http.StatusOK {
				t.Fatalf("connection %d from the proxy: %d", i+1, got)
			}
		}
	})
	t.Run("bad settings", func(t *testing.T) {
		for _, tt := range []struct {
			vars map[string]string
			args []string
			want string
		}{
			{nil, []string{"--trusted-proxies", "10.0.0.0/8,proxy.example"}, `--trusted-proxies: "proxy.example" is not an address or a CIDR block`},
			{map[string]string{"PARVIS_TRUSTED_PROXIES": "10.0.0.0/99"}, nil, `--trusted-proxies: "10.0.0.0/99" is not an address`},
			{map[string]string{"PARVIS_METRICS_TOKEN": "short"}, nil, "PARVIS_METRICS_TOKEN: the metrics token must be at least 16"},
			{nil, []string{"--max-conns-per-ip", "-1"}, "--max-conns-per-ip: -1 is negative"},
		} {
			var out bytes.Buffer
			e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &out, getenv: func(k string) string { return tt.vars[k] }}
			code := run(context.Background(), e, append([]string{"serve", "--site", siteDir, "--data", filepath.Join(t.TempDir(), "var"), "--addr", "127.0.0.1:0"}, tt.args...))
			if code == 0 || !strings.Contains(out.String(), tt.want) {
				t.Errorf("%v %v: exit %d\n%s\nwant %q", tt.vars, tt.args, code, out.String(), tt.want)
			}
		}
	})
}

func secureCookie(res *http.Response, name string) bool {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c.Secure
		}
	}
	return false
}

func TestMetricsToken(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "metrics.token"), []byte("  a-token-read-from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(v string) func(string) string { return func(string) string { return v } }
	for _, tt := range []struct {
		getenv     func(string) string
		file, want string
		fault      string
	}{
		{getenv(""), "", "", ""},
		{getenv("a-token-from-the-environment"), "metrics.token", "a-token-from-the-environment", ""},
		{getenv(""), "metrics.token", "a-token-read-from-a-file", ""},
		{getenv(""), filepath.Join(dir, "metrics.token"), "a-token-read-from-a-file", ""},
		{getenv(""), "missing.token", "", "service.metricsTokenFile"},
		{getenv("with a space in it, long enough"), "", "", "without spaces"},
	} {
		got, err := metricsToken(tt.getenv, tt.file, dir)
		if got != tt.want || (err == nil) != (tt.fault == "") || (err != nil && !strings.Contains(err.Error(), tt.fault)) {
			t.Errorf("file %q: %q, %v; want %q, fault %q", tt.file, got, err, tt.want, tt.fault)
		}
	}
}
