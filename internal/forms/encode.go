package forms

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// Generated are the values the service gives an entry when it writes it.
type Generated struct {
	ID  string    // the submission's id (a ULID): names the entry, ends its slug
	Now time.Time // when the submission was received
}

// File is one file of the change.
type File struct {
	Path string // slash-separated, relative to the site's root
	Data []byte
}

// ErrPersonalData is returned by Encode when its output would hold an e-mail address.
// Decode refuses such input, so it means a Submission not made by Decode.
var ErrPersonalData = errors.New("forms: personal data would be written")

// Encode writes a submission decoded by this form as the files of a change: first the
// entry (a YAML file, or a Markdown page), then its uploads beside it, named after the
// entry's slug and their real type. It checks the required values and every path again,
// and that no e-mail address is written: private values never are. Its errors are
// permanent: retrying cannot help.
func (f *Form) Encode(s *Submission, g Generated) ([]File, error) {
	if s == nil || s.Form != f.name {
		return nil, fmt.Errorf("forms.%s: not a submission of this form", f.name)
	}
	if !validID(g.ID) || g.Now.IsZero() {
		return nil, fmt.Errorf("forms.%s: the entry needs an id (letters, digits, - and _) and a time, got %q", f.name, g.ID)
	}
	for _, fl := range f.fields {
		missing := fl.required && !fl.upload() && s.Fields[fl.name] == "" && s.Private[fl.name] == ""
		if fl.required && fl.upload() {
			missing = !slices.ContainsFunc(s.Uploads, func(u Upload) bool { return u.Field == fl.name })
		}
		if missing {
			return nil, fmt.Errorf("forms.%s: the submission has no %s, which the form requires", f.name, fl.name)
		}
	}
	v := f.vars(s, g)
	entry, err := f.target.path(&v)
	if err != nil {
		return nil, err
	}
	files := make([]File, 1, 1+len(s.Uploads))
	names := make([]string, len(s.Uploads))
	dir := path.Dir(entry)
	for i, u := range s.Uploads {
		fl := f.keys["fields["+u.Field+"]"].field
		ext := extensions[u.MediaType]
		if fl == nil || !fl.upload() || ext == "" || !slices.Contains(fl.accept, u.MediaType) {
			return nil, fmt.Errorf("forms.%s: upload %q of type %q does not fit the form", f.name, u.Field, u.MediaType)
		}
		base := f.name
		if f.needSlug {
			base = v.slug
		}
		if len(f.uploads) > 1 {
			base += "-" + strings.ReplaceAll(fl.name, "_", "-")
		}
		names[i] = base + ext
		p := dir + "/" + names[i]
		if err := checkPath(p, f.target.fixed); err != nil || p == entry || slices.Contains(names[:i], names[i]) {
			return nil, fmt.Errorf("forms.%s: upload %q: bad path %q", f.name, u.Field, p)
		}
		files = append(files, File{Path: p, Data: u.Data})
	}
	var data []byte
	if f.yaml {
		data = f.appendYAML(make([]byte, 0, 256+approxSize(s)), s, &v)
	} else {
		data = f.appendMarkdown(make([]byte, 0, 256+approxSize(s)), s, &v, names)
	}
	if containsEmail(entry) || containsEmail(data) {
		return nil, ErrPersonalData
	}
	files[0] = File{Path: entry, Data: data}
	return files, nil
}

// Subject is the change's one-line title from the policy's message template, or "" when
// the policy has none (the forge then writes its own).
func (f *Form) Subject(s *Submission, g Generated) string {
	if f.message == nil || s == nil {
		return ""
	}
	v := f.vars(s, g)
	return f.message.text(&v)
}

func (f *Form) vars(s *Submission, g Generated) vars {
	v := vars{s: s, id: g.ID, now: g.Now.In(f.loc).Truncate(time.Second)}
	if f.needSlug {
		v.slug = f.slug(s, g.ID)
	}
	return v
}

// slug is the title's slug with the id's last 6 characters, so that two entries with the
// same title never share a path: "fete-de-la-musique-3y2x1a".
func (f *Form) slug(s *Submission, id string) string {
	var suffix []byte
	for i := len(id) - 1; i >= 0 && len(suffix) < 6; i-- {
		if c := id[i]; isAlnum(c) {
			suffix = append(suffix, c|0x20) // lower case; digits are unchanged
		}
	}
	slices.Reverse(suffix)
	base := slugify(s.Fields[f.slugFrom.name])
	if base == "" {
		return string(suffix)
	}
	return base + "-" + string(suffix)
}

