package generator_test

import (
	"regexp"
	"strings"
	"testing"
)

// readingSite is a small French site for the faults a reader met in the first hour
// (issue 11, findings 9 and 10): a table of figures, a summary cut after a full stop, a
// past event in a dossier, an address that starts with its place, and a menu that links to
// the forms.
const readingSite = `
-- parvis.yaml --
title: Ville de Testville
baseURL: https://www.testville.example/
language: fr
timeZone: Europe/Paris
markdown: {typography: fr}
menu:
  - {name: Actualités, url: /articles/}
  - {name: Participer, url: /participer/}
params:
  contactURL: /contact/
  hours: "Du lundi au vendredi, de 8 h 30 à 12 h"
forms:
  comment:
    fields:
      name: {required: true, max: 80}
      message: {type: markdown, required: true}
    options: [page, parent, redirect]
    generated: {_id: id, date: date}
    path: "comments/{options.page}"
    filename: "{_id}.yaml"
  article:
    title: Proposer un article
    fields:
      title: {required: true}
      body: {type: markdown, required: true}
    generated: {slug: slug}
    path: "articles/{slug}"
    filename: index.md
    format: markdown
    body: body
-- _index.md --
---
title: Accueil
---
Bienvenue.
-- articles/resultats.md --
---
title: Les résultats
date: 2026-02-20T18:00:00+01:00
---
Les préparatifs vont bon train : le marché de Noël du comité des fêtes s'installera sur la place de la Halle et le quai des Tanneurs les samedi 12 et dimanche 13 décembre. Quarante exposants sont attendus, un record, et une nouveauté devrait ravir les enfants : une patinoire synthétique de 150 m² sur la place.

## Les projets retenus

| Rang | Projet | Coût |
| --- | --- | --- |
| 1 | Ombrer la cour | 24 000 € |
| 2 | Une aire de jeux | 28 500 € |

Rendez-vous à 19 h 30[^1].

[^1]: Sous la halle.
-- events/passe.md --
---
title: Réunion passée
start: 2026-02-26T18:30:00+01:00
end: 2026-02-26T20:30:00+01:00
location: Place des Tilleuls
address: Place des Tilleuls, 26999 Belcombe
---
La première réunion.
-- events/avenir.md --
---
title: Réunion à venir
start: 2027-01-21T18:30:00+01:00
location: Salle des fêtes
address: 12 rue de la Tuilerie, 26999 Belcombe
---
La deuxième réunion.
-- dossiers/plu/_index.md --
---
title: Révision du PLU
items: [events/passe, events/avenir]
---
Le dossier.
-- pages/contact.md --
---
title: Contact
---
Écrivez-nous.
`

// TestFirstHour9TablesScrollAndFiguresHoldTogether: the table of a page body is in a
// focusable region named by its heading, its figures take narrow no-break spaces and the
// columns of figures align right. The browser side is internal/e2e's TestTheme.
func TestFirstHour9TablesScrollAndFiguresHoldTogether(t *testing.T) {
	out := mustBuild(t, readingSite)
	assertFile(t, out, "articles/resultats/index.html",
		`<h2 id="les-projets-retenus">Les projets retenus</h2>`,
		`<div class="table-wrap" role="region" tabindex="0" aria-labelledby="les-projets-retenus">`,
		`<th style="text-align:right">Rang</th>`,
		`<td style="text-align:right">24`+"\u202f"+`000`+"\u202f"+`€</td>`,
		`<td>Ombrer la cour</td>`,
		"! 24 000 €",
	)
}

