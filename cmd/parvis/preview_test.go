package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parvis/parvis/internal/store"
)

// previewSite lets editors write raw HTML (markdown.unsafe), which must not reach what a
// citizen proposes, and takes proposed articles.
const previewSite = `
-- parvis.yaml --
title: Ville de Testville
baseURL: http://localhost:8080/
language: fr
markdown: {unsafe: true, typography: fr}
forms:
  article:
    fields:
      title: {required: true, max: 120}
      summary: {type: textarea, max: 300}
      body: {type: markdown, required: true, max: 20000}
    generated: {slug: slug, date: date}
    path: "articles/{slug}"
    filename: index.md
    format: markdown
    body: body
    antispam: {minSeconds: 1}
-- articles/budget.md --
---
title: Le budget
date: 2026-03-14
---
Le budget est voté.
`

// TestFinding3And4PreviewIsPublished checks findings 3 and 4 of the hostile-input review end to end: a
// citizen's article carrying an overlay, an id of the theme's and raw HTML on a site with
// markdown.unsafe is previewed, approved and built; the moderator's preview holds exactly
// the body HTML the built page holds, and neither holds the attack.
func TestFinding3And4PreviewIsPublished(t *testing.T) {
	ts := startServer(t, writeSite(t, previewSite))
	body := "## Big {style=\"position:fixed;inset:0;z-index:9999\"}\n\nTexte : \"cité\".\n\n" +
		"## Formulaire {#comment-form}\n\n<script>alert(1)</script> <img src=x onerror=alert(2)>\n" +
		"<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example/\">\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n"
	token := ts.svc.Checker().Issue("article", time.Now().Add(-5*time.Second))
	res := ts.post(t, "article", url.Values{
		"fields[title]":   {"Une proposition"},
		"fields[summary]": {"Deux lignes."},
		"fields[body]":    {body},
		"options[token]":  {token},
	}, "application/json")
	defer res.Body.Close()
	var got struct{ ID string }
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("post: %s, %v", res.Status, err)
	}
	id := got.ID
	ts.waitStatus(t, id, store.Pending)
	sub, err := ts.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	preview := string(sub.Preview)
	start, end := strings.Index(preview, `<div class="body">`), strings.LastIndex(preview, "</div></article>")
	if start < 0 || end < start {
		t.Fatalf("no body in the preview:\n%s", preview)
	}
	previewBody := preview[start+len(`<div class="body">`) : end]
	for _, bad := range []string{"<script", "<img", "<meta", ` style="`, ` onerror="`, `id="comment-form"`} {
		if strings.Contains(previewBody, bad) {
			t.Errorf("the preview holds %q:\n%s", bad, previewBody)
		}
	}
	if _, err := ts.svc.Approve(context.Background(), id, "claire"); err != nil {
		t.Fatal(err)
	}
	rec := ts.waitStatus(t, id, store.Published)
	page, err := os.ReadFile(filepath.Join(ts.st.public, filepath.FromSlash(strings.TrimPrefix(pathOf(t, rec.URL), "/")), "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), previewBody) {
		t.Errorf("the published page does not hold the previewed body:\n--- preview:\n%s\n--- page:\n%s", previewBody, page)
	}
}

func pathOf(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Path
}
