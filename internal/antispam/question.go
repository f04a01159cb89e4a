package antispam

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Question is the no-JavaScript fallback of the proof of work: the form shows Text and
// posts ID as options[question] with the reply as options[answer].
//
// A question belongs to a token: a keyed hash of the token's nonce picks it from the bank,
// and its ID carries that hash, so Check finds the question again from options[token]. A
// bot can neither choose the question it answers nor carry one answer to another token,
// and since a token is spent by one submission, one answer is worth one submission.
type Question struct {
	ID, Text string
}

// QuestionPlaceholder is the value the static HTML carries in options[question], in the
// same form as the token's Placeholder. Stamp replaces it with the ID of the question of
// the token it stamps, and the contents of the element opened by QuestionTextTag, in that
// form, with the question's text; on static hosting challenge.js does the same with the
// question ChallengeHandler returns. Until then the element says what comes next.
const QuestionPlaceholder = "parvis-question-id"

// QuestionTextTag opens the element, closed by the next </span>, that holds the question.
const QuestionTextTag = `<span class="parvis-question-text">`

// QuestionFor returns the question of token, in lang (French unless lang is English),
// or false when the token is not one of this service's.
func (c *Checker) QuestionFor(token, lang string) (Question, bool) {
	tok, ok := c.parse(token)
	if !ok {
		return Question{}, false
	}
	return c.question(tok.nonce, lang), true
}

// AnswerFor returns a reply that Check accepts to the question of token: for the tests
// and load generators of services built on the Checker, which holds the secret anyway.
// Never show it.
func (c *Checker) AnswerFor(token string) (string, bool) {
	tok, ok := c.parse(token)
	if !ok {
		return "", false
	}
	p, _ := c.draw(tok.nonce)
	return p.render("fr").answers[0], true
}

func (c *Checker) question(nonce, lang string) Question {
	lang = questionLang(lang)
	p, id := c.draw(nonce)
	return Question{ID: lang + "-" + id, Text: p.render(lang).text}
}

// draw picks the question of a token's nonce, and the ID's hash, with the service's key:
// nobody without the secret can tell which question a token will ask.
func (c *Checker) draw(nonce string) (entry, string) {
	var buf [64]byte
	sum := c.sign(append(append(buf[:0], "parvis-question\x00"...), nonce...))
	return bank[binary.BigEndian.Uint64(sum[8:16])%uint64(len(bank))], hex.EncodeToString(sum[:6])
}

func questionLang(lang string) string {
	if strings.HasPrefix(strings.ToLower(lang), "en") {
		return "en"
	}
	return "fr"
}

// answerOK checks a reply to the question of the token whose nonce is given. A reply
// passes when it holds one of the accepted answers as whole words and nothing else but
// filler and the words of the question a reply may repeat, so "le ciel est bleu" passes and
// a list of guesses ("bleu rouge vert") does not. Case, accents, spacing and numbers in
// digits or words do not matter.
func (c *Checker) answerOK(nonce, id, answer string) bool {
	lang, hash, ok := strings.Cut(id, "-")
	if !ok || lang != "fr" && lang != "en" || len(answer) > 200 {
		return false
	}
	p, want := c.draw(nonce)
	return hash == want && p.render(lang).accepts(answer)
}

// kind is a question's template; an entry of the bank is a template and its parameters.
type kind uint8

const (
	kAdd     kind = iota // a plus b
	kSub                 // a minus b
	kMul                 // a times b
	kDouble              // twice a
	kHalf                // half of a
	kNext                // the number after a
	kPrev                // the number before a
	kMax                 // the larger of a and b
	kMin                 // the smaller of a and b
	kDay                 // the day after (b=0), before (1), two days after (2), two days before (3) day a
	kMonth               // the month after (b=0), before (1), two months after (2) month a
	kSeason              // the season after (b=0) or before (1) season a
	kType                // type noun a
	kLetters             // the number of letters of noun a
	kNth                 // word b (from 1) of sentence a
	kFact                // fact a
)

type entry struct {
	k    kind
	a, b uint16
}

// bank holds every question, built once: a few kilobytes of parameters, each question
// written out only when it is asked.
var bank = buildBank()

