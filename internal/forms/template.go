package forms

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parvis/parvis/internal/forge"
	"github.com/parvis/parvis/internal/site"
)

// A template is a path, file name or commit message with placeholders: {_id}, {slug},
// {date} or {date:<Go layout>}, {fields.<name>} and {options.<name>}.
type template struct {
	parts []part
	fixed string // the literal folder a rendered path must stay in, with its final "/"
}

type placeholder uint8

const (
	literal placeholder = iota
	phID
	phSlug
	phDate
	phField
	phOption
)

type part struct {
	kind placeholder
	text string // the literal text, a field or option name, or a date layout
}

// parseTemplate reads a template. It checks the syntax only; Compile checks that the names
// exist in the form.
func parseTemplate(s string) (*template, error) {
	t := &template{}
	for s != "" {
		i := strings.IndexAny(s, "{}")
		if i < 0 {
			t.parts = append(t.parts, part{text: s})
			break
		}
		if s[i] == '}' {
			return nil, errors.New("a } without its {")
		}
		if i > 0 {
			t.parts = append(t.parts, part{text: s[:i]})
		}
		end := strings.IndexAny(s[i+1:], "{}")
		if end < 0 || s[i+1+end] != '}' {
			return nil, errors.New("a { without its }")
		}
		p, err := parsePlaceholder(s[i+1 : i+1+end])
		if err != nil {
			return nil, err
		}
		t.parts = append(t.parts, p)
		s = s[i+1+end+1:]
	}
	if len(t.parts) > 0 && t.parts[0].kind == literal {
		if j := strings.LastIndexByte(t.parts[0].text, '/'); j >= 0 {
			t.fixed = t.parts[0].text[:j+1]
		}
	}
	return t, nil
}

func parsePlaceholder(s string) (part, error) {
	switch {
	case s == "_id":
		return part{kind: phID}, nil
	case s == "slug":
		return part{kind: phSlug}, nil
	case s == "date":
		return part{kind: phDate, text: time.RFC3339}, nil
	case strings.HasPrefix(s, "date:") && len(s) > len("date:"):
		return part{kind: phDate, text: s[len("date:"):]}, nil
	case strings.HasPrefix(s, "fields.") && len(s) > len("fields."):
		return part{kind: phField, text: s[len("fields."):]}, nil
	case strings.HasPrefix(s, "options.") && len(s) > len("options."):
		return part{kind: phOption, text: s[len("options."):]}, nil
	}
	return part{}, fmt.Errorf("unknown placeholder {%s} (_id, slug, date, date:<layout>, fields.<name>, options.<name>)", s)
}

// uses reports whether the template has a placeholder of the kind.
func (t *template) uses(kind placeholder) bool {
	for _, p := range t.parts {
		if p.kind == kind {
			return true
		}
	}
	return false
}

// vars are the values a template is rendered with.
type vars struct {
	s    *Submission
	id   string
	slug string
	now  time.Time // in the site's zone
}

// path renders the template as a content path: every substituted value is checked (ids,
// page references) or slugified (fields), and the result must be a clean relative path
// inside the template's fixed folder.
func (t *template) path(v *vars) (string, error) {
	b := make([]byte, 0, 96)
	for _, p := range t.parts {
		var val string
		switch p.kind {
		case literal:
			b = append(b, p.text...)
			continue
		case phID:
			val = v.id
			if !validID(val) {
				return "", fmt.Errorf("forms: id %q is not letters, digits, - and _", val)
			}
		case phSlug:
			val = v.slug
		case phDate:
			val = v.now.Format(p.text)
			for seg := range strings.SplitSeq(val, "/") {
				if !safeSegment(seg) {
					return "", fmt.Errorf("forms: date layout %q gives %q, not a safe path", p.text, val)
				}
			}
		case phField:
			val = slugify(v.s.Fields[p.text])
		case phOption:
			val = v.s.Options[p.text]
			ok := safeSegment(val)
			if p.text == "page" {
				ok = validRef(val)
			}
			if !ok {
				return "", fmt.Errorf("forms: options.%s %q is not a safe path", p.text, val)
			}
		}
		if val == "" {
			return "", fmt.Errorf("forms: the path's {%s} is empty", placeholderName(p))
		}
		b = append(b, val...)
	}
	out := string(b)
	if err := checkPath(out, t.fixed); err != nil {
		return "", err
	}
	return out, nil
}

// text renders the template as one line of text, for a commit message.
func (t *template) text(v *vars) string {
	var b strings.Builder
	for _, p := range t.parts {
		switch p.kind {
		case literal:
			b.WriteString(p.text)
		case phID:
			b.WriteString(v.id)
		case phSlug:
			b.WriteString(v.slug)
		case phDate:
			b.WriteString(v.now.Format(p.text))
		case phField:
			b.WriteString(v.s.Fields[p.text])
		case phOption:
			b.WriteString(v.s.Options[p.text])
		}
	}
	return oneLine(b.String(), maxSubject)
}

func placeholderName(p part) string {
	switch p.kind {
	case phID:
		return "_id"
	case phSlug:
		return "slug"
	case phDate:
		return "date:" + p.text
	case phField:
		return "fields." + p.text
	case phOption:
		return "options." + p.text
	}
	return p.text
}

// checkPath is the last word on a content path: relative, clean, inside fixed (and below
// it), no hidden or ignored names, nothing the forge would refuse.
func checkPath(p, fixed string) error {
	if err := forge.ValidPath(p); err != nil {
		return fmt.Errorf("forms: %w", err)
	}
	if fixed == "" || !strings.HasPrefix(p, fixed) || len(p) == len(fixed) || path.Clean(p) != p {
		return fmt.Errorf("forms: path %q leaves its folder %q", p, fixed)
	}
	for seg := range strings.SplitSeq(p, "/") {
		switch {
		case strings.HasPrefix(seg, "."), strings.HasSuffix(seg, "~"),
			strings.HasPrefix(seg, "_") && !(seg == "_index.md" && strings.HasSuffix(p, "/_index.md")):
			return fmt.Errorf("forms: path %q has a hidden or ignored name %q", p, seg)
		}
	}
	return nil
}

// safeSegment accepts one path name that any file system and URL take as is: ASCII
// letters, digits, '-', '_' and '.', starting with a letter or digit, not ending with a dot.
func safeSegment(s string) bool {
	if s == "" || len(s) > maxSegment || !isAlnum(s[0]) || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// validRef accepts a page reference such as "articles/budget-2026": safe names under one
// of the site's content sections, not ending in "index".
func validRef(s string) bool {
	if len(s) > maxRef || !utf8.ValidString(s) {
		return false
	}
	section, rest, ok := strings.Cut(s, "/")
	if _, known := site.Sections[section]; !known || !ok {
		return false
	}
	for seg := range strings.SplitSeq(rest, "/") {
		if !safeSegment(seg) {
			return false
		}
	}
	return path.Base(s) != "index"
}

// validID accepts what site.ParseComment takes as a comment's _id, starting with a letter
// or digit so that it is never a hidden name.
func validID(s string) bool {
	if s == "" || len(s) > 64 || !isAlnum(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
