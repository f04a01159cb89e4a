package markdown

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/tools/txtar"
)

// addSeeds gives a fuzz test the Markdown of every case file, and a few
// hostile inputs.
func addSeeds(f *testing.F) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, c := range ar.Files {
			if strings.HasSuffix(c.Name, ".md") {
				f.Add(visible.Replace(string(c.Data)))
			}
		}
	}
	for _, s := range []string{
		"", "\x00", "\xff\xfe", "«", "»", "« »", "\"", "'", "...", " !", "\\", "&", "&#;", "&#x;",
		"[a](javascript:alert(1))", "<a href=\"javascript:x\">x</a>", "![a](data:x)",
		"<scr<script>ipt>", "<svg onload=alert(1)>", "[x](<javascript:x>)", "<javascript:x>",
		"a\u202f!\u00a0?", "\"*a*\" l'*b* «c»", "## «\n», \"", "*\"*\"", "`\"`\"",
	} {
		f.Add(s)
	}
}

// FuzzRender checks that editors' pages never make the renderers fail, that
// typography keeps text valid UTF-8, and that generated heading ids are
// unique.
func FuzzRender(f *testing.F) {
	addSeeds(f)
	safe := New(WithTypography("fr"))
	unsafe := New(WithUnsafe(true), WithTypography("fr"), WithReservedIDs("contenu"))
	f.Fuzz(func(t *testing.T, md string) {
		for _, r := range []*Renderer{safe, unsafe} {
			var b bytes.Buffer
			info, err := r.Render(&b, []byte(md))
			if err != nil {
				t.Fatal(err)
			}
			if utf8.ValidString(md) && !utf8.Valid(b.Bytes()) {
				t.Fatalf("valid input, invalid output: %q", b.String())
			}
			if n := utf8.RuneCountInString(info.Summary); n > SummaryLength+1 {
				t.Fatalf("summary of %d runes", n)
			}
			if !strings.Contains(md, "{") { // no explicit ids
				seen := map[string]bool{"contenu": r == unsafe}
				for _, h := range info.Headings {
					if h.ID == "" || seen[h.ID] {
						t.Fatalf("heading id %q empty or not unique", h.ID)
					}
					seen[h.ID] = true
				}
			}
			_ = r.PlainText([]byte(md), 160)
		}
		var b bytes.Buffer
		if _, err := safe.Render(&b, []byte(md)); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(bytes.ToLower(b.Bytes()), []byte("<script")) {
			t.Fatalf("raw HTML in a safe page: %q", b.String())
		}
	})
}

// FuzzComment checks that no comment, however written, yields markup that
// runs code or loads anything: no <script, no on* attribute, no
// javascript: URL, only the allowed elements. The check reads the output's
// tags and attributes, since a comment may well say "javascript:" or
// "onclick=" in its text, where it is harmless.
func FuzzComment(f *testing.F) {
	addSeeds(f)
	plain := NewComment()
	french := NewComment(WithTypography("fr"))
	f.Fuzz(func(t *testing.T, md string) {
		for _, r := range []*Renderer{plain, french} {
			var b bytes.Buffer
			_, err := r.Render(&b, []byte(md))
			if errors.Is(err, ErrTooLarge) && len(md) > MaxCommentSize {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := checkComment(b.Bytes()); err != nil {
				t.Fatalf("%v in %q", err, b.String())
			}
			if err := checkComment(Sanitize([]byte(md))); err != nil {
				t.Fatalf("Sanitize: %v in %q", err, md)
			}
		}
	})
}

var commentTags = map[string]bool{
	"p": true, "br": true, "em": true, "strong": true, "del": true, "code": true, "pre": true,
	"blockquote": true, "ul": true, "ol": true, "li": true, "a": true,
}

// checkComment reports markup that a comment must not hold.
func checkComment(out []byte) error {
	if bytes.Contains(bytes.ToLower(out), []byte("<script")) {
		return errors.New("<script")
	}
	z := html.NewTokenizer(bytes.NewReader(out))
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() == io.EOF {
				return nil
			}
			return z.Err()
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if !commentTags[tok.Data] {
				return errors.New("element " + tok.Data)
			}
			for _, a := range tok.Attr {
				if v := strings.ToLower(strings.TrimSpace(a.Val)); strings.HasPrefix(v, "javascript:") {
					return errors.New("javascript: in " + a.Key)
				}
				switch {
				case strings.HasPrefix(a.Key, "on"):
					return errors.New("attribute " + a.Key)
				case tok.Data == "a" && a.Key == "href":
					u, err := url.Parse(a.Val)
					if err != nil || u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "mailto" {
						return errors.New("href " + a.Val)
					}
				case tok.Data == "a" && a.Key == "rel", tok.Data == "ol" && a.Key == "start":
				default:
					return errors.New("attribute " + a.Key + " on " + tok.Data)
				}
			}
		}
	}
}

// FuzzCitizen checks a citizen's page as FuzzComment checks a comment, with
// the elements a page adds: headings, whose ids all start with
// CitizenIDPrefix, tables and rules. WithUnsafe must change nothing.
func FuzzCitizen(f *testing.F) {
	addSeeds(f)
	plain := NewCitizen()
	unsafe := NewCitizen(WithUnsafe(true))
	french := NewCitizen(WithTypography("fr"), WithReservedIDs("contenu"))
	f.Fuzz(func(t *testing.T, md string) {
		var outs [3][]byte
		for i, r := range []*Renderer{plain, unsafe, french} {
			var b bytes.Buffer
			info, err := r.Render(&b, []byte(md))
			if errors.Is(err, ErrTooLarge) && len(md) > MaxCitizenSize {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := checkCitizen(b.Bytes()); err != nil {
				t.Fatalf("%v in %q", err, b.String())
			}
			for _, h := range info.Headings {
				if !strings.HasPrefix(h.ID, CitizenIDPrefix) {
					t.Fatalf("heading id %q", h.ID)
				}
			}
			outs[i] = b.Bytes()
		}
		if !bytes.Equal(outs[0], outs[1]) {
			t.Fatalf("unsafe changed the output: %q, then %q", outs[0], outs[1])
		}
	})
}

var citizenTags = map[string]bool{
	"h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "hr": true,
	"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true,
	"div": true, // a table's scrolling region, with its attributes alone
}

// checkCitizen reports markup that a citizen's page must not hold.
func checkCitizen(out []byte) error {
	z := html.NewTokenizer(bytes.NewReader(out))
	var stripped bytes.Buffer
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() == io.EOF {
				break
			}
			return z.Err()
		}
		tok := z.Token()
		if (tt == html.StartTagToken || tt == html.EndTagToken || tt == html.SelfClosingTagToken) && citizenTags[tok.Data] {
			for _, a := range tok.Attr {
				switch {
				case a.Key == "id" && strings.HasPrefix(tok.Data, "h") && strings.HasPrefix(a.Val, CitizenIDPrefix):
				case a.Key == "align" && (tok.Data == "th" || tok.Data == "td"):
				case tok.Data == "div" && (a.Key == "class" && a.Val == "table-wrap" || a.Key == "role" && a.Val == "region" ||
					a.Key == "tabindex" && a.Val == "0" || a.Key == "aria-label" ||
					a.Key == "aria-labelledby" && strings.HasPrefix(a.Val, CitizenIDPrefix)):
				default:
					return errors.New("attribute " + a.Key + " on " + tok.Data)
				}
			}
			continue
		}
		stripped.WriteString(tok.String())
	}
	return checkComment(stripped.Bytes())
}
