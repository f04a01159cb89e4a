package generator_test

import (
	"strings"
	"testing"

	"github.com/parvis/parvis/internal/antispam"
)

// formsSite has a comment form and three proposal forms, one of them with uploads.
const formsSite = `
-- parvis.yaml --
title: Ville de Testville
baseURL: https://www.testville.example/
language: fr
menu:
  - {name: Actualités, url: /articles/}
service:
  url: https://participer.testville.example
forms:
  comment:
    fields:
      name: {label: Votre nom, required: true, max: 80, help: Il sera publié.}
      message: {type: markdown, label: Votre commentaire, required: true, min: 2}
      email: {type: email, label: Adresse électronique, private: true}
    order: [name, message, email]
    options: [page, parent, redirect]
    path: "comments/{options.page}"
    filename: "{_id}.yaml"
    antispam: {honeypot: website}
  photo:
    title: Partager une photo
    order: [image, title, license]
    fields:
      image: {type: image, label: Photo, required: true, accept: [image/jpeg, image/png], max: 10485760}
      title: {label: Titre, required: true, max: 100}
      license: {type: choice, label: Licence, required: true, choices: [CC-BY-4.0, CC0-1.0]}
    path: "photos/{slug}"
    filename: index.md
    antispam: {honeypot: website}
  event:
    title: Proposer un événement
    fields:
      title: {label: Titre, required: true}
      start: {type: datetime, label: Début, required: true}
      registration: {type: url, label: Inscription}
    path: events
    filename: "{slug}.md"
    antispam: {honeypot: website, challenge: false}
  zoo:
    fields:
      animal: {type: choice, choices: [chat, chien, lapin, poule, vache, âne, cheval]}
    path: zoo
    filename: "{slug}.md"
-- articles/a.md --
---
title: Un article
date: 2026-03-14
---
Texte.
-- comments/articles/a/c1.yaml --
_id: c1
name: Claire M.
date: 2026-03-15T10:00:00+01:00
message: Premier.
-- comments/articles/a/c2.yaml --
_id: c2
parent: c1
name: Paul
date: 2026-03-16T10:00:00+01:00
message: Réponse.
-- articles/fermé.md --
---
title: Sans commentaires
date: 2026-03-10
comments: false
---
Texte.
-- pages/mentions-legales.md --
---
title: Mentions légales
---
Éditeur.
`

func TestCommentForm(t *testing.T) {
	out := mustBuild(t, formsSite)
	assertFile(t, out, "articles/a/index.html",
		`<form class="form" method="post" action="https://participer.testville.example/api/v1/entries/comment" id="form-comment" data-parvis-form="comment" data-parvis-challenge="https://participer.testville.example/api/v1/challenge">`,
		`<input type="hidden" name="options[page]" value="articles/a">`,
		// No redirect: without JavaScript the service answers with the receipt, which links back.
		"! options[redirect]",
		`<input type="hidden" name="options[token]" value="`+antispam.Placeholder+`">`,
		`<input type="hidden" name="options[pow]" value="">`,
		// Replies without JavaScript: the thread's comments to choose from.
		`<select id="form-comment-parent" name="options[parent]">`,
		`<option value="c1">Claire M., 15 mars 2026</option>`, `<option value="c2">Paul, 16 mars 2026</option>`,
		`href="#comment-form" data-reply="c1"`,
		// Fields in the policy's order, with labels, help and error slots.
		`<label for="form-comment-name">Votre nom <span class="req">*</span></label>`,
		`<p class="hint" id="form-comment-name-help">Il sera publié.</p>`,
		`<input id="form-comment-name" name="fields[name]" type="text" required maxlength="80" autocomplete="name" aria-describedby="form-comment-name-help form-comment-name-error">`,
		`<textarea id="form-comment-message" name="fields[message]" rows="8" required minlength="2" aria-describedby="form-comment-message-error"></textarea>`,
		`<input id="form-comment-email" name="fields[email]" type="email" autocomplete="email" spellcheck="false" aria-describedby="form-comment-email-error">`,
		`<p class="field-error" id="form-comment-name-error"></p>`,
		// The question for people without JavaScript, and the honeypot. Finding 5: the
		// question is the token's, so the static page holds placeholders for both, which
		// the service stamps; until then the text says what comes next.
		`<div class="field parvis-question">`,
		`<input type="hidden" name="options[question]" value="`+antispam.QuestionPlaceholder+`">`,
		`<label for="form-comment-answer">`+antispam.QuestionTextTag+`Une question de vérification vous sera posée après l’envoi du formulaire ; vous pouvez laisser ce champ vide.</span></label>`,
		`<input id="form-comment-answer" name="options[answer]" type="text" autocomplete="off"`,
		`<div class="parvis-hp" aria-hidden="true">`,
		`<input id="form-comment-hp" name="fields[website]" type="text" value="" tabindex="-1" autocomplete="off">`,
		`<script src="/js/challenge.`,
		"2 commentaires", `id="comment-c1"`, `id="comment-sent"`,
	)
	assertFile(t, out, "articles/fermé/index.html", "! <form class=\"form\"", "! challenge.js")
	assertFile(t, out, "mentions-legales/index.html", "! <form class=\"form\"", "! challenge.js")
	assertFile(t, out, "articles/index.html", "2 commentaires", "! <form class=\"form\"")
	// Comment counts in the page's head of lists.
	assertFile(t, out, "index.html", `<span class="comment-count">2 commentaires</span>`)
}

