// Package mail sends the service's notifications. Two backends deliver a message: the
// embedded default writes it to a folder (an outbox an operator can read or hand to a mail
// program), and SMTP hands it to a mail server. A Spool sits in front of either: each message
// is written to the service's store before it is tried, and retried with backoff until it
// is delivered or a bound is reached, so that a mail server's outage loses nothing.
//
// Messages are built with github.com/wneessen/go-mail, for both backends, so that what the
// outbox shows is what the mail server receives.
package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one notification. To is an address kept in the service's private store; it
// never goes to Git.
type Message struct {
	// ID names the message: the local part of its Message-ID, the spool's key and the
	// outbox's file name. Spool.Send makes one when it is empty; a caller that may send the
	// same notice twice (after a crash) gives its own, and the spool sends it once.
	ID   string    `json:"id"`
	Date time.Time `json:"date"` // when it was written; Spool.Send sets it when zero
	// Kind names the notice for logs and reports (confirm, published, digest…); not sent.
	Kind    string `json:"kind,omitempty"`
	From    string `json:"from"`
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`           // plain text, UTF-8
	HTML    string `json:"html,omitempty"` // the same in HTML, sent as an alternative
	// Unsubscribe is the address that ends what this message belongs to in one click. It
	// becomes the List-Unsubscribe and List-Unsubscribe-Post headers (RFC 8058): a mail
	// program POSTs "List-Unsubscribe=One-Click" to it, with no page to confirm.
	Unsubscribe string `json:"unsubscribe,omitempty"`
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// permanent marks an error that retrying cannot mend (the server refused the recipient).
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so that a Spool gives the message up at once instead of retrying it.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err says the message can never be delivered.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// Check reports what is wrong with m, naming the field: a message the spool accepts must be
// one it can send.
func Check(m Message) error {
	for name, h := range map[string]string{"from": m.From, "to": m.To, "subject": m.Subject, "unsubscribe": m.Unsubscribe} {
		if strings.ContainsAny(h, "\r\n") {
			return fmt.Errorf("mail: the %s header holds a line break", name)
		}
	}
	if m.From == "" || m.To == "" {
		return errors.New("mail: a message needs a sender and a recipient")
	}
	if _, err := netmail.ParseAddress(m.From); err != nil {
		return fmt.Errorf("mail: from %q: %v", m.From, err)
	}
	if a, err := netmail.ParseAddress(m.To); err != nil || a.Name != "" {
		return fmt.Errorf("mail: to %q: not a bare address", m.To)
	}
	if m.ID != "" && !idRE.MatchString(m.ID) {
		return fmt.Errorf("mail: id %q: letters, digits, '.', '_' and '-' only", m.ID)
	}
	if m.Unsubscribe != "" && !strings.HasPrefix(m.Unsubscribe, "https://") && !strings.HasPrefix(m.Unsubscribe, "http://") {
		return fmt.Errorf("mail: unsubscribe %q: not an http(s) address", m.Unsubscribe)
	}
	return nil
}

// build makes the go-mail message both backends send.
func build(m Message) (*gomail.Msg, error) {
	if err := Check(m); err != nil {
		return nil, err
	}
	if m.ID == "" || m.Date.IsZero() {
		return nil, errors.New("mail: a message needs an ID and a date (Spool.Send sets them)")
	}
	g := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := g.From(m.From); err != nil {
		return nil, fmt.Errorf("mail: from: %w", err)
	}
	if err := g.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: to: %w", err)
	}
	g.Subject(m.Subject)
	g.SetDateWithValue(m.Date)
	g.SetMessageIDWithValue(m.ID + "@" + domainOf(m.From))
	g.SetUserAgent("Parvis")
	// Automatic notices: vacation responders should not answer them (RFC 3834).
	g.SetGenHeader("Auto-Submitted", "auto-generated")
	if m.Unsubscribe != "" {
		g.SetListUnsubscribe(m.Unsubscribe)
		g.SetListUnsubscribePost()
	}
	g.SetBodyString(gomail.TypeTextPlain, crlf(m.Body))
	if m.HTML != "" {
		g.AddAlternativeString(gomail.TypeTextHTML, crlf(m.HTML))
	}
	return g, nil
}

func domainOf(from string) string {
	if a, err := netmail.ParseAddress(from); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			return a.Address[i+1:]
		}
	}
	return "parvis.invalid"
}

func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// Format renders m as an RFC 5322 message: plain text, and HTML as an alternative when m has
// it. m needs an ID and a date.
func Format(m Message) ([]byte, error) {
	g, err := build(m)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := g.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	return b.Bytes(), nil
}

// Outbox writes messages as .eml files in a folder, named by their ID: a message written
// again (a retry after a crash) replaces its file rather than adding one.
type Outbox struct {
	dir string
}

// NewOutbox returns an outbox in dir, creating it.
func NewOutbox(dir string) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &Outbox{dir: dir}, nil
}

// Dir is the folder messages are written to.
func (o *Outbox) Dir() string { return o.dir }

// Send writes the message durably: synced, then renamed into place. A fault of the disk is
// the backend's (Unavailable), not the message's.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	err := o.write(m)
	if err == nil || IsPermanent(err) {
		return err
	}
	return Unavailable(err)
}

func (o *Outbox) write(m Message) error {
	if m.ID == "" {
		m.ID = newID()
	}
	if m.Date.IsZero() {
		m.Date = time.Now()
	}
	data, err := Format(m)
	if err != nil {
		return Permanent(err)
	}
	tmp := filepath.Join(o.dir, ".tmp-"+m.ID)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(o.dir, m.ID+".eml")); err != nil {
		return err
	}
	if d, err := os.Open(o.dir); err == nil {
		_ = d.Sync() // the rename itself must survive a crash
		d.Close()
	}
	return nil
}

// Describe says where mail goes, for the operator's log.
func (o *Outbox) Describe() string { return "outbox " + o.dir }
