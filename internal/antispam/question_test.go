package antispam

import (
	"strings"
	"testing"
)

func TestQuestionFor(t *testing.T) {
	seen := map[int]bool{}
	for i := 0; i < 400; i++ {
		seed := FormSeed("comment", "/articles/"+strings.Repeat("x", i)+"/")
		fr, en := QuestionFor(seed, "fr"), QuestionFor(seed, "en-GB")
		if again := QuestionFor(seed, "fr"); again != fr {
			t.Fatalf("not deterministic: %+v, %+v", fr, again)
		}
		if indexOf(fr) != indexOf(en) || !strings.HasPrefix(fr.ID, "fr-") || !strings.HasPrefix(en.ID, "en-") {
			t.Fatalf("languages disagree: %+v, %+v", fr, en)
		}
		if strings.ContainsAny(fr.ID, "\"'<>& ") {
			t.Fatalf("ID %q needs escaping", fr.ID)
		}
		seen[indexOf(fr)] = true
	}
	if len(seen) != len(bank) {
		t.Errorf("400 seeds drew %d of %d questions", len(seen), len(bank))
	}
	if q := QuestionFor("s", ""); !strings.HasPrefix(q.ID, "fr-") {
		t.Errorf("default language: %+v", q)
	}
}

// Every question of the bank accepts its own answers, in both languages.
func TestBankAnswers(t *testing.T) {
	texts := map[string]bool{}
	for i, e := range bank {
		if texts[e.fr] || texts[e.en] || e.fr == "" || e.en == "" || len(e.answers) == 0 {
			t.Errorf("entry %d: empty or repeated", i)
		}
		texts[e.fr], texts[e.en] = true, true
		seed := seedFor(i)
		for _, lang := range []string{"fr", "en"} {
			q := QuestionFor(seed, lang)
			for _, a := range e.answers {
				if !answerOK(seed, q.ID, a) {
					t.Errorf("%q refuses %q", q.Text, a)
				}
			}
		}
	}
}

func TestAnswer(t *testing.T) {
	tests := []struct {
		question string // the French text, to find the entry
		answer   string
		ok       bool
	}{
		{"Combien font trois plus quatre ? (en chiffres)", "7", true},
		{"Combien font trois plus quatre ? (en chiffres)", " Sept ", true},
		{"Combien font trois plus quatre ? (en chiffres)", "seven", true},
		{"Combien font trois plus quatre ? (en chiffres)", "ça fait 7.", true},
		{"Combien font trois plus quatre ? (en chiffres)", "trois plus quatre font sept", true},
		{"Combien font trois plus quatre ? (en chiffres)", "8", false},
		{"Combien font trois plus quatre ? (en chiffres)", "7 8", false},
		{"Combien font trois plus quatre ? (en chiffres)", "77", false},
		{"Combien font trois plus quatre ? (en chiffres)", "", false},
		{"Quelle est la couleur du ciel par beau temps ?", "BLEU", true},
		{"Quelle est la couleur du ciel par beau temps ?", "Le ciel est bleu !", true},
		{"Quelle est la couleur du ciel par beau temps ?", "bleue", true},
		{"Quelle est la couleur du ciel par beau temps ?", "blue", true},
		{"Quelle est la couleur du ciel par beau temps ?", "bleu rouge vert", false},
		{"Quelle est la couleur du ciel par beau temps ?", "gris", false},
		{"Quel mois vient après janvier ?", "Février", true},
		{"Quel mois vient après janvier ?", "fevrier", true},
		{"Quel mois vient après janvier ?", "FÉVRIER", true},
		{"Quel mois vient après janvier ?", "mars", false},
		{"Quel animal fait « miaou » ?", "un chat", true},
		{"Quel animal fait « miaou » ?", "c'est une chatte", true},
		{"Quel animal fait « miaou » ?", "chien", false},
		{"Quelle est la saison la plus froide de l'année ?", "l'hiver", true},
		{"Combien de pattes a un chat ?", "quatre pattes", true},
		{"Combien de pattes a un chat ?", "4 ou 5", false},
		{"Combien de pattes a un chat ?", strings.Repeat("4 ", 200), false},
	}
	for _, tt := range tests {
		i := -1
		for j, e := range bank {
			if e.fr == tt.question {
				i = j
			}
		}
		if i < 0 {
			t.Fatalf("no question %q", tt.question)
		}
		seed := seedFor(i)
		q := QuestionFor(seed, "fr")
		if got := answerOK(seed, q.ID, tt.answer); got != tt.ok {
			t.Errorf("%q ← %q: %v, want %v", tt.question, tt.answer, got, tt.ok)
		}
	}
}

// The ID binds the question to its seed: a bot cannot pick the question it answers.
func TestQuestionID(t *testing.T) {
	seed := seedFor(0)
	q := QuestionFor(seed, "fr")
	a := bank[0].answers[0]
	for _, id := range []string{"", "fr", "fr-", "0", q.ID + "0", strings.ToUpper(q.ID),
		QuestionFor(seedFor(1), "fr").ID} {
		if answerOK(seed, id, a) {
			t.Errorf("ID %q accepted", id)
		}
	}
	if !answerOK(seed, QuestionFor(seed, "en").ID, a) {
		t.Error("English ID refused")
	}
}

// seedFor finds a seed whose question is the bank's i-th.
func seedFor(i int) string {
	for n := 0; ; n++ {
		seed := FormSeed("comment", "/p/"+strings.Repeat("a", n%7)+string(rune('a'+n%26))+strings.Repeat("z", n/26))
		if indexOf(QuestionFor(seed, "fr")) == i {
			return seed
		}
	}
}
