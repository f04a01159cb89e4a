package mail

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parvis/parvis/internal/testenv"
)

// These tests deliver to a real SMTP server, maildev, on loopback, and read the messages
// back through its HTTP API. They skip under -short.

func smtpTo(t *testing.T, md *testenv.Maildev, user, pass string) *SMTP {
	t.Helper()
	u := fmt.Sprintf("smtp://127.0.0.1:%d?starttls=0&timeout=5s", md.SMTPPort)
	if user != "" {
		u = fmt.Sprintf("smtp://%s@127.0.0.1:%d?starttls=0&timeout=5s", user, md.SMTPPort)
	}
	cfg, err := ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Password = pass
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSMTPMaildev proves that a notice reaches a real server with AUTH as written: its
// headers (one-click unsubscribe, Message-ID, sender, recipient, subject in UTF-8), both of
// its parts, and their links; that a refused sign-in is the server's fault, not the
// message's; and that STARTTLS, when required, is never skipped.
func TestSMTPMaildev(t *testing.T) {
	md := testenv.StartMaildev(t, testenv.MaildevOptions{User: "parvis", Password: "s3cret-pass"})
	s := smtpTo(t, md, "parvis", "s3cret-pass")
	m := sample()
	m.Body = "Bonjour,\nVotre commentaire est publié : https://ville.example/articles/budget/#comment-01jabc\n"
	m.HTML = `<p>Bonjour,</p><p><a href="https://ville.example/articles/budget/#comment-01jabc">Voir votre commentaire</a></p>`
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	l := md.WaitEmails(t, 1, 5*time.Second)
	got := l[0]
	if got.Subject != m.Subject || len(got.To) != 1 || got.To[0].Address != m.To || got.From[0].Address != "noreply@ville.example" || got.From[0].Name != "Mairie de Testville" {
		t.Errorf("subject %q, to %v, from %v", got.Subject, got.To, got.From)
	}
	for h, want := range map[string]string{
		"list-unsubscribe":      "<" + m.Unsubscribe + ">",
		"list-unsubscribe-post": "List-Unsubscribe=One-Click",
		"message-id":            "<01jabc.published@ville.example>",
		"auto-submitted":        "auto-generated",
	} {
		if v := got.Header(h); v != want {
			t.Errorf("header %s: %q, want %q", h, v, want)
		}
	}
	if !strings.Contains(got.Text, "est publié : https://ville.example/articles/budget/#comment-01jabc") {
		t.Errorf("text part: %q", got.Text)
	}
	if !strings.Contains(got.HTML, `href="https://ville.example/articles/budget/#comment-01jabc"`) {
		t.Errorf("html part: %q", got.HTML)
	}

	// A wrong password is the server refusing everyone: unavailable, retried, not given up.
	bad := smtpTo(t, md, "parvis", "wrong")
	m.ID = "01jabc.again"
	if err := bad.Send(context.Background(), m); err == nil || !isUnavailable(err) || IsPermanent(err) {
		t.Errorf("a refused sign-in: %v, want an unavailable backend", err)
	}

	// STARTTLS, the default of smtp://, is required: this server does not offer it, and gets
	// nothing rather than the password and the message in clear.
	cfg, err := ParseURL(fmt.Sprintf("smtp://parvis@127.0.0.1:%d?timeout=5s", md.SMTPPort))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Password = "s3cret-pass"
	starttls, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.ID = "01jabc.clear"
	if err := starttls.Send(context.Background(), m); err == nil || !isUnavailable(err) {
		t.Errorf("no STARTTLS offered: %v, want an unavailable backend", err)
	}
	time.Sleep(100 * time.Millisecond)
	if l := md.Emails(t); len(l) != 1 {
		t.Errorf("%d messages received, want only the first", len(l))
	}
}

// TestSMTPTLS proves implicit TLS (smtps://) against a server with its own certificate: the
// message goes through with the certificate trusted, and not at all when it is not.
func TestSMTPTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	md := testenv.StartMaildev(t, testenv.MaildevOptions{User: "parvis", Password: "s3cret-pass", CertFile: certFile, KeyFile: keyFile})
	cfg, err := ParseURL(fmt.Sprintf("smtps://parvis@127.0.0.1:%d?timeout=5s", md.SMTPPort))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Password = "s3cret-pass"
	cfg.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := sample()
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	l := md.WaitEmails(t, 1, 5*time.Second)
	if len(l) != 1 || !strings.HasPrefix(l[0].MessageID, m.ID+"@") {
		t.Errorf("received %d messages: %+v", len(l), l)
	}
	// Last, for maildev gives up on a session whose handshake the client cut.
	cfg.TLS = nil
	untrusted, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.ID = "01jabc.untrusted"
	if err := untrusted.Send(context.Background(), m); err == nil || !isUnavailable(err) {
		t.Errorf("an untrusted certificate: %v, want an unavailable backend", err)
	}
}

