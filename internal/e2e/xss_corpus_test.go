package e2e

import (
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/tools/txtar"
)

// corpusFile is the XSS corpus: one txtar file per family, one payload per line.
var corpusFile = filepath.Join("testdata", "xss", "corpus.txtar")

// corpusFamilies are the families the corpus must hold, after the OWASP XSS filter
// evasion cheat sheet, each with at least minPerFamily payloads.
var corpusFamilies = []string{"script", "handler", "url", "svg-mathml", "broken-markup", "markdown", "encoding", "breakout", "elements"}

const (
	minPayloads  = 150
	minPerFamily = 10
)

// payload is one line of the corpus, its escapes decoded and its placeholders left.
type payload struct {
	Family string
	Index  int // in the corpus, from 0
	Text   string
}

// expand fills in the placement number n: {n}, and {b64:…} encoded with its {n} filled.
func (p payload) expand(n int) string { return expandPayload(p.Text, strconv.Itoa(n)) }

func expandPayload(s, n string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "{n}"):
			b.WriteString(n)
			i += 3
		case strings.HasPrefix(s[i:], "{b64:"):
			depth, j := 1, i+5
			for ; j < len(s) && depth > 0; j++ {
				switch s[j] {
				case '{':
					depth++
				case '}':
					depth--
				}
			}
			b.WriteString(base64.StdEncoding.EncodeToString([]byte(expandPayload(s[i+5:j-1], n))))
			i = j
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
}

// loadCorpus reads the corpus.
func loadCorpus(path string) ([]payload, error) {
	ar, err := txtar.ParseFile(path)
	if err != nil {
		return nil, err
	}
	var out []payload
	for _, f := range ar.Files {
		for i, line := range strings.Split(string(f.Data), "\n") {
			if line == "" {
				continue
			}
			text, err := unescapePayload(line)
			if err != nil {
				return nil, fmt.Errorf("%s, family %s, line %d: %v", path, f.Name, i+1, err)
			}
			out = append(out, payload{Family: f.Name, Index: len(out), Text: text})
		}
	}
	return out, nil
}

// unescapePayload decodes \n \r \t \\ \xHH and \u{H…}.
func unescapePayload(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf("a backslash ends the line")
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '\\':
			b.WriteByte('\\')
		case 'x':
			if i+2 >= len(s) {
				return "", fmt.Errorf("\\x needs two hex digits")
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", fmt.Errorf("\\x%s: %v", s[i+1:i+3], err)
			}
			b.WriteByte(byte(v))
			i += 2
		case 'u':
			end := strings.IndexByte(s[i:], '}')
			if i+1 >= len(s) || s[i+1] != '{' || end < 0 {
				return "", fmt.Errorf("\\u needs {hex}")
			}
			v, err := strconv.ParseUint(s[i+2:i+end], 16, 32)
			if err != nil || !utf8.ValidRune(rune(v)) {
				return "", fmt.Errorf("\\u{%s}: not a character", s[i+2:i+end])
			}
			b.WriteRune(rune(v))
			i += end
		default:
			return "", fmt.Errorf("unknown escape \\%c (write \\\\ for a backslash)", s[i])
		}
	}
	return b.String(), nil
}

// TestXSSCorpus checks the corpus itself: its size, its families, and that every payload
// says which placement it is, so that what fires on a page can be traced back to it.
func TestXSSCorpus(t *testing.T) {
	corpus, err := loadCorpus(corpusFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(corpus) < minPayloads {
		t.Errorf("the corpus holds %d payloads, want at least %d", len(corpus), minPayloads)
	}
	count := map[string]int{}
	seen := map[string]bool{}
	for _, p := range corpus {
		count[p.Family]++
		if seen[p.Text] {
			t.Errorf("%s: %q is in the corpus twice", p.Family, p.Text)
		}
		seen[p.Text] = true
		if !strings.Contains(p.Text, "{n}") {
			t.Errorf("%s: %q has no {n}: what it does could not be traced back to it", p.Family, p.Text)
		}
		x := p.expand(12345)
		if strings.Contains(x, "{n}") || strings.Contains(x, "{b64:") {
			t.Errorf("%s: %q expands to %q", p.Family, p.Text, x)
		}
	}
	for _, f := range corpusFamilies {
		if count[f] < minPerFamily {
			t.Errorf("family %s has %d payloads, want at least %d", f, count[f], minPerFamily)
		}
	}
	if len(count) != len(corpusFamilies) {
		t.Errorf("the corpus has families %v, want %v", count, corpusFamilies)
	}
	if got := expandPayload("a{b64:<p>{n}</p>}b", "7"); got != "a"+base64.StdEncoding.EncodeToString([]byte("<p>7</p>"))+"b" {
		t.Errorf("expand: %q", got)
	}
	if got, err := unescapePayload(`x\n\t\\\x00\u{200B}`); err != nil || got != "x\n\t\\\x00\u200b" {
		t.Errorf("unescape: %q %v", got, err)
	}
	if _, err := unescapePayload(`\q`); err == nil {
		t.Error("unescape took an unknown escape")
	}
}
