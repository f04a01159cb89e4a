package forms

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/parvis/parvis/internal/markdown"
)

// Limits on names and references that end up in paths.
const (
	maxSegment = 100 // one name of a path
	maxRef     = 300 // a page reference
	maxSlug    = 60  // the part of a slug made from a title
	maxSubject = 200 // a commit subject, as the forge takes it
)

// cleanLine cleans a one-line value: tabs become spaces, bidirectional overrides go (they
// can make a name read backwards), the text is NFC and trimmed. ok is false when the value
// is not UTF-8 or holds a line break or another control character: a browser's one-line
// input sends none.
func cleanLine(s string) (string, bool) { return clean(s, false) }

// cleanText cleans a multi-line value: line endings become "\n", control characters other
// than "\n" and tabs go, as do bidirectional overrides; the text is NFC and trimmed. ok is
// false when the value is not UTF-8.
func cleanText(s string) (string, bool) { return clean(s, true) }

// clean works on bytes, copying the runs that need no change, so that the usual value
// costs one pass and no allocation. The characters it acts on: C0 and C1 controls (C1 is
// 0xC2 0x80-0x9F), U+2028 and U+2029 (0xE2 0x80 0xA8-0xA9), the bidirectional embeddings
// and overrides U+202A-U+202E (0xE2 0x80 0xAA-0xAE) and isolates U+2066-U+2069
// (0xE2 0x81 0xA6-0xA9), and the byte order mark U+FEFF (0xEF 0xBB 0xBF).
func clean(s string, multiline bool) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	var b strings.Builder // empty until something changes
	last := 0             // where the run not copied yet starts
	edit := func(i, n int, with string) {
		b.Grow(len(s))
		b.WriteString(s[last:i])
		b.WriteString(with)
		last = i + n
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f:
		case c == '\t':
			if !multiline {
				edit(i, 1, " ")
			}
		case c == '\n' && multiline:
		case c == '\r' && multiline:
			if i+1 < len(s) && s[i+1] == '\n' {
				edit(i, 2, "\n")
				i++
			} else {
				edit(i, 1, "\n")
			}
		case c < 0x80:
			if !multiline {
				return "", false
			}
			edit(i, 1, "")
		case c == 0xc2 && s[i+1] < 0xa0:
			if !multiline {
				return "", false
			}
			edit(i, 2, "")
			i++
		case c == 0xe2 && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9):
			if !multiline {
				return "", false
			}
			edit(i, 3, "\n")
			i += 2
		case c == 0xe2 && (s[i+1] == 0x80 && s[i+2] >= 0xaa && s[i+2] <= 0xae || s[i+1] == 0x81 && s[i+2] >= 0xa6 && s[i+2] <= 0xa9),
			c == 0xef && s[i+1] == 0xbb && s[i+2] == 0xbf:
			edit(i, 3, "")
			i += 2
		}
	}
	if last > 0 {
		b.WriteString(s[last:])
		s = b.String()
	}
	return strings.TrimSpace(norm.NFC.String(s)), true
}

// printableASCII reports whether s is printable ASCII.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// oneLine turns text into one line of at most max characters, for a commit subject.
func oneLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > max {
		n := 0
		for i := range s {
			if n == max-1 {
				s = strings.TrimSpace(s[:i]) + "…"
				break
			}
			n++
		}
	}
	return s
}

// slugify makes a path name out of text: the site's slug (lower case, Latin accents
// removed, words joined by '-'), then kept to ASCII so that the name is the same on every
// file system and in every URL. It returns "" when nothing is left.
func slugify(s string) string {
	if s == "" {
		return ""
	}
	src := markdown.Slug(s)
	b := make([]byte, 0, len(src))
	hyphen := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
			if hyphen && len(b) > 0 {
				b = append(b, '-')
			}
			hyphen = false
			b = append(b, c)
			continue
		}
		hyphen = true
	}
	if len(b) > maxSlug {
		cut := strings.LastIndexByte(string(b[:maxSlug+1]), '-')
		if cut <= 0 {
			cut = maxSlug
		}
		b = b[:cut]
	}
	return string(b)
}

