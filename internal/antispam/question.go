package antispam

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
)

// Question is the no-JavaScript fallback of the proof of work: the form shows Text and
// posts ID as options[question] with the reply as options[answer].
type Question struct {
	ID, Text string
}

// FormSeed is the seed of the question a form asks on a page: the generator renders
// QuestionFor(FormSeed(form, page), lang), page being the form's options[page] value (empty
// when it has none), and Check finds the same question again from the submission.
func FormSeed(form, page string) string { return form + ":" + page }

// QuestionFor picks the question for seed, the same at every build. Its ID is a hash of the
// seed, not an index in the bank: Check recomputes the question from the submission's form
// and page, so a bot can neither choose the question it answers nor replay one answer on
// every form.
func QuestionFor(seed, lang string) Question {
	q, sum := pick(seed)
	lang = questionLang(lang)
	text := q.fr
	if lang == "en" {
		text = q.en
	}
	return Question{ID: lang + "-" + hex.EncodeToString(sum[:6]), Text: text}
}

func questionLang(lang string) string {
	if strings.HasPrefix(strings.ToLower(lang), "en") {
		return "en"
	}
	return "fr"
}

// answerOK checks a reply to the question of seed. A reply passes when it holds one of the
// accepted answers as whole words and nothing else but filler and the question's own words,
// so "le ciel est bleu" passes and a list of guesses ("bleu rouge vert") does not. Case,
// accents, spacing and numbers in digits or words do not matter.
func answerOK(seed, id, answer string) bool {
	lang, _, ok := strings.Cut(id, "-")
	if !ok || len(answer) > 200 {
		return false
	}
	if QuestionFor(seed, lang).ID != id {
		return false
	}
	q, _ := pick(seed)
	words := strings.Fields(fold(answer))
	if len(words) == 0 {
		return false
	}
	digits(words)
	reply := " " + strings.Join(words, " ") + " "
	found := false
	allowed := map[string]bool{}
	for _, a := range q.answers {
		if strings.Contains(reply, " "+a+" ") {
			found = true
		}
		for _, w := range strings.Fields(a) {
			allowed[w] = true
		}
	}
	if !found {
		return false
	}
	for _, text := range []string{q.fr, q.en} {
		for _, w := range digits(strings.Fields(fold(text))) {
			allowed[w] = true
		}
	}
	for _, w := range words {
		if !allowed[w] && !fillers[w] {
			return false
		}
	}
	return true
}

func pick(seed string) (entry, [sha256.Size]byte) {
	sum := sha256.Sum256([]byte("parvis-question\x00" + seed))
	return bank[binary.BigEndian.Uint64(sum[8:16])%uint64(len(bank))], sum
}

// digits writes number words as digits, in place.
func digits(words []string) []string {
	for i, w := range words {
		if d, ok := numbers[w]; ok {
			words[i] = d
		}
	}
	return words
}

type entry struct {
	fr, en  string
	answers []string // folded; numbers in digits
}

// bank holds simple questions that need no sight, no hearing and no culture beyond daily
// life. Answers from either language are accepted on both.
var bank = [...]entry{
	{"Combien font trois plus quatre ? (en chiffres)", "What is three plus four? (in digits)", []string{"7"}},
	{"Combien font deux plus six ? (en chiffres)", "What is two plus six? (in digits)", []string{"8"}},
	{"Combien font cinq plus quatre ? (en chiffres)", "What is five plus four? (in digits)", []string{"9"}},
	{"Combien font dix moins trois ? (en chiffres)", "What is ten minus three? (in digits)", []string{"7"}},
	{"Combien font un plus un ? (en chiffres)", "What is one plus one? (in digits)", []string{"2"}},
	{"Combien font neuf moins cinq ? (en chiffres)", "What is nine minus five? (in digits)", []string{"4"}},
	{"Quelle est la couleur du ciel par beau temps ?", "What colour is the sky on a sunny day?", []string{"bleu", "bleue", "azur", "blue"}},
	{"De quelle couleur est la neige ?", "What colour is snow?", []string{"blanc", "blanche", "white"}},
	{"Combien de jours compte une semaine ?", "How many days are there in a week?", []string{"7"}},
	{"Combien de pattes a un chat ?", "How many legs does a cat have?", []string{"4"}},
	{"Combien de roues a une bicyclette ?", "How many wheels does a bicycle have?", []string{"2"}},
	{"Combien de doigts compte une main ?", "How many fingers are there on one hand?", []string{"5"}},
	{"Quel animal fait « miaou » ?", "Which animal says “meow”?", []string{"chat", "chaton", "chatte", "cat", "kitten"}},
	{"Quel jour vient après lundi ?", "Which day comes after Monday?", []string{"mardi", "tuesday"}},
	{"Quel jour vient avant dimanche ?", "Which day comes before Sunday?", []string{"samedi", "saturday"}},
	{"Quel mois vient après janvier ?", "Which month comes after January?", []string{"fevrier", "february"}},
	{"Quel est le contraire de « chaud » ?", "What is the opposite of “hot”?", []string{"froid", "froide", "cold"}},
	{"Quel est le contraire de « jour » ?", "What is the opposite of “day”?", []string{"nuit", "night"}},
	{"Quelle est la saison la plus froide de l'année ?", "Which is the coldest season of the year?", []string{"hiver", "winter"}},
	{"Recopiez le mot « bonjour ».", "Type the word “hello”.", []string{"bonjour", "hello"}},
	{"Quel est le chiffre qui suit le chiffre cinq ? (en chiffres)", "Which number comes after five? (in digits)", []string{"6"}},
}

// numbers maps number words, French and English, to digits. "un" and "une" are left out:
// they are articles far more often, and no answer is one.
var numbers = map[string]string{
	"zero": "0", "one": "1", "deux": "2", "two": "2", "trois": "3",
	"three": "3", "quatre": "4", "four": "4", "cinq": "5", "five": "5", "six": "6",
	"sept": "7", "seven": "7", "huit": "8", "eight": "8", "neuf": "9", "nine": "9",
	"dix": "10", "ten": "10",
}

// fillers may surround an answer: "c'est 7", "ça fait sept", "it is blue".
var fillers = map[string]bool{
	"le": true, "la": true, "l": true, "les": true, "un": true, "une": true, "il": true,
	"elle": true, "est": true, "c": true, "ce": true, "ca": true, "cela": true, "fait": true,
	"font": true, "en": true, "de": true, "du": true, "egal": true, "egale": true, "y": true,
	"a": true, "ont": true, "je": true, "crois": true, "pense": true,
	"the": true, "it": true, "is": true, "its": true, "s": true, "an": true, "equals": true,
	"makes": true, "are": true, "there": true, "i": true, "think": true,
}
