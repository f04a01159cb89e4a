package site

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/tools/txtar"
)

func load(t *testing.T, archive string) (*Site, error) {
	t.Helper()
	m := fstest.MapFS{}
	for _, f := range txtar.Parse([]byte(archive)).Files {
		m[f.Name] = &fstest.MapFile{Data: f.Data}
	}
	return Load(m, Options{Now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)})
}

const cfg = "-- parvis.yaml --\ntitle: T\nbaseURL: https://t.example/\n"

func TestFrontMatterFormats(t *testing.T) {
	s, err := load(t, cfg+`
-- articles/y.md --
---
title: YAML
date: 2026-03-14
tags: [a, b]
---
body y
-- articles/t.md --
+++
title = "TOML"
date = 2026-03-14T10:00:00+01:00
+++
body t
-- articles/j.md --
{
  "title": "JSON",
  "date": "2026-03-14T10:00:00Z",
  "weight": 3
}
body j
`)
	if err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	tests := []struct {
		ref, title, body string
		date             time.Time
	}{
		{"articles/y", "YAML", "body y\n", time.Date(2026, 3, 14, 0, 0, 0, 0, paris)},
		{"articles/t", "TOML", "body t\n", time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)},
		{"articles/j", "JSON", "body j\n", time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		p := s.Page(tt.ref)
		if p == nil {
			t.Fatalf("no page %s", tt.ref)
		}
		if p.Title != tt.title || string(p.Body) != tt.body || !p.Date.Equal(tt.date) {
			t.Errorf("%s: title %q body %q date %v", tt.ref, p.Title, p.Body, p.Date)
		}
	}
	if w := s.Page("articles/j").Weight; w != 3 {
		t.Errorf("JSON weight = %d", w)
	}
}

func TestSectionIntros(t *testing.T) {
	s, err := load(t, cfg+`
-- _index.md --
---
title: Accueil
---
Bienvenue.
-- events/_index.md --
---
title: Agenda
---
Les événements.
-- photos/_index.md --
---
title: Photos
---
-- documents/_index.md --
---
title: Documents
---
-- dossiers/_index.md --
---
title: Dossiers
---
`)
	if err != nil {
		t.Fatal(err)
	}
	for sec, title := range map[string]string{"": "Accueil", "events": "Agenda", "photos": "Photos", "documents": "Documents", "dossiers": "Dossiers"} {
		p := s.Sections[sec]
		if p == nil || p.Title != title || p.Kind != KindSection {
			t.Errorf("section %q: %+v", sec, p)
		}
	}
	if len(s.Pages) != 0 {
		t.Errorf("intros became pages: %d", len(s.Pages))
	}
}

func TestFaultLines(t *testing.T) {
	tests := []struct{ file, want string }{
		{"---\ntitle: 'open\n---\n", "a.md:3: front matter"},
		{"---\ntitle: A\ndate: 2026-13-45\n---\n", "a.md:3: date:"},
		{"---\ntitle: A\ntags: {x: 1}\n---\n", "a.md:3: tags: expected a list"},
		{"---\ntitle: A\nweight: heavy\n---\n", "a.md:3: weight: expected a whole number"},
		{"---\ntitle: A\ntitle: B\n---\n", "a.md:3: front matter"},
	}
	for _, tt := range tests {
		_, err := load(t, cfg+"-- articles/a.md --\n"+tt.file)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: fault %v, want %q", tt.file, err, tt.want)
		}
	}
}

func FuzzFrontMatter(f *testing.F) {
	for _, seed := range []string{
		"---\ntitle: A\n---\nbody",
		"+++\ntitle = \"A\"\n+++\n",
		"{\"title\": \"A\"}\nbody",
		"---\n---\n",
		"\xef\xbb\xbf---\ntitle: A\r\n---\r\nbody",
		"---\ntitle: &a [*a]\n---\n",
		"---\n- a\n---\n",
		"{",
	} {
		f.Add([]byte(seed))
	}
	c := &Config{Location: time.UTC}
	f.Fuzz(func(t *testing.T, data []byte) {
		fm, body, line, err := ParseFrontMatter(data)
		if err != nil {
			if AsList(err) == nil {
				t.Fatalf("fault %T is not an *Error", err)
			}
			return
		}
		if fm == nil || line < 1 || len(body) > len(data) {
			t.Fatalf("fm %v line %d body %d of %d", fm, line, len(body), len(data))
		}
		p, errs := newPage("articles/x.md", "articles/x", data, c)
		if p == nil && len(errs) == 0 {
			t.Fatal("no page and no fault")
		}
		if p != nil && len(errs) == 0 && (p.Title == "" || strings.Contains(p.URL, "..")) {
			t.Fatalf("accepted page with title %q url %q", p.Title, p.URL)
		}
	})
}

func FuzzComment(f *testing.F) {
	f.Add([]byte("_id: a1\nname: X\ndate: 2026-01-01\nmessage: hi\n"))
	f.Add([]byte("_id: ../x\nname: X\ndate: 2026-01-01\nmessage: hi\n"))
	f.Add([]byte("- a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseComment("comments/a/x.yaml", data, time.UTC)
		if err != nil {
			return
		}
		if !commentIDRE.MatchString(c.ID) || c.Name == "" || strings.TrimSpace(c.Body) == "" {
			t.Fatalf("accepted comment %+v", c)
		}
	})
}
