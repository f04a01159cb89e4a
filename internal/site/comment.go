package site

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Comment is one approved comment, stored as comments/<page ref>/<id>.yaml.
type Comment struct {
	ID      string
	Parent  string
	Name    string
	Date    time.Time
	Body    string // Markdown; rendered with raw HTML off and sanitized
	Avatar  string // a keyed hash, never an e-mail address
	Page    string // the Ref of the page commented on
	Path    string // the file
	Replies []*Comment
}

// commentFile is the file's shape. Staticman writes _id and message; id and body are accepted.
type commentFile struct {
	ID      string `yaml:"_id"`
	AltID   string `yaml:"id"`
	Parent  string `yaml:"parent"`
	Name    string `yaml:"name"`
	Date    string `yaml:"date"`
	Message string `yaml:"message"`
	Body    string `yaml:"body"`
	Avatar  string `yaml:"avatar"`
}

var commentIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ParseComment decodes one comment file. file is its content path.
func ParseComment(file string, data []byte, loc *time.Location) (*Comment, error) {
	var cf commentFile
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(file, 0, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errorf(file, 1, "a comment is a YAML mapping (_id, name, date, message)")
	}
	// Read the known keys straight from the node tree: decoding it again into a struct
	// would walk it twice, and a site has tens of thousands of comments.
	m := doc.Content[0]
	fields := map[string]*string{
		"_id": &cf.ID, "id": &cf.AltID, "parent": &cf.Parent, "name": &cf.Name,
		"date": &cf.Date, "message": &cf.Message, "body": &cf.Body, "avatar": &cf.Avatar,
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		dst, known := fields[k.Value]
		if !known {
			continue // other keys (Staticman's url, a theme's own) are kept out of the model
		}
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			if v.Tag == "!!null" {
				continue
			}
			return nil, errorf(file, k.Line, "%s: expected text", k.Value)
		}
		*dst = v.Value
	}
	line := func(key string) int {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i].Line
			}
		}
		return 0
	}
	c := &Comment{ID: cf.ID, Parent: strings.TrimSpace(cf.Parent), Name: strings.TrimSpace(cf.Name), Body: cf.Message, Avatar: cf.Avatar, Path: file}
	if c.ID == "" {
		c.ID = cf.AltID
	}
	if c.Body == "" {
		c.Body = cf.Body
	}
	switch {
	case c.ID == "":
		return nil, errorf(file, 0, "_id: required")
	case !commentIDRE.MatchString(c.ID):
		return nil, errorf(file, line("_id"), "_id: %q must be letters, digits, - or _", c.ID)
	case c.Parent != "" && !commentIDRE.MatchString(c.Parent):
		return nil, errorf(file, line("parent"), "parent: %q is not a comment id", c.Parent)
	case c.Name == "":
		return nil, errorf(file, line("name"), "name: required")
	case strings.TrimSpace(c.Body) == "":
		return nil, errorf(file, 0, "message: required")
	}
	t, _, err := parseDate(cf.Date, loc)
	if err != nil {
		return nil, errorf(file, line("date"), "date: %v", err)
	}
	c.Date = t
	return c, nil
}

// thread links replies under their parents and orders each level oldest first. It returns
// the top-level comments and a fault for each comment whose parent is unknown.
func thread(cs []*Comment) ([]*Comment, ErrorList) {
	byID := make(map[string]*Comment, len(cs))
	var errs ErrorList
	for _, c := range cs {
		if prev, dup := byID[c.ID]; dup {
			errs = append(errs, errorf(c.Path, 0, "_id: %q is also the id of %s", c.ID, prev.Path))
			continue
		}
		byID[c.ID] = c
	}
	var top []*Comment
	for _, c := range cs {
		if byID[c.ID] != c {
			continue
		}
		if c.Parent == "" {
			top = append(top, c)
			continue
		}
		p, ok := byID[c.Parent]
		if !ok {
			errs = append(errs, errorf(c.Path, 0, "parent: unknown parent comment %q on this page", c.Parent))
			continue
		}
		p.Replies = append(p.Replies, c)
	}
	// A cycle (a ← b ← a) leaves comments unreachable from the top: report them.
	reached := 0
	var walk func([]*Comment, int)
	walk = func(l []*Comment, depth int) {
		sortComments(l)
		for _, c := range l {
			reached++
			if depth < len(cs) {
				walk(c.Replies, depth+1)
			}
		}
	}
	walk(top, 0)
	if reached+len(errs) < len(cs) {
		for _, c := range cs {
			if c.Parent != "" && byID[c.Parent] != nil && !reaches(c, byID) {
				errs = append(errs, errorf(c.Path, 0, "parent: comment %q is its own ancestor", c.ID))
			}
		}
	}
	return top, errs
}

func reaches(c *Comment, byID map[string]*Comment) bool {
	for i := 0; i <= len(byID); i++ {
		if c.Parent == "" {
			return true
		}
		p := byID[c.Parent]
		if p == nil {
			return false
		}
		c = p
	}
	return false
}

func sortComments(l []*Comment) {
	sort.SliceStable(l, func(i, j int) bool {
		if !l[i].Date.Equal(l[j].Date) {
			return l[i].Date.Before(l[j].Date)
		}
		return l[i].ID < l[j].ID
	})
}

// CountComments counts a thread's comments, replies included.
func CountComments(l []*Comment) int {
	n := len(l)
	for _, c := range l {
		n += CountComments(c.Replies)
	}
	return n
}

func (c *Comment) String() string { return fmt.Sprintf("comment %s on %s", c.ID, c.Page) }
