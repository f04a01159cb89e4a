// Package forgetest is the conformance suite that every forge.Forge runs, so that the
// service can use any of them without noticing which.
package forgetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parvis/parvis/internal/forge"
)

// Signature is who made a commit.
type Signature struct{ Name, Email string }

// Commit is what the suite reads of a commit.
type Commit struct {
	Hash      string
	Message   string
	Author    Signature
	Committer Signature
}

// Inspector gives the suite the view of someone outside Parvis: an editor with plain Git,
// or a maintainer on the forge's web pages. Paths are relative to the site root.
type Inspector interface {
	// ReadFile returns a file of the main branch, or an error wrapping fs.ErrNotExist.
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// Head returns the main branch's tip.
	Head(ctx context.Context) (Commit, error)
	// Commits returns the commits of a pending change that are not on the main branch.
	Commits(ctx context.Context, p *forge.Pending) ([]Commit, error)
	// Edit commits files to the main branch directly, as an editor would.
	Edit(ctx context.Context, files []forge.File, message string) error
	// Merge lands a pending change on the main branch without Parvis (git merge, the
	// forge's merge button). The suite calls it when the main branch has not moved since
	// the change was opened.
	Merge(ctx context.Context, p *forge.Pending) error
	// Close drops a pending change without Parvis (git branch -D, closing the pull
	// request).
	Close(ctx context.Context, p *forge.Pending) error
}

// NewFunc returns a forge on a fresh repository whose main branch has at least one commit,
// and an inspector of the same repository. It cleans up with t.Cleanup.
type NewFunc func(t *testing.T) (forge.Forge, Inspector)

// WatchTimeout bounds the wait for one Watch event. Forges that poll slowly may raise it.
var WatchTimeout = 30 * time.Second

// Run runs the suite, one subtest per case, each on a fresh repository.
func Run(t *testing.T, newForge NewFunc) {
	cases := []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"Open", testOpen},
		{"OpenIsIdempotent", testOpenIdempotent},
		{"ListNewestFirst", testList},
		{"GetAndDiff", testGetAndDiff},
		{"DiffOfReplacedFile", testDiffReplace},
		{"Approve", testApprove},
		{"ApproveSameFolder", testApproveSameFolder},
		{"ApproveReplacesFile", testApproveReplaces},
		{"ConflictLeavesMainUntouched", testConflict},
		{"ConflictOnAddedFile", testConflictAdded},
		{"Reject", testReject},
		{"UnknownID", testUnknown},
		{"RefusesBadChanges", testRefuses},
		{"Concurrent", testConcurrent},
		{"NoEmailInCommits", testNoEmail},
		{"Watch", testWatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, in := newForge(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			t.Cleanup(cancel)
			c.fn(t, &env{t: t, ctx: ctx, f: f, in: in})
		})
	}
}

// env holds one case's forge and its helpers, which fail the test on error.
type env struct {
	t   *testing.T
	ctx context.Context
	f   forge.Forge
	in  Inspector
}

func comment(id, page, author, text string) *forge.Change {
	return &forge.Change{
		ID:     id,
		Form:   "comment",
		Page:   page,
		Author: author,
		Body:   "A comment on " + page + ".",
		Files: []forge.File{{
			Path: "comments/" + page + "/" + id + ".yaml",
			Data: []byte("_id: " + id + "\nname: " + author + "\nmessage: |\n  " + text + "\n"),
		}},
	}
}

func (e *env) open(c *forge.Change) *forge.Pending {
	e.t.Helper()
	p, err := e.f.Open(e.ctx, c)
	if err != nil {
		e.t.Fatalf("Open(%s): %v", c.ID, err)
	}
	return p
}

func (e *env) approve(id string) string {
	e.t.Helper()
	commit, err := e.f.Approve(e.ctx, id)
	if err != nil {
		e.t.Fatalf("Approve(%s): %v", id, err)
	}
	if commit == "" {
		e.t.Fatalf("Approve(%s) returned no commit", id)
	}
	return commit
}

func (e *env) head() Commit {
	e.t.Helper()
	h, err := e.in.Head(e.ctx)
	if err != nil {
		e.t.Fatalf("Head: %v", err)
	}
	return h
}

