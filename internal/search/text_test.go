package search

import (
	"slices"
	"strings"
	"testing"
)

// TestTerms is the site search's word rules: folding, elisions, stop words, plurals, dates.
func TestTerms(t *testing.T) {
	for _, tt := range []struct {
		lang, in string
		want     string // terms, space-separated
	}{
		// Case and accents are folded.
		{"fr", "École ÉCOLE ecole écoles", "ecole ecole ecole ecole"},
		{"fr", "Médiathèque", "mediatheque"},
		{"fr", "Œuvres cœur Straße naïve ÇA", "oeuvre coeur strasse naive ca"},
		// Decomposed accents (as some systems write them) are the same letters.
		{"fr", "e\u0301cole", "ecole"},
		{"fr", "ﬁnances ½", "finance 12"},
		// Elisions, with both apostrophes; a word that only looks elided stays.
		{"fr", "l'école d’abord qu'Annie jusqu'au lorsqu’Alice", "ecole abord annie alice"},
		{"fr", "L’Été s'annonce", "ete annonce"},
		{"fr", "aujourd'hui", "aujourd hui"},
		{"fr", "lʼécole", "ecole"},
		// Stop words and one-letter words go; numbers stay from two digits.
		{"fr", "le conseil de la ville et les habitants à 2 pas", "conseil ville habitant"},
		{"fr", "Budget 2026 : 24 000 €", "budget 2026 24 000"},
		// Plurals fold onto their singulars.
		{"fr", "bureaux journaux jeux bijoux chevaux tilleuls adresses", "bureau journal jeu bijou cheval tilleul adresse"},
		{"fr", "bus", "bus"},
		{"en", "libraries boxes classes churches houses cities", "library box class church house city"},
		{"en", "the town's news", "town new"},
		{"en", "status bus", "status bus"},
		// Other languages: folded, nothing dropped.
		{"de", "die Häuser", "die hauser"},
		// Dates give their own terms besides their words.
		{"fr", "le 12 mars 2026", "@2026-03-12 @03-12 @2026-03 12 mar 2026"},
		{"fr", "1er avril", "@04-01 1er avril"},
		{"fr", "en mars 2026", "@2026-03 mar 2026"},
		{"fr", "12/03/2026", "@2026-03-12 @03-12 @2026-03 12 03 2026"},
		{"fr", "2026-03-12", "@2026-03-12 @03-12 @2026-03 2026 03 12"},
		{"en", "March 12, 2026", "@2026-03-12 @03-12 @2026-03 march 12 2026"},
		{"fr", "samedi 5 décembre", "samedi @12-05 decembre"},
		{"fr", "32 mars", "32 mar"},
		{"fr", "12 / 03 / 2026", "12 03 2026"},
		// Junk is bounded.
		{"fr", strings.Repeat("a", 41) + " ok", "ok"},
	} {
		got := strings.Join(Terms(tt.in, tt.lang), " ")
		if got != tt.want {
			t.Errorf("Terms(%q, %s) = %q, want %q", tt.in, tt.lang, got, tt.want)
		}
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"L’Été à Saint-Étienne": "l ete a saint etienne",
		"ÀÉÎÕÜ ÿ":               "aeiou y",
		"Ærø Łódź":              "aero lodz",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseQuery(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // term/prefix pairs
	}{
		{"Médiathèque", "mediatheque/mediatheque"},
		{"les écoles", "ecole/ecoles"},
		{"l'école des Tilleuls", "ecole/ecole tilleul/tilleuls"},
		{"12 mars", "@03-12/"},
		{"mars 2026", "@2026-03/"},
		{"concert 12 mars 2026", "concert/concert @2026-03-12/"},
		{"Place des Tilleuls", "place/place tilleul/tilleuls"},
		{"le la les", ""},
		{"ab 2026", "ab/ 2026/"},
		{"école école", "ecole/ecole"},
		{strings.Repeat("mot ", 20), "mot/mot"},
		{"un deux trois quatre cinq six sept huit neuf dix", "deu/deux troi/trois quatre/quatre cinq/cinq six/six sept/sept huit/huit neuf/neuf"},
	} {
		var parts []string
		for _, qt := range ParseQuery(tt.in, "fr").Terms {
			parts = append(parts, qt.Term+"/"+qt.Prefix)
		}
		if got := strings.Join(parts, " "); got != tt.want {
			t.Errorf("ParseQuery(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// A query past its bound is cut, on a character's boundary.
	q := ParseQuery(strings.Repeat("x", 255)+"é mot", "fr")
	if len(q.Terms) != 0 {
		t.Errorf("a query cut inside a character gives %v", q.Terms)
	}
}

func TestStopWordsSorted(t *testing.T) {
	for _, lang := range []string{"fr", "en"} {
		l := StopWords(lang)
		if len(l) < 20 || !slices.IsSorted(l) {
			t.Errorf("%s: %v", lang, l)
		}
		for _, w := range l {
			if len(Terms(w, lang)) != 0 {
				t.Errorf("%s: the stop word %q is indexed", lang, w)
			}
		}
	}
}

func TestMarkdownText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"# Le titre\n\nUn **paragraphe** avec *emphase* et `code`.", "Le titre Un paragraphe avec emphase et code."},
		{"Voir [la page](/articles/x/ \"titre\") et ![une image](photo.jpg).", "Voir la page et une image."},
		{"Un [lien][ref].\n\n[ref]: https://example.org/", "Un lien."},
		{"- un\n- deux\n1. trois\n> cité", "un deux trois cité"},
		{"| a | b |\n| --- | ---: |\n| 1 | 2 |", "a b 1 2"},
		{"```go\nfunc secret() {}\n```\nAprès.", "Après."},
		{"Texte<br>suite <span class=\"x\">en</span> ligne &amp; fin&nbsp;!", "Texte suite en ligne & fin\u00a0!"},
		{"a < b et c > d", "a < b et c > d"},
		{"Lien <https://example.org/a>.", "Lien https://example.org/a."},
		{"Écrivez à <mairie@belcombe.example>.", "Écrivez à mairie@belcombe.example."},
		{"Note[^1].\n\n[^1]: Le texte de la note.", "Note. Le texte de la note."},
		{"un\\*étoile snake_case _souligné_", "un*étoile snake_case souligné"},
		{"Titre\n=====\n\n---\n\n{{< figure src=\"x\" >}}\nfin", "Titre fin"},
	} {
		if got, _ := MarkdownText([]byte(tt.in)); got != tt.want {
			t.Errorf("MarkdownText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	_, h := MarkdownText([]byte("# Titre\n\nTexte.\n\n## Les *travaux* ##\n#pas un titre\n> ### Cité"))
	if strings.Join(h, "|") != "Titre|Les travaux|Cité" {
		t.Errorf("headings %q", h)
	}
}
