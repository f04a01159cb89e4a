// Package forge defines where a citizen's submission becomes a change that a moderator
// approves or rejects: a branch of a local repository, or a pull request on GitHub or Gitea.
//
// The service depends only on the Forge interface. Every implementation runs the
// conformance suite in forgetest, so that they can be swapped without the service noticing.
package forge

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Change is what the service asks a forge to open: one submission, as files to add or replace.
type Change struct {
	// ID is the submission's id. It names the change on the forge (gitlocal's branch is
	// parvis/<ID>) and makes Open idempotent. Letters, digits, '-' and '_', at most 100.
	ID string
	// Form is the form the submission came from, such as "comment".
	Form string
	// Page is the content ref of the page the submission belongs to
	// ("articles/budget-2026"); empty when it belongs to none.
	Page string
	// Title is one line, for the commit subject or the pull request's title. When empty,
	// the forge writes a summary from Form, Page and Author.
	Title string
	// Body is a longer description (commit body, pull request body). It comes back from
	// the forge with line endings as "\n" and surrounding blank space trimmed.
	Body string
	// Author is the citizen's display name, credited in the message. Never an e-mail
	// address: Git history is public and permanent.
	Author string
	// Files are added or replaced. Paths are slash-separated, relative to the site root.
	Files []File
}

// File is one file of a change.
type File struct {
	Path string // slash-separated, relative to the site root
	Data []byte
}

// Pending is a change that waits for a moderator.
type Pending struct {
	Change
	Branch string    // the branch holding the change
	URL    string    // the change's page on the forge; empty when it has none
	Opened time.Time // when it was opened
	Base   string    // the main branch's commit the change was made on
}

// EventKind says what happened to a change.
type EventKind uint8

const (
	// Merged: the change landed on the main branch.
	Merged EventKind = iota + 1
	// Closed: the change was dropped without landing.
	Closed
)

func (k EventKind) String() string {
	switch k {
	case Merged:
		return "merged"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event reports a change that left the pending list other than through the Forge value
// being watched: merged or deleted with plain Git, on the forge's web pages, or by another
// Parvis process.
type Event struct {
	Kind   EventKind
	ID     string
	Branch string
	Commit string // Merged: the main branch's commit holding the change, when known
}

// Forge turns changes into something a moderator approves or rejects.
//
// Implementations must be safe for concurrent use. Methods check their context before
// touching the forge and give up when it is done; a change is either made whole or not at
// all, never left half-written.
type Forge interface {
	// Open makes the change pending. It must validate the change (see Change.Validate)
	// before touching the forge, and must not change the main branch. Opening an ID that is
	// already pending returns that change as it is, whatever c holds now, so that a caller
	// may retry after a crash. An ID that was approved or rejected may be opened afresh
	// (gitlocal keeps no trace of a deleted branch) or refused with ErrClosed: the caller
	// keeps its own record of decisions and does not reopen a decided change.
	Open(ctx context.Context, c *Change) (*Pending, error)

	// List returns the pending changes, newest first (ties: greater ID first). It leaves
	// Files nil, so that listing stays cheap; Get has them.
	List(ctx context.Context) ([]*Pending, error)

	// Get returns one pending change with its files, sorted by path. It returns ErrNotFound
	// for an ID that is not pending, ErrClosed when the forge knows the change has been
	// merged or closed.
	Get(ctx context.Context, id string) (*Pending, error)

	// Diff returns a unified diff from the main branch's current content to the change's
	// content, for the files the change touches: what approving it would do. Paths in the
	// diff are the repository's.
	Diff(ctx context.Context, id string) (string, error)

	// Approve lands the change on the main branch and returns the commit that holds it. When
	// the main branch has moved since the change was opened, the change is replayed on the
	// new tip: files it adds land as long as nobody else added them, files it replaces land
	// as long as nobody else changed them. Otherwise it returns ErrConflict and must leave
	// the main branch untouched and the change pending. Afterwards the change is no longer
	// pending. Approving a change that is not pending returns ErrNotFound or ErrClosed.
	// An error with a non-empty commit means the change landed but a follow-up (deleting
	// its branch, updating a checkout) failed.
	Approve(ctx context.Context, id string) (commit string, err error)

	// Reject drops the change without landing it. The reason is for the forge's own
	// records where it keeps any (a pull request comment); the service keeps it for the
	// citizen's receipt. Rejecting a change that is not pending returns ErrNotFound or
	// ErrClosed.
	Reject(ctx context.Context, id, reason string) error

	// Watch calls fn for every pending change that is merged or closed other than through
	// this Forge value, until ctx is done; it then returns ctx.Err(). It reports what
	// happens while it runs: after a restart the service reconciles with Get. fn is called
	// from one goroutine, one event at a time, and may call the Forge's methods.
	Watch(ctx context.Context, fn func(Event)) error
}

var (
	// ErrNotFound: no pending change has this ID.
	ErrNotFound = errors.New("forge: no pending change with this id")
	// ErrConflict: the change cannot land because the main branch changed the same files.
	ErrConflict = errors.New("forge: the change conflicts with the main branch")
	// ErrClosed: the change was pending once and has been merged or closed since.
	ErrClosed = errors.New("forge: the change is no longer pending")
	// ErrInvalid: the change is malformed (a bad path, ID or field). Retrying cannot help.
	ErrInvalid = errors.New("forge: invalid change")
)

// RateLimited is returned by a forge that refuses requests for a while (GitHub's primary
// and secondary limits). The caller keeps the change and retries after RetryAfter.
type RateLimited struct {
	RetryAfter time.Duration
	Err        error // the forge's own error, if any
}

func (e *RateLimited) Error() string {
	msg := fmt.Sprintf("forge: rate limited, retry after %s", e.RetryAfter.Round(time.Second))
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *RateLimited) Unwrap() error { return e.Err }
