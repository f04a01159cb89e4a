package forms

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/parvis/parvis/internal/site"
)

// Options are the service's settings that the form's policy does not hold.
type Options struct {
	// Secret keys the hash transform (HMAC-SHA256). A form that hashes a field needs one of
	// at least 16 bytes. Changing it changes every avatar.
	Secret []byte
	// Location is the site's time zone: datetime values without an offset are read in it,
	// and dates are written in it. Default UTC.
	Location *time.Location
	// MaxImagePixels refuses larger images before they are decoded, so that a small file
	// cannot unpack into gigabytes. Default 40 megapixels.
	MaxImagePixels int
}

// Form is a form's policy, compiled once and used for every submission. It is safe for
// concurrent use.
type Form struct {
	name        string
	fields      []*field        // in display order
	keys        map[string]slot // every key a request may post
	hasParent   bool            // the form takes options[parent] and writes it (yaml)
	honeypot    string          // the honeypot's key, "" when none
	transforms  []transform
	generated   []generated // in the order they are written
	target      *template   // path + "/" + filename
	message     *template   // nil when the policy has none
	yaml        bool        // the format: Staticman-shaped YAML, or Markdown with front matter
	body        *field      // markdown: the field that becomes the body
	section     string      // the target's first folder: comments, articles, photos...
	slugFrom    *field      // the field the slug is made from
	needSlug    bool
	start, end  *field   // checked in order when both are dates
	pathOptions []string // options the target needs
	uploads     []*field
	loc         *time.Location
	maxPixels   int
	maxBytes    int64
	hmacs       sync.Pool // of *hasher keyed with the secret
}

type hasher struct {
	mac hash.Hash
	buf []byte
}

type field struct {
	name, key string // "email", "fields[email]"
	typ       string
	label     string
	required  bool
	private   bool
	min, max  int // characters; bytes for uploads
	pattern   *regexp.Regexp
	choices   []string
	accept    []string
	pixels    int
	inPath    bool // substituted in the target: must slugify to something
}

func (f *field) upload() bool { return f.typ == "image" || f.typ == "file" }

type slotKind uint8

const (
	slotField slotKind = iota
	slotOption
	slotHoneypot
)

type slot struct {
	kind  slotKind
	field *field
	name  string // the option's name
	max   int    // bytes, for options
}

type transform struct {
	from    *field
	op, to  string
	private bool // the source is private: only the derived value is written
}

type generated struct{ out, gen string }

// Options a form may declare, and the anti-spam options every form takes and passes on
// (with share, the token of a shared dossier's key that its members' forms carry), with
// their size limits in bytes.
var (
	declarable = map[string]int{"page": maxRef, "parent": 64, "redirect": 2048, "slug": maxSegment}
	antispam   = map[string]int{"token": 1024, "pow": 256, "answer": 200, "question": 256, "share": 64}
)

// Defaults where the policy gives no max.
var defaultMax = map[string]int{
	"text": 300, "textarea": 3000, "markdown": 20000, "email": 254, "url": 2000,
	"date": 10, "datetime": 40, "image": 10 << 20, "file": 10 << 20,
}

const (
	defaultPixels    = 2560
	defaultMaxPixels = 40_000_000
	minSecret        = 16
)

// Media types an upload may be checked as.
const (
	odt = "application/vnd.oasis.opendocument.text"
	ods = "application/vnd.oasis.opendocument.spreadsheet"
	odp = "application/vnd.oasis.opendocument.presentation"
)

var imageTypes = []string{"image/jpeg", "image/png", "image/gif"}

var knownTypes = append([]string{"application/pdf", odt, ods, odp}, imageTypes...)

// Sections a form may write into: the content folders the site loads, and comments.
func writable(section string) bool {
	_, ok := site.Sections[section]
	return ok || section == "comments"
}

var nameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Compile checks a form's policy and prepares it. Beyond what site.ParseConfig checks, it
// refuses a policy whose output the site could not load or that could leak personal data:
// an e-mail field that is not private, a private field in a path or transformed other than
// by hash, a target outside the content folders or that two submissions could share.
func Compile(name string, spec *site.FormSpec, opts Options) (*Form, error) {
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("forms: %q is not a form name (lower-case letters, digits and _)", name)
	}
	if spec == nil {
		return nil, fmt.Errorf("forms.%s: no policy", name)
	}
	f := &Form{name: name, keys: map[string]slot{}, loc: opts.Location, maxPixels: opts.MaxImagePixels}
	if f.loc == nil {
		f.loc = time.UTC
	}
	if f.maxPixels <= 0 {
		f.maxPixels = defaultMaxPixels
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	hp := spec.Antispam.Honeypot
	if hp != "" && !nameRE.MatchString(hp) {
		bad("antispam.honeypot: %q is not a field name", hp)
		hp = ""
	}
	byName := map[string]*field{}
	for _, n := range spec.FieldOrder() {
		if n == hp {
			continue // the policy may declare the honeypot: it is never a field, never written
		}
		fl, err := compileField(n, spec.Fields[n])
		if err != nil {
			bad("fields.%s: %v", n, err)
			continue
		}
		f.fields = append(f.fields, fl)
		byName[n] = fl
		f.keys[fl.key] = slot{kind: slotField, field: fl}
		if fl.upload() {
			f.uploads = append(f.uploads, fl)
		}
	}
	if len(f.fields) == 0 && len(errs) == 0 {
		bad("fields: a form needs at least one field")
	}
	for _, o := range spec.Options {
		max, ok := declarable[o]
		if !ok {
			bad("options: unknown option %q (page, parent, redirect, slug)", o)
			continue
		}
		f.keys["options["+o+"]"] = slot{kind: slotOption, name: o, max: max}
		f.hasParent = f.hasParent || o == "parent"
	}
	for o, max := range antispam {
		f.keys["options["+o+"]"] = slot{kind: slotOption, name: o, max: max}
	}
	if hp != "" {
		f.honeypot = "fields[" + hp + "]"
		f.keys[f.honeypot] = slot{kind: slotHoneypot}
	}

	outputs := map[string]string{} // names written to the file, and what writes them
	if f.hasParent {
		outputs["parent"] = "options.parent"
	}
	for _, fl := range f.fields {
		switch {
		case fl.typ == "image":
			outputs["image"] = "an image upload"
			outputs[fl.name] = "an image upload"
		case fl.typ == "file":
			outputs["files"] = "a file upload"
		}
	}
	for _, fl := range f.fields {
		if fl.private || fl.upload() {
			continue
		}
		if by := outputs[fl.name]; by != "" {
			bad("fields.%s: also written by %s", fl.name, by)
		}
		outputs[fl.name] = "a field"
	}
	hashes := false
	for i, t := range spec.Transforms {
		from := byName[t.Field]
		to := t.To
		if to == "" {
			to = t.Field
		}
		switch {
		case from == nil:
			bad("transforms[%d].field: no field %q", i, t.Field)
		case from.upload():
			bad("transforms[%d].field: %q is an upload", i, t.Field)
		case !slices.Contains([]string{"hash", "slugify", "lower", "upper", "trim"}, t.Op):
			bad("transforms[%d].op: unknown operation %q (hash, slugify, lower, upper, trim)", i, t.Op)
		case from.private && t.Op != "hash":
			bad("transforms[%d]: %q is private; only its hash may be published", i, t.Field)
		case !nameRE.MatchString(to):
			bad("transforms[%d].to: %q is not a field name", i, t.To)
		case to != t.Field && byName[to] != nil:
			bad("transforms[%d].to: %q is another field of the form", i, to)
		case outputs[to] != "" && outputs[to] != "a field" && outputs[to] != "a transform":
			bad("transforms[%d].to: %q is also written by %s", i, to, outputs[to])
		default:
			hashes = hashes || t.Op == "hash"
			f.transforms = append(f.transforms, transform{from: from, op: t.Op, to: to, private: from.private})
			outputs[to] = "a transform"
		}
	}
	if hashes {
		if len(opts.Secret) < minSecret {
			bad("transforms: hash needs a secret of at least %d bytes", minSecret)
		}
		secret := slices.Clone(opts.Secret)
		f.hmacs.New = func() any { return &hasher{mac: hmac.New(sha256.New, secret)} }
	}

	gens := make([]string, 0, len(spec.Generated))
	for out := range spec.Generated {
		gens = append(gens, out)
	}
	rank := map[string]int{"id": 0, "slug": 1, "date": 3}
	sort.Slice(gens, func(i, j int) bool {
		ri, rj := rank[spec.Generated[gens[i]]], rank[spec.Generated[gens[j]]]
		if ri != rj {
			return ri < rj
		}
		return gens[i] < gens[j]
	})
	for _, out := range gens {
		g := spec.Generated[out]
		switch {
		case !nameRE.MatchString(out):
			bad("generated.%s: not a field name", out)
		case g != "id" && g != "date" && g != "slug":
			bad("generated.%s: unknown generator %q (id, date, slug)", out, g)
		case outputs[out] != "":
			bad("generated.%s: also written by %s", out, outputs[out])
		default:
			f.generated = append(f.generated, generated{out: out, gen: g})
			outputs[out] = "a generator"
			f.needSlug = f.needSlug || g == "slug"
		}
	}

	switch spec.Format {
	case "", "yaml":
		f.yaml = true
		if len(f.uploads) > 0 {
			bad("format: uploads need the markdown format, as page bundles")
		}
	case "markdown":
		f.body = byName[spec.Body]
		switch {
		case f.body == nil:
			bad("body: no field %q", spec.Body)
		case f.body.private || f.body.upload() || f.body.typ == "email":
			bad("body: %q cannot be a page's body", spec.Body)
		}
	default:
		bad("format: %q is not yaml or markdown", spec.Format)
	}
	if !f.yaml {
		for _, out := range slices.Sorted(maps.Keys(outputs)) {
			if why, ok := pageKeys[out]; ok && outputs[out] != "an image upload" && outputs[out] != "a file upload" {
				bad("%s (written by %s): a page's front matter key that %s; a form cannot write it", out, outputs[out], why)
			}
		}
	}

	f.compileTarget(spec, byName, bad)
	for _, fl := range f.fields {
		for _, c := range fl.choices {
			if fl.inPath && slugify(c) == "" {
				bad("fields.%s.choices: %q is in the path but has no letter or digit", fl.name, c)
			}
		}
	}
	if f.target != nil {
		for _, p := range f.target.parts {
			if p.kind == phOption && !slices.Contains(f.pathOptions, p.text) {
				f.pathOptions = append(f.pathOptions, p.text)
			}
		}
	}
	if spec.Message != "" {
		t, err := parseTemplate(spec.Message)
		if err != nil {
			bad("message: %v", err)
		} else if err := f.checkPlaceholders(t, byName, false); err != nil {
			bad("message: %v", err)
		} else {
			f.message = t
		}
	}
	if f.needSlug {
		f.slugFrom = byName["title"]
		for _, fl := range f.fields {
			if f.slugFrom == nil && fl.typ == "text" && !fl.private {
				f.slugFrom = fl
			}
		}
		if f.slugFrom == nil || f.slugFrom.typ != "text" || f.slugFrom.private {
			bad("generated: a slug is made from a public text field (title), and the form has none")
		}
	}
	if s, e := byName["start"], byName["end"]; s != nil && e != nil && isDate(s.typ) && isDate(e.typ) {
		f.start, f.end = s, e
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("forms.%s: %s", name, strings.Join(errs, "; "))
	}
	f.checkKind(byName, bad)
	if len(errs) > 0 {
		return nil, fmt.Errorf("forms.%s: %s", name, strings.Join(errs, "; "))
	}
	f.maxBytes = f.bodyLimit()
	return f, nil
}