// containsEmail reports whether s holds something shaped like an e-mail address
// (local@domain.tld), the personal data that must never reach the public repository. It
// reads s as a reader will see it once rendered (see rendered), so that "jean&#64;x.fr",
// "jean＠x．fr" or "jean@x\u200b.fr" are found as "jean@x.fr" is.
func containsEmail[T string | []byte](s T) bool {
	if rawContainsEmail(s) {
		return true
	}
	if !mayRenderAt(string(s)) {
		return false
	}
	return rawContainsEmail(rendered(string(s)))
}

// mayRenderAt tells whether s could show an "@" once rendered: it holds one, or an entity
// or a percent escape that could make one, or a character that folds to one.
func mayRenderAt(s string) bool {
	return strings.ContainsAny(s, "@&%\uff20\ufe6b")
}

// rendered is s as a page or a link shows it, the forms a citizen can use to write an
// address without typing it plainly undone: HTML entities decoded (in Markdown, "&#64;"
// shows as "@"), Markdown's backslash escapes dropped ("jean\@x.fr"), percent escapes
// decoded (a mailto: link's "%40"), compatibility forms folded by NFKC (full-width
// "＠" and letters, the small "﹫"), the dots browsers read as dots in a host name
// (U+3002, U+FF0E, U+FF61) made dots, and invisible format characters (zero-width
// spaces and joiners, soft hyphens, bidirectional marks) removed.
func rendered(s string) string {
	// Two passes undo an escape inside another ("%26#64;" in a link shows "@"), at the cost
	// of finding the rare address a reader would see escaped ("&amp;#64;").
	for range 2 {
		if !strings.ContainsAny(s, "&%\\") {
			break
		}
		s = html.UnescapeString(s)
		s = markdownUnescaper.Replace(s)
		s = percentDecode(s)
	}
	s = norm.NFKC.String(s)
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\u3002' || r == '\uff0e' || r == '\uff61':
			return '.'
		case unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
}

// percentDecode decodes every valid %XX of s and leaves the rest as it is: unlike
// url.PathUnescape, one "100 %" elsewhere in the text does not stop it.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if hi, lo := hexValue(s[i+1]), hexValue(s[i+2]); hi >= 0 && lo >= 0 {
				b = append(b, byte(hi<<4|lo))
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

func hexValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// markdownUnescaper drops the backslash before the ASCII punctuation Markdown lets one
// escape.
var markdownUnescaper = func() *strings.Replacer {
	var pairs []string
	for _, c := range "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~" {
		pairs = append(pairs, "\\"+string(c), string(c))
	}
	return strings.NewReplacer(pairs...)
}()

// rawContainsEmail finds an address written plainly.
func rawContainsEmail[T string | []byte](s T) bool {
	for at := 1; at < len(s); at++ {
		if s[at] != '@' || !localChar(s[at-1]) {
			continue
		}
		end := at + 1
		for end < len(s) && domainChar(s[end]) {
			end++
		}
		for end > at+1 && (s[end-1] == '.' || s[end-1] == '-') {
			end--
		}
		dot := end - 1
		for dot > at && s[dot] != '.' {
			dot--
		}
		if dot <= at+1 || end-dot-1 < 2 {
			continue
		}
		if tld := string(s[dot+1 : end]); strings.IndexFunc(tld, func(r rune) bool { return !unicode.IsLetter(r) }) < 0 {
			return true
		}
	}
	return false
}

func localChar(c byte) bool {
	return isAlnum(c) || c >= 0x80 || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0
}

// domainChar takes the bytes of a host name, including the non-ASCII letters of an
// internationalized one.
func domainChar(c byte) bool { return isAlnum(c) || c == '.' || c == '-' || c >= 0x80 }
