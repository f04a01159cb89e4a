package search

import (
	"bytes"
	"html"
)

// MarkdownText returns the text of a Markdown body as a reader sees it, for the index and
// its excerpts: the words of headings, paragraphs, lists, tables and quotes, the text of
// links and images' alternative text, without the markup, link targets, HTML tags, code
// blocks or Hugo shortcodes. It reads the Markdown line by line without building a tree:
// the site's pages were rendered moments before, and indexing them must cost a fraction
// of that. Its rare misreadings (a construct it takes for text) cost a stray word, never a
// lost one. It also returns the text of the headings written with # (ATX headings).
func MarkdownText(src []byte) (text string, headings []string) {
	out := make([]byte, 0, len(src))
	fence := []byte(nil) // the open code fence, if any
	for len(src) > 0 {
		var line []byte
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			line, src = src, nil
		}
		t := bytes.TrimLeft(line, " \t")
		if fence != nil {
			if bytes.HasPrefix(t, fence) && len(bytes.Trim(t, string(fence[:1])+" \t\r")) == 0 {
				fence = nil
			}
			continue
		}
		if f := fenceOf(t); f != nil {
			fence = f
			continue
		}
		t = bytes.TrimRight(t, " \t\r")
		if len(t) == 0 || isRule(t) || isTableDelimiter(t) || isLinkDefinition(t) ||
			bytes.HasPrefix(t, []byte("{{<")) || bytes.HasPrefix(t, []byte("{{%")) {
			out = appendSep(out)
			continue
		}
		q := t
		for len(q) > 0 && q[0] == '>' {
			q = bytes.TrimLeft(q[1:], " \t")
		}
		heading := isHeading(q)
		t = blockPrefix(t)
		out = appendSep(out)
		from := len(out)
		out = appendInline(out, t)
		if heading {
			if h := bytes.TrimSpace(out[from:]); len(h) > 0 {
				headings = append(headings, string(h))
			}
		}
	}
	return string(bytes.TrimRight(out, " ")), headings
}

// isHeading reports an ATX heading: one to six #, then a space or the end.
func isHeading(t []byte) bool {
	n := 0
	for n < len(t) && t[n] == '#' {
		n++
	}
	return n >= 1 && n <= 6 && (n == len(t) || t[n] == ' ' || t[n] == '\t')
}

func appendSep(out []byte) []byte {
	if len(out) > 0 && out[len(out)-1] != ' ' {
		out = append(out, ' ')
	}
	return out
}

// fenceOf returns the fence a line opens (``` or ~~~, three or more), or nil.
func fenceOf(t []byte) []byte {
	if len(t) < 3 || (t[0] != '`' && t[0] != '~') {
		return nil
	}
	n := 0
	for n < len(t) && t[n] == t[0] {
		n++
	}
	if n < 3 || (t[0] == '`' && bytes.IndexByte(t[n:], '`') >= 0) {
		return nil
	}
	return t[:n:n]
}

// isRule reports a thematic break or a setext underline: ---, ***, ___, ===.
func isRule(t []byte) bool {
	c := t[0]
	if c != '-' && c != '*' && c != '_' && c != '=' {
		return false
	}
	n := 0
	for _, b := range t {
		switch b {
		case c:
			n++
		case ' ', '\t':
		default:
			return false
		}
	}
	return n >= 2
}

// isTableDelimiter reports a table's delimiter row: | --- | :---: |.
func isTableDelimiter(t []byte) bool {
	dash := false
	for _, b := range t {
		switch b {
		case '-':
			dash = true
		case '|', ':', ' ', '\t':
		default:
			return false
		}
	}
	return dash && bytes.IndexByte(t, '|') >= 0
}

// isLinkDefinition reports a link reference definition: [id]: url "title".
func isLinkDefinition(t []byte) bool {
	if len(t) < 4 || t[0] != '[' || (len(t) > 1 && t[1] == '^') {
		return false
	}
	i := bytes.Index(t, []byte("]:"))
	return i > 1 && bytes.IndexByte(t[1:i], ']') < 0
}

