package mail

import (
	"context"
	"log/slog"

	"github.com/tiledesk-go/tiledesk"
)

// Log "sends" mail into the log, at info level, where no mail server is configured: the recipient,
// the subject and the link, so that whoever runs the server can pass the link on (the links are
// credentials: keep such logs private).
type Log struct{ log *slog.Logger }

var _ tiledesk.Mailer = Log{}

// NewLog returns a Log writing to log.
func NewLog(log *slog.Logger) Log { return Log{log: log} }

// Send logs m's recipient, subject and link.
func (l Log) Send(ctx context.Context, m tiledesk.Mail) error {
	l.log.InfoContext(ctx, "mail not sent: no mail server is configured (--smtp-url); pass the link on",
		"to", m.To, "subject", m.Subject, "link", m.Link)
	return nil
}