func isDate(typ string) bool { return typ == "date" || typ == "datetime" }

// pageKeys are the front matter keys a page form must not write from a citizen's values:
// Parvis writes submitted itself, and the others decide where a page is published,
// whether it is, or which template shows it.
var pageKeys = map[string]string{
	"submitted": "says a citizen wrote the page (Parvis writes it)",
	"url":       "sets the address", "aliases": "adds addresses", "draft": "hides the page",
	"publishDate": "dates its publication", "expiryDate": "ends its publication",
	"visibility": "shares a dossier", "items": "lists a dossier's pages",
	"layout": "picks the template", "type": "picks the template", "outputs": "sets the formats",
	"cascade": "sets other pages' keys", "build": "decides the build", "headless": "hides the page",
}

func compileField(name string, spec *site.FieldSpec) (*field, error) {
	if !nameRE.MatchString(name) {
		return nil, errors.New("a field's name is lower-case letters, digits and _")
	}
	// Without a label, the name as the generator shows it: "first_name" → "First name".
	fl := &field{name: name, key: "fields[" + name + "]", typ: "text", label: strings.ToUpper(name[:1]) + strings.ReplaceAll(name[1:], "_", " ")}
	if spec == nil {
		fl.max = defaultMax["text"]
		return fl, nil
	}
	if spec.Type != "" {
		fl.typ = spec.Type
	}
	if _, ok := defaultMax[fl.typ]; !ok && fl.typ != "choice" {
		return nil, fmt.Errorf("unknown type %q", fl.typ)
	}
	if l := strings.TrimSpace(spec.Label); l != "" {
		fl.label = l
	}
	fl.required, fl.private = spec.Required, spec.Private
	fl.min, fl.max = spec.Min, spec.Max
	if fl.min < 0 || fl.max < 0 || fl.max > 0 && fl.min > fl.max {
		return nil, errors.New("min and max must be positive, min ≤ max")
	}
	if fl.max == 0 {
		fl.max = max(defaultMax[fl.typ], fl.min)
	}
	if fl.typ == "email" && !fl.private {
		return nil, errors.New("an e-mail field must be private: Git history is public and permanent")
	}
	if spec.Pattern != "" {
		re, err := regexp.Compile(`^(?:` + spec.Pattern + `)$`)
		if err != nil {
			return nil, fmt.Errorf("pattern: %v", err)
		}
		fl.pattern = re
	}
	if fl.typ == "choice" {
		if len(spec.Choices) == 0 {
			return nil, errors.New("a choice field needs choices")
		}
		for _, c := range spec.Choices {
			c = norm.NFC.String(strings.TrimSpace(c)) // as values are cleaned
			fl.choices = append(fl.choices, c)
			fl.max = max(fl.max, len(c))
		}
	}
	if fl.upload() {
		if fl.private {
			return nil, errors.New("an upload cannot be private: it is published with the page")
		}
		fl.accept = slices.Clone(spec.Accept)
		if len(fl.accept) == 0 {
			fl.accept = []string{"image/jpeg", "image/png"}
			if fl.typ == "file" {
				fl.accept = []string{"application/pdf", odt}
			}
		}
		for _, t := range fl.accept {
			switch {
			case !slices.Contains(knownTypes, t):
				return nil, fmt.Errorf("accept: %q cannot be checked (%s)", t, strings.Join(knownTypes, ", "))
			case fl.typ == "image" && !slices.Contains(imageTypes, t):
				return nil, fmt.Errorf("accept: an image field takes images, not %q", t)
			}
		}
		fl.pixels = spec.Pixels
		if fl.pixels <= 0 {
			fl.pixels = defaultPixels
		}
	} else if len(spec.Accept) > 0 || spec.Pixels != 0 {
		return nil, errors.New("accept and pixels are for uploads")
	}
	return fl, nil
}