// blockPrefix drops what starts a block: quote marks, a heading's #, list markers.
func blockPrefix(t []byte) []byte {
	for {
		switch {
		case len(t) > 0 && t[0] == '>':
			t = bytes.TrimLeft(t[1:], " \t")
			continue
		case len(t) > 0 && t[0] == '#':
			n := 0
			for n < len(t) && t[n] == '#' {
				n++
			}
			if n <= 6 && (n == len(t) || t[n] == ' ' || t[n] == '\t') {
				t = bytes.TrimRight(bytes.TrimLeft(t[n:], " \t"), "# \t")
			}
		case len(t) > 1 && (t[0] == '-' || t[0] == '*' || t[0] == '+') && (t[1] == ' ' || t[1] == '\t'):
			t = bytes.TrimLeft(t[2:], " \t")
			if bytes.HasPrefix(t, []byte("[ ] ")) || bytes.HasPrefix(t, []byte("[x] ")) || bytes.HasPrefix(t, []byte("[X] ")) {
				t = t[4:]
			}
			continue
		default:
			n := 0
			for n < len(t) && n < 9 && t[n] >= '0' && t[n] <= '9' {
				n++
			}
			if n > 0 && n+1 < len(t) && (t[n] == '.' || t[n] == ')') && (t[n+1] == ' ' || t[n+1] == '\t') {
				t = bytes.TrimLeft(t[n+2:], " \t")
				continue
			}
		}
		return t
	}
}

// appendInline appends the text of a line's inline content.
func appendInline(out, t []byte) []byte {
	start := len(out)
	hasEntity := false
	for i := 0; i < len(t); i++ {
		c := t[i]
		if plainByte[c] {
			// Most of a line is text: copy the run at once.
			j := i + 1
			for j < len(t) && plainByte[t[j]] {
				j++
			}
			out = append(out, t[i:j]...)
			i = j - 1
			continue
		}
		switch c {
		case '\\':
			if i+1 < len(t) && isASCIIPunct(t[i+1]) {
				out = append(out, t[i+1])
				i++
				continue
			}
		case '*', '`', '~', '|':
			// Emphasis, code spans, strikethrough, table cells: the marks go, a cell's
			// border leaves a space.
			if c == '|' {
				out = appendSep(out)
			}
			continue
		case '_':
			// Emphasis at a word's edge; inside a word (snake_case) it is a letter.
			prevWord := i > 0 && isWordByte(t[i-1])
			nextWord := i+1 < len(t) && isWordByte(t[i+1])
			if !(prevWord && nextWord) {
				continue
			}
		case '!':
			if i+1 < len(t) && t[i+1] == '[' {
				continue // an image: its alternative text follows, as a link's text
			}
		case '[':
			if i+1 < len(t) && t[i+1] == '^' {
				// A footnote reference: [^1]. Its definition's text stays.
				if j := bytes.IndexByte(t[i:], ']'); j > 0 {
					i += j
					if i+1 < len(t) && t[i+1] == ':' {
						i++
					}
					continue
				}
			}
			continue
		case ']':
			// The end of a link's text: skip its target, (url "title") or [ref].
			if i+1 < len(t) && (t[i+1] == '(' || t[i+1] == '[') {
				closer := byte(')')
				if t[i+1] == '[' {
					closer = ']'
				}
				depth := 0
				j := i + 1
				for ; j < len(t); j++ {
					if t[j] == t[i+1] {
						depth++
					} else if t[j] == closer {
						depth--
						if depth == 0 {
							break
						}
					}
				}
				if j < len(t) {
					i = j
				}
			}
			continue
		case '<':
			// An HTML tag or an autolink: a tag goes, an autolink keeps its address.
			if j := bytes.IndexByte(t[i:], '>'); j > 1 && isTagStart(t[i+1]) {
				inner := t[i+1 : i+j]
				if bytes.Contains(inner, []byte("://")) || bytes.HasPrefix(inner, []byte("mailto:")) ||
					bytes.IndexByte(inner, '@') > 0 && bytes.IndexAny(inner, " \t\"'=") < 0 {
					out = append(out, inner...)
				} else {
					out = appendSep(out)
				}
				i += j
				continue
			}
		case '{':
			if bytes.HasPrefix(t[i:], []byte("{{<")) || bytes.HasPrefix(t[i:], []byte("{{%")) {
				if j := bytes.Index(t[i:], []byte("}}")); j > 0 {
					i += j + 1
					continue
				}
			}
		case '&':
			hasEntity = true
		case '\t', '\r':
			c = ' '
		}
		if c == ' ' && (len(out) == 0 || out[len(out)-1] == ' ') {
			continue
		}
		out = append(out, c)
	}
	if hasEntity {
		s := html.UnescapeString(string(out[start:]))
		out = append(out[:start], s...)
	}
	return out
}

func isASCIIPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

func isWordByte(c byte) bool {
	return c >= 0x80 || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isTagStart reports whether c may follow the < of a tag or an autolink (not "a < b").
func isTagStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '/' || c == '!' || c == '?'
}

// plainByte marks the bytes appendInline copies as they are: all but markup, entities,
// spaces and control characters.
var plainByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c > ' ' && c != 0x7f
	}
	for _, c := range "\\*`~|_![]<{&" {
		t[c] = false
	}
	return t
}()
