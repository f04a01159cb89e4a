package markdown

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// Case files live in testdata/*.txt. Each is a txtar archive: its comment
// sets the renderer, one "key: value" a line (renderer: page, comment or citizen;
// typography: fr; language: fr; unsafe: true; reserved: id id...), and each case is a pair
// of files, NAME.md and NAME.html. In both, {nnbsp} and {nbsp} stand for the
// narrow no-break space (U+202F) and the no-break space (U+00A0), which
// would be invisible otherwise.
func TestCases(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no case files in testdata")
	}
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		r, err := caseRenderer(string(ar.Comment))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		cases, err := casePairs(ar)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, c := range cases {
			t.Run(strings.TrimSuffix(filepath.Base(file), ".txt")+"/"+c.name, func(t *testing.T) {
				var b bytes.Buffer
				if _, err := r.Render(&b, []byte(visible.Replace(c.md))); err != nil {
					t.Fatal(err)
				}
				got := invisible.Replace(b.String())
				if got != c.html {
					t.Errorf("%s\n--- markdown:\n%s--- got:\n%s--- want:\n%s", c.name, c.md, got, c.html)
				}
			})
		}
	}
}

var (
	visible   = strings.NewReplacer("{nnbsp}", "\u202f", "{nbsp}", "\u00a0")
	invisible = strings.NewReplacer("\u202f", "{nnbsp}", "\u00a0", "{nbsp}")
)

type testCase struct{ name, md, html string }

func caseRenderer(comment string) (*Renderer, error) {
	var (
		opts     []Option
		renderer = "page"
	)
	for line := range strings.Lines(comment) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("option %q: want key: value", line)
		}
		value = strings.TrimSpace(value)
		switch key {
		case "renderer":
			switch value {
			case "page", "comment", "citizen":
				renderer = value
			default:
				return nil, fmt.Errorf("renderer: %q is not page, comment or citizen", value)
			}
		case "typography":
			opts = append(opts, WithTypography(value))
		case "language":
			opts = append(opts, WithLanguage(value))
		case "unsafe":
			opts = append(opts, WithUnsafe(value == "true"))
		case "reserved":
			opts = append(opts, WithReservedIDs(strings.Fields(value)...))
		default:
			return nil, fmt.Errorf("unknown option %q", key)
		}
	}
	switch renderer {
	case "comment":
		return NewComment(opts...), nil
	case "citizen":
		return NewCitizen(opts...), nil
	}
	return New(opts...), nil
}

func casePairs(ar *txtar.Archive) ([]testCase, error) {
	var cases []testCase
	html := map[string]string{}
	for _, f := range ar.Files {
		switch ext := filepath.Ext(f.Name); ext {
		case ".md":
			cases = append(cases, testCase{name: strings.TrimSuffix(f.Name, ext), md: string(f.Data)})
		case ".html":
			name := strings.TrimSuffix(f.Name, ext)
			if _, dup := html[name]; dup {
				return nil, fmt.Errorf("%s: twice", f.Name)
			}
			html[name] = string(f.Data)
		default:
			return nil, fmt.Errorf("%s: want a .md or .html file", f.Name)
		}
	}
	for i, c := range cases {
		h, ok := html[c.name]
		if !ok {
			return nil, fmt.Errorf("%s.md has no %s.html", c.name, c.name)
		}
		cases[i].html = h
		delete(html, c.name)
	}
	for name := range html {
		return nil, fmt.Errorf("%s.html has no %s.md", name, name)
	}
	return cases, nil
}

func TestTypographyOfPlainText(t *testing.T) {
	tests := []struct{ in, lang, want string }{
		{"Budget participatif 2026 : 100 000 € pour vos idées", "fr", "Budget participatif 2026\u202f: 100\u202f000\u202f€ pour vos idées"},
		// Findings 9 and 10: numbers and times in a title or a summary, as in the text.
		{"1 847 votants, de 19 h à 19 h 30", "fr", "1\u202f847 votants, de 19\u00a0h à 19\u00a0h\u00a030"},
		{"1 847 votants", "en", "1 847 votants"},
		{"L'école rouvre !", "fr", "L’école rouvre\u202f!"},
		{`Le "marché" de Noël`, "fr", "Le «\u202fmarché\u202f» de Noël"},
		{"Rendez-vous à 14:30", "fr", "Rendez-vous à 14:30"},
		{"Pourquoi ? Parce que.", "en", "Pourquoi ? Parce que."},
		{"Sans ponctuation", "fr", "Sans ponctuation"},
		{"", "fr", ""},
	}
	for _, tt := range tests {
		if got := Typography(tt.in, tt.lang); got != tt.want {
			t.Errorf("Typography(%q, %s) = %q, want %q", tt.in, tt.lang, got, tt.want)
		}
	}
}

// TestFirstHour10FootnoteBacklinkNamed: a footnote's link back to the text was named only
// "↩︎"; it is named in the site's language.
func TestFirstHour10FootnoteBacklinkNamed(t *testing.T) {
	for lang, want := range map[string]string{"fr": "Revenir au texte", "fr-CA": "Revenir au texte", "en": "Back to the text", "de": "Back to the text"} {
		var b bytes.Buffer
		if _, err := ForSite(lang, false, "").Editor.Render(&b, []byte("Texte[^1].\n\n[^1]: Note.\n")); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), `role="doc-backlink" aria-label="`+want+`">&#x21a9;&#xfe0e;</a>`) {
			t.Errorf("%s: %s", lang, b.String())
		}
	}
}
