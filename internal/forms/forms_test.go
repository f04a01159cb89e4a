package forms

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/parvis/parvis/internal/site"
)

// TestCompileDemo compiles the demo site's forms, as the service will at start.
func TestCompileDemo(t *testing.T) {
	data, err := os.ReadFile("../../content/parvis.yaml")
	if err != nil {
		t.Skip("no demo site:", err)
	}
	cfg, err := site.ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Forms) == 0 {
		t.Fatal("the demo declares no form")
	}
	for name, spec := range cfg.Forms {
		f, err := Compile(name, spec, Options{Secret: secret, Location: cfg.Location})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if f.Name() != name || f.MaxBytes() <= 0 {
			t.Errorf("%s: name %q, max bytes %d", name, f.Name(), f.MaxBytes())
		}
	}
}

const base = `
fields:
  name: {type: text, required: true}
  message: {type: markdown, required: true}
  # more fields
options: [page]
generated: {_id: id, date: date}
path: "comments/{options.page}"
filename: "{_id}.yaml"
`

// with adds fields to base, and keys after it.
func with(fields, keys string) string {
	return strings.Replace(base, "  # more fields", fields, 1) + keys
}

func TestCompileRefuses(t *testing.T) {
	tests := []struct {
		name, policy, want string
		opts               *Options
	}{
		{"public e-mail", with("  email: {type: email}", ""), "must be private", nil},
		{"private upload", `
fields:
  text: {type: markdown}
  title: {type: text, required: true}
  image: {type: image, private: true}
generated: {slug: slug}
path: "articles/{slug}"
filename: index.md
format: markdown
body: text`, "cannot be private", nil},
		{"unknown type", strings.Replace(base, "type: text", "type: color", 1), `unknown type "color"`, nil},
		{"bad pattern", strings.Replace(base, "type: text,", "type: text, pattern: '[',", 1), "pattern", nil},
		{"min above max", strings.Replace(base, "type: text,", "type: text, min: 5, max: 2,", 1), "min ≤ max", nil},
		{"choice without choices", strings.Replace(base, "type: text", "type: choice", 1), "needs choices", nil},
		{"webp accepted", with("  image: {type: image, accept: [image/webp]}", ""), "cannot be checked", nil},
		{"pdf as image", with("  image: {type: image, accept: [application/pdf]}", ""), "takes images", nil},
		{"accept on text", strings.Replace(base, "type: text,", "type: text, accept: [image/png],", 1), "for uploads", nil},
		{"uploads in yaml", with("  image: {type: image}", ""), "markdown format", nil},
		{"unknown option", strings.Replace(base, "[page]", "[page, origin]", 1), `unknown option "origin"`, nil},
		{"hash without secret", with("  email: {type: email, private: true}", "\ntransforms: [{field: email, op: hash, to: avatar}]"), "secret", &Options{}},
		{"lower of a private field", with("  email: {type: email, private: true}", "\ntransforms: [{field: email, op: lower, to: mail}]"), "only its hash", nil},
		{"transform onto another field", base + "\ntransforms: [{field: name, op: upper, to: message}]", "another field", nil},
		{"transform of nothing", base + "\ntransforms: [{field: nobody, op: upper}]", `no field "nobody"`, nil},
		{"unknown operation", base + "\ntransforms: [{field: name, op: reverse}]", "unknown operation", nil},
		{"generated over a field", strings.Replace(base, "date: date}", "date: date, name: slug}", 1), "also written", nil},
		{"generated parent", strings.Replace(strings.Replace(base, "[page]", "[page, parent]", 1), "date: date}", "date: date, parent: id}", 1), "also written by options.parent", nil},
		{"transform onto parent", strings.Replace(base, "[page]", "[page, parent]", 1) + "\ntransforms: [{field: name, op: slugify, to: parent}]", "also written by options.parent", nil},
		{"text named like the upload key", `
fields:
  title: {type: text, required: true}
  image: {type: text}
  photo: {type: image}
generated: {slug: slug}
path: "articles/{slug}"
filename: index.md
format: markdown
body: title`, "also written by an image upload", nil},
		{"unknown generator", strings.Replace(base, "date: date}", "date: date, n: uuid}", 1), "unknown generator", nil},
		// A citizen's value must not decide where, whether or as whose a page is published.
		{"field onto submitted", `
fields:
  title: {type: text, required: true}
  text: {type: markdown, required: true}
  submitted: {type: text}
generated: {slug: slug}
path: "articles/{slug}"
filename: index.md
format: markdown
body: text`, "submitted (written by a field)", nil},
		{"field onto url", `
fields:
  title: {type: text, required: true}
  text: {type: markdown, required: true}
  url: {type: url}
generated: {slug: slug}
path: "articles/{slug}"
filename: index.md
format: markdown
body: text`, "url (written by a field)", nil},
		{"field onto draft", `
fields:
  title: {type: text, required: true}
  text: {type: markdown, required: true}
  draft: {type: text}
generated: {slug: slug}
path: "articles/{slug}"
filename: index.md
format: markdown
body: text`, "draft (written by a field)", nil},
		{"transform onto aliases", `
fields:
  title: {type: text, required: true}
  text: {type: markdown, required: true}
  author: {type: text}
generated: {slug: slug}
path: "articles/{slug}"
filename: index.md
format: markdown
body: text` + "\ntransforms: [{field: title, op: slugify, to: aliases}]", "aliases (written by a transform)", nil},
		{"honeypot is the only field", `
fields:
  website: {type: text}
generated: {_id: id, date: date}
path: "comments/{options.page}"
options: [page]
filename: "{_id}.yaml"
antispam: {honeypot: website}`, "at least one field", nil},
		{"bad honeypot", base + "\nantispam: {honeypot: Web-Site}", "not a field name", nil},
		{"absolute path", strings.Replace(base, `"comments/{options.page}"`, `"/comments/{options.page}"`, 1), "content folder", nil},
		{"path outside content", strings.Replace(base, `"comments/{options.page}"`, `"static/{options.page}"`, 1), "content folder", nil},
		{"path into layouts", strings.Replace(base, `"comments/{options.page}"`, `"layouts/x"`, 1), "content folder", nil},
		{"path starting with a value", strings.Replace(base, `"comments/{options.page}"`, `"{options.page}"`, 1), "content folder", nil},
		{"path climbing", strings.Replace(base, `"comments/{options.page}"`, `"comments/../static"`, 1), "leave the site folder", nil},
		{"hidden file", strings.Replace(base, `"{_id}.yaml"`, `".{_id}.yaml"`, 1), "hidden", nil},
		{"wrong extension", strings.Replace(base, `"{_id}.yaml"`, `"{_id}.md"`, 1), "does not end in .yaml", nil},
		{"page in filename", strings.Replace(base, `"{_id}.yaml"`, `"{options.page}.yaml"`, 1), "belongs in path", nil},
		{"unknown placeholder", strings.Replace(base, `"{_id}.yaml"`, `"{uuid}.yaml"`, 1), "unknown placeholder", nil},
		{"unbalanced", strings.Replace(base, `"{_id}.yaml"`, `"{_id.yaml"`, 1), "without its }", nil},
		{"same file each time", `
fields:
  text: {type: markdown}
  title: {type: text, required: true}
path: articles/proposition
filename: index.md
format: markdown
body: text`, "needs {_id} or {slug}", nil},
		{"date layout with spaces", `
fields:
  text: {type: markdown}
  title: {type: text, required: true}
generated: {slug: slug}
path: "articles/{date:Jan 2}/{slug}"
filename: index.md
format: markdown
body: text`, "not a safe path", nil},
		{"optional field in path", `
fields:
  text: {type: markdown}
  title: {type: text, required: true}
  category: {type: text}
generated: {slug: slug}
path: "articles/{fields.category}/{slug}"
filename: index.md
format: markdown
body: text`, "must be required", nil},
		{"private field in path", strings.Replace(with("  email: {type: email, private: true, required: true}", ""), `"{_id}.yaml"`, `"{fields.email}-{_id}.yaml"`, 1), "private field", nil},
		{"choice without letters in path", `
fields:
  text: {type: markdown}
  title: {type: text, required: true}
  category: {type: choice, required: true, choices: [Sport, "!!!"]}
generated: {slug: slug}
path: "articles/{fields.category}/{slug}"
filename: index.md
format: markdown
body: text`, "has no letter or digit", nil},
		{"redirect in path", strings.Replace(strings.Replace(base, "[page]", "[page, redirect]", 1), `"{_id}.yaml"`, `"{options.redirect}-{_id}.yaml"`, 1), "not a path", nil},
		{"private field in message", with("  email: {type: email, private: true}", "\nmessage: 'from {fields.email}'"), "never written", nil},
		{"comment elsewhere", strings.Replace(base, `"comments/{options.page}"`, `"comments/{options.page}/replies"`, 1), "comments/{options.page}", nil},
		{"comment without date", strings.Replace(base, ", date: date}", "}", 1), "date: date", nil},
		{"comment without name", strings.Replace(base, "name: {type: text, required: true}", "name: {type: text}", 1), "required name", nil},
		{"comment as markdown", strings.Replace(base, `"{_id}.yaml"`, `"{_id}.md"`, 1) + "\nformat: markdown\nbody: message", "yaml file", nil},
		{"page without title", `
fields:
  name: {type: text, required: true}
generated: {slug: slug}
path: "articles/{slug}"
filename: index.md
format: markdown
body: name`, "required title", nil},
		{"page as yaml", `
fields:
  title: {type: text, required: true}
generated: {slug: slug}
path: "articles"
filename: "{slug}.yaml"`, "markdown file", nil},
		{"private body", `
fields:
  title: {type: text, required: true}
  note: {type: textarea, private: true}
generated: {slug: slug}
path: "articles/{slug}"
filename: index.md
format: markdown
body: note`, "cannot be a page's body", nil},
		{"upload outside a bundle", `
fields:
  text: {type: markdown}
  title: {type: text, required: true}
  image: {type: image}
generated: {slug: slug}
path: "articles"
filename: "{slug}.md"
format: markdown
body: text`, "in a bundle", nil},
		{"title as body", `
fields:
  title: {type: text, required: true}
generated: {slug: slug}
path: "articles/{slug}"
filename: index.md
format: markdown
body: title`, "not the body", nil},
		{"caption as body", `
fields:
  title: {type: text, required: true}
  image: {type: image, required: true}
  caption: {type: textarea, required: true}
generated: {slug: slug}
path: "photos/{slug}"
filename: index.md
format: markdown
body: caption`, "required caption, in its front matter", nil},
		{"photo without image", `
fields:
  text: {type: markdown}
  title: {type: text, required: true}
  caption: {type: textarea, required: true}
generated: {slug: slug}
path: "photos/{slug}"
filename: index.md
format: markdown
body: text`, "exactly one required image", nil},
		{"photo without caption", `
fields:
  text: {type: markdown}
  title: {type: text, required: true}
  image: {type: image, required: true}
generated: {slug: slug}
path: "photos/{slug}"
filename: index.md
format: markdown
body: text`, "required caption", nil},
		{"document without file", `
fields:
  text: {type: markdown}
  title: {type: text, required: true}
  file: {type: file}
generated: {slug: slug}
path: "documents/{slug}"
filename: index.md
format: markdown
body: text`, "required upload", nil},
		{"event without start", `
fields:
  text: {type: markdown}
  title: {type: text, required: true}
  start: {type: text, required: true}
generated: {slug: slug}
path: "events"
filename: "{slug}.md"
format: markdown
body: text`, "required start", nil},
		{"slug without text", `
fields:
  text: {type: markdown}
  title: {type: date, required: true}
generated: {slug: slug}
path: "events"
filename: "{slug}.md"
format: markdown
body: text`, "public text field", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Secret: secret}
			if tt.opts != nil {
				opts = *tt.opts
			}
			f, err := Compile("f", spec(t, tt.policy), opts)
			if err == nil {
				t.Fatalf("compiled: %+v", f)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to say %q", err, tt.want)
			}
		})
	}
	if _, err := Compile("Bad-Name", spec(t, base), Options{}); err == nil {
		t.Error("a bad form name compiled")
	}
	if _, err := Compile("f", nil, Options{}); err == nil {
		t.Error("a nil policy compiled")
	}
}

