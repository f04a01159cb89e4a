package forms

import (
	"mime/multipart"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Submission is one decoded submission: what Encode writes, and what the service keeps
// (it is plain data, for the queue).
type Submission struct {
	Form string `json:"form"`
	// Fields are the public values, cleaned, with the transforms' results.
	Fields map[string]string `json:"fields"`
	// Private values (an e-mail address) are for the service alone: never written to Git.
	Private map[string]string `json:"private,omitempty"`
	// Options are page, parent, redirect and slug when the form declares them, and the
	// anti-spam values token, pow, answer and question, passed on unchecked beyond their
	// size. Empty values are left out.
	Options map[string]string `json:"options,omitempty"`
	// Honeypot is what the honeypot field held: a person leaves it empty.
	Honeypot string   `json:"honeypot,omitempty"`
	Uploads  []Upload `json:"uploads,omitempty"`
}

// Upload is an uploaded file, checked by its content and, for an image, re-encoded.
type Upload struct {
	Field     string `json:"field"`
	MediaType string `json:"mediaType"` // found from the content, never from the client
	Ext       string `json:"ext"`       // the extension for that type: ".jpg", ".pdf"…
	Data      []byte `json:"data"`
	Width     int    `json:"width,omitempty"` // images, as re-encoded
	Height    int    `json:"height,omitempty"`
	// Links are the addresses a document's links lead to (a PDF's URI actions), for the
	// moderator to see before approving: a reader clicking one leaves the site.
	Links []string `json:"links,omitempty"`
}

const maxStructural = 20 // unknown or repeated keys reported, at most

// Decode checks one request's values and files against the form. values must come from the
// body only (http.Request.PostForm, or MultipartForm.Value), never merged with the URL's
// query. A key that the form does not declare, or sent twice, makes Decode stop at once
// with those errors (Errors.Status is then 400). Otherwise every value is checked, and
// uploads are read, checked by content and re-encoded only when everything else is valid.
func (f *Form) Decode(values url.Values, files map[string][]*multipart.FileHeader) (*Submission, Errors) {
	var errs Errors
	add := func(key string, p Problem) {
		if errs == nil {
			errs = Errors{}
		}
		if _, dup := errs[key]; !dup {
			errs[key] = p
		}
	}
	structural := func(key string, code Code) {
		if len(errs) >= maxStructural {
			return
		}
		p := Problem{Code: code, Label: displayKey(key)}
		if s, ok := f.keys[key]; ok && s.field != nil {
			p.Label = s.field.label
		}
		add(displayKey(key), p)
	}
	for key, vs := range values {
		s, ok := f.keys[key]
		switch {
		case !ok:
			structural(key, CodeUnknownField)
		case len(vs) > 1:
			structural(key, CodeRepeated)
		case len(files[key]) > 0 && vs[0] != "":
			structural(key, CodeRepeated)
		case s.field != nil && s.field.upload() && vs[0] != "":
			// Text where a file was expected: a form without enctype="multipart/form-data".
			add(key, Problem{Code: CodeType, Label: s.field.label, Want: strings.Join(s.field.accept, ",")})
		}
	}
	for key, fhs := range files {
		s, ok := f.keys[key]
		switch {
		case !ok || s.field == nil || !s.field.upload():
			structural(key, CodeUnknownField)
		case len(fhs) > 1:
			structural(key, CodeRepeated)
		}
	}
	if errs != nil {
		return nil, errs
	}

	s := &Submission{Form: f.name, Fields: make(map[string]string, len(f.fields)+len(f.transforms)+1)}
	for _, fl := range f.fields {
		if fl.upload() {
			continue
		}
		v, p := f.clean(fl, first(values[fl.key]))
		switch {
		case p != nil:
			add(fl.key, *p)
		case v == "":
			if fl.required {
				add(fl.key, Problem{Code: CodeRequired, Label: fl.label})
			}
		case fl.private:
			if s.Private == nil {
				s.Private = map[string]string{}
			}
			s.Private[fl.name] = v
		default:
			s.Fields[fl.name] = v
		}
	}
	for key, sl := range f.keys {
		if sl.kind != slotOption {
			continue
		}
		v, code := checkOption(sl, first(values[key]))
		switch {
		case code != "":
			add(key, Problem{Code: code, Limit: int64(sl.max)})
		case v != "":
			if s.Options == nil {
				s.Options = make(map[string]string, 4)
			}
			s.Options[sl.name] = v
		}
	}
	for _, o := range f.pathOptions {
		if s.Options[o] == "" {
			add("options["+o+"]", Problem{Code: CodeRequired})
		}
	}
	if f.honeypot != "" {
		s.Honeypot = strings.ToValidUTF8(truncate(first(values[f.honeypot]), 200), "")
	}
	if f.start != nil && errs[f.end.key].Code == "" {
		if a, b := s.Fields[f.start.name], s.Fields[f.end.name]; a != "" && b != "" && f.when(b).Before(f.when(a)) {
			add(f.end.key, Problem{Code: CodeOrder, Label: f.end.label, Want: f.start.label})
		}
	}

	pending := make([]*Upload, 0, len(f.uploads))
	for _, fl := range f.uploads {
		fhs := files[fl.key]
		if len(fhs) == 0 || fhs[0].Size == 0 {
			if fl.required {
				add(fl.key, Problem{Code: CodeRequired, Label: fl.label})
			}
			continue
		}
		u, p := f.checkUpload(fl, fhs[0])
		if p != nil {
			add(fl.key, *p)
			continue
		}
		pending = append(pending, u)
	}
	if errs != nil {
		return nil, errs
	}
	for _, u := range pending {
		fl := f.keys["fields["+u.Field+"]"].field
		if p := f.finishUpload(fl, u); p != nil {
			add(fl.key, *p)
			continue
		}
		s.Uploads = append(s.Uploads, *u)
	}
	if errs != nil {
		return nil, errs
	}
	f.transform(s)
	return s, nil
}

// clean checks one value by its field's type, and returns it cleaned.
func (f *Form) clean(fl *field, raw string) (string, *Problem) {
	var v string
	var ok bool
	if fl.typ == "textarea" || fl.typ == "markdown" {
		v, ok = cleanText(raw)
	} else {
		v, ok = cleanLine(raw)
	}
	if !ok {
		return "", &Problem{Code: CodeFormat, Label: fl.label, Want: "text"}
	}
	if v == "" {
		return "", nil
	}
	if fl.typ == "choice" {
		if !slices.Contains(fl.choices, v) {
			return "", &Problem{Code: CodeChoice, Label: fl.label}
		}
		return v, nil
	}
	if n := utf8.RuneCountInString(v); n > fl.max {
		return "", &Problem{Code: CodeTooLong, Label: fl.label, Limit: int64(fl.max)}
	} else if n < fl.min {
		return "", &Problem{Code: CodeTooShort, Label: fl.label, Limit: int64(fl.min)}
	}
	switch fl.typ {
	case "email":
		v, ok = normalizeEmail(v)
	case "url":
		ok = checkURL(v)
	case "date":
		_, err := time.Parse(time.DateOnly, v)
		ok = err == nil
	case "datetime":
		v, ok = f.parseDateTime(v)
	}
	if !ok {
		return "", &Problem{Code: CodeFormat, Label: fl.label, Want: fl.typ}
	}
	if fl.pattern != nil && !fl.pattern.MatchString(v) {
		return "", &Problem{Code: CodeFormat, Label: fl.label, Want: "pattern"}
	}
	if !fl.private && containsEmail(v) {
		return "", &Problem{Code: CodePersonalData, Label: fl.label}
	}
	if fl.inPath && slugify(v) == "" {
		return "", &Problem{Code: CodeFormat, Label: fl.label, Want: "slug"}
	}
	return v, nil
}

// checkOption cleans an option's value and checks it by its name.
func checkOption(sl slot, raw string) (string, Code) {
	v, ok := cleanLine(raw)
	switch {
	case !ok:
		return "", CodeFormat
	case v == "":
		return "", ""
	case len(v) > sl.max:
		return "", CodeTooLong
	}
	switch sl.name {
	case "page":
		ok = validRef(v)
	case "parent":
		ok = validID(v)
	case "slug":
		ok = safeSegment(v)
	case "redirect":
		ok = checkRedirect(v)
	}
	if !ok {
		return "", CodeFormat
	}
	return v, ""
}

// transform applies the policy's transforms in order. A private source gives only its
// derived value; an empty one gives nothing (no avatar without an address).
func (f *Form) transform(s *Submission) {
	for _, t := range f.transforms {
		v := s.Fields[t.from.name]
		if t.private {
			v = s.Private[t.from.name]
		}
		if v == "" {
			continue
		}
		switch t.op {
		case "hash":
			v = f.hash(v)
		case "slugify":
			v = slugify(v)
		case "lower":
			v = strings.ToLower(v)
		case "upper":
			v = strings.ToUpper(v)
		case "trim":
			v = strings.TrimSpace(v)
		}
		if v == "" {
			delete(s.Fields, t.to)
			continue
		}
		s.Fields[t.to] = v
	}
}

// when reads a date or datetime value as cleaned by parseDateTime.
func (f *Form) when(v string) time.Time {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t
	}
	t, _ := time.ParseInLocation(time.DateOnly, v, f.loc)
	return t
}

