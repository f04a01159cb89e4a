package mail

import (
	"context"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var date = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

func sample() Message {
	return Message{ID: "01jabc.published", Date: date, From: "Mairie de Testville <noreply@ville.example>", To: "claire@example.org",
		Subject: "Votre commentaire est publié", Body: "Bonjour,\nMerci.", HTML: "<p>Bonjour,</p><p>Merci.</p>",
		Unsubscribe: "https://ville.example/api/v1/subscriptions/01jabc/unsubscribe?token=t"}
}

// TestFormat proves that a message is a valid RFC 5322 message whose headers carry what
// the notice needs (one-click unsubscribe, a Message-ID on the sender's domain, no
// auto-replies), with its text and HTML as alternatives.
func TestFormat(t *testing.T) {
	raw, err := Format(sample())
	if err != nil {
		t.Fatal(err)
	}
	msg, err := netmail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("not a message: %v\n%s", err, raw)
	}
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(msg.Header.Get("Subject"))
	for h, want := range map[string]string{
		"Message-Id":            "<01jabc.published@ville.example>",
		"List-Unsubscribe":      "<https://ville.example/api/v1/subscriptions/01jabc/unsubscribe?token=t>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"Auto-Submitted":        "auto-generated",
		"To":                    "<claire@example.org>",
	} {
		if got := msg.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if subject != "Votre commentaire est publié" {
		t.Errorf("subject %q", subject)
	}
	if d, _ := msg.Header.Date(); !d.Equal(date) {
		t.Errorf("date %v", d)
	}
	mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if mt != "multipart/alternative" {
		t.Fatalf("content type %q", mt)
	}
	parts := map[string]string{}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err != nil {
			break
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		b, _ := io.ReadAll(p) // multipart decodes quoted-printable
		parts[ct] = string(b)
	}
	if parts["text/plain"] != "Bonjour,\r\nMerci." || !strings.Contains(parts["text/html"], "<p>Merci.</p>") {
		t.Errorf("parts: %q", parts)
	}
}

// TestCheck proves that a message that could not be sent as meant is refused, naming the
// field: a line break in a header would add headers (or recipients) of the sender's choice.
func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Message)
		want string
	}{
		{"subject injection", func(m *Message) { m.Subject = "Bonjour\r\nBcc: x@evil.example" }, "subject header holds a line break"},
		{"to injection", func(m *Message) { m.To = "x@y.example\nBcc: z@w.example" }, "to header"},
		{"no recipient", func(m *Message) { m.To = "" }, "a sender and a recipient"},
		{"not an address", func(m *Message) { m.To = "claire" }, "not a bare address"},
		{"two recipients", func(m *Message) { m.To = "a@x.example, b@x.example" }, "not a bare address"},
		{"named recipient", func(m *Message) { m.To = "Claire <a@x.example>" }, "not a bare address"},
		{"bad sender", func(m *Message) { m.From = "Mairie" }, "from"},
		{"id with a slash", func(m *Message) { m.ID = "../x" }, "id"},
		{"unsubscribe mailto", func(m *Message) { m.Unsubscribe = "mailto:x@y.example" }, "unsubscribe"},
		{"fine", func(m *Message) {}, ""},
	}
	for _, tt := range tests {
		m := sample()
		tt.edit(&m)
		err := Check(m)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestOutbox proves that the outbox writes each message to a file named by its ID, and that
// a message written again (a retry after a crash) replaces its file.
func TestOutbox(t *testing.T) {
	dir := t.TempDir()
	o, err := NewOutbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := sample()
	for range 2 {
		if err := o.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 || filepath.Base(files[0]) != m.ID+".eml" {
		t.Fatalf("outbox holds %v, want one %s.eml", files, m.ID)
	}
	b, _ := os.ReadFile(files[0])
	if !strings.Contains(string(b), "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n") {
		t.Errorf("message lacks the one-click header:\n%s", b)
	}
	m.Subject = "a\r\nBcc: z@w.example"
	if err := o.Send(context.Background(), m); !IsPermanent(err) {
		t.Errorf("a header injection: %v, want a permanent error", err)
	}
}

// TestParseURL proves how PARVIS_SMTP_URL is read, and that an address that would put the
// password where others read it, or send it in clear across a network, is refused.
func TestParseURL(t *testing.T) {
	tests := []struct {
		url  string
		want SMTPConfig
		err  string
	}{
		{url: "smtp://mairie@mail.ville.example:587?starttls=1", want: SMTPConfig{Host: "mail.ville.example", Port: 587, Security: StartTLS, Username: "mairie"}},
		{url: "smtp://mail.ville.example", want: SMTPConfig{Host: "mail.ville.example", Port: 587, Security: StartTLS}},
		{url: "smtps://noreply%40ville.example@smtp.example.net", want: SMTPConfig{Host: "smtp.example.net", Port: 465, Security: ImplicitTLS, Username: "noreply@ville.example"}},
		{url: "smtp://relay.internal:25?starttls=0", want: SMTPConfig{Host: "relay.internal", Port: 25, Security: NoTLS}},
		{url: "smtp://u@127.0.0.1:1025?starttls=0&timeout=5s", want: SMTPConfig{Host: "127.0.0.1", Port: 1025, Security: NoTLS, Username: "u", Timeout: 5 * time.Second}},
		{url: "smtp://u:secret@mail.example", err: "holds a password"},
		{url: "smtp://u@mail.example?starttls=0", err: "in clear"},
		{url: "http://mail.example", err: "scheme"},
		{url: "smtp://", err: "no host"},
		{url: "smtp://mail.example:99999", err: "port"},
		{url: "smtp://mail.example?tls=1", err: `unknown parameter "tls"`},
		{url: "smtps://mail.example?starttls=1", err: "starttls is for smtp://"},
		{url: "smtp://mail.example?starttls=maybe", err: "1 or 0"},
		{url: "smtp://mail.example/path", err: "no path"},
	}
	for _, tt := range tests {
		got, err := ParseURL(tt.url)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: %v, want %q", tt.url, err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("%s: the error shows the password: %v", tt.url, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %+v, %v; want %+v", tt.url, got, err, tt.want)
		}
	}
}