// TestSpoolOutage proves that a mail server's outage loses no notification and sends none
// twice: with the server down, notices are queued and retried; once it is up, each is
// delivered exactly once.
func TestSpoolOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("needs maildev, which -short leaves out")
	}
	smtpPort, webPort := testenv.FreePort(t), testenv.FreePort(t)
	cfg, err := ParseURL(fmt.Sprintf("smtp://127.0.0.1:%d?starttls=0&timeout=2s", smtpPort))
	if err != nil {
		t.Fatal(err)
	}
	backend, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := openDB(t, filepath.Join(t.TempDir(), "parvis.db"))
	defer db.Close()
	s, err := NewSpool(db, backend, SpoolOptions{MinDelay: 50 * time.Millisecond, MaxDelay: 200 * time.Millisecond, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()

	const n = 10
	for i := range n {
		m := sample()
		m.ID, m.To = fmt.Sprintf("outage-%02d", i), fmt.Sprintf("p%02d@example.org", i)
		if err := s.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// Down: the spool tries, fails, and keeps everything.
	deadline := time.Now().Add(5 * time.Second)
	for st, _ := s.Stats(); st.Retried < 2 && time.Now().Before(deadline); st, _ = s.Stats() {
		time.Sleep(10 * time.Millisecond)
	}
	st, _ := s.Stats()
	if st.Retried < 2 || st.Queued != n || st.Delivered != 0 {
		t.Fatalf("while down: %+v", st)
	}
	md := testenv.StartMaildev(t, testenv.MaildevOptions{SMTPPort: smtpPort, WebPort: webPort})
	start := time.Now()
	l := md.WaitEmails(t, n, 10*time.Second)
	t.Logf("%d notices delivered %s after the server answered", n, time.Since(start).Round(time.Millisecond))
	time.Sleep(300 * time.Millisecond) // a duplicate would arrive now
	l = md.Emails(t)
	seen := map[string]int{}
	for _, m := range l {
		seen[m.MessageID]++
	}
	if len(l) != n || len(seen) != n {
		t.Errorf("received %d messages, %d distinct; want %d of each", len(l), len(seen), n)
	}
	if st, _ := s.Stats(); st.Queued != 0 || st.Failed != 0 {
		t.Errorf("after: %+v", st)
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns them with a pool
// that trusts the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestSMTPClosesFailedConnection proves that a connection whose session fails before the
// message (no STARTTLS where it is required) is closed at once, not left open until the
// garbage collector finds it: go-mail returns without closing it, and a server down for
// hours would collect one per try.
func TestSMTPClosesFailedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	closed := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			closed <- err
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "220 test ESMTP\r\n")
		r := bufio.NewReader(c)
		r.ReadString('\n')                // EHLO
		io.WriteString(c, "250 test\r\n") // no STARTTLS offered
		_, err = io.Copy(io.Discard, r)   // until the client closes
		closed <- err
	}()
	cfg, err := ParseURL("smtp://" + ln.Addr().String() + "?timeout=5s")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), sample()); err == nil || !isUnavailable(err) {
		t.Fatalf("no STARTTLS: %v", err)
	}
	if err := <-closed; err != nil {
		t.Errorf("the connection was not closed: %v", err)
	}
}
