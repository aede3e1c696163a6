package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
	"github.com/tiledesk-go/tiledesk/internal/mail"
)

// checkMailConfig validates the mail flags: a From address with a mail server, and a public URL
// people can open.
func checkMailConfig(cfg *config) error {
	if cfg.smtpURL != "" && cfg.mailFrom == "" {
		return errors.New(`--smtp-url needs --mail-from, the From address of the server's mail, e.g. "Tiledesk <no-reply@example.com>"`)
	}
	if cfg.publicURL == "" {
		return nil
	}
	u, err := url.Parse(cfg.publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--public-url: %q is not an http:// or https:// address such as https://desk.example.com", cfg.publicURL)
	}
	cfg.publicURL = strings.TrimRight(cfg.publicURL, "/")
	return nil
}

// publicURLFor is the public URL: --public-url, or this server's own address (fine on one machine;
// behind a proxy or a dashboard elsewhere, --public-url says where people go).
func publicURLFor(cfg *config, scheme string, addr net.Addr) string {
	if cfg.publicURL != "" {
		return cfg.publicURL
	}
	return scheme + displayAddr(addr)
}

// newMailer returns what sends the server's mail: a background queue in front of the SMTP server, or
// the log. stop sends what is queued, for up to the given time.
func newMailer(cfg *config, log *slog.Logger) (m tiledesk.Mailer, stop func(time.Duration), err error) {
	if cfg.smtpURL == "" {
		return mail.NewLog(log), func(time.Duration) {}, nil
	}
	smtp, err := mail.NewSMTP(cfg.smtpURL, cfg.mailFrom, mail.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("--smtp-url: %w", err)
	}
	q := mail.NewQueue(smtp, log, 1000)
	return q, func(d time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		q.Close(ctx)
	}, nil
}

// reportMail logs, once the server is up, where its mail goes.
func reportMail(cfg *config, publicURL string, log *slog.Logger) {
	if cfg.smtpURL == "" {
		log.Info("no mail server (--smtp-url): verification, password reset and invitation links are written to this log",
			"public_url", publicURL)
		return
	}
	u, _ := url.Parse(cfg.smtpURL)
	log.Info("mail goes out through the mail server", "server", u.Host, "from", cfg.mailFrom, "public_url", publicURL)
}

// linkKey returns the key that signs mailed links, generated once and kept with the data, so that a
// link works after a restart and on every process sharing the database.
func linkKey(ctx context.Context, store tiledesk.Store) ([]byte, error) {
	k, err := store.SetMetaIfAbsent(ctx, "mail_link_key", auth.NewSecret())
	if err != nil {
		return nil, fmt.Errorf("mail link key: %w", err)
	}
	return []byte(k), nil
}
