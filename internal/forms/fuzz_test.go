package forms

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/parvis/parvis/internal/site"
)

// fuzzArticle writes Markdown, with a field in its path.
const fuzzArticle = `
order: [title, category, summary, body, start, end]
fields:
  title: {type: text, required: true, max: 120}
  category: {type: choice, required: true, choices: [Sport, Vie associative, Écoles]}
  summary: {type: textarea, max: 300}
  body: {type: markdown, required: true, max: 2000}
  start: {type: datetime}
  end: {type: date}
  link: {type: url}
options: [slug]
generated: {slug: slug, date: date, _id: id}
path: "articles/{fields.category}/{slug}"
filename: index.md
format: markdown
body: body
antispam: {honeypot: website}
`

// fuzzValues reads url.Values out of bytes: "k=v" pairs joined by '&', percent-escapes
// decoded when they are valid; a key "#n" stands for the form's n-th key, so that the
// fuzzer reaches declared keys easily.
func fuzzValues(data []byte, keys []string) url.Values {
	v := url.Values{}
	for pair := range strings.SplitSeq(string(data), "&") {
		k, val, _ := strings.Cut(pair, "=")
		if u, err := url.QueryUnescape(k); err == nil {
			k = u
		}
		if u, err := url.QueryUnescape(val); err == nil {
			val = u
		}
		if strings.HasPrefix(k, "#") {
			if n, err := strconv.Atoi(k[1:]); err == nil && n >= 0 {
				k = keys[n%len(keys)]
			}
		}
		v.Add(k, val)
	}
	return v
}

// FuzzDecode posts arbitrary values to a comment form and an article form. Decode must not
// panic and must either refuse with sound errors or accept; what it accepts must encode,
// into paths inside the form's folder, files the site loads back with the same values, and
// no e-mail address.
func FuzzDecode(f *testing.F) {
	forms := []*Form{compile(f, "comment", kitchen), compile(f, "article", fuzzArticle)}
	keys := [][]string{}
	for _, fm := range forms {
		var k []string
		for key := range fm.keys {
			k = append(k, key)
		}
		slices.Sort(k)
		keys = append(keys, k)
	}
	for _, seed := range []string{
		"\x00fields[name]=Claire+M.&fields[message]=Merci+%21&options[page]=articles/budget-2026&fields[email]=claire%40example.fr",
		"\x00fields[name]=No&fields[message]=-+true%0D%0A-+null%3A+~&options[page]=pages/a&options[parent]=01ABC&fields[start]=2026-12-05T18:30&fields[end]=2026-12-06",
		"\x00fields[name]=%22q%22+%23x&fields[message]=%09tab%0A++indent&options[page]=events/x/y&fields[license]=CC0-1.0&fields[code]=ABC12",
		"\x00fields[name]=a&fields[name]=b&options[page]=../x",
		"\x01fields[title]=L%27%C3%A9t%C3%A9+%3A+1%2C+2&fields[category]=Vie+associative&fields[body]=%23+Titre%0A%0A---%0A%0Atexte&fields[start]=2026-06-21",
		"\x01fields[title]=yes&fields[category]=%C3%89coles&fields[body]=x&fields[summary]=%E2%80%AEabc&fields[link]=https://example.fr/",
		"\x01#0=x&#1=y&#2=z&#3=w",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		i := int(data[0]) % len(forms)
		form := forms[i]
		s, errs := form.Decode(fuzzValues(data[1:], keys[i]), nil)
		if s == nil {
			if len(errs) == 0 {
				t.Fatal("refused without an error")
			}
			switch errs.Status() {
			case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
			default:
				t.Fatalf("status %d for %v", errs.Status(), errs)
			}
			for k := range errs {
				if errs.Message(k, "fr") == "" || errs.Message(k, "en") == "" || !utf8.ValidString(k) || len(k) > 100 {
					t.Fatalf("bad error key or message for %q", k)
				}
			}
			return
		}
		if errs != nil {
			t.Fatalf("accepted with errors %v", errs)
		}
		files, err := form.Encode(s, testGen)
		if err != nil {
			t.Fatalf("an accepted submission does not encode: %v\n%+v", err, s)
		}
		for _, file := range files {
			if err := checkPath(file.Path, form.target.fixed); err != nil {
				t.Fatal(err)
			}
			if containsEmail(string(file.Data)) {
				t.Fatalf("an address in %s:\n%s", file.Path, file.Data)
			}
		}
		checkReadBack(t, form, s, files[0])
	})
}

// checkReadBack loads a written entry as the site does, and compares every written value
// with the submission's.
func checkReadBack(t *testing.T, form *Form, s *Submission, file File) {
	t.Helper()
	values := map[string]any{}
	if form.yaml {
		c, err := site.ParseComment(file.Path, file.Data, paris)
		if err != nil {
			t.Fatalf("site.ParseComment: %v\n%s", err, file.Data)
		}
		if c.Name != s.Fields["name"] || c.Body != s.Fields["message"] {
			t.Fatalf("read back name %q, body %q; wrote %q, %q", c.Name, c.Body, s.Fields["name"], s.Fields["message"])
		}
		var m map[string]string // timestamps read as written
		if err := yaml.Unmarshal(file.Data, &m); err != nil {
			t.Fatal(err)
		}
		for k, v := range m {
			values[k] = v
		}
	} else {
		fm, body, _, err := site.ParseFrontMatter(file.Data)
		if err != nil {
			t.Fatalf("site.ParseFrontMatter: %v\n%s", err, file.Data)
		}
		if want := s.Fields[form.body.name]; strings.TrimSuffix(string(body), "\n") != want {
			t.Fatalf("body %q, wrote %q", body, want)
		}
		values = fm.Values
	}
	for _, fl := range form.fields {
		want, ok := s.Fields[fl.name]
		if !ok || fl == form.body {
			continue
		}
		if got, _ := values[fl.name].(string); got != want {
			t.Fatalf("%s read back as %#v, wrote %q\n%s", fl.name, values[fl.name], want, file.Data)
		}
	}
}

// FuzzYAMLScalar writes any text as a YAML value, which must read back as the same string,
// in a plain YAML file and in front matter.
func FuzzYAMLScalar(f *testing.F) {
	for _, s := range []string{"Claire M.", "2026", "yes", "a: b", "# x", "- x", "a\nb", " a\n b", "a\n\n\tb  \nc", "\u00a0x", "x\u2028y", "'q'", "\"q\"", "~", "", "&a *b !c", "a\u0085b", "é\u0301", "line\n---\nend", "a\n..."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // Decode never lets invalid UTF-8 through
		}
		doc := appendPair(nil, 0, "k", s)
		var m map[string]string
		if err := yaml.Unmarshal(doc, &m); err != nil || m["k"] != s {
			t.Fatalf("%q written as\n%s\nread back as %q (%v)", s, doc, m["k"], err)
		}
		page := append(append([]byte("---\n"), doc...), "---\nbody\n"...)
		fm, body, _, err := site.ParseFrontMatter(page)
		if err != nil || fm.Values["k"] != s || !bytes.Equal(body, []byte("body\n")) {
			t.Fatalf("%q in front matter\n%s\nread back as %#v, body %q (%v)", s, page, fm.Values["k"], body, err)
		}
	})
}
