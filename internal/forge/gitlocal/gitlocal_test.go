package gitlocal

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"go.uber.org/goleak"

	"github.com/parvis/parvis/internal/forge"
	"github.com/parvis/parvis/internal/forge/forgetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		cleanupBench()
		os.Exit(code)
	}))
}

const poll = 20 * time.Millisecond

func TestConformance(t *testing.T) {
	t.Run("disk", func(t *testing.T) {
		forgetest.Run(t, func(t *testing.T) (forge.Forge, forgetest.Inspector) {
			dir := diskRepo(t, "")
			f, err := Open(dir, Options{PollInterval: poll, Now: newClock().Now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { checkRepo(t, dir) })
			return f, &cli{dir: dir, main: "main"}
		})
	})
	t.Run("disk-site-folder", func(t *testing.T) {
		forgetest.Run(t, func(t *testing.T) (forge.Forge, forgetest.Inspector) {
			dir := diskRepo(t, "content")
			f, err := Open(dir, Options{Dir: "content", PollInterval: poll})
			if err != nil {
				t.Fatal(err)
			}
			return f, &cli{dir: dir, main: "main", site: "content"}
		})
	})
	t.Run("memory", func(t *testing.T) {
		forgetest.Run(t, func(t *testing.T) (forge.Forge, forgetest.Inspector) {
			f, err := New(memRepo(t), Options{PollInterval: poll, Now: newClock().Now})
			if err != nil {
				t.Fatal(err)
			}
			return f, &gogit{f}
		})
	})
}

// checkRepo checks with plain git that the repository is sound and that its worktree is
// in step with the main branch.
func checkRepo(t *testing.T, dir string) {
	t.Helper()
	if t.Failed() {
		return
	}
	run(t, dir, "fsck", "--strict", "--no-dangling", "--no-progress")
	if st := run(t, dir, "status", "--porcelain", "--untracked-files=no"); st != "" {
		t.Errorf("the worktree is out of step with main:\n%s", st)
	}
}

func comment(id, author string) *forge.Change {
	return &forge.Change{
		ID: id, Form: "comment", Page: "articles/budget-2026", Author: author,
		Body: "Un commentaire\r\nsur deux lignes.",
		Files: []forge.File{{
			Path: "comments/articles/budget-2026/" + id + ".yaml",
			Data: []byte("_id: " + id + "\nname: " + author + "\nmessage: Merci\n"),
		}},
	}
}

func TestCommitShape(t *testing.T) {
	ctx := context.Background()
	dir := diskRepo(t, "")
	clk := newClock()
	f, err := Open(dir, Options{Now: clk.Now, BotName: "Ville de Belcombe", BotEmail: "noreply@belcombe.fr"})
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSpace(run(t, dir, "rev-parse", "main"))

	p, err := f.Open(ctx, comment("01SHAPE", "Claire M."))
	if err != nil {
		t.Fatal(err)
	}
	const wantMsg = "comment on articles/budget-2026 by Claire M.\n\n" +
		"Un commentaire\nsur deux lignes.\n\n" +
		"Parvis-Change: 01SHAPE\nParvis-Form: comment\nParvis-Page: articles/budget-2026\nParvis-Author: Claire M.\n"
	show := func(rev string) string {
		return run(t, dir, "show", "-s", "--format=%an <%ae> %aI|%cn <%ce> %cI|%P|%B", rev)
	}
	want := "Ville de Belcombe <noreply@belcombe.fr> 2026-03-14T09:30:01+01:00|" +
		"Ville de Belcombe <noreply@belcombe.fr> 2026-03-14T09:30:01+01:00|" + base + "|" + wantMsg + "\n"
	if got := show("parvis/01SHAPE"); got != want {
		t.Errorf("commit =\n%s\nwant\n%s", got, want)
	}
	if p.Branch != "parvis/01SHAPE" || p.Base != base || !p.Opened.Equal(time.Date(2026, 3, 14, 8, 30, 1, 0, time.UTC)) {
		t.Errorf("pending = %+v", p)
	}
	if files := run(t, dir, "diff", "--name-status", "main", "parvis/01SHAPE"); files != "A\tcomments/articles/budget-2026/01SHAPE.yaml\n" {
		t.Errorf("the change's commit touches:\n%s", files)
	}

	// Main has not moved: approving fast-forwards to the change's own commit.
	tip := strings.TrimSpace(run(t, dir, "rev-parse", "parvis/01SHAPE"))
	commit, err := f.Approve(ctx, "01SHAPE")
	if err != nil {
		t.Fatal(err)
	}
	if commit != tip {
		t.Errorf("Approve = %s, want a fast-forward to %s", commit, tip)
	}
	if out := run(t, dir, "branch", "--list", "parvis/*"); out != "" {
		t.Errorf("branches left: %s", out)
	}

	// Main has moved: the change is replayed in one commit, the bot committing now.
	if _, err := f.Open(ctx, comment("01LATE", "Paul")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "pages", "new.md"), "new\n")
	run(t, dir, "add", "pages/new.md")
	run(t, dir, "commit", "-q", "-m", "New page")
	moved := strings.TrimSpace(run(t, dir, "rev-parse", "main"))
	commit, err = f.Approve(ctx, "01LATE")
	if err != nil {
		t.Fatal(err)
	}
	got := show(commit)
	wantPrefix := "Ville de Belcombe <noreply@belcombe.fr> 2026-03-14T09:30:02+01:00|" +
		"Ville de Belcombe <noreply@belcombe.fr> 2026-03-14T09:30:03+01:00|" + moved + "|comment on articles/budget-2026 by Paul\n"
	if !strings.HasPrefix(got, wantPrefix) || !strings.Contains(got, "Parvis-Change: 01LATE\n") {
		t.Errorf("replayed commit =\n%s\nwant it to start\n%s", got, wantPrefix)
	}
	if log := run(t, dir, "log", "--format=%s", "--grep=Parvis-Change: 01LATE", "main"); log != "comment on articles/budget-2026 by Paul\n" {
		t.Errorf("the trailer does not find the approval in the history: %q", log)
	}
	checkRepo(t, dir)
}

