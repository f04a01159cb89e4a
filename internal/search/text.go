package search

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The words of a text, as the index and the query see them. themes/default/static/js/search.js
// repeats these rules; TestBrowserTokens (internal/e2e) checks that both agree.
//
//   - A word is a run of letters, digits and combining marks (U+02BC, the modifier letter
//     apostrophe, is an apostrophe, not a letter).
//   - It is folded: compatibility decomposition (NFKD), combining marks dropped, lower case,
//     œ æ ß ø đ ł ı spelt out in ASCII, and anything left but letters and digits dropped.
//     "Œuvres", "ŒUVRES" and "oeuvres" are one word; so are "Été" and "ete".
//   - An elided article or pronoun before an apostrophe (' or ’) is dropped: l'école,
//     d’abord, qu'il, jusqu'au.
//   - Stop words (le, la, de, et… or the, of, and…) and one-letter words are not indexed;
//     a number is, from two digits.
//   - The plural of a noun is folded onto its singular by simple rules: écoles → ecole,
//     bureaux → bureau, journaux → journal; libraries → library, boxes → box.
//   - A date written in words or digits (12 mars 2026, 1er mars, March 12, 2026-03-12,
//     12/03/2026) gives terms of its own besides its words: @2026-03-12, @03-12 (the day in
//     any year) and @2026-03 (the month), so that "12 mars" finds it.

// maxTermBytes bounds a term: longer runs (identifiers, glued URLs) are not words anyone
// searches for.
const maxTermBytes = 40

var elisions = map[string]bool{
	"l": true, "d": true, "j": true, "m": true, "n": true, "s": true, "t": true, "c": true,
	"qu": true, "jusqu": true, "lorsqu": true, "puisqu": true, "quoiqu": true,
}

// stopWordList is each language's stop words, folded.
var stopWordList = map[string]string{
	"fr": "au aux avec ce ces cet cette dans de des du elle elles en est et eux il ils je la le les leur leurs lui ma mais me mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sont sur ta te tes toi ton tu un une vos votre vous",
	"en": "an and are as at be by for from has have in is it its of on or that the this to was were will with",
}

// stopWords holds each language's stop words packed into integers (see pack), sorted: a
// look-up for every word of every page must be quick.
var stopWords = map[string][]uint64{}

// maxStopLen is the longest stop word's length: longer words need no look-up.
const maxStopLen = 8

