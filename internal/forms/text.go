package forms

import (
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
func cleanLine(s string) (string, bool) {
	if printableASCII(s, false) {
		return strings.TrimSpace(s), true
	}
	if !utf8.ValidString(s) {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r), r == '\u2028', r == '\u2029':
			return "", false
		case invisible(r):
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(norm.NFC.String(b.String())), true
}

// cleanText cleans a multi-line value: line endings become "\n", control characters other
// than "\n" and tabs go, as do bidirectional overrides; the text is NFC and trimmed. ok is
// false when the value is not UTF-8.
func cleanText(s string) (string, bool) {
	if printableASCII(s, true) {
		return strings.TrimSpace(s), true
	}
	if !utf8.ValidString(s) {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\r':
			b.WriteByte('\n')
			if i < len(s) && s[i] == '\n' {
				i++
			}
		case r == '\n', r == '\t':
			b.WriteRune(r)
		case r == '\u2028', r == '\u2029':
			b.WriteByte('\n')
		case unicode.IsControl(r), invisible(r):
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(norm.NFC.String(b.String())), true
}

// printableASCII reports whether s is printable ASCII (and "\n" and tabs when multiline),
// which needs no cleaning beyond trimming.
func printableASCII(s string, multiline bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f || multiline && (c == '\n' || c == '\t') {
			continue
		}
		return false
	}
	return true
}

// invisible lists the format characters that are dropped: bidirectional embeddings,
// overrides and isolates, and the byte order mark.
func invisible(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' || r == '\ufeff'
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
// (local@domain.tld), the personal data that must never reach the public repository.
func containsEmail(s string) bool {
	for off := 0; ; {
		i := strings.IndexByte(s[off:], '@')
		if i < 0 {
			return false
		}
		at := off + i
		off = at + 1
		if at == 0 || !localChar(s[at-1]) {
			continue
		}
		end := at + 1
		for end < len(s) && domainChar(s[end]) {
			end++
		}
		domain := strings.TrimRight(s[at+1:end], ".-")
		dot := strings.LastIndexByte(domain, '.')
		if dot <= 0 {
			continue
		}
		tld := domain[dot+1:]
		if len(tld) >= 2 && strings.IndexFunc(tld, func(r rune) bool { return !unicode.IsLetter(r) }) < 0 {
			return true
		}
	}
}

func localChar(c byte) bool {
	return isAlnum(c) || c >= 0x80 || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0
}

// domainChar takes the bytes of a host name, including the non-ASCII letters of an
// internationalized one.
func domainChar(c byte) bool { return isAlnum(c) || c == '.' || c == '-' || c >= 0x80 }
