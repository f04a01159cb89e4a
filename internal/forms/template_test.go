package forms

import (
	"path"
	"strings"
	"testing"
	"time"

	"github.com/parvis/parvis/internal/forge"
)

func TestTemplatePath(t *testing.T) {
	now := time.Date(2026, 3, 14, 10, 22, 5, 0, paris)
	tests := []struct {
		tmpl    string
		fields  map[string]string
		options map[string]string
		want    string // "" for an error
	}{
		{"comments/{options.page}/{_id}.yaml", nil, map[string]string{"page": "articles/budget-2026"}, "comments/articles/budget-2026/01ABC.yaml"},
		{"comments/{options.page}/{_id}.yaml", nil, map[string]string{"page": "dossiers/plu/reunion-publique"}, "comments/dossiers/plu/reunion-publique/01ABC.yaml"},
		{"photos/{slug}/index.md", nil, nil, "photos/brume-abc123/index.md"},
		{"events/{date:2006}/{slug}.md", nil, nil, "events/2026/brume-abc123.md"},
		{"events/{date:2006/01}/{slug}.md", nil, nil, "events/2026/03/brume-abc123.md"},
		{"articles/{fields.cat}/{_id}.md", map[string]string{"cat": "Vie associative"}, nil, "articles/vie-associative/01ABC.md"},
		{"articles/{fields.cat}/{_id}.md", map[string]string{"cat": "../../.git/config"}, nil, "articles/git-config/01ABC.md"},
		{"articles/{fields.cat}/{_id}.md", map[string]string{"cat": "..\\..\\windows"}, nil, "articles/windows/01ABC.md"},
		{"articles/{fields.cat}/{_id}.md", map[string]string{"cat": "~/.ssh"}, nil, "articles/ssh/01ABC.md"},
		{"articles/{fields.cat}/{_id}.md", map[string]string{"cat": "%2e%2e%2f"}, nil, "articles/2e-2e-2f/01ABC.md"},
		{"articles/{options.slug}/{_id}.md", nil, map[string]string{"slug": "mon-article"}, "articles/mon-article/01ABC.md"},
		{"articles/{fields.cat}/{_id}.md", map[string]string{"cat": "!!!"}, nil, ""},
		{"articles/{fields.cat}/{_id}.md", map[string]string{"cat": ""}, nil, ""},
		{"articles/{options.slug}/{_id}.md", nil, map[string]string{"slug": "../x"}, ""},
		{"articles/{options.slug}/{_id}.md", nil, map[string]string{"slug": ".git"}, ""},
		{"articles/{options.slug}/{_id}.md", nil, map[string]string{"slug": "a/b"}, ""},
		{"comments/{options.page}/{_id}.yaml", nil, map[string]string{"page": "../articles/x"}, ""},
		{"comments/{options.page}/{_id}.yaml", nil, map[string]string{"page": "articles/x/../../y"}, ""},
		{"comments/{options.page}/{_id}.yaml", nil, map[string]string{"page": "articles/.git/hooks"}, ""},
		{"comments/{options.page}/{_id}.yaml", nil, map[string]string{"page": "articles/_private"}, ""},
		{"comments/{options.page}/{_id}.yaml", nil, map[string]string{"page": "articles/x~"}, ""},
		{"comments/{options.page}/{_id}.yaml", nil, map[string]string{"page": "articles/X.GIT."}, ""},
		{"comments/{options.page}/{_id}.yaml", nil, map[string]string{}, ""},
		{"comments/{options.page}/.{_id}.yaml", nil, map[string]string{"page": "articles/x"}, ""},
		{"comments/{options.page}/_{_id}.yaml", nil, map[string]string{"page": "articles/x"}, ""},
		{"comments//{_id}.yaml", nil, nil, ""},
		{"{_id}/index.md", nil, nil, ""},
		{"comments/{date:Jan 2}/{_id}.yaml", nil, nil, ""},
		{"comments/{date:../2006}/{_id}.yaml", nil, nil, ""},
	}
	for _, tt := range tests {
		tp, err := parseTemplate(tt.tmpl)
		if err != nil {
			t.Fatalf("%s: %v", tt.tmpl, err)
		}
		s := &Submission{Fields: tt.fields, Options: tt.options}
		got, err := tp.path(&vars{s: s, id: "01ABC", slug: "brume-abc123", now: now})
		if tt.want == "" {
			if err == nil {
				t.Errorf("%s with %v %v = %q, want an error", tt.tmpl, tt.fields, tt.options, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s with %v %v = %q, %v; want %q", tt.tmpl, tt.fields, tt.options, got, err, tt.want)
		}
	}
}

func TestTemplateSyntax(t *testing.T) {
	for tmpl, want := range map[string]string{
		"a/{b":           "without its }",
		"a/b}":           "without its {",
		"a/{{_id}}":      "without its }",
		"a/{}":           "unknown placeholder",
		"a/{fields.}":    "unknown placeholder",
		"a/{date:}":      "unknown placeholder",
		"a/{Options.x}":  "unknown placeholder",
		"a/{_id}{slug}":  "",
		"plain/text.md":  "",
		"a/{date}/{_id}": "",
	} {
		_, err := parseTemplate(tmpl)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("parseTemplate(%q): %v, want %q", tmpl, err, want)
		}
	}
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Fête de la Musique":        "fete-de-la-musique",
		"L'été à Belcombe : œuvres": "l-ete-a-belcombe-oeuvres",
		"  --Déjà vu--  ":           "deja-vu",
		"Straße":                    "strasse",
		"Журнал":                    "",
		"Café Журнал 2026":          "cafe-2026",
		"../../etc/passwd":          "etc-passwd",
		"":                          "",
		strings.Repeat("mot ", 30):  strings.TrimSuffix(strings.Repeat("mot-", 15), "-"),
		strings.Repeat("a", 100):    strings.Repeat("a", 60),
	} {
		if got := slugify(in); got != want {
			t.Errorf("slugify(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzPathTemplate renders any template with any values: it must never panic, and a path it
// returns is clean, relative, and inside the template's fixed folder.
func FuzzPathTemplate(f *testing.F) {
	for _, s := range [][3]string{
		{"comments/{options.page}/{_id}.yaml", "articles/budget-2026", "x"},
		{"photos/{slug}/index.md", "", ""},
		{"articles/{fields.cat}/{date:2006/01}/{slug}.md", "", "Vie associative"},
		{"events/{options.slug}-{_id}.md", "", "../.."},
		{"comments/{options.page}/{_id}.yaml", "articles/../../etc", ".git"},
		{"documents/{fields.a}{fields.b}/index.md", "", "..\\.."},
	} {
		f.Add(s[0], s[1], s[2], "01JD8W0F3S6W6J8V5Q0Z3Y2X1A")
	}
	now := time.Date(2026, 3, 14, 10, 22, 5, 0, paris)
	f.Fuzz(func(t *testing.T, tmpl, page, value, id string) {
		tp, err := parseTemplate(tmpl)
		if err != nil {
			return
		}
		s := &Submission{Fields: map[string]string{}, Options: map[string]string{"page": page}}
		for _, p := range tp.parts {
			switch p.kind {
			case phField:
				s.Fields[p.text] = value
			case phOption:
				if p.text != "page" {
					s.Options[p.text] = value
				}
			}
		}
		got, err := tp.path(&vars{s: s, id: id, slug: slugify(value), now: now})
		if err != nil {
			return
		}
		if tp.fixed == "" || !strings.HasPrefix(got, tp.fixed) || len(got) == len(tp.fixed) {
			t.Fatalf("%q → %q: outside its folder %q", tmpl, got, tp.fixed)
		}
		if path.Clean(got) != got || path.IsAbs(got) || strings.ContainsAny(got, "\\\x00") {
			t.Fatalf("%q → %q: not a clean relative path", tmpl, got)
		}
		for _, seg := range strings.Split(got, "/") {
			if seg == ".." || seg == "." || seg == "" || strings.HasPrefix(seg, ".") {
				t.Fatalf("%q → %q: bad name %q", tmpl, got, seg)
			}
		}
		if err := forge.ValidPath(got); err != nil {
			t.Fatalf("%q → %q: the forge refuses it: %v", tmpl, got, err)
		}
	})
}