// compileTarget reads path + "/" + filename as one template whose every placeholder is
// checked and whose fixed part names a content folder.
func (f *Form) compileTarget(spec *site.FormSpec, byName map[string]*field, bad func(string, ...any)) {
	if spec.Path == "" || spec.Filename == "" {
		bad("path and filename: required")
		return
	}
	if strings.Contains(spec.Filename, "/") {
		bad("filename: must not contain /")
		return
	}
	fn, err := parseTemplate(spec.Filename)
	if err != nil {
		bad("filename: %v", err)
		return
	}
	for _, p := range fn.parts {
		if p.kind == phOption && p.text == "page" {
			bad("filename: {options.page} holds folders; it belongs in path")
			return
		}
	}
	ext := path.Ext(spec.Filename)
	if f.yaml && ext != ".yaml" && ext != ".yml" || !f.yaml && ext != ".md" {
		bad("filename: %q does not end in %s", spec.Filename, map[bool]string{true: ".yaml", false: ".md"}[f.yaml])
	}
	t, err := parseTemplate(spec.Path + "/" + spec.Filename)
	if err != nil {
		bad("path: %v", err)
		return
	}
	if err := f.checkPlaceholders(t, byName, true); err != nil {
		bad("path: %v", err)
		return
	}
	f.section, _, _ = strings.Cut(t.fixed, "/")
	if t.fixed == "" || !writable(f.section) {
		bad("path: %q must start with a content folder (%s, comments)", spec.Path, sectionList())
		return
	}
	if !t.uses(phID) && !t.uses(phSlug) {
		bad("path: %q needs {_id} or {slug}, or every submission writes the same file", spec.Path+"/"+spec.Filename)
		return
	}
	// A trial run checks the fixed parts together with typical values.
	sample := &Submission{Fields: map[string]string{}, Options: map[string]string{"page": "articles/sample", "slug": "sample", "parent": "sample"}}
	for _, fl := range f.fields {
		sample.Fields[fl.name] = "sample"
	}
	if _, err := t.path(&vars{s: sample, id: "01SAMPLE", slug: "sample-sample", now: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)}); err != nil {
		bad("path: %v", strings.TrimPrefix(err.Error(), "forms: "))
		return
	}
	f.target = t
}

