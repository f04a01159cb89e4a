package gitlocal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage"

	"github.com/parvis/parvis/internal/forge"
)

// casAttempts bounds the retries when a plain git command moves the main branch while an
// approval is written.
const casAttempts = 3

// Approve implements forge.Forge. The main branch is fast-forwarded to the change when it
// has not moved since the change was opened; otherwise the change's files are replayed on
// its tip in one new commit, which keeps the change's message (and its Parvis-Change
// trailer) and its author, and is committed by the bot. The branch is then deleted.
//
// When HEAD is on the main branch, the worktree is updated to match, as long as the files
// the change touches have no local edits; otherwise the worktree is left as it is, so that
// no one's uncommitted work is overwritten. A non-nil error with a non-empty commit means
// the change landed but what follows (deleting the branch, updating the worktree) failed.
func (f *Forge) Approve(ctx context.Context, id string) (string, error) {
	release, err := f.acquire(ctx, true)
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
	deltas, err := f.deltas(ch)
	if err != nil {
		return "", err
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		main, err := f.mainCommit()
		if err != nil {
			return "", err
		}
		landed, moves, err := f.land(ch, deltas, main)
		if err != nil {
			return "", err
		}
		co, err := f.openCheckout(moves)
		if err != nil {
			return "", err
		}
		if landed != main.Hash {
			err := f.repo.Storer.CheckAndSetReference(
				plumbing.NewHashReference(f.main, landed),
				plumbing.NewHashReference(f.main, main.Hash))
			if err != nil && co != nil {
				co.release()
			}
			if errors.Is(err, storage.ErrReferenceHasChanged) && attempt < casAttempts {
				continue
			}
			if err != nil {
				return "", fmt.Errorf("gitlocal: move %s: %w", f.main.Short(), err)
			}
		}
		// The change has landed: from here on, errors come with the commit.
		f.forget(id)
		if co != nil {
			if err := co.write(moves); err != nil {
				return landed.String(), fmt.Errorf("gitlocal: change %s landed as %s, but the worktree was not updated: %w", id, landed, err)
			}
		}
		if err := f.repo.Storer.RemoveReference(branchRef(id)); err != nil {
			return landed.String(), fmt.Errorf("gitlocal: change %s landed as %s, but its branch is left: %w", id, landed, err)
		}
		if err := f.flush.refs(f.main, branchRef(id)); err != nil {
			return landed.String(), err
		}
		return landed.String(), nil
	}
}

// land writes the commit that puts the change on top of main and returns it, with how each
// path it changes moves from main's content to the change's; main itself when the change
// is there already. It writes nothing when the change conflicts with main.
func (f *Forge) land(ch *change, deltas []delta, main *object.Commit) (plumbing.Hash, []delta, error) {
	mainTree, err := main.Tree()
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	updates := make(map[string]entry)
	var moves []delta
	var conflicts []string
	for _, d := range deltas {
		name, from, to := d.path, d.from, d.to
		cur, err := lookup(f.repo.Storer, mainTree, name)
		if err != nil {
			return plumbing.ZeroHash, nil, err
		}
		switch cur {
		case to: // landed already, by this change or an identical one
		case from:
			updates[name] = to
			moves = append(moves, delta{name, cur, to})
		default:
			conflicts = append(conflicts, name)
		}
	}
	if len(conflicts) > 0 {
		slices.Sort(conflicts)
		return plumbing.ZeroHash, nil, fmt.Errorf("%w: change %s: %s changed on %s meanwhile",
			forge.ErrConflict, ch.id, strings.Join(conflicts, ", "), f.main.Short())
	}
	if len(updates) == 0 {
		return main.Hash, nil, nil
	}
	if ch.base != nil && ch.base.Hash == main.Hash {
		return ch.tip.Hash, moves, nil // fast-forward
	}

	w := f.writer()
	tree, err := w.apply(main.TreeHash, updates)
	var pe *pathError
	if errors.As(err, &pe) {
		return plumbing.ZeroHash, nil, fmt.Errorf("%w: change %s: %v", forge.ErrConflict, ch.id, pe)
	}
	if err != nil {
		return plumbing.ZeroHash, nil, fmt.Errorf("gitlocal: write tree: %w", err)
	}
	msg := ch.own.Message
	if m, ok := forge.ParseMessage(msg); !ok || m.ID != ch.id {
		msg = strings.TrimRight(msg, "\n") + "\n\n" + forge.TrailerChange + ": " + ch.id + "\n"
	}
	committer := f.bot
	committer.When = f.now()
	commit, err := w.commit(&object.Commit{
		Author:       ch.own.Author,
		Committer:    committer,
		Message:      msg,
		TreeHash:     tree,
		ParentHashes: []plumbing.Hash{main.Hash},
	})
	if err != nil {
		return plumbing.ZeroHash, nil, fmt.Errorf("gitlocal: write commit: %w", err)
	}
	return commit, moves, f.flush.objects(w.written)
}