func buildBank() []entry {
	var l []entry
	add := func(k kind, a, b int) { l = append(l, entry{k, uint16(a), uint16(b)}) }
	for a := 1; a <= 20; a++ {
		for b := 1; b <= 20; b++ {
			add(kAdd, a, b)
		}
	}
	// No question whose answer it names itself: "eight minus four".
	for a := 2; a <= 20; a++ {
		for b := 1; b < a; b++ {
			if a-b != b {
				add(kSub, a, b)
			}
		}
	}
	for a := 2; a <= 5; a++ {
		for b := 2; b <= 10; b++ {
			add(kMul, a, b)
		}
	}
	for a := 2; a <= 50; a++ {
		add(kDouble, a, 0)
		add(kHalf, 2*a, 0)
	}
	for a := 0; a < 100; a++ {
		add(kNext, a, 0)
		add(kPrev, a+1, 0)
	}
	// Close numbers, so that every answer is shared by few questions.
	for a := 1; a < 100; a++ {
		for b := a + 1; b <= min(a+15, 100); b++ {
			add(kMax, a, b)
			add(kMin, a, b)
		}
	}
	for a := range frDays {
		for b := range 4 {
			add(kDay, a, b)
		}
	}
	for a := range frMonths {
		for b := range 3 {
			add(kMonth, a, b)
		}
	}
	for a := range frSeasons {
		add(kSeason, a, 0)
		add(kSeason, a, 1)
	}
	// Letter counts cluster on a few lengths: a few words of each length keep any one count
	// from being the answer to many questions.
	var perLength [2][32]int
	for a, n := range nouns {
		add(kType, a, 0)
		fr, en := letters(n[0]), letters(n[1])
		if fr > 0 && en > 0 && fr < 32 && en < 32 && perLength[0][fr] < 12 && perLength[1][en] < 12 {
			perLength[0][fr]++
			perLength[1][en]++
			add(kLetters, a, 0)
		}
	}
	for a, s := range sentences {
		fr, en := strings.Fields(s[0]), strings.Fields(s[1])
		for b := 1; b <= min(len(fr), len(en), len(frOrdinals)); b++ {
			if countable(fr, b, "fr") && countable(en, b, "en") {
				add(kNth, a, b)
			}
		}
	}
	for a := range facts {
		add(kFact, a, 0)
	}
	return l
}

// letters counts the letters of a word made of letters only, or returns 0: a ligature
// (œ) or a hyphen would make the count a matter of opinion.
func letters(w string) int {
	if strings.ContainsAny(w, "œŒæÆ") {
		return 0
	}
	for _, r := range w {
		if !unicode.IsLetter(r) {
			return 0
		}
	}
	return utf8.RuneCountInString(w)
}

// countable tells whether the n-th word of a sentence makes a fair answer: a word of its
// own, said once in the sentence, neither a filler nor a number nor a word of the question.
func countable(sentence []string, n int, lang string) bool {
	w := words(sentence[n-1])
	if len(w) != 1 || w[0].soft || isDigits(w[0].s) || fillers[w[0].s] || len(w[0].s) < 3 {
		return false
	}
	for _, e := range words(nthFrame(n, lang)) {
		if e.s == w[0].s {
			return false
		}
	}
	for i, o := range sentence {
		if i != n-1 && strings.TrimSpace(fold(o)) == w[0].s {
			return false
		}
	}
	return true
}

func nthFrame(n int, lang string) string {
	if lang == "en" {
		return "What is the " + enOrdinals[n-1] + " word of the sentence"
	}
	return "Quel est le " + frOrdinals[n-1] + " mot de la phrase"
}

// asked is a question as asked in one language.
type asked struct {
	text    string
	echo    string   // the part of text a reply may repeat ("the sky is blue")
	answers []string // the accepted answers, as words() reads them, joined by spaces
}

