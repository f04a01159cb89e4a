package antispam

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// latin folds the accented letters of Latin-1 and Latin Extended-A to plain lower case. It
// is set by its initializer, not by init(): the numerals and the question bank are built
// from folded words as the package's variables are initialized, before init() runs.
var latin = func() (latin [0x180]string) {
	for _, p := range [...]struct{ from, to string }{
		{"ÀÁÂÃÄÅàáâãäåĀāĂăĄą", "a"}, {"ÇçĆćĈĉĊċČč", "c"}, {"ĎďĐđÐð", "d"},
		{"ÈÉÊËèéêëĒēĔĕĖėĘęĚě", "e"}, {"ĜĝĞğĠġĢģ", "g"}, {"ĤĥĦħ", "h"},
		{"ÌÍÎÏìíîïĨĩĪīĬĭĮįİı", "i"}, {"Ĵĵ", "j"}, {"Ķķĸ", "k"}, {"ĹĺĻļĽľĿŀŁł", "l"},
		{"ÑñŃńŅņŇňŉŊŋ", "n"}, {"ÒÓÔÕÖØòóôõöøŌōŎŏŐő", "o"}, {"ŔŕŖŗŘř", "r"},
		{"ŚśŜŝŞşŠšſ", "s"}, {"ŢţŤťŦŧ", "t"}, {"ÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲų", "u"}, {"Ŵŵ", "w"},
		{"ÝýÿŶŷŸ", "y"}, {"ŹźŻżŽž", "z"}, {"Ææ", "ae"}, {"Œœ", "oe"}, {"ß", "ss"},
		{"Þþ", "th"}, {"Ĳĳ", "ij"},
	} {
		for _, r := range p.from {
			latin[r] = p.to
		}
	}
	return latin
}()

// fold reduces s to its words in lower case without accents, each between single spaces
// (" pret rapide "), so that a whole word or phrase is found with strings.Contains.
// Everything but letters and digits separates words; invisible format characters (soft
// hyphen, zero-width space) and combining accents are dropped, so they hide nothing.
// Letters of other scripts are only lowered: blocked words are French or English.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(' ')
	space := true
	sep := func() {
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
				b.WriteByte(c)
				space = false
			case 'A' <= c && c <= 'Z':
				b.WriteByte(c + 'a' - 'A')
				space = false
			default:
				sep()
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r < rune(len(latin)) && latin[r] != "":
			b.WriteString(latin[r])
			space = false
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Cf, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
			space = false
		default:
			sep()
		}
	}
	sep()
	return b.String()
}

// hasBlocked reports whether text holds one of words, each folded (" word ").
func hasBlocked(text string, words []string) bool {
	f := fold(text)
	for _, w := range words {
		if strings.Contains(f, w) {
			return true
		}
	}
	return false
}

// countLinks counts what leads off the site: http(s) URLs and bare domains ("www.x.com",
// "x.fr") in the text. A Markdown link or an HTML anchor counts once, whatever its label
// repeats of its target; links to the site's own paths ("/agenda/") do not count.
func countLinks(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '<' && i+2 < len(s) && s[i+1]|0x20 == 'a' && isSpace(s[i+2]):
			end := anchorEnd(s, i)
			if rawLinks(s[i:end]) > 0 {
				n++
			}
			i = end
		case c == '[':
			if end := markdownLinkEnd(s, i); end > 0 {
				if rawLinks(s[i:end]) > 0 {
					n++
				}
				i = end
			} else {
				i++
			}
		case isAlnum(c):
			if end := linkAt(s, i); end > i {
				n++
				i = end
				continue
			}
			// No link starts inside a word.
			for i++; i < len(s) && isAlnum(s[i]); i++ {
			}
		default:
			i++
		}
	}
	return n
}

// rawLinks counts URLs and domains in s, ignoring link syntax.
func rawLinks(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if end := linkAt(s, i); end > i {
			n++
			i = end
		} else {
			i++
		}
	}
	return n
}

