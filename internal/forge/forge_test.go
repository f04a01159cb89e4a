package forge

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestValidPath(t *testing.T) {
	cases := []struct {
		path string
		want string // "" when valid, else a part of the error
	}{
		{"comments/articles/budget-2026/01J.yaml", ""},
		{"photos/marché/photo été.jpg", ""},
		{".well-known/security.txt", ""},
		{"articles/.gitkeep", ""},
		{"a/.github/x", ""},
		{"git~2", ""},
		{"", "empty path"},
		{"../x", "leave the site"},
		{"a/../../b", "leave the site"},
		{"a/..", "leave the site"},
		{"/etc/passwd", "relative"},
		{".git", ".git"},
		{".git/config", ".git"},
		{"a/.git/hooks/pre-commit", ".git"},
		{".GIT/config", ".git"},
		{".Git./config", ".git"},
		{".git /config", ".git"},
		{".git::$INDEX_ALLOCATION/x", ".git"},
		{"GIT~1/config", ".git"},
		{".g\u200cit/config", ".git"},
		{"\ufeff.git/config", ".git"},
		{"./a", "not clean"},
		{"a/./b", "not clean"},
		{"a//b", "not clean"},
		{"a/", "not clean"},
		{`a\b`, "use '/'"},
		{"a\x00b", "control"},
		{"a\nb", "control"},
		{"a\x7fb", "control"},
		{"\xff", "UTF-8"},
		{strings.Repeat("a", 256), "longer than 255"},
		{strings.Repeat("a/", 600) + "b", "longer than 1024"},
	}
	for _, tc := range cases {
		err := ValidPath(tc.path)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("ValidPath(%q) = %v, want nil", tc.path, err)
		case tc.want != "" && (err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("ValidPath(%q) = %v, want ErrInvalid saying %q", tc.path, err, tc.want)
		}
	}
}

func TestValidID(t *testing.T) {
	for _, id := range []string{"01JD8W0F3S6W6J8V5Q0Z3Y2X1A", "a", "a-b_c", strings.Repeat("x", 100)} {
		if err := ValidID(id); err != nil {
			t.Errorf("ValidID(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"", "-a", "_a", "a/b", "a.b", "..", "a b", "é", strings.Repeat("x", 101), "a\n"} {
		if err := ValidID(id); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidID(%q) = %v, want ErrInvalid", id, err)
		}
	}
}

func valid() *Change {
	return &Change{
		ID: "01J", Form: "comment", Page: "articles/budget-2026", Author: "Claire M.",
		Title: "Un titre", Body: "Un texte\r\nde deux lignes.",
		Files: []File{{Path: "comments/articles/budget-2026/01J.yaml", Data: []byte("x")}},
	}
}

func TestValidate(t *testing.T) {
	files := func(paths ...string) []File {
		var fs []File
		for _, p := range paths {
			fs = append(fs, File{Path: p})
		}
		return fs
	}
	cases := []struct {
		name string
		edit func(*Change)
		want string // "" when valid
	}{
		{"valid", func(*Change) {}, ""},
		{"no page, title or author", func(c *Change) { c.Page, c.Title, c.Author = "", "", "" }, ""},
		{"author with @", func(c *Change) { c.Author = "Claire @ Belcombe" }, ""},
		{"many files", func(c *Change) { c.Files = files("a", "b/c", "b/d", "e/f/g") }, ""},
		{"form with dot", func(c *Change) { c.Form = "photo.contest" }, ""},
		{"bad id", func(c *Change) { c.ID = "../x" }, "id"},
		{"no form", func(c *Change) { c.Form = "" }, "empty form"},
		{"bad form", func(c *Change) { c.Form = "a form" }, "form name"},
		{"bad page", func(c *Change) { c.Page = "/articles/x" }, "page"},
		{"author e-mail", func(c *Change) { c.Author = "claire@example.org" }, "not an e-mail"},
		{"author and e-mail", func(c *Change) { c.Author = "Claire M. (claire.m@mail.example.fr)" }, "not an e-mail"},
		{"author two lines", func(c *Change) { c.Author = "Claire\nM." }, "one line"},
		{"author too long", func(c *Change) { c.Author = strings.Repeat("é", 101) }, "longer than 100"},
		{"author spaces", func(c *Change) { c.Author = " Claire" }, "spaces"},
		{"title tab", func(c *Change) { c.Title = "a\tb" }, "one line"},
		{"title too long", func(c *Change) { c.Title = strings.Repeat("a", 201) }, "longer than 200"},
		{"title not UTF-8", func(c *Change) { c.Title = "\xff" }, "UTF-8"},
		{"body NUL", func(c *Change) { c.Body = "a\x00b" }, "body"},
		{"no files", func(c *Change) { c.Files = nil }, "no files"},
		{"too many files", func(c *Change) { c.Files = make([]File, MaxFiles+1) }, "at most"},
		{"bad file", func(c *Change) { c.Files = files("ok", "../x") }, "leave the site"},
		{"twice", func(c *Change) { c.Files = files("a/b", "a/b") }, "twice"},
		{"file and folder", func(c *Change) { c.Files = files("a/b/c", "a") }, "both a file and the folder"},
	}
	for _, tc := range cases {
		c := valid()
		tc.edit(c)
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: Validate = %v, want ErrInvalid saying %q", tc.name, err, tc.want)
		}
	}
	var nilChange *Change
	if err := nilChange.Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil change: %v", err)
	}
}

