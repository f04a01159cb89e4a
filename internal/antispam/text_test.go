package antispam

import (
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

func TestCountLinks(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"", 0},
		{"Bonjour, rendez-vous jeudi à 18 h.", 0},
		{"https://example.org", 1},
		{"voir http://a.example/x?y=1 et HTTPS://B.EXAMPLE/", 2},
		{"www.casino.example", 1},
		{"Achetez sur cheap-pills.ru maintenant", 1},
		{"le site mairie-belcombe.fr.", 1},
		{"sub.domain.example.com/path/page.html", 1},
		{"[le plan](https://plan.example.org/x)", 1},
		{"[https://x.com](https://x.com)", 1},
		{"[x.com](https://y.com) et z.com", 2},
		{`<a href="https://x.com">https://x.com</a>`, 1},
		{`<A HREF='//evil.example.com/'>ici</A>`, 1},
		{`<a href="/agenda/">l'agenda</a>`, 0},
		{"[l'agenda](/agenda/)", 0},
		{"<https://autolink.example.org>", 1},
		{"[ref]: https://ref.example.org\n[texte][ref]", 1},
		{"a.com b.net c.org d.info", 4},
		{"jean.dupont@mairie.fr", 0},
		{"mailto:jean@mairie.fr", 0},
		{"3.14 et 2.5 % ; M. Dupont ; p.ex. ; etc.", 0},
		{"le fichier rapport.pdf et image.jpg", 0},
		{"la fin.De plus, tu.es là", 0},
		{"www.mairie.de", 1},
		{"http:// rien", 0},
		{"[non fermé](https://x.com", 1},
		{"[a](b) [c](d)", 0},
	}
	for _, tt := range tests {
		if got := countLinks(tt.text); got != tt.want {
			t.Errorf("countLinks(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", " "},
		{"Prêt RAPIDE", " pret rapide "},
		{"  crypto-monnaie!! ", " crypto monnaie "},
		{"Œuvre, cœur, Ægir, Straße", " oeuvre coeur aegir strasse "},
		{"l'été à Noël", " l ete a noel "},
		{"cas\u00adino ca\u200bsino", " casino casino "},
		{"Cafe\u0301", " cafe "},
		{"ΑΘΗΝΑ 2026", " αθηνα 2026 "}, // other scripts: lower case, their own accents kept
	}
	for _, tt := range tests {
		if got := fold(tt.in); got != tt.want {
			t.Errorf("fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The hand-made table agrees with Unicode's decompositions wherever one exists.
func TestFoldTable(t *testing.T) {
	for r := rune(0xC0); r < rune(len(latin)); r++ {
		if latin[r] == "" {
			continue
		}
		var base []rune
		for _, d := range norm.NFD.String(string(r)) {
			if !unicode.Is(unicode.Mn, d) {
				base = append(base, unicode.ToLower(d))
			}
		}
		if len(base) == 1 && base[0] < 0x80 && string(base) != latin[r] {
			t.Errorf("%c folds to %q, Unicode says %q", r, latin[r], string(base))
		}
	}
	for _, r := range "àéèêëîïôöùûüÿçœæÀÉÈÊËÎÏÔÖÙÛÜŸÇŒÆ" {
		if latin[r] == "" {
			t.Errorf("%c missing", r)
		}
	}
}

func TestBlocked(t *testing.T) {
	words := []string{fold("casino"), fold("prêt rapide"), fold("crypto-monnaie")}
	tests := []struct {
		text string
		want bool
	}{
		{"Casino en ligne", true},
		{"CASÍNO", true},
		{"le casino.", true},
		{"(casino)", true},
		{"casinos", false},
		{"occasion", false},
		{"un PRÊT\nrapide", true},
		{"prêt-rapide", true},
		{"prêt très rapide", false},
		{"Crypto–Monnaie", true},
		{"cryptomonnaie", false},
		{"ca\u00adsino", true},
	}
	for _, tt := range tests {
		if got := hasBlocked(tt.text, words); got != tt.want {
			t.Errorf("hasBlocked(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
	if hasBlocked(strings.Repeat("a ", 1000), words) {
		t.Error("blocked in plain text")
	}
}
