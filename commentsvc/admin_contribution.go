package commentsvc

import (
	"fmt"
	"path"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/store"
)

// What a moderator decides on, read from a pending change rather than shown as its Git
// diff: the photo itself, the document to open, and the fields the citizen filled in.

// fieldValue is one field the citizen filled in, as the form labels it.
type fieldValue struct {
	Label, Value string
	Multiline    bool   // a text with its line breaks
	URL          string // a file the field sent
}

// photoView is a picture of the change, with the caption and description the site will
// show with it.
type photoView struct {
	URL, Name, Caption, Alt string
}

// documentView is a document of the change, to download.
type documentView struct {
	URL, Name, Type string
	Size            int
}

// documentTypes are the documents the pages let a moderator download, by extension, with
// the name people know them by.
var documentTypes = map[string]string{".pdf": "PDF", ".odt": "ODT", ".ods": "ODS", ".odp": "ODP"}

// contribution reads the fields, photos and documents of a pending submission.
func (a *admin) contribution(v *submissionView, sub *Submission) {
	values, body := map[string]any{}, ""
	textFile := ""
	for _, f := range sub.Files {
		if f.Text == "" || textFile != "" {
			continue
		}
		switch strings.ToLower(path.Ext(f.Path)) {
		case ".md":
			fm, b, _, err := site.ParseFrontMatter([]byte(f.Text))
			if err != nil {
				continue
			}
			values, body, textFile = fm.Values, string(b), f.Path
		case ".yaml", ".yml":
			m := map[string]any{}
			if yaml.Unmarshal([]byte(f.Text), &m) != nil {
				continue
			}
			values, textFile = m, f.Path
		}
	}
	str := func(key string) string { s, _ := values[key].(string); return strings.TrimSpace(s) }
	var uploads []string // the files beside the text, in the change's order
	for _, f := range sub.Files {
		if f.Path == textFile || f.Text != "" {
			continue
		}
		url := a.root + "submissions/" + sub.ID + "/files/" + f.Path
		name := path.Base(f.Path)
		uploads = append(uploads, f.Path)
		if f.Image {
			p := photoView{URL: url, Name: name, Caption: str("caption"), Alt: str("alt")}
			if p.Alt == "" {
				p.Alt = p.Caption // as the site does (generator/images.go)
			}
			if p.Alt == "" {
				p.Alt = adminMsg(a.lang, "image_alt", str("title"))
			}
			v.Photos = append(v.Photos, p)
			continue
		}
		d := documentView{Name: name, Size: f.Size, Type: documentTypes[strings.ToLower(path.Ext(f.Path))]}
		if d.Type != "" {
			d.URL = url
		}
		v.Documents = append(v.Documents, d)
	}

	spec := a.s.cfg.Forms[sub.Form]
	if spec == nil {
		return
	}
	for _, name := range spec.FieldOrder() {
		fs := spec.Fields[name]
		if fs == nil || fs.Private || name == spec.Antispam.Honeypot {
			continue
		}
		label := fs.Label
		if label == "" {
			label = name
		}
		switch fs.Type {
		case "image", "file":
			// The upload is a file of the change, beside the text: the field names it.
			for _, p := range uploads {
				if isImage := strings.HasPrefix(fs.Type, "image"); isImage == imageExt(p) {
					fv := fieldValue{Label: label, Value: path.Base(p), URL: a.root + "submissions/" + sub.ID + "/files/" + p}
					v.Fields = append(v.Fields, fv)
				}
			}
			continue
		}
		var value string
		if name == spec.Body && spec.Format == "markdown" {
			value = strings.TrimSpace(body)
		} else if raw, ok := values[name]; ok {
			value = a.fieldText(raw)
		}
		if value == "" {
			continue
		}
		v.Fields = append(v.Fields, fieldValue{Label: label, Value: value, Multiline: strings.Contains(value, "\n") || fs.Type == "markdown" || fs.Type == "textarea"})
	}
}

func imageExt(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp":
		return true
	}
	return false
}

// fieldText writes a value of a citizen's file as a person reads it: a date in the site's
// zone, a list with commas.
func (a *admin) fieldText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if t, err := time.Parse(time.RFC3339, strings.TrimSpace(x)); err == nil {
			return adminTime(a.lang, t, a.s.cfg.Location)
		}
		return strings.TrimSpace(x)
	case time.Time:
		return adminTime(a.lang, x, a.s.cfg.Location)
	case bool:
		if x {
			return adminMsg(a.lang, "yes")
		}
		return adminMsg(a.lang, "no")
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			if s := a.fieldText(e); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

// recordTitle is a submission's title as the pages show it. A form's message template
// may name the page by its path ("Commentaire de Lucie sur {options.page}"), which is
// right for a commit and wrong for a person: the page's title stands in for it.
func (a *admin) recordTitle(rec *store.Record) string {
	if rec.Page == "" || !strings.Contains(rec.Title, rec.Page) {
		return rec.Title
	}
	title, _, found := pageInfo(a.s.Site(), rec.Page)
	if !found {
		return rec.Title
	}
	return strings.ReplaceAll(rec.Title, rec.Page, adminMsg(a.lang, "quoted", title))
}
