package generator_test

import (
	"strings"
	"testing"
)

// A page a citizen sent through a form is a citizen's text, whatever markdown.unsafe says
// (finding 3 of the hostile-input review): on a site that lets editors write raw HTML, the
// same body is published raw in an editor's page and as text in a citizen's, with no
// attribute and no id of the theme's.
func TestFinding3CitizenPagesIgnoreUnsafe(t *testing.T) {
	const body = "## Big {style=\"position:fixed;top:0;left:0;width:100%;height:100%;z-index:9999\"}\n\n" +
		"## x {#comment-form}\n\n" +
		"<script>alert(1)</script>\n\n<img src=x onerror=\"alert(2)\">\n\n" +
		"<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example/\">\n"
	site := strings.Replace(config, "language: fr", "language: fr\nmarkdown: {unsafe: true}", 1) + `
-- articles/editeur.md --
---
title: Un article de la rédaction
date: 2026-03-14T09:30:00+01:00
---
` + body + `
-- articles/citoyen/index.md --
---
submitted: article
title: Un article proposé
date: 2026-03-14T09:30:00+01:00
---
` + body + `
-- articles/citoyen/compte-rendu.pdf --
%PDF-1.4
%%EOF
-- articles/citoyen/photo.png --
not really a picture
-- documents/note/index.md --
---
title: Une note de la mairie
files: [{name: note.pdf, title: La note}]
---
Une note.
-- documents/note/note.pdf --
%PDF-1.4
%%EOF
`
	out := mustBuild(t, site)
	assertFile(t, out, "articles/editeur/index.html",
		`<script>alert(1)</script>`, `onerror="alert(2)"`, `<meta http-equiv="refresh"`, `style="position:fixed`)
	assertFile(t, out, "articles/citoyen/index.html",
		`&lt;script&gt;alert(1)&lt;/script&gt;`, `&lt;meta http-equiv=`,
		`<h2 id="u-x-comment-form">`, `<h2 id="u-big-style-position-fixed`,
		"! <script>alert", "! onerror=\"alert", "! <meta http-equiv=\"refresh\"", `! style="position:fixed`,
		`! <img src="x"`)
	// The citizen's files are served as downloads; the pictures, re-encoded by Parvis, and
	// the editors' files are not listed.
	assertFile(t, out, "_headers",
		"/articles/citoyen/compte-rendu.pdf\n  Content-Disposition: attachment\n",
		"! /documents/note/note.pdf", "! photo.png")
}

// TestSignatureShown: a proposed article's signature (its form's author field, "as it will
// be published") is on the page, escaped.
func TestSignatureShown(t *testing.T) {
	out := mustBuild(t, config+`
-- articles/propose/index.md --
---
submitted: article
title: Le club de lecture reprend
author: "Les Amis du <b>livre</b>"
date: 2026-03-14T09:30:00+01:00
---
Le club reprend ses rencontres.
`)
	assertFile(t, out, "articles/propose/index.html", "<span>Par Les Amis du &lt;b&gt;livre&lt;/b&gt;</span>", "! <b>livre</b>")
}