func TestMaxBytes(t *testing.T) {
	comment := compile(t, "comment", base)
	photo := compile(t, "photo", photoPolicy)
	// The cap covers a full, percent-encoded text and a full upload, and not much more.
	if n := comment.MaxBytes(); n < 12*20000 || n > 1<<20 {
		t.Errorf("comment cap %d", n)
	}
	if n := photo.MaxBytes(); n < 2000000 || n > 2000000+1<<20 {
		t.Errorf("photo cap %d", n)
	}
}

func TestMessages(t *testing.T) {
	for _, tt := range []struct {
		key    string
		p      Problem
		fr, en string
	}{
		{"fields[name]", Problem{Code: CodeRequired, Label: "Votre nom"}, "Le champ «\u00a0Votre nom\u00a0» est obligatoire.", "“Votre nom” is required."},
		{"fields[name]", Problem{Code: CodeTooLong, Label: "Nom", Limit: 80}, "«\u00a0Nom\u00a0» doit compter au plus 80\u00a0caractères.", "“Nom” must be at most 80 characters long."},
		{"fields[m]", Problem{Code: CodeTooShort, Label: "M", Limit: 1}, "«\u00a0M\u00a0» doit compter au moins 1\u00a0caractère.", "“M” must be at least 1\u00a0character long."},
		{"fields[m]", Problem{Code: CodeTooLong, Label: "M", Limit: 20000}, "«\u00a0M\u00a0» doit compter au plus 20\u202f000\u00a0caractères.", "“M” must be at most 20,000 characters long."},
		{"fields[image]", Problem{Code: CodeTooLarge, Label: "Photo", Limit: 15 << 20}, "Le fichier «\u00a0Photo\u00a0» dépasse la taille maximale de 15\u00a0Mo.", "The file “Photo” is larger than 15 MB."},
		{"fields[image]", Problem{Code: CodeTooLarge, Label: "Photo", Limit: 1536 << 10}, "Le fichier «\u00a0Photo\u00a0» dépasse la taille maximale de 1,5\u00a0Mo.", "The file “Photo” is larger than 1.5 MB."},
		{"fields[file]", Problem{Code: CodeUnpacked, Label: "Fichier", Limit: 64 << 20}, "Le fichier «\u00a0Fichier\u00a0» se décompresse en plus de 64\u00a0Mo\u00a0: il ne peut pas être vérifié, donc pas publié. Enregistrez-le à nouveau depuis votre logiciel.", "The file “Fichier” unpacks to more than 64 MB: it cannot be checked, hence not published. Save it again from your software."},
		{"fields[file]", Problem{Code: CodeTooSmall, Label: "Fichier", Limit: 500 << 10}, "Le fichier «\u00a0Fichier\u00a0» est trop petit\u00a0: au moins 500\u00a0ko.", "The file “Fichier” is too small: at least 500 kB."},
		{"fields[image]", Problem{Code: CodeType, Label: "Photo", Want: "image/jpeg,image/png"}, "Le fichier «\u00a0Photo\u00a0» doit être au format JPEG ou PNG.", "The file “Photo” must be a JPEG or PNG file."},
		{"fields[file]", Problem{Code: CodeType, Label: "Fichier", Want: "application/pdf," + odt + ",image/png"}, "Le fichier «\u00a0Fichier\u00a0» doit être au format PDF, OpenDocument texte (.odt) ou PNG.", "The file “Fichier” must be a PDF, OpenDocument text (.odt) or PNG file."},
		{"fields[image]", Problem{Code: CodeDimensions, Label: "Photo", Limit: 40}, "L'image «\u00a0Photo\u00a0» est trop grande\u00a0: 40 mégapixels au plus.", "The image “Photo” is too large: at most 40 megapixels."},
		{"fields[email]", Problem{Code: CodeFormat, Label: "Courriel", Want: "email"}, "«\u00a0Courriel\u00a0» n'est pas une adresse électronique valide.", "“Courriel” is not a valid e-mail address."},
		{"options[page]", Problem{Code: CodeRequired}, "Le champ «\u00a0page commentée\u00a0» est obligatoire.", "“page commented on” is required."},
		{"fields[x]", Problem{Code: CodeUnknownField, Label: "fields[x]"}, "Ce formulaire n'a pas de champ «\u00a0fields[x]\u00a0».", "This form has no field “fields[x]”."},
	} {
		e := Errors{tt.key: tt.p}
		if got := e.Message(tt.key, "fr"); got != tt.fr {
			t.Errorf("fr %q, want %q", got, tt.fr)
		}
		if got := e.Message(tt.key, "en-GB"); got != tt.en {
			t.Errorf("en %q, want %q", got, tt.en)
		}
		if got := e.Message(tt.key, ""); got != tt.fr {
			t.Errorf("the default language is not French: %q", got)
		}
	}
	if (Errors{}).Message("fields[none]", "fr") != "" {
		t.Error("a message for no problem")
	}
}

