package generator_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/parvis/parvis/generator"
	"github.com/parvis/parvis/internal/site"
)

// now is the clock of every test build.
var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// siteFS turns a txtar archive into a site's files.
func siteFS(archive string) fstest.MapFS {
	a := txtar.Parse([]byte(archive))
	m := fstest.MapFS{}
	for _, f := range a.Files {
		m[f.Name] = &fstest.MapFile{Data: f.Data, Mode: 0o644}
	}
	return m
}

// build builds a txtar site into memory.
func build(t testing.TB, archive string, opts ...generator.Option) (*generator.MemoryOutput, error) {
	t.Helper()
	out := generator.NewMemoryOutput()
	opts = append([]generator.Option{generator.WithSource(siteFS(archive)), generator.WithOutput(out), generator.WithNow(now)}, opts...)
	_, err := generator.New(opts...).Build(context.Background())
	return out, err
}

func mustBuild(t testing.TB, archive string, opts ...generator.Option) *generator.MemoryOutput {
	t.Helper()
	out, err := build(t, archive, opts...)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return out
}

// assertFile checks that a built file holds each of the wanted strings; a want starting
// with "! " must not be there.
func assertFile(t testing.TB, out *generator.MemoryOutput, name string, wants ...string) {
	t.Helper()
	b, ok := out.File(name)
	if !ok {
		t.Fatalf("%s was not written; files: %v", name, out.Names())
	}
	for _, w := range wants {
		if neg, ok := strings.CutPrefix(w, "! "); ok {
			if bytes.Contains(b, []byte(neg)) {
				t.Errorf("%s holds %q, it should not:\n%s", name, neg, b)
			}
			continue
		}
		if !bytes.Contains(b, []byte(w)) {
			t.Errorf("%s lacks %q:\n%s", name, w, b)
		}
	}
}

func assertNoFile(t testing.TB, out *generator.MemoryOutput, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, ok := out.File(n); ok {
			t.Errorf("%s was written; it should not be", n)
		}
	}
}

const config = `
-- parvis.yaml --
title: Ville de Testville
baseURL: https://www.testville.example/
language: fr
timeZone: Europe/Paris
paginate: 2
menu:
  - {name: Actualités, url: /articles/}
forms:
  comment:
    fields:
      name: {required: true, max: 80}
      message: {type: markdown, required: true}
    options: [page, parent, redirect]
    generated: {_id: id, date: date}
    path: "comments/{options.page}"
    filename: "{_id}.yaml"
`

const basicSite = config + `
-- _index.md --
---
title: Accueil
---
Bienvenue à **Testville**.
-- articles/budget-2026.md --
---
title: Le budget 2026
date: 2026-03-14T09:30:00+01:00
tags: [Budget, Conseil municipal]
aliases: [/anciennes/budget/]
---
Le conseil a voté le budget : il est "équilibré".

## Les investissements

| poste | montant |
| --- | --- |
| écoles | 1 M€ |
-- articles/marche.md --
+++
title = "Le marché du jeudi"
date = 2026-05-02
tags = ["associations"]
+++
Le marché revient.
-- articles/piscine.md --
{
  "title": "La piscine rouvre",
  "date": "2026-06-01T10:00:00+02:00",
  "summary": "Réouverture en juin."
}
Après deux ans de travaux, la piscine rouvre.
-- articles/brouillon.md --
---
title: Pas encore
date: 2026-01-01
draft: true
---
Brouillon.
-- articles/futur.md --
---
title: Demain
date: 2027-01-01
---
Plus tard.
-- events/concert.md --
---
title: Concert de Noël
start: 2026-12-20T18:30:00+01:00
end: 2026-12-20T20:00:00+01:00
location: Église Saint-Martin
address: 1 place de l'Église, 99000 Testville
geo: {lat: 45.5, lon: 4.8}
registration: https://billets.testville.example/noel
---
Chorale et orchestre.
-- events/fete.md --
---
title: Fête du village
start: 2026-06-21
allDay: true
---
Toute la journée.
-- events/ete.md --
---
title: Marché d'été
start: 2026-07-10T08:00:00+02:00
end: 2026-07-10T13:00:00+02:00
---
Le matin.
-- dossiers/plu/_index.md --
---
title: Révision du PLU
items: [articles/budget-2026, events/concert]
---
Le dossier du plan local d'urbanisme.
-- dossiers/plu/calendrier.md --
---
title: Le calendrier
date: 2026-02-01
---
Les étapes.
-- dossiers/secret/_index.md --
---
title: Dossier confidentiel
visibility: shared
---
Réservé.
-- dossiers/secret/note.md --
---
title: Note interne
date: 2026-02-01
---
Ne pas publier.
-- documents/cr/index.md --
---
title: Compte rendu du conseil
date: 2026-03-20
files:
  - name: cr.pdf
    title: Compte rendu (PDF)
---
Le compte rendu.
-- documents/cr/cr.pdf --
%PDF-1.4 fake but sized
-- documents/cr/annexe.odt --
PK odt
-- pages/mentions-legales.md --
---
title: Mentions légales
---
Éditeur : la mairie.
-- comments/articles/budget-2026/a1.yaml --
_id: a1
name: Claire M.
date: 2026-03-15T10:00:00+01:00
message: Merci pour ces **précisions** <script>alert(1)</script>
-- comments/articles/budget-2026/a2.yaml --
_id: a2
parent: a1
name: Mairie
date: 2026-03-16T10:00:00+01:00
message: Avec plaisir.
-- static/favicon.ico --
icon
`

