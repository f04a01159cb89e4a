package forms

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/parvis/parvis/internal/site"
)

// The demo's policies, as parvis.yaml declares them.
const (
	commentPolicy = `
order: [name, message, email]
fields:
  name: {type: text, label: Votre nom, required: true, max: 80}
  message: {type: markdown, label: Votre commentaire, required: true, min: 2, max: 5000}
  email: {type: email, label: Votre adresse électronique, max: 254, private: true}
options: [page, parent, redirect]
transforms:
  - {field: email, op: hash, to: avatar}
generated: {_id: id, date: date}
path: "comments/{options.page}"
filename: "{_id}.yaml"
format: yaml
antispam: {honeypot: website}
message: "Commentaire de {fields.name} sur {options.page}"
`
	articlePolicy = `
order: [title, summary, body, image, author]
fields:
  title: {type: text, label: Titre, required: true, min: 5, max: 120}
  summary: {type: textarea, label: Résumé, required: true, max: 300}
  body: {type: markdown, label: Texte, required: true, min: 20, max: 20000}
  image: {type: image, label: Illustration, accept: [image/jpeg, image/png], max: 10485760, pixels: 2000}
  author: {type: text, label: Signature, required: true, max: 80}
generated: {slug: slug, date: date}
path: "articles/{slug}"
filename: index.md
format: markdown
body: body
`
	eventPolicy = `
order: [title, start, end, location, address, description, registration]
fields:
  title: {type: text, required: true, min: 5, max: 120}
  start: {type: datetime, required: true}
  end: {type: datetime}
  location: {type: text, required: true, max: 120}
  address: {type: text, max: 200}
  description: {type: markdown, required: true, min: 10}
  registration: {type: url, max: 500}
generated: {slug: slug}
path: events
filename: "{slug}.md"
format: markdown
body: description
`
)

// avatarRE finds anything shaped like an e-mail address, independently of containsEmail.
var avatarRE = regexp.MustCompile(`[^\s@"']+@[^\s@"']+\.[a-zA-Z]{2,}`)

// TestNoPersonalData encodes comments with e-mail addresses and checks that no file, path
// or subject holds one: only the keyed hash of the address is written.
func TestNoPersonalData(t *testing.T) {
	f := compile(t, "comment", commentPolicy)
	mac := func(key []byte, s string) string {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(s))
		return hex.EncodeToString(h.Sum(nil))
	}
	want := mac(secret, "claire.martin@example.fr")
	for _, addr := range []string{"claire.martin@example.fr", "  Claire.Martin@EXAMPLE.fr", "CLAIRE.MARTIN@example.FR "} {
		v := url.Values{
			"fields[name]":    {"Claire M."},
			"fields[message]": {"Merci pour ces précisions."},
			"fields[email]":   {addr},
			"options[page]":   {"articles/budget-2026"},
		}
		s, errs := f.Decode(v, nil)
		if errs != nil {
			t.Fatal(errs)
		}
		if s.Private["email"] == "" {
			t.Error("the address is not kept for the service")
		}
		files, err := f.Encode(s, testGen)
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			for _, text := range []string{file.Path, string(file.Data)} {
				if m := avatarRE.FindString(text); m != "" || strings.Contains(strings.ToLower(text), "claire.martin") {
					t.Errorf("%s holds an address %q:\n%s", file.Path, m, file.Data)
				}
			}
		}
		if !strings.Contains(string(files[0].Data), "\navatar: \""+want+"\"\n") {
			t.Errorf("%q: the avatar is not HMAC-SHA256 of the lower-cased, trimmed address:\n%s", addr, files[0].Data)
		}
		if sub := f.Subject(s, testGen); avatarRE.MatchString(sub) {
			t.Errorf("subject %q holds an address", sub)
		}
	}
	other, err := Compile("comment", spec(t, commentPolicy), Options{Secret: []byte("another secret, 32 bytes long..."), Location: paris})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := other.Decode(url.Values{"fields[name]": {"C"}, "fields[message]": {"Merci"}, "fields[email]": {"claire.martin@example.fr"}, "options[page]": {"articles/a"}}, nil)
	if s.Fields["avatar"] == want {
		t.Error("the avatar does not depend on the secret")
	}
	// A submission not made by Decode (an old one queued before the policy changed) is
	// refused rather than written into a page the site cannot load.
	old := &Submission{Form: "comment", Fields: map[string]string{"name": "Claire"}, Options: map[string]string{"page": "articles/a"}}
	if _, err := f.Encode(old, testGen); err == nil || !strings.Contains(err.Error(), "no message") {
		t.Errorf("Encode without a required field: %v", err)
	}
	// Nor can it smuggle an address into a file.
	forged := &Submission{Form: "comment", Fields: map[string]string{"name": "claire@example.fr", "message": "x"}, Options: map[string]string{"page": "articles/a"}}
	if _, err := f.Encode(forged, testGen); !errors.Is(err, ErrPersonalData) {
		t.Errorf("Encode of a forged submission: %v, want ErrPersonalData", err)
	}
}

