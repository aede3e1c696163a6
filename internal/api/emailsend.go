package api

import (
	"net/http"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// maxMailRecipients bounds the addresses of one message sent through the server.
const maxMailRecipients = 10

// handleEmailSend sends a plain-text message from the server's address (a bot's "send email"
// step, a script's notice): to one or more addresses (comma-separated), answered {"queued":true}
// as the original. Each message draws on the project's mail budget; not on the recipients' budget
// for account mail, which a member could otherwise spend to hold back someone's password reset.
func (s *Server) handleEmailSend(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	to := b.requiredStr("to")
	text := b.requiredStr("text")
	subject, replyTo, rid := b.str("subject"), b.str("replyto"), b.str("request_id")
	var recipients []string
	for _, addr := range strings.Split(to, ",") {
		if addr = strings.TrimSpace(addr); addr != "" {
			recipients = append(recipients, strings.ToLower(addr))
		}
	}
	switch {
	case to == "":
	case len(recipients) == 0 || len(recipients) > maxMailRecipients:
		b.fail("to", "must hold 1 to 10 email addresses, separated by commas", to)
	default:
		for _, addr := range recipients {
			if !validEmail(addr) {
				b.fail("to", "must hold valid email addresses; "+addr+" is not one", to)
				break
			}
		}
	}
	if replyTo != nil && *replyTo != "" && !validEmail(*replyTo) {
		b.fail("replyto", "must be a valid email address", *replyTo)
	}
	if err := b.err(); err != nil {
		return err
	}
	if rid != nil && *rid != "" {
		// A message about a conversation is sent only by those who see it.
		if _, err := s.store.FindRequest(r.Context(), c.project.ID, *rid, visibilityOf(c)); err != nil {
			return err
		}
	}
	if err := s.take(w, r, s.limits.ProjectMail, "project:"+c.project.ID, scopeProject); err != nil {
		return err
	}
	m := tiledesk.Mail{Text: text, Subject: "A message from " + shortName(c.project.Name)}
	if subject != nil && strings.TrimSpace(*subject) != "" {
		m.Subject = shortName(*subject)
	}
	if replyTo != nil {
		m.ReplyTo = *replyTo
	}
	for _, addr := range recipients {
		m.To = addr
		s.sendMail(r, m)
	}
	s.log.Info("project mail queued", "request_id", info(r).id, "project", c.project.ID, "by", c.caller.id,
		"recipients", len(recipients))
	writeJSON(w, http.StatusOK, map[string]bool{"queued": true})
	return nil
}