func TestWorktree(t *testing.T) {
	ctx := context.Background()
	dir := diskRepo(t, "")
	f, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	open := func(c *forge.Change) {
		t.Helper()
		if _, err := f.Open(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	read := func(name string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}

	// Opening never touches the worktree; approving brings the files in, and leaves
	// untracked files and other local edits alone.
	a := comment("01WTA", "Claire M.")
	open(a)
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(a.Files[0].Path))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open wrote into the worktree: %v", err)
	}
	writeFile(t, filepath.Join(dir, "notes.txt"), "untracked\n")
	writeFile(t, filepath.Join(dir, "parvis.yaml"), "title: edited locally\n")
	if _, err := f.Approve(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := read(a.Files[0].Path); got != string(a.Files[0].Data) {
		t.Errorf("worktree %s = %q", a.Files[0].Path, got)
	}
	if read("notes.txt") != "untracked\n" || read("parvis.yaml") != "title: edited locally\n" {
		t.Error("approving changed local files that the change does not touch")
	}
	if st := run(t, dir, "status", "--porcelain"); st != " M parvis.yaml\n?? notes.txt\n" {
		t.Errorf("git status =\n%s", st)
	}

	// A local file where the change puts its own: the worktree keeps it, main gets the change.
	b := &forge.Change{ID: "01WTB", Form: "page", Files: []forge.File{{Path: "parvis.yaml", Data: []byte("title: from the change\n")}}}
	open(b)
	commit, err := f.Approve(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if read("parvis.yaml") != "title: edited locally\n" {
		t.Error("approving overwrote a local edit")
	}
	if got := run(t, dir, "show", "main:parvis.yaml"); got != "title: from the change\n" || strings.TrimSpace(run(t, dir, "rev-parse", "main")) != commit {
		t.Errorf("main's parvis.yaml = %q", got)
	}

	// A git command holding the index: the worktree is left to it.
	writeFile(t, filepath.Join(dir, ".git", "index.lock"), "")
	d := comment("01WTD", "Jean")
	open(d)
	if _, err := f.Approve(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(d.Files[0].Path))); !errors.Is(err, os.ErrNotExist) {
		t.Error("approving wrote into the worktree while git held the index")
	}
	if err := os.Remove(filepath.Join(dir, ".git", "index.lock")); err != nil {
		t.Fatal(err)
	}
	run(t, dir, "checkout", "-q", "main", "--", d.Files[0].Path)

	// A symbolic link on the way: nothing is written through it.
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "events")); err != nil {
		t.Fatal(err)
	}
	e := &forge.Change{ID: "01WTE", Form: "event", Files: []forge.File{{Path: "events/fete.md", Data: []byte("fête\n")}}}
	open(e)
	if _, err := f.Approve(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := os.ReadDir(outside); len(list) != 0 {
		t.Errorf("approving wrote through a symbolic link: %v", list)
	}
	if err := os.Remove(filepath.Join(dir, "events")); err != nil {
		t.Fatal(err)
	}

	// HEAD elsewhere: the worktree is not main's, and stays as it is.
	run(t, dir, "checkout", "-q", "-f", "-b", "draft")
	c := comment("01WTC", "Jean")
	open(c)
	if _, err := f.Approve(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(c.Files[0].Path))); !errors.Is(err, os.ErrNotExist) {
		t.Error("approving wrote into a worktree checked out on another branch")
	}
	run(t, dir, "fsck", "--strict", "--no-dangling", "--no-progress")
}

