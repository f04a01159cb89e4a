package gitlocal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/parvis/parvis/internal/forge"
)

// maxNewCommits bounds how far back one poll looks for the commits that landed since the
// previous one. A change merged further back is still found, by an ancestry walk.
const maxNewCommits = 1000

// maxPollFailures is how many polls in a row may fail before Watch gives up.
const maxPollFailures = 5

// watcher is what one Watch call remembers between polls. It is guarded by the repository
// lock; Open and Approve of the same Forge keep it up to date, so that a change opened and
// merged elsewhere between two polls is still reported, and this Forge's own approvals
// are not.
type watcher struct {
	main  plumbing.Hash
	known map[string]plumbing.Hash // pending changes: id → tip
}

// Watch implements forge.Forge by polling the branches every PollInterval. A change merged
// into the main branch with plain git whose branch is still there is reported, and its
// branch deleted, as a forge closes a merged pull request.
func (f *Forge) Watch(ctx context.Context, fn func(forge.Event)) error {
	w := &watcher{}
	if err := f.startWatch(ctx, w); err != nil {
		return err
	}
	defer func() {
		// Unregister even when ctx is done: the lock must not wait for it.
		release, err := f.acquire(context.Background(), false)
		if err == nil {
			delete(f.watchers, w)
			release()
		}
	}()
	tick := time.NewTicker(f.poll)
	defer tick.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		events, err := f.pollOnce(ctx, w)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			// A git command writing at the same moment can fail one poll; a repository
			// that stays unreadable ends the watch.
			if failures++; failures >= maxPollFailures {
				return fmt.Errorf("gitlocal: watch: %w", err)
			}
			continue
		}
		failures = 0
		for _, e := range events {
			fn(e)
		}
	}
}

func (f *Forge) startWatch(ctx context.Context, w *watcher) error {
	release, err := f.acquire(ctx, false)
	if err != nil {
		return err
	}
	defer release()
	ref, err := f.repo.Storer.Reference(f.main)
	if err != nil {
		return fmt.Errorf("gitlocal: watch: %w", err)
	}
	if w.known, err = f.branches(); err != nil {
		return fmt.Errorf("gitlocal: watch: %w", err)
	}
	w.main = ref.Hash()
	f.watchers[w] = true
	return nil
}

// pollOnce compares the branches with what w saw last and returns what happened, sorted by
// change id.
func (f *Forge) pollOnce(ctx context.Context, w *watcher) ([]forge.Event, error) {
	release, err := f.acquire(ctx, true)
	if err != nil {
		return nil, err
	}
	defer release()
	main, err := f.mainCommit()
	if err != nil {
		return nil, err
	}
	branches, err := f.branches()
	if err != nil {
		return nil, err
	}

	// What landed on main since the last poll: commits, and the changes they name.
	landed := make(map[plumbing.Hash]bool)
	named := make(map[string]plumbing.Hash)
	if main.Hash != w.main {
		err := forEachNew(main, w.main, maxNewCommits, func(c *object.Commit) {
			landed[c.Hash] = true
			if m, ok := forge.ParseMessage(c.Message); ok {
				if _, seen := named[m.ID]; !seen {
					named[m.ID] = c.Hash
				}
			}
		})
		if err != nil {
			return nil, err
		}
	}

	// w changes only once the poll has succeeded, so that a failed poll loses nothing.
	var events []forge.Event
	var merged []plumbing.ReferenceName
	known := make(map[string]plumbing.Hash, len(branches))
	for id, tip := range w.known {
		cur, exists := branches[id]
		if exists {
			tip = cur
		}
		e := forge.Event{Kind: forge.Merged, ID: id, Branch: BranchPrefix + id}
		switch {
		case !named[id].IsZero():
			e.Commit = named[id].String()
		case landed[tip]:
			e.Commit = tip.String()
		case exists:
			known[id] = cur // still pending
			continue
		default:
			ok, err := f.isAncestor(tip, main)
			if err != nil {
				return nil, err
			}
			if ok {
				e.Commit = tip.String()
			} else {
				e.Kind = forge.Closed
			}
		}
		if exists {
			merged = append(merged, branchRef(id))
		}
		events = append(events, e)
	}
	for _, name := range merged {
		if err := f.repo.Storer.RemoveReference(name); err != nil {
			return nil, fmt.Errorf("delete merged branch: %w", err)
		}
	}
	if len(merged) > 0 {
		if err := f.flush.refs(merged...); err != nil {
			return nil, err
		}
	}
	for id, tip := range branches { // opened since, by another process
		if _, ok := w.known[id]; !ok {
			known[id] = tip
		}
	}
	w.known, w.main = known, main.Hash
	slices.SortFunc(events, func(a, b forge.Event) int { return strings.Compare(a.ID, b.ID) })
	return events, nil
}

// isAncestor reports whether commit h is in main's history. A commit that is gone (its
// branch deleted and pruned) is not.
func (f *Forge) isAncestor(h plumbing.Hash, main *object.Commit) (bool, error) {
	c, err := f.repo.CommitObject(h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return c.IsAncestor(main)
}

// forEachNew calls fn for the commits reachable from tip but not through old, at most
// limit of them.
func forEachNew(tip *object.Commit, old plumbing.Hash, limit int, fn func(*object.Commit)) error {
	var ignore []plumbing.Hash
	if !old.IsZero() {
		ignore = []plumbing.Hash{old}
	}
	n := 0
	err := object.NewCommitPreorderIter(tip, nil, ignore).ForEach(func(c *object.Commit) error {
		if n++; n > limit {
			return storer.ErrStop
		}
		fn(c)
		return nil
	})
	return err
}