func init() {
	for lang, words := range stopWordList {
		var keys []uint64
		for _, w := range strings.Fields(words) {
			k, ok := pack([]byte(w))
			if !ok {
				panic("search: stop word " + w + " is not short lowercase ASCII")
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		stopWords[lang] = keys
	}
}

// pack puts a word of up to eight ASCII bytes in an integer.
func pack(b []byte) (uint64, bool) {
	if len(b) > maxStopLen {
		return 0, false
	}
	var k uint64
	for _, c := range b {
		if c >= 0x80 {
			return 0, false
		}
		k = k<<8 | uint64(c)
	}
	return k, true
}

func isStopWord(stop []uint64, b []byte) bool {
	if len(stop) == 0 {
		return false
	}
	k, ok := pack(b)
	if !ok {
		return false
	}
	_, found := slices.BinarySearch(stop, k)
	return found
}

// StopWords lists a language's stop words, sorted, for the browser script's test.
func StopWords(lang string) []string {
	out := strings.Fields(stopWordList[lang])
	slices.Sort(out)
	return out
}

// monthOf reads a month's name, in French or English.
func monthOf(b []byte) (int, bool) {
	if len(b) < 3 || len(b) > 9 {
		return 0, false
	}
	switch string(b) {
	case "janvier", "january":
		return 1, true
	case "fevrier", "february":
		return 2, true
	case "mars", "march":
		return 3, true
	case "avril", "april":
		return 4, true
	case "mai", "may":
		return 5, true
	case "juin", "june":
		return 6, true
	case "juillet", "july":
		return 7, true
	case "aout", "august":
		return 8, true
	case "septembre", "september":
		return 9, true
	case "octobre", "october":
		return 10, true
	case "novembre", "november":
		return 11, true
	case "decembre", "december":
		return 12, true
	}
	return 0, false
}

// word is a word of a text: its folded form and where it is in the text (bytes).
type word struct {
	fold       []byte
	start, end int
	n          int  // len(fold), while the words are split
	elided     bool // an elided article before an apostrophe
}

// tokenizer splits texts into terms. It keeps its buffers between texts, so one tokenizer
// serves many texts, from one goroutine.
type tokenizer struct {
	lang  string
	stop  []uint64
	words []word
	buf   []byte
	term  []byte
}

func newTokenizer(lang string) *tokenizer {
	return &tokenizer{lang: lang, stop: stopWords[lang]}
}

// split finds the words of s.
func (t *tokenizer) split(s string) []word {
	t.words = t.words[:0]
	t.buf = slices.Grow(t.buf[:0], len(s))
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if asciiClass[c] == 0 {
				i++
				continue
			}
		} else if r, n := utf8.DecodeRuneInString(s[i:]); !isWordRune(r) {
			i += n
			continue
		}
		start, from := i, len(t.buf)
		for i < len(s) {
			c := s[i]
			if c < utf8.RuneSelf {
				switch asciiClass[c] {
				case 0:
					goto end
				case 1:
					// A run of lower-case letters and digits, copied at once.
					j := i + 1
					for j < len(s) && asciiClass[s[j]] == 1 {
						j++
					}
					t.buf = append(t.buf, s[i:j]...)
					i = j
				default:
					t.buf = append(t.buf, c+'a'-'A')
					i++
				}
				continue
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if !isWordRune(r) {
				break
			}
			t.buf = appendFolded(t.buf, r)
			i += n
		}
	end:
		w := word{start: start, end: i, n: len(t.buf) - from}
		w.elided = i < len(s) && w.n <= 6 && isApostropheAt(s, i) && elisions[string(t.buf[from:])]
		t.words = append(t.words, w)
	}
	// t.buf may have moved while it grew: point the words at its final array.
	off := 0
	for k := range t.words {
		n := t.words[k].n
		t.words[k].fold = t.buf[off : off+n : off+n]
		off += n
	}
	return t.words
}

// asciiClass sorts ASCII bytes: 0 for what is not part of a word, 1 for lower-case letters
// and digits, 2 for capitals. Bytes from 0x80 are not in it.
var asciiClass = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = 1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = 1
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = 2
	}
	return t
}()

func isWordRune(r rune) bool {
	if r == '\u02bc' {
		return false
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r)
}

func isApostropheAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r == '\'' || r == '\u2019' || r == '\u2018' || r == '\u02bc'
}

// foldTable holds the folded form of the runes below 0x250 (Latin), computed once from the
// general rule.
var foldTable [0x250]string

func init() {
	for r := rune(0x80); r < 0x250; r++ {
		foldTable[r] = string(foldSlow(nil, r))
	}
}

func appendFolded(dst []byte, r rune) []byte {
	if r < 0x250 {
		return append(dst, foldTable[r]...)
	}
	return foldSlow(dst, r)
}

// foldSlow folds one rune by the general rule.
func foldSlow(dst []byte, r rune) []byte {
	var tmp [utf8.UTFMax]byte
	n := utf8.EncodeRune(tmp[:], r)
	for _, d := range norm.NFKD.String(string(tmp[:n])) {
		if unicode.Is(unicode.Mn, d) {
			continue
		}
		d = unicode.ToLower(d)
		switch d {
		case 'œ':
			dst = append(dst, "oe"...)
		case 'æ':
			dst = append(dst, "ae"...)
		case 'ß':
			dst = append(dst, "ss"...)
		case 'ø':
			dst = append(dst, 'o')
		case 'đ':
			dst = append(dst, 'd')
		case 'ł':
			dst = append(dst, 'l')
		case 'ı':
			dst = append(dst, 'i')
		default:
			if unicode.IsLetter(d) || unicode.IsNumber(d) {
				dst = utf8.AppendRune(dst, d)
			}
		}
	}
	return dst
}

