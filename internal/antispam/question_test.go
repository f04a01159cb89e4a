package antispam

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The question belongs to the token: the same token always asks the same, in French or
// English, under one ID; tokens spread over the bank.
func TestQuestionFor(t *testing.T) {
	c := newChecker(t, nil)
	seen := map[string]bool{}
	for range 2000 {
		tok := c.Issue("comment", t0)
		fr, ok := c.QuestionFor(tok, "fr")
		en, _ := c.QuestionFor(tok, "en-GB")
		if again, _ := c.QuestionFor(tok, "fr"); !ok || again != fr {
			t.Fatalf("not deterministic: %+v, %+v", fr, again)
		}
		if !strings.HasPrefix(fr.ID, "fr-") || !strings.HasPrefix(en.ID, "en-") || fr.ID[3:] != en.ID[3:] || fr.Text == en.Text {
			t.Fatalf("languages disagree: %+v, %+v", fr, en)
		}
		if strings.ContainsAny(fr.ID, "\"'<>& ") || fr.ID == QuestionPlaceholder {
			t.Fatalf("ID %q needs escaping", fr.ID)
		}
		seen[fr.Text] = true
	}
	if len(seen) < 1500 {
		t.Errorf("2000 tokens drew %d distinct questions of %d", len(seen), len(bank))
	}
	if q, _ := c.QuestionFor(c.Issue("comment", t0), ""); !strings.HasPrefix(q.ID, "fr-") {
		t.Errorf("default language: %+v", q)
	}
	if _, ok := c.QuestionFor("p1.comment.x.8.y.z", "fr"); ok {
		t.Error("a forged token has a question")
	}
	// Another secret, another question for the same nonce.
	other := newChecker(t, func(cfg *Config) { cfg.Secret = []byte("another secret of 32 bytes......") })
	same := 0
	for range 50 {
		_, nonce := c.issue("comment", t0)
		if other.question(nonce, "fr") == c.question(nonce, "fr") {
			same++
		}
	}
	if same > 2 {
		t.Errorf("%d of 50 nonces ask the same question under two secrets", same)
	}
}

// Finding 5: the bank is large enough that one answer is worth one submission. It holds
// thousands of distinct questions in each language, and no reply is accepted by more than
// a small share of them, so a bot that replays one answer on fresh tokens mostly fails.
func TestFinding5BankSize(t *testing.T) {
	kinds := map[kind]int{}
	for _, lang := range []string{"fr", "en"} {
		texts := map[string]bool{}
		accepted := map[string]int{}
		for _, e := range bank {
			q := e.render(lang)
			if texts[q.text] {
				t.Errorf("%s: %q twice", lang, q.text)
			}
			texts[q.text] = true
			for _, a := range slices.Compact(slices.Sorted(slices.Values(q.answers))) {
				accepted[a]++
			}
			if lang == "fr" {
				kinds[e.k]++
			}
		}
		best, most := "", 0
		for a, n := range accepted {
			if n > most || n == most && a < best {
				best, most = a, n
			}
		}
		share := float64(most) / float64(len(bank))
		t.Logf("bank (%s): %d distinct questions, %d distinct answers; the most shared answer, %q, fits %d (%.2f%%)",
			lang, len(texts), len(accepted), best, most, 100*share)
		if len(texts) < 4000 {
			t.Errorf("%s: %d distinct questions, want several thousand", lang, len(texts))
		}
		if share > 0.02 {
			t.Errorf("%s: %q answers %.2f%% of the questions", lang, best, 100*share)
		}
	}
	t.Logf("by template: %v", kinds)
	if len(kinds) != int(kFact)+1 {
		t.Errorf("%d templates in use", len(kinds))
	}
}

// Every question accepts its answers, numbers in digits or in words of either language, and
// refuses a bot that sends the question back or a list of guesses.
func TestBankAnswers(t *testing.T) {
	for _, e := range bank {
		for _, lang := range []string{"fr", "en"} {
			q := e.render(lang)
			if q.text == "" || len(q.answers) == 0 || len(q.text) > 200 {
				t.Fatalf("%+v: %+v", e, q)
			}
			for _, a := range q.answers {
				if a == "" || !q.accepts(a) {
					t.Errorf("%q refuses its answer %q", q.text, a)
				}
				if n, err := strconv.Atoi(a); err == nil && n <= 100 {
					for _, l := range []string{"fr", "en"} {
						if w := spell(n, l); !q.accepts(w) || !q.accepts(strings.ToUpper(w)) {
							t.Errorf("%q refuses %q", q.text, w)
						}
					}
					// A second guess, one the question does not name.
					g := n + 1
					for strings.Contains(" "+joinWords(words(q.echo))+" ", " "+strconv.Itoa(g)+" ") {
						g++
					}
					if q.accepts(a+" "+strconv.Itoa(g)) || q.accepts(strconv.Itoa(g)) {
						t.Errorf("%q accepts a guess", q.text)
					}
				}
				for _, w := range words(a) {
					if fillers[w.s] || w.soft {
						t.Errorf("%q: answer %q is a filler", q.text, a)
					}
				}
			}
			if q.accepts(q.text) {
				t.Errorf("%q accepts itself", q.text)
			}
		}
	}
}