func TestBareRepository(t *testing.T) {
	ctx := context.Background()
	src := diskRepo(t, "")
	dir := filepath.Join(t.TempDir(), "site.git")
	run(t, src, "clone", "-q", "--bare", src, dir)
	f, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"01BAREA", "01BAREB"} {
		if _, err := f.Open(ctx, comment(id, "Claire M.")); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"01BAREA", "01BAREB"} {
		if _, err := f.Approve(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	files := run(t, dir, "ls-tree", "-r", "--name-only", "main", "comments/articles/budget-2026")
	if files != "comments/articles/budget-2026/01BAREA.yaml\ncomments/articles/budget-2026/01BAREB.yaml\n" {
		t.Errorf("main holds:\n%s", files)
	}
	run(t, dir, "fsck", "--strict", "--no-dangling", "--no-progress")
}

// A branch pushed by hand under parvis/ is a pending change like the others.
func TestBranchMadeByHand(t *testing.T) {
	ctx := context.Background()
	dir := diskRepo(t, "")
	run(t, dir, "checkout", "-q", "-b", "parvis/HAND01")
	writeFile(t, filepath.Join(dir, "articles", "hand.md"), "---\ntitle: Hand\n---\n")
	run(t, dir, "add", "-A")
	run(t, dir, "commit", "-q", "-m", "Proposed article\n\nWritten by hand.")
	writeFile(t, filepath.Join(dir, "articles", "hand.md"), "---\ntitle: Hand, fixed\n---\n")
	run(t, dir, "rm", "-q", "comments/articles/old/1.yaml")
	run(t, dir, "commit", "-q", "-a", "-m", "Fix title")
	run(t, dir, "checkout", "-q", "main")
	writeFile(t, filepath.Join(dir, "pages", "other.md"), "other\n")
	run(t, dir, "add", "-A")
	run(t, dir, "commit", "-q", "-m", "Other page")

	f, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := f.List(ctx)
	if err != nil || len(l) != 1 || l[0].ID != "HAND01" || l[0].Title != "Fix title" {
		t.Fatalf("List = %+v, %v", l, err)
	}
	p, err := f.Get(ctx, "HAND01")
	if err != nil || len(p.Files) != 1 || string(p.Files[0].Data) != "---\ntitle: Hand, fixed\n---\n" {
		t.Fatalf("Get = %+v, %v", p, err)
	}
	commit, err := f.Approve(ctx, "HAND01")
	if err != nil {
		t.Fatal(err)
	}
	msg := run(t, dir, "show", "-s", "--format=%an|%B", commit)
	if !strings.HasPrefix(msg, editor.Name+"|Fix title\n") || !strings.Contains(msg, "\nParvis-Change: HAND01\n") {
		t.Errorf("commit = %q", msg)
	}
	if got := run(t, dir, "show", "main:articles/hand.md"); got != "---\ntitle: Hand, fixed\n---\n" {
		t.Errorf("main's hand.md = %q", got)
	}
	if got := run(t, dir, "ls-tree", "main", "comments/articles/old"); got != "" {
		t.Errorf("the removal did not land: %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "comments", "articles")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the worktree keeps the folders the removal emptied: %v", err)
	}
	checkRepo(t, dir)
}

// Refs packed by git gc are read, moved and deleted like loose ones.
func TestPackedRefs(t *testing.T) {
	ctx := context.Background()
	dir := diskRepo(t, "")
	f, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"01PACKA", "01PACKB", "01PACKC"} {
		if _, err := f.Open(ctx, comment(id, "Claire M.")); err != nil {
			t.Fatal(err)
		}
	}
	run(t, dir, "gc", "-q")
	if _, err := os.Stat(filepath.Join(dir, ".git", "refs", "heads", "main")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("git gc left main loose: %v", err)
	}
	if l, err := f.List(ctx); err != nil || len(l) != 3 {
		t.Fatalf("List = %d, %v", len(l), err)
	}
	if _, err := f.Approve(ctx, "01PACKA"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Approve(ctx, "01PACKB"); err != nil {
		t.Fatal(err)
	}
	if err := f.Reject(ctx, "01PACKC", "no"); err != nil {
		t.Fatal(err)
	}
	if out := run(t, dir, "for-each-ref", "--format=%(refname)", "refs/heads/parvis/"); out != "" {
		t.Errorf("branches left: %s", out)
	}
	files := run(t, dir, "ls-tree", "-r", "--name-only", "main", "comments/articles/budget-2026")
	if files != "comments/articles/budget-2026/01PACKA.yaml\ncomments/articles/budget-2026/01PACKB.yaml\n" {
		t.Errorf("main holds:\n%s", files)
	}
	checkRepo(t, dir)
}

// Two Forge values on one repository share its lock, so their approvals never interleave.
func TestTwoForgesOneRepository(t *testing.T) {
	ctx := context.Background()
	dir := diskRepo(t, "")
	f1, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f2, err := Open(filepath.Join(dir, "."), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f1.lock != f2.lock {
		t.Fatal("two forges on one repository have two locks")
	}
	const n = 6
	for i := range n {
		if _, err := f1.Open(ctx, comment("01TWO"+string(rune('A'+i)), "Claire M.")); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range n {
		f := []*Forge{f1, f2}[i%2]
		wg.Go(func() {
			if _, err := f.Approve(ctx, "01TWO"+string(rune('A'+i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	files := run(t, dir, "ls-tree", "-r", "--name-only", "main", "comments/articles/budget-2026")
	if strings.Count(files, "\n") != n {
		t.Errorf("main holds:\n%s", files)
	}
	checkRepo(t, dir)
}

// The lock file keeps a second process out while the first writes.
func TestLockFile(t *testing.T) {
	dir := diskRepo(t, "")
	gitDir, dot := diskDir(mustOpen(t, dir).Storer)
	if gitDir == "" {
		t.Fatal("a repository on disk is not seen as such")
	}
	// Two locks on one folder stand for two processes: flock holds between open files.
	first := &repoLock{sem: make(chan struct{}, 1), dot: dot}
	second := &repoLock{sem: make(chan struct{}, 1), dot: dot}
	release, err := first.acquire(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		r, err := second.acquire(context.Background(), true)
		if err != nil {
			t.Error(err)
		} else {
			r()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("the second process took the lock while the first held it")
	case <-time.After(100 * time.Millisecond):
	}
	release()
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the second process never got the lock")
	}
}

func mustOpen(t *testing.T, dir string) *git.Repository {
	t.Helper()
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

func TestOpenMeetsFolder(t *testing.T) {
	ctx := context.Background()
	f, err := New(memRepo(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"parvis.yaml/x", "comments", "articles/budget-2026.md/a"} {
		c := &forge.Change{ID: "01FOLDER", Form: "page", Files: []forge.File{{Path: path, Data: []byte("x")}}}
		if _, err := f.Open(ctx, c); !errors.Is(err, forge.ErrInvalid) {
			t.Errorf("Open(%s) = %v, want ErrInvalid", path, err)
		}
	}
	if l, _ := f.List(ctx); len(l) != 0 {
		t.Errorf("refused changes left %d branches", len(l))
	}
}

func TestCanceledContext(t *testing.T) {
	f, err := New(memRepo(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	release, err := f.lock.acquire(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	// Waiting for a busy repository gives up with the context.
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	if _, err := f.Open(ctx, comment("01CTX", "Claire M.")); !errors.Is(err, context.Canceled) {
		t.Errorf("Open = %v, want context.Canceled", err)
	}
	release()
	if _, err := f.Approve(ctx, "01CTX"); !errors.Is(err, context.Canceled) {
		t.Errorf("Approve = %v, want context.Canceled", err)
	}
	if err := f.Watch(ctx, func(forge.Event) { t.Error("event") }); !errors.Is(err, context.Canceled) {
		t.Errorf("Watch = %v, want context.Canceled", err)
	}
	if l, _ := f.List(context.Background()); len(l) != 0 {
		t.Errorf("a canceled Open left %d branches", len(l))
	}
}

func TestNewRefuses(t *testing.T) {
	repo := memRepo(t)
	cases := []struct {
		name string
		opts Options
	}{
		{"missing branch", Options{Branch: "nope"}},
		{"branch among changes", Options{Branch: "parvis/x"}},
		{"site folder escapes", Options{Dir: "../x"}},
		{"site folder absolute", Options{Dir: "/srv/site"}},
		{"bot e-mail", Options{BotEmail: "Parvis <noreply@x.fr>"}},
		{"bot e-mail empty domain", Options{BotEmail: "noreply"}},
		{"bot name", Options{BotName: "Evil <x@y.z>"}},
		{"negative poll", Options{PollInterval: -time.Second}},
	}
	for _, tc := range cases {
		if _, err := New(repo, tc.opts); err == nil {
			t.Errorf("%s: New accepted %+v", tc.name, tc.opts)
		}
	}
	head, _ := repo.Head()
	if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.HEAD, head.Hash())); err != nil {
		t.Fatal(err)
	}
	if _, err := New(repo, Options{}); err == nil {
		t.Error("New accepted a detached HEAD without a branch name")
	}
	if f, err := New(repo, Options{Branch: "master"}); err != nil || f.Main() != "master" {
		t.Errorf("New with a branch name: %v", err)
	}
}

// Git keeps no trace of a decided change: its ID opens afresh, and approving a change that
// is on main already changes nothing.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	f, err := New(memRepo(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := comment("01AGAIN", "Claire M.")
	for _, step := range []string{"open", "reject", "open", "approve", "open"} {
		switch step {
		case "open":
			_, err = f.Open(ctx, c)
		case "reject":
			err = f.Reject(ctx, c.ID, "no")
		case "approve":
			_, err = f.Approve(ctx, c.ID)
		}
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	head, err := f.mainCommit()
	if err != nil {
		t.Fatal(err)
	}
	commit, err := f.Approve(ctx, c.ID)
	if err != nil || commit != head.Hash.String() {
		t.Errorf("approving a change already on main = %s, %v; want main's tip %s", commit, err, head.Hash)
	}
	if l, _ := f.List(ctx); len(l) != 0 {
		t.Errorf("List holds %d changes", len(l))
	}
}

// Decisions taken through another Forge (parvis moderate, in another process) are seen by
// the watching one: approvals by their trailer or their commit, rejections as closures.
func TestWatchSeesOtherForge(t *testing.T) {
	dir := diskRepo(t, "")
	watching, err := Open(dir, Options{PollInterval: poll})
	if err != nil {
		t.Fatal(err)
	}
	other, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan forge.Event, 16)
	done := make(chan error, 1)
	go func() { done <- watching.Watch(ctx, func(e forge.Event) { events <- e }) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Watch = %v", err)
		}
	}()
	// Opened by the watching forge: it knows them from the start.
	for _, id := range []string{"01OFA", "01OFB", "01OFC"} {
		if _, err := watching.Open(ctx, comment(id, "Claire M.")); err != nil {
			t.Fatal(err)
		}
	}
	ff, err := other.Approve(ctx, "01OFA") // a fast-forward
	if err != nil {
		t.Fatal(err)
	}
	replayed, err := other.Approve(ctx, "01OFB") // main has moved: a new commit
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Reject(ctx, "01OFC", "no"); err != nil {
		t.Fatal(err)
	}
	want := map[string]forge.Event{
		"01OFA": {Kind: forge.Merged, ID: "01OFA", Branch: "parvis/01OFA", Commit: ff},
		"01OFB": {Kind: forge.Merged, ID: "01OFB", Branch: "parvis/01OFB", Commit: replayed},
		"01OFC": {Kind: forge.Closed, ID: "01OFC", Branch: "parvis/01OFC"},
	}
	timeout := time.After(10 * time.Second)
	for len(want) > 0 {
		select {
		case e := <-events:
			if e != want[e.ID] {
				t.Errorf("event %+v, want %+v", e, want[e.ID])
			}
			delete(want, e.ID)
		case <-timeout:
			t.Fatalf("no event for %v", want)
		}
	}
}
