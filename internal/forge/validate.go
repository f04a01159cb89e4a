package forge

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on a change. They are generous for a web form and keep commit subjects readable.
const (
	MaxFiles       = 100
	maxIDLen       = 100
	maxTitleLen    = 200 // characters
	maxAuthorLen   = 100 // characters
	maxPathLen     = 1024
	maxSegmentLen  = 255
	maxFormNameLen = 64
)

var (
	idRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
	formRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	mailRE = regexp.MustCompile(`[^\s@<>()]+@[^\s@<>()]+\.[^\s@<>()]+`)
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// ValidID reports whether id can name a change: letters, digits, '-' and '_', starting with
// a letter or digit, at most 100 bytes. Such an id is safe in a branch name and a file name.
func ValidID(id string) error {
	if id == "" {
		return invalid("empty id")
	}
	if len(id) > maxIDLen || !idRE.MatchString(id) {
		return invalid("id %q: use at most %d letters, digits, '-' and '_'", id, maxIDLen)
	}
	return nil
}

// ValidPath reports whether p is a clean content path inside the site: relative,
// slash-separated, without "." or ".." segments, empty segments, a ".git" segment,
// backslashes or control characters.
func ValidPath(p string) error {
	switch {
	case p == "":
		return invalid("empty path")
	case len(p) > maxPathLen:
		return invalid("path %.40q…: longer than %d bytes", p, maxPathLen)
	case !utf8.ValidString(p):
		return invalid("path %q: not valid UTF-8", p)
	case strings.HasPrefix(p, "/"):
		return invalid("path %q: must be relative to the site root", p)
	case strings.ContainsRune(p, '\\'):
		return invalid("path %q: use '/' to separate folders", p)
	case strings.IndexFunc(p, unicode.IsControl) >= 0:
		return invalid("path %q: contains a control character", p)
	}
	for seg := range strings.SplitSeq(p, "/") {
		switch {
		case seg == "..":
			return invalid("path %q: must not leave the site folder", p)
		case seg == "" || seg == ".":
			return invalid("path %q: not clean (want %q)", p, path.Clean(p))
		case len(seg) > maxSegmentLen:
			return invalid("path %q: a name is longer than %d bytes", p, maxSegmentLen)
		case isGitDir(seg):
			return invalid("path %q: must not touch the repository's .git folder", p)
		}
	}
	return nil
}

// isGitDir matches ".git" also as the file systems that fold names would resolve it: case,
// trailing dots and spaces, NTFS streams and short names (Windows), ignorable code points
// (macOS).
func isGitDir(seg string) bool {
	seg = strings.Map(func(r rune) rune {
		if hfsIgnorable(r) {
			return -1
		}
		return r
	}, seg)
	seg, _, _ = strings.Cut(seg, ":")
	seg = strings.TrimRight(seg, ". ")
	return strings.EqualFold(seg, ".git") || strings.EqualFold(seg, "git~1")
}

// hfsIgnorable lists the code points that HFS+ leaves out when it compares names.
func hfsIgnorable(r rune) bool {
	switch {
	case r >= 0x200c && r <= 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x206a && r <= 0x206f:
		return true
	}
	return r == 0xfeff
}

// Validate checks a change before any forge touches anything: its ID, its one-line fields,
// that Author is not an e-mail address, and every file path. Errors wrap ErrInvalid.
func (c *Change) Validate() error {
	if c == nil {
		return invalid("no change")
	}
	if err := ValidID(c.ID); err != nil {
		return err
	}
	if c.Form == "" {
		return invalid("change %s: empty form name", c.ID)
	}
	if len(c.Form) > maxFormNameLen || !formRE.MatchString(c.Form) {
		return invalid("change %s: form name %q: use letters, digits, '.', '-' and '_'", c.ID, c.Form)
	}
	if c.Page != "" {
		if err := ValidPath(c.Page); err != nil {
			return fmt.Errorf("change %s: page: %w", c.ID, err)
		}
	}
	if err := oneLine("title", c.Title, maxTitleLen); err != nil {
		return fmt.Errorf("change %s: %w", c.ID, err)
	}
	if err := oneLine("author", c.Author, maxAuthorLen); err != nil {
		return fmt.Errorf("change %s: %w", c.ID, err)
	}
	if mailRE.MatchString(c.Author) {
		return invalid("change %s: author must be a display name, not an e-mail address", c.ID)
	}
	if !utf8.ValidString(c.Body) || strings.ContainsRune(c.Body, 0) {
		return invalid("change %s: body is not valid UTF-8 text", c.ID)
	}
	if len(c.Files) == 0 {
		return invalid("change %s: no files", c.ID)
	}
	if len(c.Files) > MaxFiles {
		return invalid("change %s: %d files, at most %d", c.ID, len(c.Files), MaxFiles)
	}
	seen := make(map[string]bool, len(c.Files))
	for _, f := range c.Files {
		if err := ValidPath(f.Path); err != nil {
			return fmt.Errorf("change %s: file: %w", c.ID, err)
		}
		if seen[f.Path] {
			return invalid("change %s: file %q given twice", c.ID, f.Path)
		}
		seen[f.Path] = true
	}
	// A file cannot also be a folder of another file of the same change.
	for p := range seen {
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			if seen[dir] {
				return invalid("change %s: %q is both a file and the folder of %q", c.ID, dir, p)
			}
		}
	}
	return nil
}

func oneLine(field, s string, max int) error {
	switch {
	case !utf8.ValidString(s):
		return invalid("%s is not valid UTF-8", field)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return invalid("%s must be one line of text", field)
	case utf8.RuneCountInString(s) > max:
		return invalid("%s is longer than %d characters", field, max)
	case s != strings.TrimSpace(s):
		return invalid("%s has leading or trailing spaces", field)
	}
	return nil
}
