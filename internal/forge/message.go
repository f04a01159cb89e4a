package forge

import (
	"strings"
)

// Trailers carried by every change's message, so that a change can be read back from the
// forge alone, and found again in the history ("git log --grep 'Parvis-Change: <id>'").
const (
	TrailerChange = "Parvis-Change"
	TrailerForm   = "Parvis-Form"
	TrailerPage   = "Parvis-Page"
	TrailerAuthor = "Parvis-Author"
)

// Subject is the change's one-line title: Title, or else a summary such as
// "comment on articles/budget-2026 by Claire M.".
func (c *Change) Subject() string {
	if c.Title != "" {
		return c.Title
	}
	var b strings.Builder
	b.WriteString(c.Form)
	if c.Page != "" {
		b.WriteString(" on ")
		b.WriteString(c.Page)
	}
	if c.Author != "" {
		b.WriteString(" by ")
		b.WriteString(c.Author)
	}
	return b.String()
}

// Message is the commit message (or pull request text) of a validated change: its subject,
// its body, and a last paragraph of trailers naming the change, form, page and author.
func (c *Change) Message() string {
	var b strings.Builder
	b.WriteString(c.Subject())
	b.WriteString("\n\n")
	if body := normalizeBody(c.Body); body != "" {
		b.WriteString(body)
		b.WriteString("\n\n")
	}
	trailer := func(key, value string) {
		if value != "" {
			b.WriteString(key + ": " + value + "\n")
		}
	}
	trailer(TrailerChange, c.ID)
	trailer(TrailerForm, c.Form)
	trailer(TrailerPage, c.Page)
	trailer(TrailerAuthor, c.Author)
	return b.String()
}

// ParseMessage reads back a message written by Message. It returns false when the message
// has no Parvis-Change trailer in its last paragraph. Files are left nil.
func ParseMessage(msg string) (*Change, bool) {
	msg = normalizeBody(msg)
	cut := strings.LastIndex(msg, "\n\n")
	if cut < 0 {
		return nil, false
	}
	head, tail := msg[:cut], msg[cut+2:]
	c := new(Change)
	for line := range strings.SplitSeq(tail, "\n") {
		key, value, ok := strings.Cut(line, ": ")
		if !ok {
			return nil, false // not a trailer paragraph
		}
		switch key {
		case TrailerChange:
			c.ID = value
		case TrailerForm:
			c.Form = value
		case TrailerPage:
			c.Page = value
		case TrailerAuthor:
			c.Author = value
		}
	}
	if c.ID == "" {
		return nil, false
	}
	subject, body, _ := strings.Cut(head, "\n")
	c.Title = strings.TrimSpace(subject)
	c.Body = strings.TrimSpace(body)
	return c, true
}

// normalizeBody gives web forms' CRLF line endings Git's LF, and trims blank space.
func normalizeBody(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}