func TestProposalForms(t *testing.T) {
	out := mustBuild(t, formsSite)
	assertFile(t, out, "participer/photo/index.html",
		"<h1>Partager une photo</h1>",
		`enctype="multipart/form-data"`,
		`action="https://participer.testville.example/api/v1/entries/photo"`,
		`<input id="form-photo-image" name="fields[image]" type="file" required accept="image/jpeg,image/png" aria-describedby="form-photo-image-file form-photo-image-error">`,
		"Formats acceptés : JPEG, PNG. Taille maximale : 10\u00a0Mo.",
		// Few choices: radio buttons in a fieldset, licences named for people.
		`<fieldset class="field field-radios" id="form-photo-license" aria-describedby="form-photo-license-error">`,
		`<legend>Licence <span class="req">*</span></legend>`,
		`<input type="radio" id="form-photo-license-0" name="fields[license]" value="CC-BY-4.0" required><label for="form-photo-license-0">CC BY 4.0</label>`,
		`value="`+antispam.QuestionPlaceholder+`"`,
		`name="options[token]"`, `name="fields[website]"`,
		// No page and no redirect: the policy takes neither, and the service shows its receipt.
		"! options[page]", "! options[redirect]", "! options[parent]",
		`<a href="/">Accueil</a></li><li><a href="/participer/">Participer</a>`,
	)
	assertFile(t, out, "participer/event/index.html",
		`<input id="form-event-start" name="fields[start]" type="datetime-local" required`,
		`<input id="form-event-registration" name="fields[registration]" type="url" autocomplete="url"`,
		"! enctype", "! options[question]", `name="options[token]"`, `name="options[pow]"`,
	)
	// Many choices: a list. A form without a title gets the name as title.
	assertFile(t, out, "participer/zoo/index.html", `<select id="form-zoo-animal" name="fields[animal]"`, `<option value="âne">âne</option>`, "! parvis-hp")
	// The index lists the proposal forms, the usual ones first, never the comment form.
	assertFile(t, out, "participer/index.html", `href="/participer/photo/"`, `href="/participer/event/"`, `href="/participer/zoo/"`, "! /participer/comment/")
	b, _ := out.File("participer/index.html")
	if i, j, k := strings.Index(string(b), "/participer/event/"), strings.Index(string(b), "/participer/photo/"), strings.Index(string(b), "/participer/zoo/"); !(i < j && j < k) {
		t.Errorf("forms are not in the order event, photo, zoo")
	}
	assertNoFile(t, out, "participer/comment/index.html")
	assertFile(t, out, "index.html", `<a href="/participer/">Participer</a>`)
}

func TestFormsIndexPage(t *testing.T) {
	// A page at the index's address presents the forms itself, those its forms key names.
	out := mustBuild(t, formsSite+`
-- pages/participer.md --
---
title: Contribuer
forms: [photo]
---
Partagez vos images.
`)
	assertFile(t, out, "participer/index.html", "<h1>Contribuer</h1>", "Partagez vos images.", `href="/participer/photo/"`, "! /participer/event/")
	assertFile(t, out, "participer/photo/index.html", `<a href="/participer/">Contribuer</a>`)

	tests := []struct{ name, files, want string }{
		{"unknown form", "-- pages/p.md --\n---\ntitle: P\nforms: [nope]\n---\n", `pages/p.md: forms: no proposal form "nope"`},
		{"the comment form", "-- pages/p.md --\n---\ntitle: P\nforms: [comment]\n---\n", `no proposal form "comment"`},
		{"a form's address", "-- pages/p.md --\n---\ntitle: P\nslug: x\naliases: [/participer/photo/]\n---\n", "duplicate output path /participer/photo/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := build(t, formsSite+tt.files)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("fault %v; want %q", err, tt.want)
			}
		})
	}
}

func TestFormsSameOrigin(t *testing.T) {
	// Without a service URL the forms post to the site's own origin, below its folder.
	site := strings.Replace(formsSite, "service:\n  url: https://participer.testville.example\n", "", 1)
	site = strings.Replace(site, "https://www.testville.example/", "https://example.org/ville/", 1)
	out := mustBuild(t, site)
	assertFile(t, out, "articles/a/index.html", `action="/ville/api/v1/entries/comment"`, `data-parvis-challenge="/ville/api/v1/challenge"`)
	assertFile(t, out, "participer/photo/index.html", `action="/ville/api/v1/entries/photo"`)
}

func TestEnglishForms(t *testing.T) {
	out := mustBuild(t, strings.Replace(formsSite, "language: fr", "language: en", 1))
	assertFile(t, out, "articles/a/index.html", "2 comments", "Send the comment", "In reply to",
		antispam.QuestionTextTag+"A check question will be asked once you send the form; you may leave this field empty.</span>")
	assertFile(t, out, "participate/photo/index.html", "Accepted formats: JPEG, PNG. Largest size: 10 MB.")
}