func TestFirstHour10ReadingFaults(t *testing.T) {
	out := mustBuild(t, readingSite)
	page := func(name string) string {
		b, ok := out.File(name)
		if !ok {
			t.Fatalf("%s was not written", name)
		}
		return string(b)
	}
	home := page("index.html")

	t.Run("contact in the mobile menu, participer once", func(t *testing.T) {
		header := home[strings.Index(home, `<header class="site-header">`):strings.Index(home, "</header>")]
		narrow := header[strings.Index(header, `<details class="menu-narrow">`):strings.Index(header, "</details>")]
		if !strings.Contains(narrow, `<a href="/contact/">Contact</a>`) {
			t.Errorf("the mobile menu has no Contact link:\n%s", narrow)
		}
		wide := header[strings.Index(header, `<nav class="menu-wide"`):]
		tools := header[strings.Index(header, `<ul class="tool-links`):strings.Index(header, `<details`)]
		// The desktop header is the tool links and the bar: the forms' index once.
		if n := strings.Count(tools+wide, `href="/participer/"`); n != 1 {
			t.Errorf("the desktop header links %d times to the forms:\n%s", n, tools+wide)
		}
		if !strings.Contains(tools, `<a href="/contact/">Contact</a>`) {
			t.Errorf("the tool links lost Contact:\n%s", tools)
		}
	})

	t.Run("card summary ends at its full stop", func(t *testing.T) {
		desc := regexp.MustCompile(`<p class="card-desc">([^<]*)</p>`).FindStringSubmatch(page("articles/index.html"))
		if desc == nil || !strings.HasSuffix(desc[1], "13 décembre.") {
			t.Errorf("card summary %q, want it to end with the sentence", desc)
		}
	})

	t.Run("times hold together", func(t *testing.T) {
		assertFile(t, out, "articles/resultats/index.html", "Rendez-vous à 19\u00a0h\u00a030")
		assertFile(t, out, "index.html", "de 8\u00a0h\u00a030 à 12\u00a0h", "! 8 h 30")
	})

	t.Run("past events in a dossier", func(t *testing.T) {
		d := page("dossiers/plu/index.html")
		past := regexp.MustCompile(`(?s)<article class="card card-event card-past">.*?</article>`).FindString(d)
		if !strings.Contains(past, "Réunion passée") || !strings.Contains(past, `<span class="card-status">Événement passé</span>`) {
			t.Errorf("the past event's card is not marked past:\n%s", past)
		}
		if upcoming := regexp.MustCompile(`(?s)<article class="card card-event">.*?</article>`).FindString(d); !strings.Contains(upcoming, "Réunion à venir") || strings.Contains(upcoming, "card-status") {
			t.Errorf("the upcoming event's card:\n%s", upcoming)
		}
	})

	t.Run("the month named once", func(t *testing.T) {
		m := page("events/2026/02/index.html")
		// From the heading to the list of the month's events, which give their dates.
		main := m[strings.Index(m, `<header class="page-header">`):strings.Index(m, `<section aria-labelledby="month-list-title">`)]
		// Visible: the heading. The table's caption names it to screen readers only.
		shown := regexp.MustCompile(`<caption[^>]*class="sr-only"[^>]*>[^<]*</caption>`).ReplaceAllString(main, "")
		if n := strings.Count(shown, "février 2026"); n != 1 {
			t.Errorf("the month page says février 2026 %d times:\n%s", n, main)
		}
		if !strings.Contains(main, `class="sr-only">février 2026`) {
			t.Errorf("the table lost its caption:\n%s", main)
		}
	})

	t.Run("footnote back-link named", func(t *testing.T) {
		assertFile(t, out, "articles/resultats/index.html", `role="doc-backlink" aria-label="Revenir au texte">`)
	})

	t.Run("ics: stamp and location", func(t *testing.T) {
		ics := page("events/passe/passe.ics")
		// DTSTAMP is when the file was made, the build's clock (now), in UTC.
		if !strings.Contains(ics, "DTSTAMP:20261122T120000Z\r\n") {
			t.Errorf("DTSTAMP is not the build's time:\n%s", ics)
		}
		if !strings.Contains(ics, "LOCATION:Place des Tilleuls\\, 26999 Belcombe\r\n") {
			t.Errorf("LOCATION:\n%s", ics)
		}
		assertFile(t, out, "events/avenir/avenir.ics", "LOCATION:Salle des fêtes\\, 12 rue de la Tuilerie\\, 26999 Belcombe\r\n")
		assertFile(t, out, "events/passe/index.html", `<span class="place">Place des Tilleuls</span><span class="address">26999 Belcombe</span>`)
	})
}
