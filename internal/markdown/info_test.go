package markdown

import (
	"bytes"
	"io"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestRenderInfo(t *testing.T) {
	long := strings.Repeat("Le conseil municipal a voté le budget. ", 20) // 39 runes × 20
	tests := []struct {
		name string
		opts []Option
		md   string
		want Info
	}{{
		name: "empty",
		want: Info{},
	}, {
		name: "summary is the first paragraph with text",
		md:   "# Titre\n\n![](photo.jpg)\n\nPremier *paragraphe*\nsur deux lignes.\n\nSecond.\n",
		want: Info{Summary: "Premier paragraphe sur deux lignes.", Words: 7},
	}, {
		name: "summary resolves escapes and references, drops raw HTML",
		md:   "Prix \\*moyen\\* &amp; <b>gras</b> `a<b` &#233;t&eacute;.\n",
		want: Info{Summary: "Prix *moyen* & gras a<b été.", Words: 5},
	}, {
		name: "summary is cut at a word boundary",
		md:   long,
		want: Info{
			// Rune 300 is the space after the eighth "voté": the last sentence that fits ends
			// the summary, with no ellipsis after its full stop (finding 10).
			Summary: strings.TrimSpace(strings.Repeat("Le conseil municipal a voté le budget. ", 7)),
			Words:   140,
		},
	}, {
		name: "summary from a blockquote",
		md:   "> Citation en exergue.\n\nTexte.\n",
		want: Info{Summary: "Citation en exergue.", Words: 4},
	}, {
		name: "headings h2 and h3 with their ids",
		md: "# Haut\n\n## Éducation et écoles\n\n### Les *cantines*\n\n#### Détail\n\n" +
			"## Éducation et écoles\n\n## Fixe {#fixe}\n",
		want: Info{
			Headings: []Heading{
				{Level: 2, ID: "education-et-ecoles", Text: "Éducation et écoles"},
				{Level: 3, ID: "les-cantines", Text: "Les cantines"},
				{Level: 2, ID: "education-et-ecoles-1", Text: "Éducation et écoles"},
				{Level: 2, ID: "fixe", Text: "Fixe"},
			},
			Words: 11,
		},
	}, {
		name: "heading text has the typography of the page",
		opts: []Option{WithTypography("fr")},
		md:   "## L'école : bilan\n",
		want: Info{
			Headings: []Heading{{Level: 2, ID: "l-ecole-bilan", Text: "L’école\u202f: bilan"}},
			Words:    2,
		},
	}, {
		name: "words across emphasis, apostrophes and punctuation",
		md:   "**Bon**jour, l'école c'est-à-dire — ! 14:30 ?\n",
		want: Info{Summary: "Bonjour, l'école c'est-à-dire — ! 14:30 ?", Words: 4},
	}, {
		name: "words count code, links and table cells",
		md: "Voir `go test` et https://exemple.fr/a.\n\n| a | b |\n|---|---|\n| un | deux |\n\n" +
			"```\nfunc main() {}\n```\n",
		want: Info{Summary: "Voir go test et https://exemple.fr/a.", Words: 11},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New(tt.opts...).Render(io.Discard, []byte(tt.md))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestRenderInfoArticle(t *testing.T) {
	src, err := os.ReadFile("testdata/article.md")
	if err != nil {
		t.Fatal(err)
	}
	info, err := New(WithTypography("fr")).Render(io.Discard, src)
	if err != nil {
		t.Fatal(err)
	}
	wantHeadings := []Heading{
		{2, "un-budget-construit-avec-les-habitants", "Un budget construit avec les habitants"},
		{3, "qui-peut-proposer-un-projet", "Qui peut proposer un projet\u202f?"},
		{3, "le-calendrier", "Le calendrier"},
		{2, "ce-que-les-editions-precedentes-ont-permis", "Ce que les éditions précédentes ont permis"},
		{2, "comment-deposer-votre-projet", "Comment déposer votre projet"},
	}
	if !reflect.DeepEqual(info.Headings, wantHeadings) {
		t.Errorf("headings:\n got %+v\nwant %+v", info.Headings, wantHeadings)
	}
	if !strings.HasPrefix(info.Summary, "Pour la troisième année consécutive, la commune de Belcombe consacre") ||
		!strings.HasSuffix(info.Summary, "budget primitif.") || len([]rune(info.Summary)) > SummaryLength+1 {
		t.Errorf("summary: %q", info.Summary)
	}
	if info.Words != 617 {
		t.Errorf("words: got %d, want 617", info.Words)
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		s    string
		max  int
		want string
	}{
		{"court", 10, "court"},
		{"exactement", 10, "exactement"},
		{"", 5, ""},
		{"sans limite du tout", 0, "sans limite du tout"},
		{"un deux trois quatre", 12, "un deux…"},
		{"un deux, trois quatre", 13, "un deux…"},
		{"un deux, trois quatre", 14, "un deux, trois…"}, // the cut falls on a space
		{"anticonstitutionnellement", 10, "anticonsti…"}, // no space: cut in the word
		{"a bcdefghijklmnop", 10, "a bcdefghi…"},         // the only space is too early
		{"élève élève élève", 9, "élève…"},
		{"Quoi\u202f? Oui\u202f!", 6, "Quoi\u202f?"},
		// Finding 10: a cut after a full stop adds no ellipsis ("décembre.…"); the text
		// ends at the last sentence that fits, if one ends in the second half.
		{"Le marché ouvre le 13 décembre. Quarante exposants sont attendus.", 40, "Le marché ouvre le 13 décembre."},
		{"Le marché ouvre le 13 décembre. Quarante exposants sont attendus.", 31, "Le marché ouvre le 13 décembre."},
		{"Ça commence\u202f! Quarante exposants sont attendus.", 24, "Ça commence\u202f!"},
		{"Rencontre avec M. Dupont et les élus du conseil municipal.", 40, "Rencontre avec M. Dupont et les élus du…"},
		{"Un. Deux trois quatre cinq six sept huit neuf dix.", 30, "Un. Deux trois quatre cinq six…"}, // too early
		{"Voir p.ex. Nantes et Lyon pour comparer.", 25, "Voir p.ex. Nantes et Lyon…"},
		{"Une enveloppe portée à 120\u202f000\u202f€. Les dossiers sont ouverts.", 50, "Une enveloppe portée à 120\u202f000\u202f€."},
		{"Le vote a eu lieu en 2026. Sept projets ont été retenus.", 40, "Le vote a eu lieu en 2026."},
	}
	for _, tt := range tests {
		if got := cut(tt.s, tt.max); got != tt.want {
			t.Errorf("cut(%q, %d) = %q, want %q", tt.s, tt.max, got, tt.want)
		}
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Éducation et écoles", "education-et-ecoles"},
		{"L'été", "l-ete"},
		{"L’été", "l-ete"},
		{"  Déjà   vu !  ", "deja-vu"},
		{"Œuvres & cœur", "oeuvres-coeur"},
		{"Straße", "strasse"},
		{"Ça coûte 12,50 €", "ca-coute-12-50"},
		{"naïve façade", "naive-facade"},
		{"ÀÉÎÕÜ", "aeiou"},
		{"under_score-et--tirets", "under-score-et-tirets"},
		{"Ελληνικά", "ελληνικά"},
		{"!!!", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Slug(tt.in); got != tt.want {
			t.Errorf("Slug(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPlainText(t *testing.T) {
	md := "# Titre\n\nUn *paragraphe* avec un [lien](https://x.fr) : \"oui\".\n\n" +
		"```\ncode ignoré\n```\n\n<div>HTML ignoré</div>\n\n- un\n- deux\n"
	tests := []struct {
		name string
		r    *Renderer
		max  int
		want string
	}{
		{"page", New(), 0, "Titre Un paragraphe avec un lien : \"oui\". un deux"},
		{"page, typography", New(WithTypography("fr")), 0, "Titre Un paragraphe avec un lien\u202f: «\u202foui\u202f». un deux"},
		{"cut", New(), 30, "Titre Un paragraphe avec un…"},
		{"comment", NewComment(), 0, "Titre Un paragraphe avec un lien : \"oui\". <div>HTML ignoré</div> un deux"},
	}
	for _, tt := range tests {
		if got := tt.r.PlainText([]byte(md), tt.max); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	big := bytes.Repeat([]byte("é"), MaxCommentSize) // twice the size, in bytes
	if got := NewComment().PlainText(big, 0); got != strings.Repeat("é", MaxCommentSize/2) {
		t.Errorf("a comment larger than MaxCommentSize: got %d runes, want %d", len([]rune(got)), MaxCommentSize/2)
	}
}

func TestWithTypography(t *testing.T) {
	for lang, want := range map[string]bool{
		"fr": true, "FR": true, "fr-FR": true, "fr_BE": true,
		"": false, "none": false, "en": false, "french": false, "f": false,
	} {
		var c config
		WithTypography(lang)(&c)
		if c.typography != want {
			t.Errorf("WithTypography(%q): typography %v, want %v", lang, c.typography, want)
		}
	}
}

// TestConcurrentRender renders the same documents from many goroutines with
// shared Renderers; run with -race.
func TestConcurrentRender(t *testing.T) {
	article, err := os.ReadFile("testdata/article.md")
	if err != nil {
		t.Fatal(err)
	}
	docs := [][]byte{
		article,
		[]byte("## Titre : un\n\nTexte \"cité\" l'été... !\n\n## Titre : un\n"),
		[]byte("[lien](javascript:x) ![img](https://x.fr/a.png) <b>x</b>\n"),
	}
	renderers := []*Renderer{New(WithTypography("fr")), New(WithUnsafe(true)), NewComment(WithTypography("fr"))}
	type result struct {
		html string
		info Info
	}
	want := make([][]result, len(renderers))
	for i, r := range renderers {
		for _, d := range docs {
			var b bytes.Buffer
			info, err := r.Render(&b, d)
			if err != nil {
				t.Fatal(err)
			}
			want[i] = append(want[i], result{b.String(), info})
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 50 {
				i, j := (g+n)%len(renderers), n%len(docs)
				var b bytes.Buffer
				info, err := renderers[i].Render(&b, docs[j])
				if err != nil {
					t.Error(err)
					return
				}
				if got := (result{b.String(), info}); !reflect.DeepEqual(got, want[i][j]) {
					t.Errorf("renderer %d, document %d: concurrent result differs", i, j)
					return
				}
			}
		})
	}
	wg.Wait()
}
