package commentsvc

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parvis/parvis/internal/doccheck/doccorpus"
	"github.com/parvis/parvis/internal/forge"
	"github.com/parvis/parvis/internal/queue"
	"github.com/parvis/parvis/internal/store"
)

// openFormChange opens a change from form as the worker would, and records it pending.
func (h *harness) openFormChange(t *testing.T, form, page, title string, files ...forge.File) string {
	t.Helper()
	id := queue.NewID()
	c := &forge.Change{ID: id, Form: form, Page: page, Title: title, Author: "Odette L.", Files: files}
	p, err := h.svc.forge.Open(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	rec := &store.Record{ID: id, Form: form, Page: page, Title: title, Author: "Odette L.", Status: store.Pending, Change: p.Branch, Created: time.Now()}
	for _, f := range files {
		rec.Files = append(rec.Files, f.Path)
	}
	if err := h.svc.store.Put(rec); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestFirstHour11PhotoShown: a proposed photo's page shows the photo itself, large, with its
// caption, its description as the image's alternative text, and the fields as the form
// labels them; the Git diff waits behind a <details>.
func TestFirstHour11PhotoShown(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 4, 3))); err != nil {
		t.Fatal(err)
	}
	id := h.openFormChange(t, "photo", "", "Photo proposée : Le lavoir",
		forge.File{Path: "photos/le-lavoir/index.md", Data: []byte("---\nsubmitted: photo\ntitle: Le lavoir\n" +
			"caption: Le lavoir des Granges, un matin d'avril.\nalt: \"Un lavoir en pierre <b>sous</b> des saules.\"\n" +
			"author: Odette L.\nslug: le-lavoir\ndate: 2026-04-02T08:30:00+02:00\n---\nJ'y passe tous les matins.\n")},
		forge.File{Path: "photos/le-lavoir/le-lavoir.png", Data: img.Bytes()},
	)
	c := h.signedIn(t)
	p := c.get("/admin/submissions/" + id)
	if p.StatusCode != http.StatusOK {
		t.Fatalf("status %d\n%s", p.StatusCode, p.body)
	}
	src := "/admin/submissions/" + id + "/files/photos/le-lavoir/le-lavoir.png"
	mustContain(t, "the photo's page", p.body,
		`<h2 id="h-contribution">La contribution</h2>`,
		`<figure class="photo">`+"\n"+`<img src="`+src+`" alt="Un lavoir en pierre &lt;b&gt;sous&lt;/b&gt; des saules."><figcaption>Le lavoir des Granges, un matin d&#39;avril.</figcaption>`,
		`<h2 id="h-fields">Ce que la personne a saisi</h2>`,
		`<div><dt>Photo</dt><dd><a href="`+src+`">le-lavoir.png</a></dd></div>`,
		`<div><dt>Titre</dt><dd>Le lavoir</dd></div>`,
		`<div><dt>Légende</dt><dd class="multiline">Le lavoir des Granges, un matin d&#39;avril.</dd></div>`,
		`<div><dt>Description de l’image</dt><dd class="multiline">Un lavoir en pierre &lt;b&gt;sous&lt;/b&gt; des saules.</dd></div>`,
		`<div><dt>Histoire</dt><dd class="multiline">J&#39;y passe tous les matins.</dd></div>`,
		// The preview frame stays: the page's text as the site will publish it.
		`<iframe class="preview" sandbox src="/admin/submissions/`+id+`/preview"`,
		`<summary>Afficher les fichiers tels qu’ils seront enregistrés (diff Git)</summary>`,
	)
	mustNotContain(t, "the photo's page", p.body, "Pas d’aperçu", "<b>sous", "<code>photos/")
	// The diff's technical lines are behind the <details>, not on the page as it opens.
	open, details := strings.Index(p.body, "new file mode"), strings.Index(p.body, `<details class="diff-details">`)
	if details < 0 || open < details {
		t.Errorf("the diff is not behind a <details> (details at %d, diff at %d)", details, open)
	}
	if f := c.get(src); f.StatusCode != http.StatusOK || f.Header.Get("Content-Type") != "image/png" || f.Header.Get("Content-Disposition") != "" {
		t.Errorf("the photo: %d %q %q", f.StatusCode, f.Header.Get("Content-Type"), f.Header.Get("Content-Disposition"))
	}
}