func TestStatus(t *testing.T) {
	for _, tt := range []struct {
		errs Errors
		want int
	}{
		{nil, 0},
		{Errors{"fields[a]": {Code: CodeRequired}}, 422},
		{Errors{"fields[a]": {Code: CodeRequired}, "fields[i]": {Code: CodeType}}, 415},
		{Errors{"fields[i]": {Code: CodeType}, "fields[j]": {Code: CodeTooLarge}}, 413},
		{Errors{"fields[j]": {Code: CodeTooLarge}, "fields[x]": {Code: CodeUnknownField}}, 400},
		{Errors{"options[page]": {Code: CodeFormat}}, 400},
		{Errors{"options[answer]": {Code: CodeTooLong}}, 422},
	} {
		if got := tt.errs.Status(); got != tt.want {
			t.Errorf("%v: status %d, want %d", tt.errs, got, tt.want)
		}
	}
}

// TestConcurrentUse shares one compiled form between goroutines, as the service does: the
// results must be those of a lone caller.
func TestConcurrentUse(t *testing.T) {
	comment := compile(t, "comment", commentPolicy)
	photo := compile(t, "photo", photoPolicy)
	cv := url.Values{"fields[name]": {"Claire M."}, "fields[email]": {"Claire@Example.fr"}, "fields[message]": {"Merci\r\npour tout."}, "options[page]": {"articles/a"}}
	pv := url.Values{"fields[title]": {"Brume"}, "fields[caption]": {"Au petit matin."}}
	files := multipartFiles(t, upload{"fields[image]", "a.jpg", jpegFile(t, picture(200, 100))})
	run := func() (string, error) {
		s, errs := comment.Decode(cv, nil)
		if errs != nil {
			return "", errs
		}
		written, err := comment.Encode(s, testGen)
		if err != nil {
			return "", err
		}
		out := string(written[0].Data)
		s, errs = photo.Decode(pv, files)
		if errs != nil {
			return "", errs
		}
		if written, err = photo.Encode(s, testGen); err != nil {
			return "", err
		}
		return out + string(written[0].Data) + string(written[1].Data), nil
	}
	want, err := run()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	fails := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if got, err := run(); err != nil || got != want {
					fails <- fmt.Sprintf("%v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(fails)
	for f := range fails {
		t.Errorf("a concurrent run differs: %s", f)
	}
}