func TestAnswer(t *testing.T) {
	tests := []struct {
		e      entry
		lang   string
		answer string
		ok     bool
	}{
		{entry{kAdd, 3, 4}, "fr", "7", true},
		{entry{kAdd, 3, 4}, "fr", " Sept ", true},
		{entry{kAdd, 3, 4}, "fr", "seven", true},
		{entry{kAdd, 3, 4}, "fr", "ça fait 7.", true},
		{entry{kAdd, 3, 4}, "fr", "trois plus quatre font sept", true},
		{entry{kAdd, 3, 4}, "fr", "007", true},
		{entry{kAdd, 3, 4}, "fr", "8", false},
		{entry{kAdd, 3, 4}, "fr", "7 8", false},
		{entry{kAdd, 3, 4}, "fr", "77", false},
		{entry{kAdd, 3, 4}, "fr", "", false},
		{entry{kAdd, 3, 4}, "fr", strings.Repeat("7 ", 200), true}, // answerOK caps the length
		{entry{kAdd, 19, 20}, "fr", "trente-neuf", true},
		{entry{kAdd, 19, 20}, "en", "thirty nine", true},
		{entry{kAdd, 19, 20}, "en", "39", true},
		{entry{kAdd, 19, 20}, "fr", "trente neuf", true},
		{entry{kMax, 70, 79}, "fr", "soixante-dix-neuf", true},
		{entry{kMax, 70, 79}, "fr", "septante-neuf", true},
		{entry{kMax, 70, 79}, "fr", "79", true},
		{entry{kMax, 70, 79}, "fr", "70 79", false}, // both numbers: a list of guesses
		{entry{kMax, 70, 79}, "fr", "70", false},
		{entry{kMax, 70, 79}, "fr", "le plus grand nombre est 79", true},
		{entry{kMin, 70, 79}, "en", "seventy", true},
		{entry{kMin, 70, 79}, "en", "the smaller number is seventy", true},
		{entry{kMin, 70, 79}, "en", "79", false},
		{entry{kNext, 80, 0}, "fr", "quatre-vingt-un", true},
		{entry{kPrev, 91, 0}, "fr", "quatre-vingt-dix", true},
		{entry{kPrev, 91, 0}, "fr", "nonante", true},
		{entry{kSub, 5, 4}, "fr", "un", true},
		{entry{kSub, 5, 4}, "fr", "1", true},
		{entry{kSub, 5, 4}, "fr", "c'est un", true},
		{entry{kFact, 0, 0}, "fr", "BLEU", true},
		{entry{kFact, 0, 0}, "fr", "Le ciel est bleu !", true},
		{entry{kFact, 0, 0}, "fr", "bleue", true},
		{entry{kFact, 0, 0}, "fr", "blue", true},
		{entry{kFact, 0, 0}, "fr", "bleu rouge vert", false},
		{entry{kFact, 0, 0}, "fr", "gris", false},
		{entry{kMonth, 0, 0}, "fr", "Février", true},
		{entry{kMonth, 0, 0}, "fr", "FÉVRIER", true},
		{entry{kMonth, 0, 0}, "fr", "february", true},
		{entry{kMonth, 0, 0}, "fr", "mars", false},
		{entry{kMonth, 0, 0}, "fr", "février mars avril", false},
		{entry{kDay, 6, 2}, "fr", "mardi", true}, // dimanche + 2
		{entry{kDay, 0, 3}, "en", "Saturday", true},
		{entry{kSeason, 3, 0}, "fr", "le printemps", true},
		{entry{kType, 13, 0}, "fr", "ECOLE", true},
		{entry{kType, 13, 0}, "fr", "le mot école", true},
		{entry{kType, 13, 0}, "fr", "Recopiez le mot école", false}, // the question sent back
		{entry{kType, 13, 0}, "fr", "school", false},
		{entry{kType, 13, 0}, "en", "school", true},
		{entry{kLetters, 0, 0}, "fr", "six lettres", true}, // maison
		{entry{kLetters, 0, 0}, "en", "5", true},           // house
		{entry{kLetters, 0, 0}, "fr", "5 6", false},
		{entry{kNth, 0, 3}, "fr", "dort", true}, // Le chat dort sur le canapé
		{entry{kNth, 0, 3}, "fr", "le troisième mot est dort", true},
		{entry{kNth, 0, 3}, "fr", "chat dort", false},
		{entry{kNth, 0, 3}, "fr", "Le chat dort sur le canapé", false},
		{entry{kNth, 0, 3}, "en", "sleeps", true},
		{entry{kFact, 18, 0}, "fr", "le petit déjeuner", true},
		{entry{kFact, 18, 0}, "fr", "petit", false},
	}
	for _, tt := range tests {
		q := tt.e.render(tt.lang)
		if got := q.accepts(tt.answer); got != tt.ok {
			t.Errorf("%q ← %q: %v, want %v", q.text, tt.answer, got, tt.ok)
		}
	}
	if q := (entry{kType, 13, 0}).render("fr"); q.text != "Recopiez le mot « école »." {
		t.Errorf("noun 13 is %q", q.text)
	}
	if q := (entry{kNth, 0, 3}).render("fr"); q.text != "Quel est le troisième mot de la phrase « Le chat dort sur le canapé » ?" {
		t.Errorf("sentence 0 is %q", q.text)
	}
}

