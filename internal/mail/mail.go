// Package mail sends the service's notifications. The embedded default writes each message
// to a folder (an outbox an operator can read or hand to a mail program); SMTP comes later.
package mail

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// Message is one notification. To is an address kept in the service's private store; it
// never goes to Git.
type Message struct {
	From    string
	To      string
	Subject string
	Body    string // plain text, UTF-8
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Outbox writes messages as .eml files in a folder.
type Outbox struct {
	dir string
	now func() time.Time
}

// NewOutbox returns an outbox in dir, creating it.
func NewOutbox(dir string) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &Outbox{dir: dir, now: time.Now}, nil
}

// Format renders m as an RFC 5322 message with a UTF-8 body.
func Format(m Message, date time.Time, id string) ([]byte, error) {
	for _, h := range []string{m.From, m.To, m.Subject} {
		if strings.ContainsAny(h, "\r\n") {
			return nil, errors.New("mail: a header holds a line break")
		}
	}
	if m.To == "" || m.From == "" {
		return nil, errors.New("mail: a message needs a sender and a recipient")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\n", m.From)
	fmt.Fprintf(&b, "To: %s\r\n", m.To)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", m.Subject))
	fmt.Fprintf(&b, "Date: %s\r\n", date.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@parvis>\r\n", id)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n"))
	return []byte(b.String()), nil
}

// Send writes the message durably.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	now := o.now()
	id := ulid.Make().String()
	data, err := Format(m, now, id)
	if err != nil {
		return err
	}
	tmp := filepath.Join(o.dir, ".tmp-"+id)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
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
	f.Close()
	return os.Rename(tmp, filepath.Join(o.dir, id+".eml"))
}