// Local date-times as a datetime-local input sends them (with or without seconds), and as
// people type them where the browser has no such input.
var localLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05"}

// parseDateTime reads an RFC 3339 date-time, or a local one in the site's zone, and writes
// it in RFC 3339 in the site's zone, to the second. A date alone is kept as it is: the site
// reads it as a whole day.
func (f *Form) parseDateTime(v string) (string, bool) {
	if _, err := time.Parse(time.DateOnly, v); err == nil {
		return v, true
	}
	t, err := time.Parse(time.RFC3339, v)
	for _, l := range localLayouts {
		if err == nil {
			break
		}
		t, err = time.ParseInLocation(l, v, f.loc)
	}
	if err != nil {
		return "", false
	}
	return t.In(f.loc).Truncate(time.Second).Format(time.RFC3339), true
}

// normalizeEmail checks an address (local@domain, as RFC 5321 allows it, without the
// quoted forms nobody types) and returns it with its domain in lower-case ASCII.
func normalizeEmail(s string) (string, bool) {
	at := strings.LastIndexByte(s, '@')
	if len(s) > 254 || at < 1 || at > 64 {
		return "", false
	}
	local, domain := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "", false
	}
	for i := 0; i < len(local); i++ {
		if c := local[i]; !isAlnum(c) && strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) < 0 {
			return "", false
		}
	}
	if !printableASCII(domain) {
		d, err := idna.Lookup.ToASCII(domain)
		if err != nil {
			return "", false
		}
		domain = d
	}
	domain = strings.ToLower(domain)
	if !validHost(domain) || !strings.Contains(domain, ".") {
		return "", false
	}
	return local + "@" + domain, true
}

