package testenv

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// MaildevVersion is the release of maildev (npm) that mail tests deliver to.
const MaildevVersion = "2.2.1"

// MaildevPath returns the path of the pinned maildev's command, installing the package with
// npm into the cache ($PARVIS_TEST_CACHE/npm) on first use, under a file lock.
func MaildevPath(ctx context.Context) (string, error) {
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	prefix := filepath.Join(cache, "npm")
	bin := filepath.Join(prefix, "node_modules", ".bin", "maildev")
	if maildevInstalled(prefix) {
		return bin, nil
	}
	if err := os.MkdirAll(prefix, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(ctx, filepath.Join(prefix, ".maildev.lock"))
	if err != nil {
		return "", fmt.Errorf("testenv: lock maildev: %w", err)
	}
	defer unlock()
	if maildevInstalled(prefix) {
		return bin, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("testenv: maildev %s needs npm: %w", MaildevVersion, err)
	}
	cmd := exec.CommandContext(ctx, npm, "install", "--prefix", prefix, "--no-audit", "--no-fund", "--save-exact", "maildev@"+MaildevVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("testenv: npm install maildev@%s: %v\n%s", MaildevVersion, err, out)
	}
	if !maildevInstalled(prefix) {
		return "", fmt.Errorf("testenv: npm installed no maildev %s", MaildevVersion)
	}
	return bin, nil
}

// maildevInstalled reports whether the cache holds the pinned maildev, not another release.
func maildevInstalled(prefix string) bool {
	b, err := os.ReadFile(filepath.Join(prefix, "node_modules", "maildev", "package.json"))
	if err != nil || !isExecutable(filepath.Join(prefix, "node_modules", ".bin", "maildev")) {
		return false
	}
	var p struct{ Version string }
	return json.Unmarshal(b, &p) == nil && p.Version == MaildevVersion
}

// MaildevOptions configure a maildev server.
type MaildevOptions struct {
	// User and Password, when set, make the server require SMTP AUTH.
	User, Password string
	// CertFile and KeyFile, when set, make the server speak TLS from the first byte (SMTPS).
	// maildev offers no STARTTLS.
	CertFile, KeyFile string
	// SMTPPort and WebPort choose the ports (default: free ones), so that a test can stop
	// the server and start another in its place.
	SMTPPort, WebPort int
}

// Maildev is a running maildev: an SMTP server that keeps what it receives, and its HTTP
// API to read it back.
type Maildev struct {
	SMTPPort int
	WebURL   string // http://127.0.0.1:PORT
	proc     *Process
}

// StartMaildev starts maildev on loopback for the test, and stops it when the test ends. It
// skips the test under -short.
func StartMaildev(t testing.TB, o MaildevOptions) *Maildev {
	t.Helper()
	if testing.Short() {
		t.Skip("needs maildev, which -short leaves out")
	}
	bin, err := MaildevPath(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if o.SMTPPort == 0 {
		o.SMTPPort = FreePort(t)
	}
	if o.WebPort == 0 {
		o.WebPort = FreePort(t)
	}
	args := []string{"--ip", "127.0.0.1", "--web-ip", "127.0.0.1", "-s", strconv.Itoa(o.SMTPPort), "-w", strconv.Itoa(o.WebPort),
		"--mail-directory", t.TempDir(), "--silent"}
	if o.User != "" {
		args = append(args, "--incoming-user", o.User, "--incoming-pass", o.Password)
	}
	if o.CertFile != "" {
		args = append(args, "--incoming-secure", "--incoming-cert", o.CertFile, "--incoming-key", o.KeyFile)
	}
	m := &Maildev{SMTPPort: o.SMTPPort, WebURL: fmt.Sprintf("http://127.0.0.1:%d", o.WebPort)}
	web := HTTPReady(m.WebURL + "/email")
	addr := fmt.Sprintf("127.0.0.1:%d", o.SMTPPort)
	m.proc = Start(t, Server{Path: bin, Args: args, Ready: func(ctx context.Context) error {
		if err := smtpGreets(ctx, addr, o.CertFile != ""); err != nil {
			return err
		}
		return web(ctx)
	}})
	return m
}

// smtpGreets is ready when the server at addr says 220 and takes QUIT. A session left
// half-way (a TLS handshake cut) makes maildev exit, so the probe ends each one properly.
func smtpGreets(ctx context.Context, addr string, implicitTLS bool) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if implicitTLS {
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true}) // a probe: the tests check the certificate
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		c = tc
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "220") {
		return fmt.Errorf("smtp greeting %q", line)
	}
	if _, err := io.WriteString(c, "QUIT\r\n"); err != nil {
		return err
	}
	_, err = r.ReadString('\n')
	return err
}

// Stop stops the server now (a mail server's outage); it is stopped when the test ends anyway.
func (m *Maildev) Stop() { m.proc.stop() }

// MaildevMail is a message as maildev's API gives it.
type MaildevMail struct {
	ID        string           `json:"id"`
	MessageID string           `json:"messageId"`
	Subject   string           `json:"subject"`
	Text      string           `json:"text"`
	HTML      string           `json:"html"`
	Headers   map[string]any   `json:"headers"`
	From      []MaildevAddress `json:"from"`
	To        []MaildevAddress `json:"to"`
	Envelope  MaildevEnvelope  `json:"envelope"`
	Date      time.Time        `json:"date"`
}

// MaildevAddress is one address of a header.
type MaildevAddress struct {
	Address string `json:"address"`
	Name    string `json:"name"`
}

// MaildevEnvelope is what the SMTP session said: who sent, and to whom.
type MaildevEnvelope struct {
	From struct {
		Address string `json:"address"`
	} `json:"from"`
	To []struct {
		Address string `json:"address"`
	} `json:"to"`
}

// Header returns a header's value as maildev parsed it (lower-case names), or "".
func (m MaildevMail) Header(name string) string {
	v, ok := m.Headers[strings.ToLower(name)]
	if !ok {
		return ""
	}
	switch v := v.(type) {
	case string:
		return v
	case []any:
		var l []string
		for _, x := range v {
			l = append(l, fmt.Sprint(x))
		}
		return strings.Join(l, ", ")
	}
	return fmt.Sprint(v)
}

// Emails returns what the server received, oldest first.
func (m *Maildev) Emails(t testing.TB) []MaildevMail {
	t.Helper()
	res, err := http.Get(m.WebURL + "/email")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /email: %s", res.Status)
	}
	var l []MaildevMail
	if err := json.NewDecoder(res.Body).Decode(&l); err != nil {
		t.Fatal(err)
	}
	return l
}

// Source returns a message as received, headers and all.
func (m *Maildev) Source(t testing.TB, id string) string {
	t.Helper()
	res, err := http.Get(m.WebURL + "/email/" + id + "/source")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /email/%s/source: %v %s", id, err, res.Status)
	}
	return string(b)
}

// WaitEmails waits until the server holds at least n messages, and returns them.
func (m *Maildev) WaitEmails(t testing.TB, n int, within time.Duration) []MaildevMail {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		l := m.Emails(t)
		if len(l) >= n {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("maildev holds %d messages after %s, want %d", len(l), within, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
