package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Security is how an SMTP connection is protected.
type Security string

const (
	StartTLS    Security = "starttls" // plain connection upgraded with STARTTLS, which is required
	ImplicitTLS Security = "tls"      // TLS from the first byte (SMTPS, port 465)
	NoTLS       Security = "none"     // no encryption: a relay on this machine or a private network
)

// SMTPConfig says how to reach a mail server.
type SMTPConfig struct {
	Host     string
	Port     int
	Security Security
	Username string // AUTH when set
	Password string
	Timeout  time.Duration // per connection and command; default 30 s
	// TLS, when set, is the TLS configuration to use (its ServerName is set to Host when
	// empty): extra roots for a private mail server.
	TLS *tls.Config
}

// ParseURL reads a mail server's address:
//
//	smtp://user@host:587?starttls=1   STARTTLS, required (the default for smtp://; port 587)
//	smtps://user@host:465             implicit TLS (port 465)
//	smtp://host:25?starttls=0         no encryption: only without a user, or on loopback
//
// The user name may be percent-encoded (user%40example.org). The password is never part of
// the address, which ends up in shell histories and process lists: it is set apart.
func ParseURL(raw string) (SMTPConfig, error) {
	var c SMTPConfig
	u, err := url.Parse(raw)
	if err != nil {
		return c, fmt.Errorf("smtp url: %v", err)
	}
	switch u.Scheme {
	case "smtp":
		c.Security, c.Port = StartTLS, 587
	case "smtps":
		c.Security, c.Port = ImplicitTLS, 465
	default:
		return c, fmt.Errorf("smtp url %q: the scheme must be smtp or smtps", redactURL(u))
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return c, fmt.Errorf("smtp url %q: no host (smtp://user@host:587)", redactURL(u))
	}
	if _, has := u.User.Password(); has {
		return c, errors.New("smtp url: holds a password: give it in PARVIS_SMTP_PASSWORD or a file (--smtp-password-file), never in the address")
	}
	if u.Path != "" && u.Path != "/" {
		return c, fmt.Errorf("smtp url %q: no path is expected", redactURL(u))
	}
	c.Host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return c, fmt.Errorf("smtp url: port %q is not a port number", p)
		}
		c.Port = n
	}
	c.Username = u.User.Username()
	for k, vs := range u.Query() {
		v := vs[len(vs)-1]
		switch k {
		case "starttls":
			if u.Scheme != "smtp" {
				return c, errors.New("smtp url: starttls is for smtp://; smtps:// is TLS from the start")
			}
			switch v {
			case "1", "true", "yes":
				c.Security = StartTLS
			case "0", "false", "no":
				c.Security = NoTLS
			default:
				return c, fmt.Errorf("smtp url: starttls=%q: 1 or 0", v)
			}
		case "timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return c, fmt.Errorf("smtp url: timeout=%q: a duration such as 30s", v)
			}
			c.Timeout = d
		default:
			return c, fmt.Errorf("smtp url: unknown parameter %q (starttls, timeout)", k)
		}
	}
	if c.Security == NoTLS && c.Username != "" && !loopback(c.Host) {
		return c, fmt.Errorf("smtp url: a password would cross the network in clear to %s: use STARTTLS or smtps://", c.Host)
	}
	return c, nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func redactURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	return c.String()
}

// ReadPassword reads an SMTP password from a file, without its final line break.
func ReadPassword(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("smtp password file: %w", err)
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", fmt.Errorf("smtp password file %s: empty", file)
	}
	return pw, nil
}

// NewSMTPFromURL is NewSMTP on ParseURL(raw), with the password given apart.
func NewSMTPFromURL(raw, password string) (*SMTP, error) {
	cfg, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	cfg.Password = password
	return NewSMTP(cfg)
}

// SMTP delivers messages to a mail server, one connection per message.
type SMTP struct {
	cfg  SMTPConfig
	tls  *tls.Config
	opts []gomail.Option
}

// authMechs are the sign-in mechanisms tried, strongest first. PLAIN and LOGIN refuse to
// send the password unless the connection is TLS (or to this machine).
var authMechs = []gomail.SMTPAuthType{gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthCramMD5, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin}

// NewSMTP prepares a client of the server cfg names. It does not connect.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" || cfg.Port == 0 {
		return nil, errors.New("smtp: no host or port")
	}
	if cfg.Username != "" && cfg.Password == "" {
		return nil, fmt.Errorf("smtp: user %q has no password (PARVIS_SMTP_PASSWORD or --smtp-password-file)", cfg.Username)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLS != nil {
		tc = cfg.TLS.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	opts := []gomail.Option{gomail.WithPort(cfg.Port), gomail.WithTimeout(cfg.Timeout), gomail.WithTLSConfig(tc)}
	switch cfg.Security {
	case StartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL()) // the connection is TLS from the dial (Send)
	case NoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		return nil, fmt.Errorf("smtp: security %q: starttls, tls or none", cfg.Security)
	}
	if cfg.Username != "" {
		auth := gomail.WithOpportunisticSMTPAuth(authMechs...)
		if cfg.Security == NoTLS {
			// ParseURL allows a password without TLS to this machine only.
			if !loopback(cfg.Host) {
				return nil, fmt.Errorf("smtp: a password would cross the network in clear to %s", cfg.Host)
			}
			auth = gomail.WithSMTPAuth(gomail.SMTPAuthPlainNoEnc)
		}
		opts = append(opts, auth, gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	if _, err := gomail.NewClient(cfg.Host, opts...); err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	return &SMTP{cfg: cfg, tls: tc, opts: opts}, nil
}

// Send delivers one message. An error the server gives as permanent for this message (an
// unknown recipient, a refused content) is marked so (IsPermanent); a server that cannot be
// reached, or refuses TLS or the sign-in, is unavailable for every message (Unavailable);
// anything else is worth another try of this message.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	g, err := build(m)
	if err != nil {
		return Permanent(err)
	}
	// The connection is dialled here so that it is closed whatever happens: go-mail leaves
	// it open when the greeting, STARTTLS or the sign-in fails.
	var conn net.Conn
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{Timeout: s.cfg.Timeout}
		var c net.Conn
		var err error
		if s.cfg.Security == ImplicitTLS {
			c, err = (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(ctx, network, addr)
		} else {
			c, err = d.DialContext(ctx, network, addr)
		}
		conn = c
		return c, err
	}
	client, err := gomail.NewClient(s.cfg.Host, append(s.opts[:len(s.opts):len(s.opts)], gomail.WithDialContextFunc(dial))...)
	if err != nil {
		return Permanent(fmt.Errorf("smtp: %w", err))
	}
	err = client.DialAndSendWithContext(ctx, g)
	if conn != nil {
		_ = conn.Close() // already closed after a QUIT
	}
	if err == nil {
		return nil
	}
	var se *gomail.SendError
	switch {
	case !errors.As(err, &se) || se.Reason == gomail.ErrConnCheck:
		// No connection, no TLS, no sign-in: every message would fail so.
		return Unavailable(err)
	case !se.IsTemp() && (se.Reason == gomail.ErrSMTPRcptTo || se.Reason == gomail.ErrSMTPData || se.Reason == gomail.ErrSMTPDataClose):
		return Permanent(err)
	}
	return err
}

// Describe says where mail goes, for the operator's log.
func (s *SMTP) Describe() string {
	d := fmt.Sprintf("smtp %s:%d (%s", s.cfg.Host, s.cfg.Port, s.cfg.Security)
	if s.cfg.Username != "" {
		d += ", user " + s.cfg.Username
	}
	return d + ")"
}
