package forms

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A small YAML writer for flat files of strings: it writes each value plain when nothing
// can misread it, as a literal block when it has several lines, and double-quoted
// otherwise. Values never change type on the way back (a title "2026" stays text), and the
// files read well in a diff, which is what a moderator reviews.

// appendPair writes "key: value\n" at the given indentation.
func appendPair(b []byte, indent int, key, val string) []byte {
	b = appendKey(b, key)
	b = append(b, ':', ' ')
	b = appendScalar(b, val, indent)
	return append(b, '\n')
}

// appendTime writes a date or date-time that this package formatted itself, plain, so that
// YAML readers (Hugo among them) see a timestamp.
func appendTime(b []byte, key, val string) []byte {
	b = appendKey(b, key)
	b = append(b, ':', ' ')
	b = append(b, val...)
	return append(b, '\n')
}

func appendKey(b []byte, key string) []byte {
	if isName(key) && (key[0] == '_' || plainSafe(key)) {
		return append(b, key...)
	}
	return strconv.AppendQuote(b, key)
}

// isName matches the field names parvis.yaml allows: lower-case letters, digits and _.
func isName(s string) bool {
	if s == "" || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// appendScalar writes a value after "key: ", its continuation lines indented by indent+2.
func appendScalar(b []byte, s string, indent int) []byte {
	switch {
	case strings.IndexByte(s, '\n') >= 0 && literalSafe(s):
		b = append(b, '|', '-')
		for line := range strings.SplitSeq(s, "\n") {
			b = append(b, '\n')
			if line != "" {
				for range indent + 2 {
					b = append(b, ' ')
				}
				b = append(b, line...)
			}
		}
		return b
	case plainSafe(s):
		return append(b, s...)
	case printableASCII(s) && strings.IndexAny(s, `"\\`) < 0:
		return append(append(append(b, '"'), s...), '"') // ids, hashes: nothing to escape
	}
	return strconv.AppendQuote(b, s)
}

// plainSafe accepts text that YAML reads back as the same string when written plain: it
// starts with a letter, holds letters, digits, spaces and common punctuation (no ':' or '#'),
// and is no word YAML reads as a boolean or null.
func plainSafe(s string) bool {
	if s == "" {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	if !unicode.IsLetter(r) {
		return false
	}
	if last, _ := utf8.DecodeLastRuneInString(s); unicode.IsSpace(last) {
		return false
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if !isAlnum(c) && strings.IndexByte(" .,;!?'()-/+=$%&_", c) < 0 {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), unicode.IsMark(r):
		case r == '\u00a0', r == '\u202f', r == '’', r == '«', r == '»', r == '…', r == '€', r == '–', r == '—':
		default:
			return false
		}
	}
	if len(s) <= 5 {
		switch strings.ToLower(s) {
		case "y", "n", "yes", "no", "on", "off", "true", "false", "null":
			return false
		}
	}
	return true
}

// literalSafe accepts text that a literal block ("|-") keeps as is: printable, without a
// leading space (which would set the indentation) or a trailing line break.
func literalSafe(s string) bool {
	if s == "" || s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || strings.HasSuffix(s, "\n") {
		return false
	}
	for _, r := range s {
		if r != '\n' && r != '\t' && !unicode.IsGraphic(r) {
			return false
		}
	}
	return true
}
