// Package mail sends the server's mail (address verification, password reset, invitations): through
// an SMTP server named by a URL, or, where none is configured, into the log so that whoever runs the
// server can pass the links on. A Queue sends in the background, so that no answer waits on a mail
// server (nor tells, by its time, whether a message went out).
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/tiledesk-go/tiledesk"
)

// SMTP sends each message through an SMTP server, one connection per message.
type SMTP struct {
	client *gomail.Client
	from   string
	server string // host:port, for logs; never the credentials
}

var _ tiledesk.Mailer = (*SMTP)(nil)

// Options tune NewSMTP; the zero value is what the server uses.
type Options struct {
	// TLSConfig replaces the default TLS settings (the URL's host as server name, TLS 1.2 or newer);
	// tests use it to trust their own certificate.
	TLSConfig *tls.Config
	// Timeout bounds connecting and each SMTP command (default 30 seconds).
	Timeout time.Duration
}

// NewSMTP reads a mail server URL: smtp://[user:password@]host[:port] speaks STARTTLS whenever the
// server offers it (port 587 by default), smtps:// is TLS from the first byte (port 465 by default).
// Credentials are sent only over TLS, or to a server on this machine; an SMTP server that offers no
// TLS to a client with a password is refused rather than given the password. from is the From
// address of every message ("Tiledesk <no-reply@example.com>" or a bare address).
func NewSMTP(rawURL, from string, opts Options) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("mail server URL: %w", err)
	}
	var port int
	var tlsOpts []gomail.Option
	switch u.Scheme {
	case "smtp":
		port = 587
		tlsOpts = []gomail.Option{gomail.WithTLSPolicy(gomail.TLSOpportunistic)}
	case "smtps":
		port = 465
		tlsOpts = []gomail.Option{gomail.WithSSL()}
	default:
		return nil, fmt.Errorf("mail server URL %q: the scheme must be smtp:// (STARTTLS) or smtps:// (TLS)", u.Redacted())
	}
	host := u.Hostname()
	if host == "" || u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return nil, fmt.Errorf("mail server URL %q: write it as %s://[user:password@]host[:port]", u.Redacted(), u.Scheme)
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("mail server URL %q: bad port %q", u.Redacted(), p)
		}
	}
	if from == "" {
		return nil, errors.New("a From address is needed to send mail (--mail-from)")
	}
	if err := gomail.NewMsg().From(from); err != nil {
		return nil, fmt.Errorf("From address %q: %w", from, err)
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.TLSConfig != nil {
		tlsConfig = opts.TLSConfig.Clone()
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = host
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	options := append(tlsOpts, gomail.WithPort(port), gomail.WithTLSConfig(tlsConfig), gomail.WithTimeout(timeout))
	if u.User != nil {
		password, _ := u.User.Password()
		options = append(options, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(password))
	}
	client, err := gomail.NewClient(host, options...)
	if err != nil {
		return nil, fmt.Errorf("mail server URL %q: %w", u.Redacted(), err)
	}
	return &SMTP{client: client, from: from, server: net.JoinHostPort(host, strconv.Itoa(port))}, nil
}

// Server is the mail server's host:port, for logs.
func (s *SMTP) Server() string { return s.server }

// Send delivers m now, within ctx.
func (s *SMTP) Send(ctx context.Context, m tiledesk.Mail) error {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(s.from); err != nil {
		return err
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("recipient %q: %w", m.To, err)
	}
	if m.ReplyTo != "" {
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			return fmt.Errorf("reply-to %q: %w", m.ReplyTo, err)
		}
	}
	// A subject is one line: whatever names it carries (a project's), a line break must not start
	// another header.
	msg.Subject(strings.Join(strings.Fields(m.Subject), " "))
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if err := s.client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send mail through %s: %w", s.server, err)
	}
	return nil
}
