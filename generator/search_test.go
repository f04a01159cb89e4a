package generator_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/parvis/parvis/generator"
	"github.com/parvis/parvis/internal/search"
	"github.com/parvis/parvis/themes"
)

const searchSite = config + `
-- articles/mediatheque.md --
---
title: La médiathèque ouvre le dimanche
date: 2026-03-01T10:00:00+01:00
tags: [Culture]
---
Dès le **1er avril**, la [médiathèque](/m/) ouvre aussi le dimanche matin.
-- articles/brouillon.md --
---
title: Brouillon hyperconfidentiel
date: 2026-01-01
draft: true
---
Le mot bredouillis n'est pas publié.
-- articles/futur.md --
---
title: Demain
date: 2027-01-01
---
Le mot lendemainnesque attend sa date.
-- events/concert.md --
---
title: Concert de Noël
start: 2026-12-20T18:30:00+01:00
end: 2026-12-20T20:00:00+01:00
location: Église Saint-Martin
address: 1 place de l'Église, 99000 Testville
---
Chorale et orchestre.
-- documents/cr/index.md --
---
title: Compte rendu du conseil
date: 2026-03-20
files:
  - name: cr.pdf
    title: Délibérations sur l'éclairage public
---
Le compte rendu de la séance.
-- documents/cr/cr.pdf --
%PDF-1.4
-- dossiers/secret/_index.md --
---
title: Dossier Zorglub
visibility: shared
items: [articles/mediatheque]
---
Le projet Zorglubopolis et la parcelle Vercingétorix.
-- dossiers/secret/note.md --
---
title: Note Tartempion
date: 2026-02-01
---
Le budget Mirobolant du chantier Pétaouchnoque.
`

// searchFiles returns the index's files, unpacked, by name.
func searchFiles(t *testing.T, out *generator.MemoryOutput) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for _, name := range out.Names() {
		if !strings.HasPrefix(name, "search/") {
			continue
		}
		b, _ := out.File(name)
		if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		files[name] = b
	}
	return files
}

