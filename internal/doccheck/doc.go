// Package doccheck decides whether a citizen's document (PDF or OpenDocument) may be
// published: it refuses active content (scripts, macros, actions that run or send
// something when the file is opened, embedded files and programs), files it cannot read
// (encrypted ones), and files made to exhaust the service (decompression and zip bombs), and
// reports the links a reader may follow, for the moderator to see.
//
// Both checks read the file as a viewer would and look at what they parsed, never at raw
// bytes alone: every standard PDF filter is decoded, OpenDocument XML is tokenised with its
// namespaces and entities resolved. Memory is bounded whatever the input: decoded data flows
// through small fixed buffers into the tokenisers, and every size, depth and count has a cap
// (see limits.go). A file that crosses a cap is refused, never half-checked.
//
// Why no PDF library: pdfcpu is the only maintained pure-Go PDF library, but the module proxy
// here serves it only from an unapproved copy, and it decodes whole streams in memory with no
// cap, which is the very attack this package must withstand. What a check needs is small (a
// tokeniser, the filters, object streams, actions), so it is written here on the standard
// library and golang.org/x/image's TIFF LZW.
package doccheck

import (
	"errors"
	"fmt"
)

// The kinds of refusal, for errors.Is. Every error the checks return wraps one of them.
var (
	// ErrActive: the document holds active content, named in the message.
	ErrActive = errors.New("active content")
	// ErrBomb: the document unpacks, or takes work, past a limit.
	ErrBomb = errors.New("decompression bomb")
	// ErrProtected: the document is encrypted, hence cannot be inspected.
	ErrProtected = errors.New("password-protected")
	// ErrMalformed: the document is not the format it claims, or cannot be read.
	ErrMalformed = errors.New("malformed document")
)

// Error is a refusal: its kind (one of the Err variables) and what was found, as in
// "JavaScript action in object 12 0".
type Error struct {
	Kind   error
	Reason string
	// Limit is the bound crossed, in bytes, for ErrBomb.
	Limit int64
}

func (e *Error) Error() string { return e.Reason }
func (e *Error) Unwrap() error { return e.Kind }

func refuse(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: fmt.Sprintf(format, args...)}
}

// Report is what a document that passed holds and a moderator should see.
type Report struct {
	// Links are the addresses the document's links lead to (a PDF's URI actions, an
	// OpenDocument's hyperlinks and external images), deduplicated, in the order found, at
	// most MaxLinks, each at most MaxLinkLen bytes.
	Links []string
}

// links gathers a report's links, deduplicated and capped.
type links struct {
	list []string
	seen map[string]bool
	more int // links left out past MaxLinks
}

func (l *links) add(s string) {
	s = cleanLink(s)
	if s == "" || l.seen[s] {
		return
	}
	if len(l.list) >= MaxLinks {
		l.more++
		return
	}
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	l.seen[s] = true
	l.list = append(l.list, s)
}