func sectionList() string {
	var l []string
	for s := range site.Sections {
		l = append(l, s)
	}
	sort.Strings(l)
	return strings.Join(l, ", ")
}

// checkPlaceholders checks that a template names what the form has. In a path, fields must
// be public, required text, and the options page, parent or slug.
func (f *Form) checkPlaceholders(t *template, byName map[string]*field, inPath bool) error {
	for _, p := range t.parts {
		switch p.kind {
		case phField:
			fl := byName[p.text]
			switch {
			case fl == nil:
				return fmt.Errorf("{fields.%s}: no such field", p.text)
			case fl.private:
				return fmt.Errorf("{fields.%s}: a private field is never written", p.text)
			case fl.upload():
				return fmt.Errorf("{fields.%s}: an upload has no text", p.text)
			case inPath && !fl.required:
				return fmt.Errorf("{fields.%s}: a field in a path must be required", p.text)
			}
			if inPath {
				fl.inPath = true
			}
		case phOption:
			s, ok := f.keys["options["+p.text+"]"]
			switch {
			case !ok || s.kind != slotOption:
				return fmt.Errorf("{options.%s}: the form does not declare this option", p.text)
			case inPath && p.text != "page" && p.text != "slug" && p.text != "parent":
				return fmt.Errorf("{options.%s}: not a path (page, slug, parent)", p.text)
			}
		case phSlug:
			f.needSlug = true
		case phDate:
			if strings.TrimSpace(p.text) == "" {
				return errors.New("{date:}: empty layout")
			}
		}
	}
	return nil
}

