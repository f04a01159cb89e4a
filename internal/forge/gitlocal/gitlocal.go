// Package gitlocal is the embedded forge: a change is a branch parvis/<id> of a repository
// on disk, holding one commit on top of the main branch, and approving it lands that commit
// on the main branch. It needs nothing but the repository.
//
// Objects are written straight into the object database (no checkout), so opening a change
// costs the depth of its paths, not the size of the site, and never disturbs the worktree.
//
// All work on one repository is serialized: by a mutex shared by every Forge of the
// process on the same .git folder, and, for writes, by a lock file (.git/parvis.lock) that
// keeps other Parvis processes out too. Plain git commands are not kept out; the main
// branch is moved with a compare-and-swap, so that an approval never overwrites a commit
// made meanwhile.
package gitlocal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"

	"github.com/parvis/parvis/internal/forge"
)

// BranchPrefix names the branches that hold pending changes.
const BranchPrefix = "parvis/"

// Options configure a Forge. The zero value is usable.
type Options struct {
	// Branch is the main branch, which the site is built from. Default: the branch HEAD
	// points to.
	Branch string
	// Dir is the site's folder inside the repository, slash-separated. Default: the
	// repository's root.
	Dir string
	// BotName and BotEmail sign every commit Parvis makes, as author and committer. The
	// address is a no-reply address of the site, never a citizen's.
	// Default: Parvis <noreply@parvis.invalid>.
	BotName, BotEmail string
	// Now is the clock that dates commits. Default: time.Now.
	Now func() time.Time
	// PollInterval is how often Watch reads the branches. Default: 5 seconds.
	PollInterval time.Duration
}

// Forge is a forge.Forge on a local repository. It is safe for concurrent use.
type Forge struct {
	repo  *git.Repository
	main  plumbing.ReferenceName
	dir   string
	bot   object.Signature
	now   func() time.Time
	poll  time.Duration
	lock  *repoLock
	flush syncer

	// Guarded by lock:
	watchers map[*watcher]bool
	packs    time.Time // when the pack files last changed
}

var _ forge.Forge = (*Forge)(nil)

// Open opens the repository at path (a worktree or a bare repository) and returns its
// forge.
func Open(path string, opts Options) (*Forge, error) {
	repo, err := git.PlainOpen(path)
	if err != nil {
		return nil, fmt.Errorf("gitlocal: open %s: %w", path, err)
	}
	return New(repo, opts)
}