func TestBuildOutputs(t *testing.T) {
	out := mustBuild(t, basicSite)

	assertFile(t, out, "index.html", "Bienvenue à <strong>Testville</strong>", "Le marché du jeudi", "Concert de Noël", "Révision du PLU", "! Dossier confidentiel")
	assertFile(t, out, "articles/budget-2026/index.html",
		"<h1>Le budget 2026</h1>",
		`<link rel="canonical" href="https://www.testville.example/articles/budget-2026/">`,
		`<meta property="og:title" content="Le budget 2026">`,
		`<meta name="twitter:card"`,
		"<table>",
		`href="/tags/budget/"`, `href="/tags/conseil-municipal/"`,
		`id="comment-a1"`, `id="comment-a2"`, "<strong>précisions</strong>", "! <script>alert",
		"2 commentaires",
		`name="options[page]" value="articles/budget-2026"`,
		"Révision du PLU", // in the dossier's list
	)
	// The reply sits inside its parent's list item.
	b, _ := out.File("articles/budget-2026/index.html")
	if i, j := bytes.Index(b, []byte(`id="comment-a1"`)), bytes.Index(b, []byte(`id="comment-a2"`)); i < 0 || j < i {
		t.Errorf("reply a2 is not after its parent a1")
	}
	assertFile(t, out, "articles/marche/index.html", "Le marché revient.")
	assertFile(t, out, "articles/piscine/index.html", `content="Réouverture en juin."`)
	assertFile(t, out, "anciennes/budget/index.html", `url=/articles/budget-2026/`, `rel="canonical" href="https://www.testville.example/articles/budget-2026/"`)
	assertNoFile(t, out, "articles/brouillon/index.html", "articles/futur/index.html",
		"dossiers/secret/index.html", "dossiers/secret/note/index.html")

	// Section lists, paginated by two, newest first.
	assertFile(t, out, "articles/index.html", "La piscine rouvre", "Le marché du jeudi", "! Le budget 2026", `rel="next"`)
	assertFile(t, out, "articles/page/2/index.html", "Le budget 2026", `rel="prev"`)
	assertFile(t, out, "tags/budget/index.html", "Le budget 2026")
	assertFile(t, out, "tags/index.html", "Budget", "Conseil municipal", "associations")

	// Events: the calendar, month pages, the .ics files.
	assertFile(t, out, "events/index.html", "Concert de Noël", "Fête du village")
	assertFile(t, out, "events/concert/index.html", "Église Saint-Martin", "https://billets.testville.example/noel", "concert.ics")
	assertFile(t, out, "events/2026/12/index.html", "Concert de Noël")
	assertFile(t, out, "events/2026/06/index.html", "Fête du village")
	assertFile(t, out, "events/past/index.html", "Marché d&#39;été", "Fête du village", "! Concert de Noël")
	assertFile(t, out, "events/concert/concert.ics",
		"BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n",
		"DTSTART;TZID=Europe/Paris:20261220T183000\r\n",
		"DTEND;TZID=Europe/Paris:20261220T200000\r\n",
		"GEO:45.500000;4.800000\r\n",
		"LOCATION:Église Saint-Martin\\, 1 place de l'Église\\, 99000 Testville\r\n",
	)
	assertFile(t, out, "events.ics", "DTSTART;VALUE=DATE:20260621\r\n", "DTEND;VALUE=DATE:20260622\r\n", "SUMMARY:Concert de Noël")

	// Dossiers gather their references and their folder's pages.
	assertFile(t, out, "dossiers/plu/index.html", "Le budget 2026", "Concert de Noël", "Le calendrier")
	assertFile(t, out, "dossiers/plu/calendrier/index.html", "Les étapes.")

	// Documents, with size and type.
	assertFile(t, out, "documents/cr/index.html", "Compte rendu (PDF)", "PDF", "ODT", "annexe.odt")
	assertFile(t, out, "documents/cr/cr.pdf", "%PDF-1.4")

	// Feeds and the rest.
	assertFile(t, out, "index.xml", "<rss version=\"2.0\"", "<title>La piscine rouvre</title>", "! Note interne", "! Dossier confidentiel")
	assertFile(t, out, "atom.xml", `<feed xmlns="http://www.w3.org/2005/Atom"`, "https://www.testville.example/articles/marche/")
	assertFile(t, out, "articles/index.xml", "Le budget 2026")
	assertFile(t, out, "events/index.xml", "Concert de Noël")
	assertFile(t, out, "comments.xml", "Claire M. sur « Le budget 2026 »", "#comment-a1")
	assertFile(t, out, "sitemap.xml", "https://www.testville.example/articles/budget-2026/", "https://www.testville.example/mentions-legales/", "! secret", "! brouillon")
	assertFile(t, out, "robots.txt", "Sitemap: https://www.testville.example/sitemap.xml")
	assertFile(t, out, "404.html", "Page introuvable")
	assertFile(t, out, "favicon.ico", "icon")
	assertFile(t, out, "mentions-legales/index.html", "Éditeur : la mairie.")
}