func (e *env) edit(message string, files ...forge.File) {
	e.t.Helper()
	if err := e.in.Edit(e.ctx, files, message); err != nil {
		e.t.Fatalf("Edit: %v", err)
	}
}

func (e *env) list() []*forge.Pending {
	e.t.Helper()
	l, err := e.f.List(e.ctx)
	if err != nil {
		e.t.Fatalf("List: %v", err)
	}
	return l
}

// onMain checks that the main branch holds want at path; nil want: no file.
func (e *env) onMain(path string, want []byte) {
	e.t.Helper()
	got, err := e.in.ReadFile(e.ctx, path)
	switch {
	case want == nil && errors.Is(err, fs.ErrNotExist):
	case want == nil && err == nil:
		e.t.Errorf("main has %s, want no such file", path)
	case err != nil:
		e.t.Errorf("main: read %s: %v", path, err)
	case !bytes.Equal(got, want):
		e.t.Errorf("main: %s = %q, want %q", path, got, want)
	}
}

// gone checks that id is no longer pending.
func (e *env) gone(id string) {
	e.t.Helper()
	if _, err := e.f.Get(e.ctx, id); !notPending(err) {
		e.t.Errorf("Get(%s) = %v, want ErrNotFound or ErrClosed", id, err)
	}
	for _, p := range e.list() {
		if p.ID == id {
			e.t.Errorf("List still holds %s", id)
		}
	}
}

func notPending(err error) bool {
	return errors.Is(err, forge.ErrNotFound) || errors.Is(err, forge.ErrClosed)
}

func samePending(t *testing.T, got *forge.Pending, want *forge.Change) {
	t.Helper()
	if got.ID != want.ID || got.Form != want.Form || got.Page != want.Page || got.Author != want.Author {
		t.Errorf("pending %+v, want id %s, form %s, page %s, author %s", got.Change, want.ID, want.Form, want.Page, want.Author)
	}
	if got.Title != want.Subject() {
		t.Errorf("title = %q, want %q", got.Title, want.Subject())
	}
	if got.Body != strings.TrimSpace(want.Body) {
		t.Errorf("body = %q, want %q", got.Body, want.Body)
	}
	if got.Branch == "" || got.Opened.IsZero() || got.Base == "" {
		t.Errorf("pending %s lacks branch, opening time or base: %+v", got.ID, got)
	}
}

func sameFiles(t *testing.T, got, want []forge.File) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("files = %d, want %d: %v", len(got), len(want), paths(got))
	}
	for i := range want {
		if got[i].Path != want[i].Path || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Errorf("file %d = %s %q, want %s %q", i, got[i].Path, got[i].Data, want[i].Path, want[i].Data)
		}
	}
}

func paths(files []forge.File) []string {
	var s []string
	for _, f := range files {
		s = append(s, f.Path)
	}
	return s
}

