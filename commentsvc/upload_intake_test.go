package commentsvc

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/parvis/parvis/internal/antispam"
	"github.com/parvis/parvis/internal/doccheck/doccorpus"
)

// documentSite adds a document form to the tests' site.
var documentSite = strings.Replace(siteArchive, "  photo:\n", `  document:
    fields:
      title: {required: true}
      description: {type: markdown, required: true}
      file: {type: file, required: true, accept: [application/pdf], max: 2000000}
    generated: {slug: slug}
    path: "documents/{slug}"
    filename: "index.md"
    format: markdown
    body: description
  photo:
`, 1)

// postDocument sends a document as a browser's multipart form would, from the address
// the X-Forwarded-For header names (the tests' server trusts loopback as its proxy).
func postDocument(t *testing.T, f *fixture, file []byte, from string) (*http.Response, map[string]any) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range map[string]string{
		"fields[title]": "Le compte rendu", "fields[description]": "Le compte rendu de la réunion du 3 mars.",
		"options[token]": f.svc.checker.Issue("document", time.Now().Add(-10*time.Second)),
	} {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("fields[file]", "cr.pdf")
	fw.Write(file)
	mw.Close()
	res := f.post(t, "/api/v1/entries/document", mw.FormDataContentType(), body.String(),
		map[string]string{"Accept": "application/json", "X-Forwarded-For": from})
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res, out
}

func documentFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	repoDir, st, all := parts(t, documentSite, 50*time.Millisecond)
	proxies, err := ParseProxies("127.0.0.1/32")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(append(append(all, WithTrustedProxies(proxies...)), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	return &fixture{svc: svc, srv: srv, repo: repoDir, st: st}
}

// TestFinding1DocumentLinksShown: the links a citizen's PDF holds are signals for the moderator
// (finding 1 of the hostile-input review: URI actions are kept, and made visible).
func TestFinding1DocumentLinksShown(t *testing.T) {
	f := documentFixture(t)
	c := doccorpus.Find("pdf/objstm/FlateDecode/links")
	res, out := postDocument(t, f, c.Data(), "192.0.2.10")
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("%s: %v", res.Status, out)
	}
	items, err := f.svc.queue.Lease(context.Background(), 1, time.Minute)
	if err != nil || len(items) != 1 {
		t.Fatalf("lease: %v, %v", items, err)
	}
	var p payload
	if err := json.Unmarshal(items[0].Payload, &p); err != nil {
		t.Fatal(err)
	}
	for _, l := range c.Links {
		if !slices.Contains(p.Signals, docLinkSignal+l) {
			t.Errorf("signals %q lack the link %q", p.Signals, l)
		}
	}
	if got := signalText("fr", docLinkSignal+c.Links[0]); got != "Le document renvoie vers "+c.Links[0] {
		t.Errorf("shown as %q", got)
	}
}

// TestFinding2FloodCutBeforeBody is finding 2 of the hostile-input review: a flood of uploads from
// one address was read and checked in full before any rate limit applied. The address's
// bucket is now spent before the body is read: past the burst, even a body that could not
// be parsed gets 429, not 400, and the bombs beyond the burst are never opened.
func TestFinding2FloodCutBeforeBody(t *testing.T) {
	f := documentFixture(t, WithAntispam(antispam.Config{RatePerIP: rate.Every(time.Hour), BurstPerIP: 2, RatePerPage: rate.Inf}))
	bomb := doccorpus.Bomb250()
	for i := range 2 {
		if res, out := postDocument(t, f, bomb, "192.0.2.20"); res.StatusCode/100 != 4 || res.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("bomb %d within the burst: %s %v", i, res.Status, out)
		}
	}
	start := time.Now()
	res := f.post(t, "/api/v1/entries/document", "multipart/form-data; boundary=x", "not multipart at all",
		map[string]string{"Accept": "application/json", "X-Forwarded-For": "192.0.2.20"})
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("past the burst: %s, Retry-After %q", res.Status, res.Header.Get("Retry-After"))
	}
	if res, _ := postDocument(t, f, bomb, "192.0.2.20"); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a bomb past the burst: %s", res.Status)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("refusing past the burst took %v", d)
	}
	if res, out := postDocument(t, f, doccorpus.LibreOffice(), "192.0.2.21"); res.StatusCode != http.StatusAccepted {
		t.Errorf("another address: %s %v", res.Status, out)
	}
	if n, err := f.svc.queue.Stats(context.Background()); err != nil || n.Ready != 1 {
		t.Errorf("queue: %+v, %v", n, err)
	}
}