// TestLoadsInSite writes comments, a reply, an article with its image, an event, a photo
// and a document, and loads the whole site with internal/site as a build would.
func TestLoadsInSite(t *testing.T) {
	fsys := fstest.MapFS{
		"parvis.yaml":             {Data: []byte("title: Belcombe\nbaseURL: https://www.belcombe.fr/\ntimeZone: Europe/Paris\n")},
		"articles/budget-2026.md": {Data: []byte("---\ntitle: Budget 2026\ndate: 2026-01-10\n---\nLe budget.\n")},
	}
	add := func(files []File, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if _, dup := fsys[f.Path]; dup {
				t.Fatalf("%s written twice", f.Path)
			}
			fsys[f.Path] = &fstest.MapFile{Data: f.Data}
		}
	}
	decode := func(f *Form, v url.Values, ups ...upload) *Submission {
		t.Helper()
		s, errs := f.Decode(v, multipartFiles(t, ups...))
		if errs != nil {
			t.Fatal(errs)
		}
		return s
	}
	comment := compile(t, "comment", commentPolicy)
	first := Generated{ID: "01JD8W0F3S6W6J8V5Q0Z3Y2X1A", Now: time.Date(2026, 3, 14, 9, 22, 5, 0, time.UTC)}
	reply := Generated{ID: "01JD8W0F3S6W6J8V5Q0Z3Y2X2B", Now: time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)}
	add(comment.Encode(decode(comment, url.Values{
		"fields[name]": {"Claire M."}, "fields[email]": {"claire@example.fr"},
		"fields[message]": {"Merci pour ces **précisions**.\r\n\r\n> Citation : « le budget »\r\n\r\n    du code"},
		"options[page]":   {"articles/budget-2026"}, "options[redirect]": {"/articles/budget-2026/"},
	}), first))
	add(comment.Encode(decode(comment, url.Values{
		"fields[name]": {"No"}, "fields[message]": {"- true\n- 2026\n- null: ~"},
		"options[page]": {"articles/budget-2026"}, "options[parent]": {first.ID},
	}), reply))

	article := compile(t, "article", articlePolicy)
	add(article.Encode(decode(article, url.Values{
		"fields[title]": {"Le club de lecture reprend : 1, 2, 3…"}, "fields[summary]": {"Les rencontres\nreprennent."},
		"fields[body]": {"Le club se retrouve chaque premier jeudi du mois à la médiathèque."}, "fields[author]": {"Club de lecture"},
	}, upload{"fields[image]", "club.png", pngFile(t, picture(40, 30))}), testGen))

	event := compile(t, "event", eventPolicy)
	add(event.Encode(decode(event, url.Values{
		"fields[title]": {"Fête de la musique"}, "fields[start]": {"2026-06-21T18:30"}, "fields[end]": {"2026-06-21T23:00"},
		"fields[location]": {"Place de l'Église"}, "fields[description]": {"Concerts toute la soirée."},
		"fields[registration]": {"https://example.org/inscription"},
	}), testGen))

	photo := compile(t, "photo", photoPolicy)
	add(photo.Encode(decode(photo, url.Values{
		"fields[title]": {"Brume sur la Vaudèze"}, "fields[caption]": {"Au petit matin."},
	}, upload{"fields[image]", "brume.jpg", jpegFile(t, picture(30, 20))}), testGen))

	doc := compile(t, "document", documentPolicy)
	add(doc.Encode(decode(doc, url.Values{
		"fields[title]": {"Compte rendu de l'AG"}, "fields[description]": {"Le compte rendu de l'assemblée générale."},
	}, upload{"fields[file]", "cr.pdf", pdfFile("")}), testGen))

	s, err := site.Load(fsys, site.Options{Now: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		for p, f := range fsys {
			t.Logf("-- %s --\n%s", p, f.Data)
		}
		t.Fatal(err)
	}
	thread := s.Comments["articles/budget-2026"]
	if len(thread) != 1 || len(thread[0].Replies) != 1 {
		t.Fatalf("thread %v", thread)
	}
	c, r := thread[0], thread[0].Replies[0]
	if c.ID != first.ID || c.Name != "Claire M." || c.Avatar == "" || !strings.Contains(c.Body, "> Citation") || !c.Date.Equal(first.Now) {
		t.Errorf("comment %+v", c)
	}
	if r.Parent != first.ID || r.Name != "No" || r.Body != "- true\n- 2026\n- null: ~" {
		t.Errorf("reply %+v", r)
	}
	slug := "-3y2x1a"
	a := s.Page("articles/le-club-de-lecture-reprend-1-2-3" + slug)
	if a == nil || a.Title != "Le club de lecture reprend : 1, 2, 3…" || a.Image != "le-club-de-lecture-reprend-1-2-3"+slug+".png" || len(a.Resources) != 1 || a.Summary != "Les rencontres\nreprennent." {
		t.Errorf("article %+v", a)
	}
	if a != nil && (a.Params["author"] != "Club de lecture" || !a.Date.Equal(testGen.Now)) {
		t.Errorf("article params %v, date %v", a.Params, a.Date)
	}
	e := s.Page("events/fete-de-la-musique" + slug)
	if e == nil || e.Event == nil || e.Event.Start.Format(time.RFC3339) != "2026-06-21T18:30:00+02:00" || e.Event.Place != "Place de l'Église" || e.Event.Registration == "" {
		t.Errorf("event %+v", e)
	}
	p := s.Page("photos/brume-sur-la-vaudeze" + slug)
	if p == nil || p.Photo == nil || p.Photo.Image == nil || p.Photo.Caption != "Au petit matin." {
		t.Errorf("photo %+v", p)
	}
	d := s.Page("documents/compte-rendu-de-l-ag" + slug)
	if d == nil || d.Document == nil || len(d.Document.Files) != 1 || d.Document.Files[0].Title != "Compte rendu de l'AG" || d.Document.Files[0].MediaType != "application/pdf" {
		t.Errorf("document %+v", d)
	}
}