// linkAt returns the end of a URL or a bare domain starting at i, or i.
func linkAt(s string, i int) int {
	c := s[i]
	if !isAlnum(c) || i > 0 && (isAlnum(s[i-1]) || s[i-1] == '.' || s[i-1] == '-' || s[i-1] == '@' || s[i-1] == '_') {
		return i
	}
	if c|0x20 == 'h' {
		for _, scheme := range [...]string{"http://", "https://"} {
			if len(s)-i > len(scheme) && strings.EqualFold(s[i:i+len(scheme)], scheme) {
				j := i + len(scheme)
				for j < len(s) && !isURLEnd(s[j]) {
					j++
				}
				if j > i+len(scheme) {
					return j
				}
				return i
			}
		}
	}
	return domainAt(s, i)
}

// domainAt recognises a host name of two labels or more that ends in a top-level domain
// common in spam, or any host starting "www.", and the path that follows it.
func domainAt(s string, i int) int {
	j, labels, last := i, 0, i
	for {
		k := j
		for k < len(s) && (isAlnum(s[k]) || s[k] == '-') {
			k++
		}
		if k == j {
			break
		}
		labels++
		last = j
		j = k
		if j+1 < len(s) && s[j] == '.' && isAlnum(s[j+1]) {
			j++
			continue
		}
		break
	}
	if labels < 2 || j < len(s) && (s[j] == '@' || s[j] == '_' || s[j] >= utf8.RuneSelf) {
		return i
	}
	tld := strings.ToLower(s[last:j])
	www := len(s)-i > 4 && strings.EqualFold(s[i:i+4], "www.")
	if !tlds[tld] && !(www && len(tld) >= 2 && isLetters(tld)) {
		return i
	}
	if j < len(s) && s[j] == '/' {
		for j < len(s) && !isURLEnd(s[j]) {
			j++
		}
	}
	return j
}

// tlds are the top-level domains a bare domain is recognised by. Two-letter ones that are
// also common words or typos in French or English ("de", "es", "it", "me", "to") are left
// out; a link with its scheme or "www." is counted whatever its domain.
var tlds = map[string]bool{
	"com": true, "net": true, "org": true, "info": true, "biz": true, "fr": true, "eu": true,
	"io": true, "co": true, "uk": true, "ru": true, "su": true, "ua": true, "cn": true,
	"xyz": true, "top": true, "online": true, "site": true, "shop": true, "store": true,
	"club": true, "app": true, "dev": true, "ly": true, "tk": true, "ml": true, "ga": true,
	"cf": true, "gq": true, "pw": true, "cc": true, "tv": true, "ws": true, "us": true,
	"ca": true, "be": true, "ch": true, "pl": true, "nl": true, "pro": true, "live": true,
	"link": true, "click": true, "win": true, "vip": true, "bid": true, "loan": true,
	"icu": true, "buzz": true, "gouv": true, "bzh": true, "paris": true,
}

// anchorEnd returns the end of the HTML anchor opening at i: after its "</a>", or after
// its opening tag when it is not closed.
func anchorEnd(s string, i int) int {
	gt := strings.IndexByte(s[i:], '>')
	if gt < 0 {
		return len(s)
	}
	end := i + gt + 1
	for j := end; j+4 <= len(s); j++ {
		if s[j] == '<' && strings.EqualFold(s[j:j+4], "</a>") {
			return j + 4
		}
	}
	return end
}

// markdownLinkEnd returns the end of "[label](target)" opening at i, or 0.
func markdownLinkEnd(s string, i int) int {
	const maxLabel = 1000
	for j := i + 1; j < len(s) && j-i < maxLabel; j++ {
		switch s[j] {
		case '\n':
			if j+1 < len(s) && s[j+1] == '\n' {
				return 0
			}
		case ']':
			if j+1 >= len(s) || s[j+1] != '(' {
				return 0
			}
			k := strings.IndexByte(s[j+2:], ')')
			if k < 0 {
				return 0
			}
			return j + 2 + k + 1
		}
	}
	return 0
}

func isAlnum(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9' }

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'a' > s[i] || s[i] > 'z' {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func isURLEnd(c byte) bool {
	return c <= ' ' || c == '<' || c == '>' || c == '"' || c == '\'' || c == '`' || c == ')' || c == ']' || c == '|'
}