// appendYAML writes a Staticman-shaped file: the id, parent, the public fields in the
// form's order, the transforms' results, the other generated values, the date.
func (f *Form) appendYAML(b []byte, s *Submission, v *vars) []byte {
	b = f.appendGenerated(b, v, "id")
	if f.hasParent {
		b = appendPair(b, 0, "parent", s.Options["parent"])
	}
	b = f.appendFields(b, s)
	b = f.appendGenerated(b, v, "slug")
	return f.appendGenerated(b, v, "date")
}

// appendMarkdown writes a page: front matter with the form's name under submitted, the
// public fields but the body, the generated values and the uploads' names, then the body.
// submitted tells the generator and the moderation preview that the page is a citizen's
// text, to be rendered as such whatever markdown.unsafe says (Compile keeps fields off
// the key).
func (f *Form) appendMarkdown(b []byte, s *Submission, v *vars, names []string) []byte {
	b = append(b, "---\n"...)
	b = appendPair(b, 0, "submitted", f.name)
	b = f.appendGenerated(b, v, "id")
	b = f.appendFields(b, s)
	b = f.appendGenerated(b, v, "slug")
	b = f.appendGenerated(b, v, "date")
	// The first image is the page's image (a photo's is found in its bundle), others go
	// under their field's name; files are listed with the title people will see, as
	// documents list theirs.
	image := f.section == "photos"
	var docs []int
	for i, u := range s.Uploads {
		fl := f.keys["fields["+u.Field+"]"].field
		switch {
		case fl.typ == "image" && !image:
			b = appendPair(b, 0, "image", names[i])
			image = true
		case fl.typ == "image" && fl.name != "image" && f.section != "photos":
			b = appendPair(b, 0, fl.name, names[i])
		case fl.typ == "file":
			docs = append(docs, i)
		}
	}
	if len(docs) > 0 {
		b = append(b, "files:\n"...)
		for _, i := range docs {
			fl := f.keys["fields["+s.Uploads[i].Field+"]"].field
			title := s.Fields["title"]
			if title == "" || len(docs) > 1 {
				title = fl.label
			}
			b = append(b, "  - "...)
			b = appendPair(b, 4, "name", names[i])
			b = append(b, "    "...)
			b = appendPair(b, 4, "title", title)
		}
	}
	b = append(b, "---\n"...)
	if body := s.Fields[f.body.name]; body != "" {
		b = append(b, body...)
		b = append(b, '\n')
	}
	return b
}

// appendFields writes the public fields in the form's order, then the transforms' results
// that are not fields.
func (f *Form) appendFields(b []byte, s *Submission) []byte {
	write := func(name string) {
		val := s.Fields[name]
		if val == "" {
			return
		}
		fl := f.keys["fields["+name+"]"].field
		if fl != nil && (fl.typ == "date" || fl.typ == "datetime") && dateShaped(val) {
			b = appendTime(b, name, val)
			return
		}
		b = appendPair(b, 0, name, val)
	}
	for _, fl := range f.fields {
		if !fl.private && !fl.upload() && fl != f.body {
			write(fl.name)
		}
	}
	for i, t := range f.transforms {
		public := f.keys["fields["+t.to+"]"].field
		if public != nil && !public.private {
			continue // written in its place above
		}
		if slices.ContainsFunc(f.transforms[:i], func(o transform) bool { return o.to == t.to }) {
			continue
		}
		write(t.to)
	}
	return b
}

// appendGenerated writes the generated values of one generator.
func (f *Form) appendGenerated(b []byte, v *vars, gen string) []byte {
	for _, g := range f.generated {
		if g.gen != gen {
			continue
		}
		switch gen {
		case "id":
			b = appendPair(b, 0, g.out, v.id)
		case "slug":
			b = appendPair(b, 0, g.out, v.slug)
		case "date":
			b = appendTime(b, g.out, v.now.Format(time.RFC3339))
		}
	}
	return b
}

// dateShaped checks a value is one that parseDateTime or the date check let through.
func dateShaped(v string) bool {
	if len(v) == len(time.DateOnly) {
		_, err := time.Parse(time.DateOnly, v)
		return err == nil
	}
	_, err := time.Parse(time.RFC3339, v)
	return err == nil
}

func approxSize(s *Submission) int {
	n := 0
	for k, v := range s.Fields {
		n += len(k) + len(v) + 8
	}
	return n
}