func TestMessage(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Change)
		msg  string
	}{
		{"full", func(*Change) {},
			"Un titre\n\nUn texte\nde deux lignes.\n\n" +
				"Parvis-Change: 01J\nParvis-Form: comment\nParvis-Page: articles/budget-2026\nParvis-Author: Claire M.\n"},
		{"summary", func(c *Change) { c.Title, c.Body = "", "" },
			"comment on articles/budget-2026 by Claire M.\n\n" +
				"Parvis-Change: 01J\nParvis-Form: comment\nParvis-Page: articles/budget-2026\nParvis-Author: Claire M.\n"},
		{"anonymous, no page", func(c *Change) { c.Title, c.Page, c.Author = "", "", "" },
			"comment\n\nUn texte\nde deux lignes.\n\nParvis-Change: 01J\nParvis-Form: comment\n"},
		{"body ending like trailers", func(c *Change) { c.Body = "Texte.\n\nParvis-Change: other\nParvis-Author: Mallory" },
			"Un titre\n\nTexte.\n\nParvis-Change: other\nParvis-Author: Mallory\n\n" +
				"Parvis-Change: 01J\nParvis-Form: comment\nParvis-Page: articles/budget-2026\nParvis-Author: Claire M.\n"},
	}
	for _, tc := range cases {
		c := valid()
		tc.edit(c)
		if got := c.Message(); got != tc.msg {
			t.Errorf("%s: Message =\n%s\nwant\n%s", tc.name, got, tc.msg)
			continue
		}
		back, ok := ParseMessage(tc.msg)
		if !ok {
			t.Errorf("%s: ParseMessage refused its own message", tc.name)
			continue
		}
		want := *c
		want.Title = c.Subject()
		want.Body = strings.TrimSpace(strings.ReplaceAll(c.Body, "\r\n", "\n"))
		want.Files = nil
		if fmt.Sprint(*back) != fmt.Sprint(want) {
			t.Errorf("%s: ParseMessage = %+v, want %+v", tc.name, *back, want)
		}
	}
	for _, msg := range []string{"", "Subject only", "Subject\n\nBody only.", "Subject\n\nParvis-Form: comment\n", "Subject\n\nParvis-Change: x\nnot a trailer\n"} {
		if c, ok := ParseMessage(msg); ok {
			t.Errorf("ParseMessage(%q) = %+v, want none", msg, c)
		}
	}
}

func TestErrors(t *testing.T) {
	cause := errors.New("secondary rate limit")
	var err error = fmt.Errorf("open 01J: %w", &RateLimited{RetryAfter: 61500 * time.Millisecond, Err: cause})
	var rl *RateLimited
	if !errors.As(err, &rl) || rl.RetryAfter != 61500*time.Millisecond || !errors.Is(err, cause) {
		t.Errorf("RateLimited does not unwrap: %v", err)
	}
	if got, want := rl.Error(), "forge: rate limited, retry after 1m2s: secondary rate limit"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := (&RateLimited{RetryAfter: time.Second}).Error(); got != "forge: rate limited, retry after 1s" {
		t.Errorf("Error() = %q", got)
	}
	for k, want := range map[EventKind]string{Merged: "merged", Closed: "closed", 9: "EventKind(9)"} {
		if k.String() != want {
			t.Errorf("%d.String() = %q, want %q", k, k.String(), want)
		}
	}
}