// New returns the forge of repo, whose main branch must have a commit.
func New(repo *git.Repository, opts Options) (*Forge, error) {
	f := &Forge{
		repo:     repo,
		dir:      opts.Dir,
		bot:      object.Signature{Name: cmp.Or(opts.BotName, "Parvis"), Email: cmp.Or(opts.BotEmail, "noreply@parvis.invalid")},
		now:      opts.Now,
		poll:     cmp.Or(opts.PollInterval, 5*time.Second),
		watchers: make(map[*watcher]bool),
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.poll < 0 {
		return nil, fmt.Errorf("gitlocal: negative poll interval %s", f.poll)
	}
	if f.dir != "" {
		if err := forge.ValidPath(f.dir); err != nil {
			return nil, fmt.Errorf("gitlocal: site folder: %w", err)
		}
	}
	if strings.ContainsAny(f.bot.Name, "<>\n\r") || strings.TrimSpace(f.bot.Name) != f.bot.Name {
		return nil, fmt.Errorf("gitlocal: bot name %q: one line without '<' or '>'", f.bot.Name)
	}
	if a, err := mail.ParseAddress(f.bot.Email); err != nil || a.Address != f.bot.Email {
		return nil, fmt.Errorf("gitlocal: bot e-mail %q is not a plain address", f.bot.Email)
	}
	if opts.Branch != "" {
		f.main = plumbing.NewBranchReferenceName(opts.Branch)
	} else {
		head, err := repo.Storer.Reference(plumbing.HEAD)
		if err != nil {
			return nil, fmt.Errorf("gitlocal: read HEAD: %w", err)
		}
		if head.Type() != plumbing.SymbolicReference || !head.Target().IsBranch() {
			return nil, errors.New("gitlocal: HEAD is detached: name the main branch")
		}
		f.main = head.Target()
	}
	if strings.HasPrefix(f.main.Short(), BranchPrefix) {
		return nil, fmt.Errorf("gitlocal: main branch %q is in the changes' namespace", f.main.Short())
	}
	if _, err := repo.Storer.Reference(f.main); err != nil {
		return nil, fmt.Errorf("gitlocal: main branch %q: %w", f.main.Short(), err)
	}
	gitDir, dot := diskDir(repo.Storer)
	f.lock = lockFor(gitDir, dot)
	f.flush = syncer{gitDir}
	return f, nil
}

// Main returns the main branch's name.
func (f *Forge) Main() string { return f.main.Short() }

func branchRef(id string) plumbing.ReferenceName {
	return plumbing.NewBranchReferenceName(BranchPrefix + id)
}

// repoPath turns a content path into the repository's.
func (f *Forge) repoPath(p string) string {
	if f.dir == "" {
		return p
	}
	return f.dir + "/" + p
}

// sitePath turns a repository path into a content path; false when it is outside the site.
func (f *Forge) sitePath(p string) (string, bool) {
	if f.dir == "" {
		return p, true
	}
	return strings.CutPrefix(p, f.dir+"/")
}

func (f *Forge) writer() *writer { return &writer{s: f.repo.Storer} }

func (f *Forge) mainCommit() (*object.Commit, error) {
	ref, err := f.repo.Storer.Reference(f.main)
	if err != nil {
		return nil, fmt.Errorf("gitlocal: main branch %q: %w", f.main.Short(), err)
	}
	return f.repo.CommitObject(ref.Hash())
}

// tip returns the head of a change's branch, or ErrNotFound.
func (f *Forge) tip(id string) (plumbing.Hash, error) {
	if forge.ValidID(id) != nil {
		return plumbing.ZeroHash, fmt.Errorf("%w: %q", forge.ErrNotFound, id)
	}
	ref, err := f.repo.Storer.Reference(branchRef(id))
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, fmt.Errorf("%w: %s", forge.ErrNotFound, id)
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return ref.Hash(), nil
}

// Open implements forge.Forge: one branch parvis/<id> holding one commit on top of the main
// branch, signed by the bot.
func (f *Forge) Open(ctx context.Context, c *forge.Change) (*forge.Pending, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	release, err := f.acquire(ctx, true)
	if err != nil {
		return nil, err
	}
	defer release()

	branch := branchRef(c.ID)
	switch ref, err := f.repo.Storer.Reference(branch); {
	case err == nil:
		return f.pending(c.ID, ref.Hash(), true)
	case !errors.Is(err, plumbing.ErrReferenceNotFound):
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	base, err := f.mainCommit()
	if err != nil {
		return nil, err
	}
	w := f.writer()
	updates := make(map[string]entry, len(c.Files))
	for _, file := range c.Files {
		h, err := w.blob(file.Data)
		if err != nil {
			return nil, fmt.Errorf("gitlocal: write %s: %w", file.Path, err)
		}
		updates[f.repoPath(file.Path)] = entry{h, filemode.Regular}
	}
	tree, err := w.apply(base.TreeHash, updates)
	var pe *pathError
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("%w: change %s: %v", forge.ErrInvalid, c.ID, pe)
	}
	if err != nil {
		return nil, fmt.Errorf("gitlocal: write tree: %w", err)
	}
	sig := f.bot
	sig.When = f.now()
	commit, err := w.commit(&object.Commit{
		Author:       sig,
		Committer:    sig,
		Message:      c.Message(),
		TreeHash:     tree,
		ParentHashes: []plumbing.Hash{base.Hash},
	})
	if err != nil {
		return nil, fmt.Errorf("gitlocal: write commit: %w", err)
	}
	if err := f.flush.objects(w.written); err != nil {
		return nil, err
	}
	if err := f.repo.Storer.SetReference(plumbing.NewHashReference(branch, commit)); err != nil {
		return nil, fmt.Errorf("gitlocal: create branch: %w", err)
	}
	if err := f.flush.refs(branch); err != nil {
		return nil, err
	}
	for wt := range f.watchers {
		wt.known[c.ID] = commit
	}
	return f.pending(c.ID, commit, true)
}

// List implements forge.Forge.
func (f *Forge) List(ctx context.Context) ([]*forge.Pending, error) {
	release, err := f.acquire(ctx, false)
	if err != nil {
		return nil, err
	}
	defer release()
	branches, err := f.branches()
	if err != nil {
		return nil, err
	}
	list := make([]*forge.Pending, 0, len(branches))
	for id, tip := range branches {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p, err := f.pending(id, tip, false)
		if err != nil {
			return nil, err
		}
		list = append(list, p)
	}
	slices.SortFunc(list, func(a, b *forge.Pending) int {
		if c := b.Opened.Compare(a.Opened); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return list, nil
}

// branches returns the pending changes' branches: id → tip.
func (f *Forge) branches() (map[string]plumbing.Hash, error) {
	// go-git reads every file under refs/, including the lock files that git creates
	// empty before it renames them into place: such a read is retried.
	for attempt := 1; ; attempt++ {
		m, err := f.readBranches()
		if !errors.Is(err, dotgit.ErrEmptyRefFile) || attempt == 5 {
			return m, err
		}
		time.Sleep(time.Duration(attempt) * 5 * time.Millisecond)
	}
}

func (f *Forge) readBranches() (map[string]plumbing.Hash, error) {
	refs, err := f.repo.Storer.IterReferences()
	if err != nil {
		return nil, err
	}
	m := make(map[string]plumbing.Hash)
	err = refs.ForEach(func(r *plumbing.Reference) error {
		if r.Type() != plumbing.HashReference || !r.Name().IsBranch() {
			return nil
		}
		if id, ok := strings.CutPrefix(r.Name().Short(), BranchPrefix); ok && forge.ValidID(id) == nil {
			m[id] = r.Hash()
		}
		return nil
	})
	return m, err
}

// Get implements forge.Forge.
func (f *Forge) Get(ctx context.Context, id string) (*forge.Pending, error) {
	release, err := f.acquire(ctx, false)
	if err != nil {
		return nil, err
	}
	defer release()
	tip, err := f.tip(id)
	if err != nil {
		return nil, err
	}
	return f.pending(id, tip, true)
}

// Reject implements forge.Forge: the branch is deleted. Git keeps no reason.
func (f *Forge) Reject(ctx context.Context, id, reason string) error {
	release, err := f.acquire(ctx, true)
	if err != nil {
		return err
	}
	defer release()
	if _, err := f.tip(id); err != nil {
		return err
	}
	if err := f.repo.Storer.RemoveReference(branchRef(id)); err != nil {
		return fmt.Errorf("gitlocal: delete branch: %w", err)
	}
	f.forget(id)
	return f.flush.refs(branchRef(id))
}

// forget tells the watchers that this Forge took the change out itself.
func (f *Forge) forget(id string) {
	for w := range f.watchers {
		delete(w.known, id)
	}
}

// change is a pending change as read from its branch.
type change struct {
	id   string
	tip  *object.Commit
	own  *object.Commit // the commit holding the trailers (tip for a branch made by hand)
	base *object.Commit // the main branch's commit the change starts from; nil for none
	meta *forge.Change
}

// maxOwnDepth bounds the search for the change's own commit below commits added by hand.
const maxOwnDepth = 50

func (f *Forge) resolve(id string, tip plumbing.Hash) (*change, error) {
	c, err := f.repo.CommitObject(tip)
	if err != nil {
		return nil, fmt.Errorf("gitlocal: change %s: %w", id, err)
	}
	ch := &change{id: id, tip: c}
	for cur, depth := c, 0; cur != nil && depth < maxOwnDepth; depth++ {
		if m, ok := forge.ParseMessage(cur.Message); ok && m.ID == id {
			ch.own, ch.meta = cur, m
			if cur.NumParents() > 0 {
				if ch.base, err = cur.Parent(0); err != nil {
					return nil, fmt.Errorf("gitlocal: change %s: %w", id, err)
				}
			}
			return ch, nil
		}
		if cur.NumParents() == 0 {
			break
		}
		if cur, err = cur.Parent(0); err != nil {
			return nil, fmt.Errorf("gitlocal: change %s: %w", id, err)
		}
	}
	// A branch made by hand: it starts where it meets the main branch.
	subject, body, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
	ch.own = c
	ch.meta = &forge.Change{ID: id, Title: strings.TrimSpace(subject), Body: strings.TrimSpace(body)}
	main, err := f.mainCommit()
	if err != nil {
		return nil, err
	}
	bases, err := c.MergeBase(main)
	if err != nil {
		return nil, fmt.Errorf("gitlocal: change %s: %w", id, err)
	}
	if len(bases) > 0 {
		ch.base = bases[0]
	}
	return ch, nil
}

func (f *Forge) pending(id string, tip plumbing.Hash, withFiles bool) (*forge.Pending, error) {
	ch, err := f.resolve(id, tip)
	if err != nil {
		return nil, err
	}
	p := &forge.Pending{
		Change: *ch.meta,
		Branch: BranchPrefix + id,
		Opened: ch.own.Committer.When,
	}
	if ch.base != nil {
		p.Base = ch.base.Hash.String()
	}
	if !withFiles {
		return p, nil
	}
	deltas, err := f.deltas(ch)
	if err != nil {
		return nil, err
	}
	for _, d := range deltas {
		if !d.to.mode.IsFile() {
			continue // a removal, made by hand: not a file of the change
		}
		rel, ok := f.sitePath(d.path)
		if !ok {
			continue
		}
		data, err := readBlob(f.repo.Storer, d.to.hash)
		if err != nil {
			return nil, fmt.Errorf("gitlocal: change %s: %s: %w", id, d.path, err)
		}
		p.Files = append(p.Files, forge.File{Path: rel, Data: data})
	}
	slices.SortFunc(p.Files, func(a, b forge.File) int { return strings.Compare(a.Path, b.Path) })
	return p, nil
}

// deltas lists what the change does: the files that differ from its base to its tip.
func (f *Forge) deltas(ch *change) ([]delta, error) {
	var base plumbing.Hash
	if ch.base != nil {
		base = ch.base.TreeHash
	}
	d, err := diffTrees(f.repo.Storer, base, ch.tip.TreeHash)
	if err != nil {
		return nil, fmt.Errorf("gitlocal: change %s: %w", ch.id, err)
	}
	return d, nil
}

// Diff implements forge.Forge. It writes nothing.
func (f *Forge) Diff(ctx context.Context, id string) (string, error) {
	release, err := f.acquire(ctx, false)
	if err != nil {
		return "", err
	}
	defer release()
	tip, err := f.tip(id)
	if err != nil {
		return "", err
	}
	ch, err := f.resolve(id, tip)
	if err != nil {
		return "", err
	}
	main, err := f.mainCommit()
	if err != nil {
		return "", err
	}
	mainTree, err := main.Tree()
	if err != nil {
		return "", err
	}
	deltas, err := f.deltas(ch)
	if err != nil {
		return "", err
	}
	var patch object.Changes
	for _, d := range deltas {
		cur, err := lookup(f.repo.Storer, mainTree, d.path)
		if err != nil {
			return "", err
		}
		if cur == d.to {
			continue
		}
		c := &object.Change{}
		if cur.mode.IsFile() {
			c.From = object.ChangeEntry{Name: d.path, Tree: mainTree, TreeEntry: object.TreeEntry{Name: d.path, Mode: cur.mode, Hash: cur.hash}}
		}
		if d.to.mode.IsFile() {
			c.To = object.ChangeEntry{Name: d.path, Tree: mainTree, TreeEntry: object.TreeEntry{Name: d.path, Mode: d.to.mode, Hash: d.to.hash}}
		}
		if c.From.Name != "" || c.To.Name != "" {
			patch = append(patch, c)
		}
	}
	p, err := patch.PatchContext(ctx)
	if err != nil {
		return "", fmt.Errorf("gitlocal: diff %s: %w", id, err)
	}
	return p.String(), nil
}