func TestBuildOptions(t *testing.T) {
	out := mustBuild(t, basicSite, generator.WithDrafts(true), generator.WithFuture(true))
	assertFile(t, out, "articles/brouillon/index.html", "Brouillon.")
	assertFile(t, out, "articles/futur/index.html", "Plus tard.")
}

func TestDeterministic(t *testing.T) {
	a := mustBuild(t, basicSite)
	b := mustBuild(t, basicSite, generator.WithWorkers(1))
	if an, bn := a.Names(), b.Names(); strings.Join(an, "\n") != strings.Join(bn, "\n") {
		t.Fatalf("file lists differ:\n%v\n%v", an, bn)
	}
	for _, n := range a.Names() {
		x, _ := a.File(n)
		y, _ := b.File(n)
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds", n)
		}
	}
}

func TestThemeOverride(t *testing.T) {
	out := mustBuild(t, basicSite+`
-- layouts/partials/footer.html --
<footer>Pied de page de Testville</footer>
`)
	assertFile(t, out, "index.html", "Pied de page de Testville")
}

func TestBaseURLWithFolder(t *testing.T) {
	out := mustBuild(t, strings.Replace(basicSite, "https://www.testville.example/", "https://example.org/ville/", 1))
	assertFile(t, out, "articles/budget-2026/index.html", `href="/ville/tags/budget/"`, `href="https://example.org/ville/articles/budget-2026/"`)
	assertFile(t, out, "sitemap.xml", "https://example.org/ville/articles/budget-2026/")
}