func testOpen(t *testing.T, e *env) {
	before := e.head()
	c := comment("01OPEN", "articles/budget-2026", "Claire M.", "Merci.")
	c.Files = append(c.Files, forge.File{Path: "photos/marche/photo.jpg", Data: []byte{0xff, 0xd8, 0xff, 0, 1, 2}})
	p := e.open(c)
	samePending(t, p, c)
	sameFiles(t, p.Files, []forge.File{c.Files[0], c.Files[1]})
	if p.Base != before.Hash {
		t.Errorf("base = %s, want the main branch's tip %s", p.Base, before.Hash)
	}
	got, err := e.f.Get(e.ctx, c.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	samePending(t, got, c)
	sameFiles(t, got.Files, p.Files)
	if !got.Opened.Equal(p.Opened) || got.Base != p.Base || got.Branch != p.Branch {
		t.Errorf("Get = %+v, Open gave %+v", got, p)
	}
	if h := e.head(); h.Hash != before.Hash {
		t.Errorf("Open moved the main branch to %s", h.Hash)
	}
	e.onMain(c.Files[0].Path, nil)
}

func testOpenIdempotent(t *testing.T, e *env) {
	c := comment("01SAME", "articles/budget-2026", "Claire M.", "Merci.")
	first := e.open(c)
	again := *c
	again.Body = "Changed since."
	again.Files = []forge.File{{Path: "comments/other.yaml", Data: []byte("x")}}
	second := e.open(&again)
	if second.Branch != first.Branch || second.Base != first.Base || !second.Opened.Equal(first.Opened) || second.Body != first.Body {
		t.Errorf("second Open = %+v, want the first change %+v", second, first)
	}
	sameFiles(t, second.Files, c.Files)
	if l := e.list(); len(l) != 1 {
		t.Errorf("List holds %d changes, want 1", len(l))
	}
}

func testList(t *testing.T, e *env) {
	if l := e.list(); len(l) != 0 {
		t.Fatalf("a fresh forge lists %d changes", len(l))
	}
	ids := []string{"01LIST1", "01LIST2", "01LIST3"}
	for _, id := range ids {
		e.open(comment(id, "articles/budget-2026", "Claire M.", id))
	}
	l := e.list()
	if len(l) != len(ids) {
		t.Fatalf("List holds %d changes, want %d", len(l), len(ids))
	}
	for i, p := range l {
		if want := ids[len(ids)-1-i]; p.ID != want {
			t.Errorf("List[%d] = %s, want %s (newest first)", i, p.ID, want)
		}
		if p.Files != nil {
			t.Errorf("List[%d] has files; List leaves them to Get", i)
		}
		if p.Form != "comment" || p.Author != "Claire M." || p.Page != "articles/budget-2026" {
			t.Errorf("List[%d] = %+v, want its form, author and page", i, p.Change)
		}
		if i > 0 && p.Opened.After(l[i-1].Opened) {
			t.Errorf("List[%d] opened %s, after List[%d] %s", i, p.Opened, i-1, l[i-1].Opened)
		}
	}
}

func testGetAndDiff(t *testing.T, e *env) {
	c := comment("01DIFF", "events/fete", "Jean", "Une ligne ajoutée")
	e.open(c)
	p, err := e.f.Get(e.ctx, c.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	sameFiles(t, p.Files, c.Files)
	d, err := e.f.Diff(e.ctx, c.ID)
	if err != nil {
		t.Fatalf("Diff: %v", err)
	}
	for _, want := range []string{c.Files[0].Path, "+  Une ligne ajoutée", "+_id: 01DIFF"} {
		if !strings.Contains(d, want) {
			t.Errorf("Diff lacks %q:\n%s", want, d)
		}
	}
}

func testDiffReplace(t *testing.T, e *env) {
	page := "pages/a-propos.md"
	e.edit("About page", forge.File{Path: page, Data: []byte("---\ntitle: À propos\n---\nAncien texte.\n")})
	e.open(&forge.Change{ID: "01REPL", Form: "page", Page: "pages/a-propos", Author: "Mairie",
		Files: []forge.File{{Path: page, Data: []byte("---\ntitle: À propos\n---\nNouveau texte.\n")}}})
	d, err := e.f.Diff(e.ctx, "01REPL")
	if err != nil {
		t.Fatalf("Diff: %v", err)
	}
	for _, want := range []string{page, "-Ancien texte.", "+Nouveau texte."} {
		if !strings.Contains(d, want) {
			t.Errorf("Diff lacks %q:\n%s", want, d)
		}
	}
	if strings.Contains(d, "title: À propos\n+") || strings.Contains(d, "+title") {
		t.Errorf("Diff shows unchanged lines as added:\n%s", d)
	}
}

func testApprove(t *testing.T, e *env) {
	c := comment("01OK", "articles/budget-2026", "Claire M.", "Merci.")
	e.open(c)
	commit := e.approve(c.ID)
	if h := e.head(); h.Hash != commit {
		t.Errorf("Approve returned %s, the main branch is at %s", commit, h.Hash)
	}
	e.onMain(c.Files[0].Path, c.Files[0].Data)
	e.gone(c.ID)
	if _, err := e.f.Approve(e.ctx, c.ID); !notPending(err) {
		t.Errorf("second Approve = %v, want ErrNotFound or ErrClosed", err)
	}
	if err := e.f.Reject(e.ctx, c.ID, "late"); !notPending(err) {
		t.Errorf("Reject after Approve = %v, want ErrNotFound or ErrClosed", err)
	}
	if _, err := e.f.Diff(e.ctx, c.ID); !notPending(err) {
		t.Errorf("Diff after Approve = %v, want ErrNotFound or ErrClosed", err)
	}
}

func testApproveSameFolder(t *testing.T, e *env) {
	a := comment("01FOLA", "articles/budget-2026", "Claire M.", "Premier.")
	b := comment("01FOLB", "articles/budget-2026", "Paul", "Second.")
	e.open(a)
	e.open(b)
	e.edit("Unrelated edit", forge.File{Path: "articles/autre.md", Data: []byte("---\ntitle: Autre\n---\n")})
	e.approve(a.ID)
	e.approve(b.ID)
	e.onMain(a.Files[0].Path, a.Files[0].Data)
	e.onMain(b.Files[0].Path, b.Files[0].Data)
	e.onMain("articles/autre.md", []byte("---\ntitle: Autre\n---\n"))
	if l := e.list(); len(l) != 0 {
		t.Errorf("List holds %d changes after approving all", len(l))
	}
}

func testApproveReplaces(t *testing.T, e *env) {
	page := "pages/horaires.md"
	e.edit("Opening hours", forge.File{Path: page, Data: []byte("v1\n")})
	e.open(&forge.Change{ID: "01HOUR", Form: "page", Page: "pages/horaires", Author: "Accueil",
		Files: []forge.File{{Path: page, Data: []byte("v2\n")}}})
	e.edit("Unrelated edit", forge.File{Path: "pages/autre.md", Data: []byte("autre\n")})
	e.approve("01HOUR")
	e.onMain(page, []byte("v2\n"))
	e.onMain("pages/autre.md", []byte("autre\n"))
}

func testConflict(t *testing.T, e *env) {
	page := "pages/horaires.md"
	e.edit("Opening hours", forge.File{Path: page, Data: []byte("v1\n")})
	e.open(&forge.Change{ID: "01CONF", Form: "page", Author: "Accueil",
		Files: []forge.File{{Path: page, Data: []byte("v2\n")}, {Path: "pages/new.md", Data: []byte("new\n")}}})
	e.edit("Editor's change", forge.File{Path: page, Data: []byte("v3\n")})
	before := e.head()
	if _, err := e.f.Approve(e.ctx, "01CONF"); !errors.Is(err, forge.ErrConflict) {
		t.Fatalf("Approve = %v, want ErrConflict", err)
	}
	if h := e.head(); h.Hash != before.Hash {
		t.Errorf("a conflicting approval moved the main branch to %s", h.Hash)
	}
	e.onMain(page, []byte("v3\n"))
	e.onMain("pages/new.md", nil)
	if _, err := e.f.Get(e.ctx, "01CONF"); err != nil {
		t.Errorf("after a conflict the change must stay pending: Get = %v", err)
	}
	if err := e.f.Reject(e.ctx, "01CONF", "conflict"); err != nil {
		t.Errorf("Reject after a conflict: %v", err)
	}
	e.gone("01CONF")
}

func testConflictAdded(t *testing.T, e *env) {
	c := comment("01TWIN", "articles/budget-2026", "Claire M.", "Mine.")
	e.open(c)
	e.edit("Same path, other content", forge.File{Path: c.Files[0].Path, Data: []byte("theirs\n")})
	before := e.head()
	if _, err := e.f.Approve(e.ctx, c.ID); !errors.Is(err, forge.ErrConflict) {
		t.Fatalf("Approve = %v, want ErrConflict", err)
	}
	if h := e.head(); h.Hash != before.Hash {
		t.Errorf("a conflicting approval moved the main branch to %s", h.Hash)
	}
	e.onMain(c.Files[0].Path, []byte("theirs\n"))
}

func testReject(t *testing.T, e *env) {
	c := comment("01NO", "articles/budget-2026", "Troll", "Spam.")
	e.open(c)
	before := e.head()
	if err := e.f.Reject(e.ctx, c.ID, "off topic"); err != nil {
		t.Fatalf("Reject: %v", err)
	}
	if h := e.head(); h.Hash != before.Hash {
		t.Errorf("Reject moved the main branch to %s", h.Hash)
	}
	e.gone(c.ID)
	e.onMain(c.Files[0].Path, nil)
	if _, err := e.f.Approve(e.ctx, c.ID); !notPending(err) {
		t.Errorf("Approve after Reject = %v, want ErrNotFound or ErrClosed", err)
	}
}

func testUnknown(t *testing.T, e *env) {
	for _, id := range []string{"01NOSUCH", "../x", "", "a/b"} {
		wantNotFound := func(op string, err error) {
			t.Helper()
			if !errors.Is(err, forge.ErrNotFound) && !(id != "01NOSUCH" && errors.Is(err, forge.ErrInvalid)) {
				t.Errorf("%s(%q) = %v, want ErrNotFound", op, id, err)
			}
		}
		_, err := e.f.Get(e.ctx, id)
		wantNotFound("Get", err)
		_, err = e.f.Diff(e.ctx, id)
		wantNotFound("Diff", err)
		_, err = e.f.Approve(e.ctx, id)
		wantNotFound("Approve", err)
		wantNotFound("Reject", e.f.Reject(e.ctx, id, "x"))
	}
}

func testRefuses(t *testing.T, e *env) {
	before := e.head()
	file := func(p string) []forge.File { return []forge.File{{Path: p, Data: []byte("x")}} }
	good := func(edit func(c *forge.Change)) *forge.Change {
		c := comment("01BAD", "articles/budget-2026", "Claire M.", "x")
		edit(c)
		return c
	}
	cases := []struct {
		name string
		c    *forge.Change
	}{
		{"parent", good(func(c *forge.Change) { c.Files = file("../x") })},
		{"absolute", good(func(c *forge.Change) { c.Files = file("/etc/passwd") })},
		{"git config", good(func(c *forge.Change) { c.Files = file(".git/config") })},
		{"git hook", good(func(c *forge.Change) { c.Files = file("a/.git/hooks/pre-commit") })},
		{"git case", good(func(c *forge.Change) { c.Files = file("comments/.GIT/x") })},
		{"git dot", good(func(c *forge.Change) { c.Files = file(".git./config") })},
		{"escape", good(func(c *forge.Change) { c.Files = file("a/../../b") })},
		{"inner parent", good(func(c *forge.Change) { c.Files = file("a/../b") })},
		{"empty path", good(func(c *forge.Change) { c.Files = file("") })},
		{"dot", good(func(c *forge.Change) { c.Files = file("./a") })},
		{"double slash", good(func(c *forge.Change) { c.Files = file("a//b") })},
		{"trailing slash", good(func(c *forge.Change) { c.Files = file("a/") })},
		{"backslash", good(func(c *forge.Change) { c.Files = file(`a\..\..\b`) })},
		{"control", good(func(c *forge.Change) { c.Files = file("a\x00b") })},
		{"newline", good(func(c *forge.Change) { c.Files = file("a\nb") })},
		{"no files", good(func(c *forge.Change) { c.Files = nil })},
		{"twice", good(func(c *forge.Change) { c.Files = append(file("a/b"), file("a/b")...) })},
		{"file and folder", good(func(c *forge.Change) { c.Files = append(file("a"), file("a/b")...) })},
		{"page escapes", good(func(c *forge.Change) { c.Page = "../etc" })},
		{"empty id", good(func(c *forge.Change) { c.ID = "" })},
		{"id path", good(func(c *forge.Change) { c.ID = "../main" })},
		{"id slash", good(func(c *forge.Change) { c.ID = "a/b" })},
		{"id space", good(func(c *forge.Change) { c.ID = "a b" })},
		{"id long", good(func(c *forge.Change) { c.ID = strings.Repeat("a", 101) })},
		{"no form", good(func(c *forge.Change) { c.Form = "" })},
		{"author e-mail", good(func(c *forge.Change) { c.Author = "claire.martin@example.org" })},
		{"author with e-mail", good(func(c *forge.Change) { c.Author = "Claire M. <claire.martin@example.org>" })},
		{"author two lines", good(func(c *forge.Change) { c.Author = "Claire\nM." })},
		{"title two lines", good(func(c *forge.Change) { c.Title = "one\ntwo" })},
		{"nil", nil},
	}
	for _, tc := range cases {
		if _, err := e.f.Open(e.ctx, tc.c); !errors.Is(err, forge.ErrInvalid) {
			t.Errorf("%s: Open = %v, want ErrInvalid", tc.name, err)
		}
	}
	if l := e.list(); len(l) != 0 {
		t.Errorf("refused changes left %d pending", len(l))
	}
	if h := e.head(); h.Hash != before.Hash {
		t.Errorf("refused changes moved the main branch")
	}
	e.onMain("x", nil)
}

func testConcurrent(t *testing.T, e *env) {
	const n = 8
	var changes []*forge.Change
	for i := range n {
		changes = append(changes, comment(fmt.Sprintf("01CONC%02d", i), "articles/budget-2026", "Claire M.", fmt.Sprint(i)))
	}
	var wg sync.WaitGroup
	for i, c := range changes {
		wg.Go(func() {
			if _, err := e.f.Open(e.ctx, c); err != nil {
				t.Errorf("Open(%s): %v", c.ID, err)
			}
		})
		if i%2 == 0 { // the same change twice at once, as a retrying worker would
			wg.Go(func() {
				if _, err := e.f.Open(e.ctx, c); err != nil {
					t.Errorf("Open(%s) again: %v", c.ID, err)
				}
			})
		}
	}
	wg.Wait()
	if l := e.list(); len(l) != n {
		t.Fatalf("List holds %d changes, want %d", len(l), n)
	}
	type result struct {
		id, commit string
		err        error
	}
	results := make(chan result, n+1)
	approve := func(id string) {
		commit, err := e.f.Approve(e.ctx, id)
		results <- result{id, commit, err}
	}
	for _, c := range changes {
		wg.Go(func() { approve(c.ID) })
		wg.Go(func() { // moderators reading meanwhile
			if _, err := e.f.List(e.ctx); err != nil {
				t.Errorf("List: %v", err)
			}
		})
	}
	wg.Go(func() { approve(changes[0].ID) }) // twice at once: lands once
	wg.Wait()
	close(results)
	landed := make(map[string]int)
	commits := make(map[string]bool)
	for r := range results {
		switch {
		case r.err == nil:
			landed[r.id]++
			if commits[r.commit] {
				t.Errorf("two approvals returned the same commit %s", r.commit)
			}
			commits[r.commit] = true
		case !notPending(r.err):
			t.Errorf("Approve(%s): %v", r.id, r.err)
		}
	}
	for _, c := range changes {
		if landed[c.ID] != 1 {
			t.Errorf("%s landed %d times, want once", c.ID, landed[c.ID])
		}
	}
	for _, c := range changes {
		e.onMain(c.Files[0].Path, c.Files[0].Data)
	}
	if l := e.list(); len(l) != 0 {
		t.Errorf("List holds %d changes after approving all", len(l))
	}
}

var mailRE = regexp.MustCompile(`[^\s@<>]+@[^\s@<>]+\.[a-z]{2,}`)

func testNoEmail(t *testing.T, e *env) {
	c := comment("01MAIL", "articles/budget-2026", "Claire M.", "Merci.")
	p := e.open(c)
	commits, err := e.in.Commits(e.ctx, p)
	if err != nil {
		t.Fatalf("Commits: %v", err)
	}
	if len(commits) == 0 {
		t.Fatal("the pending change has no commit")
	}
	e.approve(c.ID)
	commits = append(commits, e.head())
	for _, cm := range commits {
		for _, s := range []Signature{cm.Author, cm.Committer} {
			if s.Name == c.Author || strings.Contains(strings.ToLower(s.Email), "claire") {
				t.Errorf("commit %s is signed %s <%s>: the site's bot signs, not the citizen", cm.Hash, s.Name, s.Email)
			}
		}
		if m := mailRE.FindString(cm.Message); m != "" {
			t.Errorf("commit %s's message holds an e-mail address %q:\n%s", cm.Hash, m, cm.Message)
		}
	}
	if !strings.Contains(commits[0].Message, "Claire M.") {
		t.Errorf("the change's commit does not credit the citizen's display name:\n%s", commits[0].Message)
	}
}

func testWatch(t *testing.T, e *env) {
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	events := make(chan forge.Event, 64)
	done := make(chan error, 1)
	go func() { done <- e.f.Watch(ctx, func(ev forge.Event) { events <- ev }) }()

	wait := func(ids ...string) map[string]forge.Event {
		t.Helper()
		got := make(map[string]forge.Event)
		timeout := time.After(WatchTimeout)
		for !hasAll(got, ids) {
			select {
			case ev := <-events:
				got[ev.ID] = ev
			case err := <-done:
				t.Fatalf("Watch returned early: %v", err)
			case <-timeout:
				t.Fatalf("no event for %v after %s; got %v", ids, WatchTimeout, got)
			}
		}
		return got
	}

	// Probes tell when the watch has started: a closure is seen only from then on.
	for i := 0; ; i++ {
		probe := e.open(comment(fmt.Sprintf("01PROBE%d", i), "articles/x", "P", "p"))
		if err := e.in.Close(e.ctx, probe); err != nil {
			t.Fatalf("Close: %v", err)
		}
		select {
		case ev := <-events:
			if !strings.HasPrefix(ev.ID, "01PROBE") || ev.Kind != forge.Closed {
				t.Fatalf("probe event = %+v, want a closed probe", ev)
			}
		case err := <-done:
			t.Fatalf("Watch returned early: %v", err)
		case <-time.After(WatchTimeout / 10):
			if i < 5 {
				continue
			}
			t.Fatalf("Watch reports nothing")
		}
		break
	}

	a := comment("01WA", "articles/budget-2026", "A", "a")
	b := comment("01WB", "articles/budget-2026", "B", "b")
	pa, pb := e.open(a), e.open(b)
	if err := e.in.Merge(e.ctx, pa); err != nil {
		t.Fatalf("Merge: %v", err)
	}
	if err := e.in.Close(e.ctx, pb); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := wait(a.ID, b.ID)
	if ev := got[a.ID]; ev.Kind != forge.Merged {
		t.Errorf("event for %s = %+v, want merged", a.ID, ev)
	}
	if ev := got[b.ID]; ev.Kind != forge.Closed {
		t.Errorf("event for %s = %+v, want closed", b.ID, ev)
	}
	e.gone(a.ID)
	e.gone(b.ID)
	e.onMain(a.Files[0].Path, a.Files[0].Data)

	// The forge's own approvals and rejections are not reported; the next outside merge is.
	c := comment("01WC", "articles/budget-2026", "C", "c")
	r := comment("01WR", "articles/budget-2026", "R", "r")
	e.open(c)
	e.open(r)
	e.approve(c.ID)
	if err := e.f.Reject(e.ctx, r.ID, "no"); err != nil {
		t.Fatalf("Reject: %v", err)
	}
	d := comment("01WD", "articles/budget-2026", "D", "d")
	pd := e.open(d)
	if err := e.in.Merge(e.ctx, pd); err != nil {
		t.Fatalf("Merge: %v", err)
	}
	got = wait(d.ID)
	if ev := got[d.ID]; ev.Kind != forge.Merged {
		t.Errorf("event for %s = %+v, want merged", d.ID, ev)
	}
	e.onMain(d.Files[0].Path, d.Files[0].Data)

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Watch returned %v, want context.Canceled", err)
		}
	case <-time.After(WatchTimeout):
		t.Fatalf("Watch did not return after its context was canceled")
	}
	// Watch has returned: every event it sent is in the channel.
	close(events)
	for ev := range events {
		got[ev.ID] = ev
	}
	for _, id := range []string{c.ID, r.ID} {
		if ev, ok := got[id]; ok {
			t.Errorf("Watch reported the forge's own decision: %+v", ev)
		}
	}
}

func hasAll(got map[string]forge.Event, ids []string) bool {
	for _, id := range ids {
		if _, ok := got[id]; !ok {
			return false
		}
	}
	return true
}