func (e entry) render(lang string) asked {
	en := lang == "en"
	pick := func(fr, en string) string { return fr }
	if en {
		pick = func(_, en string) string { return en }
	}
	a, b := int(e.a), int(e.b)
	num := func(n int) string { return spell(n, lang) }
	var q asked
	var answers []string
	switch e.k {
	case kAdd, kSub, kMul:
		op := [...][2]string{kAdd: {"plus", "plus"}, kSub: {"moins", "minus"}, kMul: {"fois", "times"}}[e.k]
		q.text = fmt.Sprintf(pick("Combien font %s %s %s ?", "What is %s %s %s?"), num(a), pick(op[0], op[1]), num(b))
		answers = []string{strconv.Itoa([...]int{kAdd: a + b, kSub: a - b, kMul: a * b}[e.k])}
	case kDouble:
		q.text = fmt.Sprintf(pick("Quel est le double de %s ?", "What is twice %s?"), num(a))
		answers = []string{strconv.Itoa(2 * a)}
	case kHalf:
		q.text = fmt.Sprintf(pick("Quelle est la moitié de %s ?", "What is half of %s?"), num(a))
		answers = []string{strconv.Itoa(a / 2)}
	case kNext:
		q.text = fmt.Sprintf(pick("Quel nombre vient juste après %s ?", "Which number comes just after %s?"), num(a))
		answers = []string{strconv.Itoa(a + 1)}
	case kPrev:
		q.text = fmt.Sprintf(pick("Quel nombre vient juste avant %s ?", "Which number comes just before %s?"), num(a))
		answers = []string{strconv.Itoa(a - 1)}
	case kMax, kMin:
		// Neither number may be repeated: "twelve or seventeen" is a list of guesses.
		x, y := a, b
		if (a+b)%2 == 1 {
			x, y = b, a
		}
		q.echo = pick("Quel est le plus grand nombre", "Which is the larger number")
		answers = []string{strconv.Itoa(b)}
		if e.k == kMin {
			q.echo = pick("Quel est le plus petit nombre", "Which is the smaller number")
			answers = []string{strconv.Itoa(a)}
		}
		q.text = q.echo + pick(" : ", ": ") + num(x) + pick(" ou ", " or ") + num(y) + " ?"
		if en {
			q.text = strings.TrimSuffix(q.text, " ?") + "?"
		}
	case kDay:
		day := pick(frDays[a], enDays[a])
		shift := [...]int{1, 6, 2, 5}[b]
		q.text = fmt.Sprintf(pick([...]string{
			"Quel jour vient après %s ?",
			"Quel jour vient avant %s ?",
			"Si nous sommes %s, quel jour serons-nous dans deux jours ?",
			"Si nous sommes %s, quel jour étions-nous il y a deux jours ?"}[b], [...]string{
			"Which day comes after %s?",
			"Which day comes before %s?",
			"If today is %s, what day will it be in two days?",
			"If today is %s, what day was it two days ago?"}[b]), day)
		d := (a + shift) % 7
		answers = []string{frDays[d], enDays[d]}
	case kMonth:
		month := pick(frMonths[a], enMonths[a])
		shift := [...]int{1, 11, 2}[b]
		q.text = fmt.Sprintf(pick([...]string{
			"Quel mois vient après %s ?",
			"Quel mois vient avant %s ?",
			"Quel mois vient deux mois après %s ?"}[b], [...]string{
			"Which month comes after %s?",
			"Which month comes before %s?",
			"Which month comes two months after %s?"}[b]), month)
		m := (a + shift) % 12
		answers = []string{frMonths[m], enMonths[m]}
	case kSeason:
		season := pick(frSeasons[a], enSeasons[a])
		if b == 0 {
			q.text = fmt.Sprintf(pick("Quelle saison vient après %s ?", "Which season comes after %s?"), season)
			answers = seasonWords[(a+1)%4]
		} else {
			q.text = fmt.Sprintf(pick("Quelle saison vient avant %s ?", "Which season comes before %s?"), season)
			answers = seasonWords[(a+3)%4]
		}
	case kType:
		// Only "the word" may be repeated: a bot that sends the question back fails.
		w := pick(nouns[a][0], nouns[a][1])
		q.text = fmt.Sprintf(pick("Recopiez le mot « %s ».", "Type the word “%s”."), w)
		q.echo = pick("le mot", "the word")
		answers = []string{w}
	case kLetters:
		w := pick(nouns[a][0], nouns[a][1])
		q.text = fmt.Sprintf(pick("Combien de lettres compte le mot « %s » ?", "How many letters are there in the word “%s”?"), w)
		answers = []string{strconv.Itoa(letters(w))}
	case kNth:
		s := pick(sentences[a][0], sentences[a][1])
		// The sentence may not be repeated: it holds the answer.
		q.echo = nthFrame(b, lang)
		q.text = fmt.Sprintf(pick("%s « %s » ?", "%s “%s”?"), q.echo, s)
		answers = []string{strings.Fields(s)[b-1]}
	case kFact:
		q.text = pick(facts[a].fr, facts[a].en)
		answers = facts[a].answers
	}
	if q.echo == "" {
		q.echo = q.text
	}
	q.answers = make([]string, len(answers))
	for i, s := range answers {
		q.answers[i] = joinWords(words(s))
	}
	return q
}

func joinWords(l []word) string {
	var b strings.Builder
	for i, w := range l {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w.s)
	}
	return b.String()
}

// accepts checks a reply against the question (see answerOK).
func (q asked) accepts(reply string) bool {
	r := words(reply)
	if len(r) == 0 {
		return false
	}
	joined := " " + joinWords(r) + " "
	allowed := map[string]bool{}
	found := false
	for _, a := range q.answers {
		if strings.Contains(joined, " "+a+" ") {
			found = true
		}
		for _, w := range strings.Fields(a) {
			allowed[w] = true
		}
	}
	if !found {
		return false
	}
	for _, w := range words(q.echo) {
		if !w.soft {
			allowed[w.s] = true
		}
	}
	for _, w := range r {
		if !allowed[w.s] && !fillers[w.s] && !w.soft {
			return false
		}
	}
	return true
}

// fillers may surround an answer: "c'est 7", "ça fait sept", "it is blue".
var fillers = map[string]bool{
	"le": true, "la": true, "l": true, "les": true, "un": true, "une": true, "il": true,
	"elle": true, "est": true, "c": true, "ce": true, "ca": true, "cela": true, "fait": true,
	"font": true, "en": true, "de": true, "du": true, "egal": true, "egale": true, "y": true,
	"a": true, "ont": true, "je": true, "crois": true, "pense": true, "ma": true, "reponse": true,
	"the": true, "it": true, "is": true, "its": true, "s": true, "an": true, "equals": true,
	"makes": true, "are": true, "there": true, "i": true, "think": true, "my": true, "answer": true,
}