func searchIndex(t *testing.T, out *generator.MemoryOutput) *search.Index {
	t.Helper()
	sub, err := fs.Sub(out.FS(), "search")
	if err != nil {
		t.Fatal(err)
	}
	ix, err := search.Open(sub)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func found(t *testing.T, ix *search.Index, q string) []string {
	t.Helper()
	res, err := ix.Search(q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var l []string
	for _, h := range res.Hits {
		l = append(l, h.URL)
	}
	return l
}

// TestSearchSharedDossierNotIndexed: a shared dossier and its pages are not published, so
// no word of theirs is in any file of the index, and neither are drafts' or future pages'.
func TestSearchSharedDossierNotIndexed(t *testing.T) {
	out := mustBuild(t, searchSite)
	files := searchFiles(t, out)
	if len(files) < 5 {
		t.Fatalf("the index has %d files: %v", len(files), out.Names())
	}
	secret := []string{"zorglub", "vercingetorix", "tartempion", "mirobolant", "petaouchnoque", "bredouillis", "lendemainnesque", "hyperconfidentiel"}
	for name, b := range files {
		folded := search.Fold(string(b))
		for _, w := range secret {
			if strings.Contains(folded, w) {
				t.Errorf("%s holds %q", name, w)
			}
		}
		if bytes.Contains(b, []byte("/dossiers/secret/")) {
			t.Errorf("%s links to the shared dossier", name)
		}
	}
	ix := searchIndex(t, out)
	for _, w := range secret {
		if l := found(t, ix, w); len(l) > 0 {
			t.Errorf("%q finds %v", w, l)
		}
	}
	if ix.Docs() != 3 {
		t.Errorf("%d documents indexed, want the 3 published pages", ix.Docs())
	}
}

// TestSearchFindsPages: pages by their words, events by place and date, documents by their
// files' titles.
func TestSearchFindsPages(t *testing.T) {
	out := mustBuild(t, searchSite)
	ix := searchIndex(t, out)
	for _, tt := range []struct{ q, want string }{
		{"mediatheque", "/articles/mediatheque/"},
		{"Médiathèque dimanche", "/articles/mediatheque/"},
		{"1er avril", "/articles/mediatheque/"},
		{"culture", "/articles/mediatheque/"},
		{"Saint-Martin", "/events/concert/"},
		{"église", "/events/concert/"},
		{"20 décembre", "/events/concert/"},
		{"décembre 2026", "/events/concert/"},
		{"concert 20 décembre 2026", "/events/concert/"},
		{"éclairage", "/documents/cr/"},
		{"délibérations", "/documents/cr/"},
	} {
		if l := found(t, ix, tt.q); len(l) == 0 || l[0] != tt.want {
			t.Errorf("%q finds %v, want %s first", tt.q, l, tt.want)
		}
	}
	res, _ := ix.Search("saint martin", 1)
	if len(res.Hits) != 1 || !strings.Contains(res.Hits[0].Meta, "Événement · dimanche 20 décembre 2026") || !strings.Contains(res.Hits[0].Meta, "Église Saint-Martin") {
		t.Errorf("the event's line: %+v", res.Hits)
	}
	res, _ = ix.Search("mediatheque", 1)
	if h := res.Hits[0]; !strings.Contains(h.Meta, "Actualité · 1er mars 2026") || strings.Contains(h.Excerpt[len(h.Excerpt)-1].Text, "](") {
		t.Errorf("the article's hit: %+v", h)
	}

	// The page for static hosting says that search needs JavaScript there; the page the
	// server fills has the placeholders instead.
	assertFile(t, out, "search/index.html", `<noscript>`, `id="search-results"`, `data-index="/search/"`,
		`value=""`, `src="/js/search.`, `<form class="header-search" role="search" action="/search/"`, "! "+search.QueryPlaceholder)
	assertFile(t, out, "search/"+search.PageTemplate, search.ResultsPlaceholder, `value="`+search.QueryPlaceholder+`"`, "! <noscript>")
	assertFile(t, out, "index.html", `<form class="header-search" role="search" action="/search/" method="get"`)
}

func TestSearchPathTaken(t *testing.T) {
	_, err := build(t, config+`
-- pages/search.md --
---
title: Chercher
---
Ma page.
`)
	if err == nil || !strings.Contains(err.Error(), "pages/search.md") || !strings.Contains(err.Error(), "/search/") {
		t.Errorf("a page at /search/: %v", err)
	}
}

// TestSearchThemeWithoutLayout: a theme made before the search builds, with an index and no
// search page.
func TestSearchThemeWithoutLayout(t *testing.T) {
	theme := fstest.MapFS{}
	err := fs.WalkDir(themes.Default(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "layouts/search.html" {
			return err
		}
		b, err := fs.ReadFile(themes.Default(), p)
		theme[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	out := mustBuild(t, searchSite, generator.WithTheme(&openOnly{theme}))
	assertNoFile(t, out, "search/index.html", "search/"+search.PageTemplate)
	if l := found(t, searchIndex(t, out), "médiathèque"); len(l) != 1 {
		t.Errorf("found %v", l)
	}
}

// openOnly hides a MapFS behind a pointer: the generator compares file systems, and a map
// cannot be compared.
type openOnly struct{ fs.FS }

func TestSearchOff(t *testing.T) {
	site := strings.Replace(searchSite, "timeZone: Europe/Paris\n", "timeZone: Europe/Paris\nparams: {search: false}\n", 1)
	out := mustBuild(t, site)
	for _, name := range out.Names() {
		if strings.HasPrefix(name, "search/") {
			t.Errorf("%s written with the search off", name)
		}
	}
	assertFile(t, out, "index.html", "! header-search")
	assertFile(t, mustBuild(t, searchSite), "index.html", "header-search")
}