// TestFirstHour11DocumentOpened: an uploaded PDF or ODT is a link to download it before
// approving, served as an attachment under a sandbox policy, never shown in the service's
// origin; a file that is not what its name says is not served.
func TestFirstHour11DocumentOpened(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	id := h.openFormChange(t, "document", "", "Document déposé : Le compte rendu",
		forge.File{Path: "documents/cr/cr.pdf", Data: pdf},
		forge.File{Path: "documents/cr/annexe.odt", Data: doccorpus.Doc(doccorpus.Content("", "<text:p>Annexe</text:p>"))},
		forge.File{Path: "documents/cr/faux.pdf", Data: []byte("<html><script>alert(1)</script>")},
		forge.File{Path: "documents/cr/index.md", Data: []byte("---\nsubmitted: document\ntitle: Le compte rendu\n---\nLe compte rendu de l'assemblée du 3 mars.\n")},
	)
	c := h.signedIn(t)
	p := c.get("/admin/submissions/" + id)
	base := "/admin/submissions/" + id + "/files/documents/cr/"
	mustContain(t, "the document's page", p.body,
		`<a class="button secondary" href="`+base+`cr.pdf" download>Télécharger « cr.pdf »</a> <span class="muted">(PDF, `,
		`<a class="button secondary" href="`+base+`annexe.odt" download>Télécharger « annexe.odt »</a> <span class="muted">(ODT, `,
		`<div><dt>Fichier</dt><dd><a href="`+base+`cr.pdf">cr.pdf</a></dd></div>`,
		`<div><dt>Titre du document</dt><dd>Le compte rendu</dd></div>`,
		`<div><dt>Présentation</dt><dd class="multiline">Le compte rendu de l&#39;assemblée du 3 mars.</dd></div>`,
	)
	for _, tt := range []struct {
		name, ctype, disposition string
		status                   int
	}{
		{"cr.pdf", "application/pdf", `attachment; filename=cr.pdf`, http.StatusOK},
		{"annexe.odt", "application/vnd.oasis.opendocument.text", `attachment; filename=annexe.odt`, http.StatusOK},
		{"faux.pdf", "text/html; charset=utf-8", "", http.StatusNotFound},
		{"index.md", "text/html; charset=utf-8", "", http.StatusNotFound},
	} {
		f := c.get(base + tt.name)
		if f.StatusCode != tt.status || f.Header.Get("Content-Type") != tt.ctype || f.Header.Get("Content-Disposition") != tt.disposition {
			t.Errorf("%s: %d %q %q", tt.name, f.StatusCode, f.Header.Get("Content-Type"), f.Header.Get("Content-Disposition"))
		}
		if tt.status != http.StatusOK {
			continue
		}
		if csp := f.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: CSP %q", tt.name, csp)
		}
		if f.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(f.Header.Get("Cache-Control"), "no-store") {
			t.Errorf("%s: headers %v", tt.name, f.Header)
		}
	}
	if f := h.client(t).get(base + "cr.pdf"); f.StatusCode != http.StatusSeeOther {
		t.Errorf("the document without a session: %d", f.StatusCode)
	}
}

// TestFirstHour11PageTitles: a title from a form's message template names the page by its
// path ("… sur articles/budget"); the queue, the submission's page and the flash after a
// decision name it by its title.
func TestFirstHour11PageTitles(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.openFormChange(t, "comment", "articles/budget", "Commentaire de Lucie T. sur articles/budget",
		forge.File{Path: "comments/articles/budget/c9.yaml", Data: []byte("_id: c9\nname: Lucie T.\ndate: 2026-03-15T10:00:00+01:00\nmessage: Bravo.\n")})
	c := h.signedIn(t)
	want := "Commentaire de Lucie T. sur «\u00a0Le budget 2026\u00a0»"
	mustContain(t, "the queue", c.get("/admin/").body, `<a href="/admin/submissions/`+id+`">`+want+`</a>`)
	p := c.get("/admin/submissions/" + id)
	mustContain(t, "the submission", p.body, "<h1>"+want+"</h1>", "<title>Contribution : "+want)
	mustNotContain(t, "the submission", p.body, "sur articles/budget")
}
