package antispam

import (
	"strconv"
	"strings"
)

// Numbers from 0 to 100, written for people in the questions and read back from their
// replies in digits or in words, French (with Belgian and Swiss tens) or English.

var frUnits = [...]string{"zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit",
	"neuf", "dix", "onze", "douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf"}

var frTens = [...]string{2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}

var enUnits = [...]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
	"nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
	"eighteen", "nineteen"}

var enTens = [...]string{2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy",
	8: "eighty", 9: "ninety"}

// spell writes n (0 to 100) in words, in French as most of France writes it, or in English.
func spell(n int, lang string) string {
	if lang == "en" {
		switch {
		case n < 20:
			return enUnits[n]
		case n == 100:
			return "one hundred"
		case n%10 == 0:
			return enTens[n/10]
		}
		return enTens[n/10] + "-" + enUnits[n%10]
	}
	switch {
	case n < 20:
		return frUnits[n]
	case n < 70:
		switch n % 10 {
		case 0:
			return frTens[n/10]
		case 1:
			return frTens[n/10] + " et un"
		}
		return frTens[n/10] + "-" + frUnits[n%10]
	case n == 71:
		return "soixante et onze"
	case n < 80:
		return "soixante-" + frUnits[n-60]
	case n == 80:
		return "quatre-vingts"
	case n < 100:
		return "quatre-vingt-" + frUnits[n-80]
	}
	return "cent"
}

// numerals maps every accepted way of writing a number in words, folded (" quatre vingt dix "
// without its outer spaces), to its digits.
var numerals = func() map[string]string {
	m := map[string]string{}
	add := func(words string, n int) { m[strings.TrimSpace(fold(words))] = strconv.Itoa(n) }
	for n := 0; n <= 100; n++ {
		add(spell(n, "fr"), n)
		add(spell(n, "en"), n)
	}
	add("une", 1)
	add("quatre-vingt", 80)
	add("hundred", 100)
	add("a hundred", 100)
	for t := 2; t <= 6; t++ {
		add(frTens[t]+" un", t*10+1) // "vingt-un", without "et"
	}
	add("soixante onze", 71)
	add("quatre-vingt et un", 81)
	// Belgian and Swiss French.
	for t, words := range map[int][]string{7: {"septante"}, 8: {"huitante", "octante"}, 9: {"nonante"}} {
		for _, w := range words {
			add(w, t*10)
			add(w+" et un", t*10+1)
			add(w+" un", t*10+1)
			for u := 2; u <= 9; u++ {
				add(w+"-"+frUnits[u], t*10+u)
			}
		}
	}
	return m
}()

// maxNumeral is the most words a numeral in numerals has ("quatre vingt dix sept").
const maxNumeral = 4

// token is one word of a reply, numbers written as digits. A soft one is "un" or "une"
// alone, an article far more often than a number: it counts as 1 when 1 is the answer, and
// as a filler otherwise.
type word struct {
	s    string
	soft bool
}

// words reads text as Check compares it: folded (case, accents and punctuation dropped),
// numbers in words or digits as digits without leading zeros.
func words(text string) []word {
	f := strings.Fields(fold(text))
	out := make([]word, 0, len(f))
	for i := 0; i < len(f); {
		n := 0
		for k := min(maxNumeral, len(f)-i); k > 0; k-- {
			if d, ok := numerals[strings.Join(f[i:i+k], " ")]; ok {
				soft := k == 1 && (f[i] == "un" || f[i] == "une")
				out = append(out, word{d, soft})
				n = k
				break
			}
		}
		if n == 0 {
			w := f[i]
			if isDigits(w) {
				if w = strings.TrimLeft(w, "0"); w == "" {
					w = "0"
				}
			}
			out = append(out, word{s: w})
			n = 1
		}
		i += n
	}
	return out
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