// checkKind refuses what the site's loader would refuse once approved, so that a moderator
// never merges a submission that stops the build.
func (f *Form) checkKind(byName map[string]*field, bad func(string, ...any)) {
	required := func(names ...string) *field {
		for _, n := range names {
			if fl := byName[n]; fl != nil && fl.required && !fl.private && !fl.upload() {
				return fl
			}
		}
		return nil
	}
	gen := func(g string) string {
		for _, x := range f.generated {
			if x.gen == g {
				return x.out
			}
		}
		return ""
	}
	if f.section == "comments" {
		switch {
		case !f.yaml:
			bad("format: a comment is a yaml file")
		case f.target.parts[0].text != "comments/" || len(f.target.parts) < 2 || f.target.parts[1].kind != phOption ||
			f.target.parts[1].text != "page" || len(f.target.parts) < 3 || f.target.parts[2].kind != literal || f.target.parts[2].text != "/":
			bad("path: a comment lives in comments/{options.page}")
		case gen("id") != "_id" && gen("id") != "id":
			bad("generated: a comment needs _id: id")
		case gen("date") != "date":
			bad("generated: a comment needs date: date")
		case required("name") == nil:
			bad("fields.name: a comment needs a required name")
		case required("message", "body") == nil:
			bad("fields.message: a comment needs a required message")
		}
		return
	}
	if f.yaml {
		bad("format: a page is a markdown file")
		return
	}
	if t := required("title"); t == nil || t == f.body {
		bad("fields.title: a page needs a required title, in its front matter (not the body)")
	}
	if len(f.uploads) > 0 && path.Base(f.target.parts[len(f.target.parts)-1].text) != "index.md" {
		bad("filename: uploads are kept beside the page, in a bundle: index.md")
	}
	switch f.section {
	case "photos":
		var images []*field
		for _, u := range f.uploads {
			if u.typ == "image" || slices.ContainsFunc(u.accept, func(t string) bool { return slices.Contains(imageTypes, t) }) {
				images = append(images, u)
			}
		}
		if len(images) != 1 || !images[0].required || images[0].typ != "image" {
			bad("fields: a photo needs exactly one required image field")
		}
		if c := required("caption"); c == nil || c == f.body {
			bad("fields.caption: a photo needs a required caption, in its front matter (not the body)")
		}
	case "documents":
		if !slices.ContainsFunc(f.uploads, func(u *field) bool { return u.required }) {
			bad("fields: a document needs a required upload")
		}
	case "events":
		if s := byName["start"]; s == nil || !s.required || !isDate(s.typ) {
			bad("fields.start: an event needs a required start, a date or datetime")
		}
	}
}

// bodyLimit is the largest request a valid submission makes: every value at its max,
// percent-encoded (3 bytes a byte, 4 bytes a character), every upload at its max, and room
// for keys and multipart headers.
func (f *Form) bodyLimit() int64 {
	const part = 512 // a key, its multipart headers, a file name
	n := int64(16 << 10)
	for _, fl := range f.fields {
		if fl.upload() {
			n += int64(fl.max) + part
		} else {
			n += 12*int64(fl.max) + part
		}
	}
	for _, s := range f.keys {
		if s.kind == slotOption {
			n += 3*int64(s.max) + part
		}
	}
	if f.honeypot != "" {
		n += 3*1000 + part
	}
	return n
}

// Name is the form's name, as in parvis.yaml and the URL.
func (f *Form) Name() string { return f.name }

// MaxBytes is the body size the service should cap requests to this form at.
func (f *Form) MaxBytes() int64 { return f.maxBytes }

// hash is the keyed hash of a value, lower-cased and trimmed first, so that the same
// address gives the same avatar however it is typed.
func (f *Form) hash(v string) string {
	h := f.hmacs.Get().(*hasher)
	defer f.hmacs.Put(h)
	v = strings.TrimSpace(v)
	if !printableASCII(v) {
		v = strings.ToLower(v)
	}
	h.buf = append(h.buf[:0], v...)
	for i, c := range h.buf {
		if 'A' <= c && c <= 'Z' {
			h.buf[i] = c + 'a' - 'A'
		}
	}
	h.mac.Reset()
	h.mac.Write(h.buf)
	var sum [sha256.Size]byte
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], h.mac.Sum(sum[:0]))
	return string(out[:])
}