// Fold returns s folded as words are: "L’Été" → "l ete" (words joined by spaces).
func Fold(s string) string {
	t := newTokenizer("")
	var parts []string
	for _, w := range t.split(s) {
		if len(w.fold) > 0 {
			parts = append(parts, string(w.fold))
		}
	}
	return strings.Join(parts, " ")
}

// isNumber reports whether b is made of ASCII digits only.
func isNumber(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// stem folds a plural onto its singular: the result is a prefix of b, or b with its end
// rewritten ("aux" → "al") in *scratch. It is not a stemmer: only the regular plurals.
func stem(b []byte, lang string, scratch *[]byte) []byte {
	n := len(b)
	if n <= 3 || b[n-1] < 'a' || b[n-1] > 'z' {
		return b
	}
	has := func(suffix string) bool { return n >= len(suffix) && string(b[n-len(suffix):]) == suffix }
	rewrite := func(cut int, end string) []byte {
		*scratch = append(append((*scratch)[:0], b[:n-cut]...), end...)
		return *scratch
	}
	switch lang {
	case "fr":
		switch {
		case has("aux") && !has("eaux"):
			return rewrite(3, "al") // journaux → journal
		case has("ux"):
			return b[:n-1] // bureaux → bureau, jeux → jeu, bijoux → bijou
		case has("s") && !has("ss"):
			return b[:n-1]
		}
	case "en":
		switch {
		case has("ies") && n > 4:
			return rewrite(3, "y") // libraries → library
		case has("sses"), has("xes"), has("zes"), has("ches"), has("shes"):
			return b[:n-2] // classes → class, boxes → box
		case has("s") && !has("ss") && !has("us") && !has("is"):
			return b[:n-1]
		}
	}
	return b
}

// term turns a word into its indexed term, or nil when the word is not indexed.
func (t *tokenizer) termOf(w *word) []byte {
	f := w.fold
	if w.elided || len(f) == 0 || len(f) > maxTermBytes {
		return nil
	}
	if isNumber(f) {
		if len(f) < 2 {
			return nil
		}
		return f
	}
	if len(f) < 5 && utf8.RuneCount(f) < 2 || isStopWord(t.stop, f) {
		return nil
	}
	return stem(f, t.lang, &t.term)
}

// date is a date found in a run of words: the words it spans and its parts (year 0 when
// not written).
type date struct {
	from, to         int // word indexes, to exclusive
	year, month, day int
}

// dateAt reads a date starting at word i of words (from text s), if there is one.
func dateAt(s string, words []word, i int) (date, bool) {
	at := func(k int) []byte {
		if k < len(words) {
			return words[k].fold
		}
		return nil
	}
	// sep is the text between words k and k+1, when they follow each other.
	sep := func(k int) string {
		if k+1 >= len(words) {
			return "\x00"
		}
		return s[words[k].end:words[k+1].start]
	}
	w := at(i)
	if len(w) == 0 || (w[0] > '9' && (len(w) < 3 || len(w) > 9)) {
		return date{}, false // neither a number nor a month's name: most words
	}
	if d, ok := dayOf(w); ok {
		// 12 mars 2026, 12 mars, 1er mars; 12/03/2026, 12.03.2026
		if m, ok := monthOf(at(i + 1)); ok {
			if y, ok := yearOf(at(i + 2)); ok {
				return date{from: i, to: i + 3, year: y, month: m, day: d}, true
			}
			return date{from: i, to: i + 2, month: m, day: d}, true
		}
		if sp := sep(i); (sp == "/" || sp == ".") && sep(i+1) == sp {
			if m, ok := monthNumber(at(i + 1)); ok {
				if y, ok := yearOf(at(i + 2)); ok && len(at(i+2)) == 4 {
					return date{from: i, to: i + 3, year: y, month: m, day: d}, true
				}
			}
		}
		return date{}, false
	}
	if m, ok := monthOf(w); ok {
		// March 12, 2026; March 12; mars 2026
		if d, ok := dayOf(at(i + 1)); ok {
			if y, ok := yearOf(at(i + 2)); ok {
				return date{from: i, to: i + 3, year: y, month: m, day: d}, true
			}
			return date{from: i, to: i + 2, month: m, day: d}, true
		}
		if y, ok := yearOf(at(i + 1)); ok {
			return date{from: i, to: i + 2, year: y, month: m}, true
		}
		return date{}, false
	}
	// 2026-03-12
	if y, ok := yearOf(w); ok && sep(i) == "-" && sep(i+1) == "-" {
		if m, ok := monthNumber(at(i + 1)); ok && len(at(i+1)) == 2 {
			if d, ok := dayOf(at(i + 2)); ok && len(at(i+2)) == 2 {
				return date{from: i, to: i + 3, year: y, month: m, day: d}, true
			}
		}
	}
	return date{}, false
}

// dateStart marks the bytes a date's first word may start with: digits, and the first
// letters of the months' names.
var dateStart = func() (t [256]bool) {
	for _, c := range "0123456789jfmasond" {
		t[c] = true
	}
	return t
}()

// dayOf reads a day of the month: 1 to 31, "01" or "1er".
func dayOf(b []byte) (int, bool) {
	b = trimSuffix(b, "er")
	if len(b) == 0 || len(b) > 2 || !isNumber(b) {
		return 0, false
	}
	d, _ := strconv.Atoi(string(b))
	return d, d >= 1 && d <= 31
}

func monthNumber(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 2 || !isNumber(b) {
		return 0, false
	}
	m, _ := strconv.Atoi(string(b))
	return m, m >= 1 && m <= 12
}

func yearOf(b []byte) (int, bool) {
	if len(b) != 4 || !isNumber(b) {
		return 0, false
	}
	y, _ := strconv.Atoi(string(b))
	return y, y >= 1000
}

func trimSuffix(b []byte, suffix string) []byte {
	if len(b) > len(suffix) && string(b[len(b)-len(suffix):]) == suffix {
		return b[:len(b)-len(suffix)]
	}
	return b
}

// dateTerms appends the terms of a date: the day, the day in any year, the month.
func dateTerms(dst []string, d date) []string {
	two := func(n int) string {
		if n < 10 {
			return "0" + strconv.Itoa(n)
		}
		return strconv.Itoa(n)
	}
	if d.day > 0 {
		if d.year > 0 {
			dst = append(dst, "@"+strconv.Itoa(d.year)+"-"+two(d.month)+"-"+two(d.day))
		}
		dst = append(dst, "@"+two(d.month)+"-"+two(d.day))
	}
	if d.year > 0 {
		dst = append(dst, "@"+strconv.Itoa(d.year)+"-"+two(d.month))
	}
	return dst
}

// queryDateTerm is the one term a date in a query stands for: the most precise one.
func queryDateTerm(d date) string {
	return dateTerms(nil, d)[0]
}

// each calls fn with each term of s, in order, with the span of text it comes from. A
// term is only valid during the call.
func (t *tokenizer) each(s string, fn func(term []byte, start, end int)) {
	words := t.split(s)
	dateUntil := 0
	var dterms []string
	for i := range words {
		// A date starts with a number or a month's name: most words need no look.
		if f := words[i].fold; i >= dateUntil && len(f) > 0 && dateStart[f[0]] {
			if d, ok := dateAt(s, words, i); ok {
				dterms = dateTerms(dterms[:0], d)
				for _, dt := range dterms {
					fn([]byte(dt), words[d.from].start, words[d.to-1].end)
				}
				dateUntil = d.to
			}
		}
		if term := t.termOf(&words[i]); term != nil {
			fn(term, words[i].start, words[i].end)
		}
	}
}

// Terms returns the indexed terms of s, in order, for tests and tools.
func Terms(s, lang string) []string {
	var out []string
	newTokenizer(lang).each(s, func(term []byte, _, _ int) { out = append(out, string(term)) })
	return out
}