// Finding 5: the answer is checked against the token's question, and the ID must be the
// token's, so a bot can neither choose its question nor carry an answer to another token.
func TestFinding5QuestionBoundToToken(t *testing.T) {
	c := newChecker(t, nil)
	tokA := c.Issue("comment", t0)
	qA, _ := c.QuestionFor(tokA, "fr")
	aA, _ := c.AnswerFor(tokA)
	nonceA := mustParse(c, tokA).nonce
	if !c.answerOK(nonceA, qA.ID, aA) {
		t.Fatalf("%q refuses %q", qA.Text, aA)
	}
	for _, id := range []string{"", "fr", "fr-", "0", qA.ID + "0", strings.ToUpper(qA.ID), "de" + qA.ID[2:], QuestionPlaceholder} {
		if c.answerOK(nonceA, id, aA) {
			t.Errorf("ID %q accepted", id)
		}
	}
	if p, _ := c.draw(nonceA); !c.answerOK(nonceA, "en"+qA.ID[2:], p.render("en").answers[0]) {
		t.Error("the English ID of the same question refused")
	}
	// The same answer on other tokens passes only where it happens to answer their own
	// question; their ID with A's answer, or A's ID on them, never chooses A's question.
	passed, fits := 0, 0
	for range 500 {
		tokB := c.Issue("comment", t0)
		nonceB := mustParse(c, tokB).nonce
		qB, _ := c.QuestionFor(tokB, "fr")
		p, _ := c.draw(nonceB)
		fit := p.render("fr").accepts(aA)
		if fit {
			fits++
		}
		if got := c.answerOK(nonceB, qB.ID, aA); got != fit {
			t.Fatalf("%q ← %q: %v", qB.Text, aA, got)
		} else if got {
			passed++
		}
		if qB.ID != qA.ID && c.answerOK(nonceB, qA.ID, aA) {
			t.Fatalf("token B took A's question")
		}
	}
	t.Logf("finding 5: %q, A's answer, passed on %d of 500 other tokens (where it answers their own question)", aA, passed)
	if passed > 25 {
		t.Errorf("one answer passes on %d of 500 tokens", passed)
	}
}

func TestNumerals(t *testing.T) {
	for n := 0; n <= 100; n++ {
		for _, lang := range []string{"fr", "en"} {
			w := words(spell(n, lang))
			if len(w) != 1 || w[0].s != strconv.Itoa(n) {
				t.Errorf("%q reads %v", spell(n, lang), w)
			}
		}
	}
	for in, want := range map[string]string{
		"vingt-et-un": "21", "vingt un": "21", "soixante et onze": "71", "septante-deux": "72",
		"quatre-vingt": "80", "quatre vingts": "80", "huitante": "80", "octante-trois": "83",
		"nonante-neuf": "99", "quatre-vingt-dix-neuf": "99", "twenty-one": "21", "a hundred": "100",
		"Zéro": "0", "dix-sept": "17", "dix sept": "17", "cent": "100", "0042": "42", "000": "0",
	} {
		if w := words(in); len(w) != 1 || w[0].s != want {
			t.Errorf("%q reads %v, want %s", in, w, want)
		}
	}
	// Numbers side by side stay apart, and "un" alone is soft.
	if w := words("sept huit un chat"); len(w) != 4 || w[0].s != "7" || w[1].s != "8" || !w[2].soft || w[3].s != "chat" {
		t.Errorf("%v", w)
	}
	if spell(21, "fr") != "vingt et un" || spell(80, "fr") != "quatre-vingts" || spell(97, "fr") != "quatre-vingt-dix-sept" ||
		spell(71, "fr") != "soixante et onze" || spell(45, "en") != "forty-five" || spell(100, "en") != "one hundred" {
		t.Error("numbers are not spelt as people write them")
	}
}

// The words of the bank stay fair: no noun is a number or a filler, none appears twice.
func TestBankWords(t *testing.T) {
	for l := range 2 {
		seen := map[string]bool{}
		for _, n := range nouns {
			w := words(n[l])
			if len(w) != 1 || isDigits(w[0].s) || fillers[w[0].s] || w[0].soft || seen[w[0].s] {
				t.Errorf("noun %q", n[l])
			}
			seen[w[0].s] = true
		}
	}
	for _, s := range sentences {
		for _, x := range s {
			if strings.ContainsAny(x, "'’-,.") {
				t.Errorf("sentence %q: punctuation makes the words hard to count", x)
			}
		}
	}
}