// TestContentFaults checks that each fault stops the build with its file and, where known,
// its line, and that nothing is written.
func TestContentFaults(t *testing.T) {
	tests := []struct {
		name  string
		files string
		want  string
	}{
		{"malformed YAML", "-- articles/a.md --\n---\ntitle: [oops\n---\nx\n", "articles/a.md:"},
		{"no closing delimiter", "-- articles/a.md --\n---\ntitle: A\n", "articles/a.md:1: front matter: no closing --- line"},
		{"missing title", "-- articles/a.md --\n---\ndate: 2026-01-01\n---\nx\n", "articles/a.md:1: title: required"},
		{"no front matter", "-- articles/a.md --\njust text\n", "articles/a.md:1: no front matter"},
		{"bad date", "-- articles/a.md --\n---\ntitle: A\ndate: le 3 mars\n---\nx\n", `articles/a.md:3: date: "le 3 mars" is not a date`},
		{"bad TOML", "-- articles/a.md --\n+++\ntitle = \n+++\nx\n", "articles/a.md:"},
		{"bad JSON", "-- articles/a.md --\n{\"title\": }\nx\n", "articles/a.md:1: front matter"},
		{"duplicate output", "-- articles/a.md --\n---\ntitle: A\n---\n-- articles/b.md --\n---\ntitle: B\nslug: a\n---\n", "duplicate output path /articles/a/"},
		{"same page twice", "-- articles/a.md --\n---\ntitle: A\n---\n-- articles/a/index.md --\n---\ntitle: A2\n---\n", "the page articles/a is also written as"},
		{"alias over a page", "-- articles/a.md --\n---\ntitle: A\n---\n-- articles/b.md --\n---\ntitle: B\naliases: [/articles/a/]\n---\n", "duplicate output path /articles/a/"},
		{"page over a list", "-- pages/articles.md --\n---\ntitle: A\n---\n", "duplicate output path /articles/: the page, and the articles list"},
		{"unknown dossier item", "-- dossiers/d/_index.md --\n---\ntitle: D\nitems: [articles/nope]\n---\n", `dossiers/d/_index.md: items: unknown reference "articles/nope"`},
		{"unknown parent", "-- articles/a.md --\n---\ntitle: A\n---\n-- comments/articles/a/c1.yaml --\n_id: c1\nparent: zz\nname: X\ndate: 2026-01-01\nmessage: hi\n", `comments/articles/a/c1.yaml: parent: unknown parent comment "zz"`},
		{"comment of no page", "-- comments/articles/nope/c1.yaml --\n_id: c1\nname: X\ndate: 2026-01-01\nmessage: hi\n", "no page articles/nope"},
		{"slug leaving", "-- articles/a.md --\n---\ntitle: A\nslug: ../../etc\n---\n", `articles/a.md:3: slug: "../../etc" must not contain`},
		{"alias leaving", "-- articles/a.md --\n---\ntitle: A\naliases: [/../../x]\n---\n", "leaves the site's folder"},
		{"event end before start", "-- events/e.md --\n---\ntitle: E\nstart: 2026-05-02T10:00:00+02:00\nend: 2026-05-01T10:00:00+02:00\n---\n", "events/e.md:4: end: the event ends"},
		{"event without start", "-- events/e.md --\n---\ntitle: E\n---\n", "start: required"},
		{"photo without image", "-- photos/p/index.md --\n---\ntitle: P\ncaption: C\n---\n", "exactly one JPEG, PNG or GIF"},
		{"document without files", "-- documents/d/index.md --\n---\ntitle: D\n---\n", "at least one file"},
		{"bad config key", "", "parvis.yaml:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config
			if tt.name == "bad config key" {
				cfg = strings.Replace(config, "paginate: 2", "pagniate: 2", 1)
			}
			out, err := build(t, cfg+tt.files)
			if err == nil {
				t.Fatalf("the build passed; want a fault %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("fault:\n%v\nwant it to contain %q", err, tt.want)
			}
			if len(site.AsList(err)) == 0 {
				t.Errorf("fault is a %T, not a site.ErrorList", err)
			}
			if n, _ := out.Stats(); n != 0 {
				t.Errorf("%d files were written despite the fault", n)
			}
		})
	}
}