// validHost accepts a DNS name: labels of letters, digits and '-', a top-level label that
// is not all digits.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	var tld string
	for l := range strings.SplitSeq(h, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !isAlnum(c) && c != '-' {
				return false
			}
		}
		tld = l
	}
	return len(tld) >= 2 && strings.Trim(tld, "0123456789") != ""
}

// checkURL accepts an absolute http or https link to a named host, without credentials
// (https://mairie.fr@evil.example reads as the town hall's address).
func checkURL(s string) bool {
	if strings.ContainsAny(s, " \\") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.User != nil || u.Opaque != "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return false
	}
	h := strings.ToLower(u.Hostname())
	if strings.HasPrefix(h, "[") || strings.Count(u.Host, ":") > 1 {
		return u.Hostname() != "" // an IPv6 literal, which url.Parse has checked
	}
	if !printableASCII(h) {
		a, err := idna.Lookup.ToASCII(h)
		if err != nil {
			return false
		}
		h = a
	}
	return validHost(h) || isIPv4(h)
}

func isIPv4(h string) bool {
	parts := strings.Split(h, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// checkRedirect accepts a site path or an http(s) link; the service checks its origin.
func checkRedirect(s string) bool {
	if strings.HasPrefix(s, "/") {
		if strings.HasPrefix(s, "//") || strings.ContainsAny(s, " \\") {
			return false
		}
		_, err := url.Parse(s)
		return err == nil
	}
	return checkURL(s)
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// displayKey makes a posted key safe to show back: UTF-8, one line, at most 100 bytes,
// control characters shown as U+FFFD so that it never reads as another key.
func displayKey(k string) string {
	k = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(k, "\ufffd"))
	return truncate(k, 100)
}

// truncate cuts s to at most n bytes, at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
