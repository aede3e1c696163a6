package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
	"github.com/tiledesk-go/tiledesk/internal/mail"
)

// How long mailed links work. A verification link has days, as the mail may be read late; a reset
// link an hour, as it hands the account over; an invitation's link (which only shows the invitation)
// a month. A reset link also stops once used, and every link once the address changes.
const (
	verifyLinkLifetime = 72 * time.Hour
	resetLinkLifetime  = time.Hour
	inviteLinkLifetime = 30 * 24 * time.Hour
)

// mailSetup resolves the mail settings of cfg: the mailer (the log when none), the link signer and
// the public URL links start with.
func mailSetup(cfg Config, log *slog.Logger) (tiledesk.Mailer, *auth.Links, string) {
	mailer := cfg.Mailer
	if mailer == nil {
		mailer = mail.NewLog(log)
	}
	key := cfg.LinkKey
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	links, err := auth.NewLinks(key)
	if err != nil {
		panic("api: " + err.Error()) // a configuration mistake of the caller's
	}
	public := strings.TrimRight(cfg.PublicURL, "/")
	if public == "" {
		public = "http://localhost:3000"
	}
	return mailer, links, public
}

// dashboardLink is a link into the dashboard at the public URL; segments are escaped.
func (s *Server) dashboardLink(segments ...string) string {
	for i, seg := range segments {
		segments[i] = url.PathEscape(seg)
	}
	return s.publicURL + "/#/" + strings.Join(segments, "/")
}

// sendMail hands m to the mailer. A message that cannot be queued is logged with its link; the
// answer does not change, so that it tells nothing about the address.
func (s *Server) sendMail(r *http.Request, m tiledesk.Mail) {
	if err := s.mailer.Send(r.Context(), m); err != nil {
		s.log.Warn("mail not queued; pass the link on by hand", "request_id", info(r).id, "to", m.To,
			"subject", m.Subject, "link", m.Link, "err", err)
	}
}

// scopeRecipient names the per-recipient mail budget in 429 bodies.
const scopeRecipient = "recipient"

// takeMail spends one message of the budget of the address it goes to (hashed: the limiter's store
// need not hold addresses). Routes that mail an address chosen by the caller take it before looking
// the address up, so that a 429 tells nothing about whether it has an account.
func (s *Server) takeMail(w http.ResponseWriter, r *http.Request, email string) error {
	sum := sha256.Sum256([]byte(email))
	return s.take(w, r, s.limits.Mail, "mail:"+hex.EncodeToString(sum[:16]), scopeRecipient)
}

// shortName is a name as mails show it: one line, at most 80 characters, since project and user
// names are chosen by people other than the recipient.
func shortName(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > 80 {
		s = string([]rune(s)[:79]) + "…"
	}
	return s
}

func greeting(u *tiledesk.User) string {
	if name := shortName(u.FullName()); name != "" {
		return "Hi " + name + ",\n\n"
	}
	return "Hi,\n\n"
}

// verifyMail asks u to confirm its address. The link is bound to the address: it stops working if the
// address changes.
func (s *Server) verifyMail(u *tiledesk.User) tiledesk.Mail {
	token := s.links.Sign(auth.LinkVerifyEmail, u.ID, s.now().Add(verifyLinkLifetime), u.Email)
	link := s.dashboardLink("verify", "email", u.ID, token)
	return tiledesk.Mail{To: u.Email, Subject: "[Tiledesk] Verify your email address", Link: link,
		Text: greeting(u) + "please confirm that " + u.Email + " is your address by opening this link:\n\n" + link +
			"\n\nThe link works for 72 hours. Invitations to join a project sent to this address apply once it is " +
			"confirmed.\n\nIf you did not sign up, do not open the link: someone else signed up with your address. " +
			"To take the account over, choose a new password for it with \"Forgot password\".\n"}
}

// resetMail sends u a link to choose a new password. The link is bound to the address and the
// current password hash: it works once, and not after the password changes otherwise.
func (s *Server) resetMail(u *tiledesk.User) tiledesk.Mail {
	token := s.links.Sign(auth.LinkResetPassword, u.ID, s.now().Add(resetLinkLifetime), u.Email, u.PasswordHash)
	link := s.dashboardLink("resetpassword", token)
	return tiledesk.Mail{To: u.Email, Subject: "[Tiledesk] Password reset request", Link: link,
		Text: greeting(u) + "someone asked to reset the password of the account " + u.Email +
			". To choose a new password, open this link within an hour:\n\n" + link +
			"\n\nIf it was not you, ignore this message: your password stays as it is.\n"}
}

// passwordChangedMail tells u that its password was reset.
func passwordChangedMail(u *tiledesk.User) tiledesk.Mail {
	return tiledesk.Mail{To: u.Email, Subject: "[Tiledesk] Your password has been changed",
		Text: greeting(u) + "the password of the account " + u.Email + " was just changed with a reset link. " +
			"If it was not you, reset it again at once and tell the administrator of your projects.\n"}
}

// invitationMail invites an address to a project. Its link names the invitation by a signed token:
// GET /auth/pendinginvitationsnoauth/{token} shows the invitation to whoever holds it.
func (s *Server) invitationMail(inv *tiledesk.PendingInvitation, p *tiledesk.Project, by *caller) tiledesk.Mail {
	token := s.links.Sign(auth.LinkInvitation, inv.ProjectID+"/"+inv.ID, s.now().Add(inviteLinkLifetime), inv.Email)
	first, last := inviterName(by)
	link := s.dashboardLink("handle-invitation", token, shortName(p.Name), first, last)
	return tiledesk.Mail{To: inv.Email, Subject: fmt.Sprintf("[Tiledesk] You have been invited to the '%s' project", shortName(p.Name)),
		Link: link,
		Text: fmt.Sprintf("Hi,\n\n%s invited %s to the project '%s' as %s. To join, open this link and sign up "+
			"with this address:\n\n%s\n\nThe invitation applies once the address is confirmed by the link mailed "+
			"at sign-up. If the address already has an account, sign in and ask for a new confirmation mail; if that "+
			"account is not yours, choose a new password for it with \"Forgot password\". If you do not know the "+
			"project, ignore this message.\n",
			shortName(strings.TrimSpace(first+" "+last)), inv.Email, shortName(p.Name), inv.Role, link)}
}

// addedMail tells an existing account that it was added to a project.
func (s *Server) addedMail(u *tiledesk.User, p *tiledesk.Project, role string, by *caller) tiledesk.Mail {
	first, last := inviterName(by)
	link := s.dashboardLink("project", p.ID, "home")
	return tiledesk.Mail{To: u.Email, Subject: fmt.Sprintf("[Tiledesk] You have been invited to the '%s' project", shortName(p.Name)),
		Link: link,
		Text: greeting(u) + fmt.Sprintf("%s added you to the project '%s' as %s:\n\n%s\n",
			shortName(strings.TrimSpace(first+" "+last)), shortName(p.Name), role, link)}
}

func inviterName(c *caller) (first, last string) {
	if c != nil && c.user != nil {
		return c.user.Firstname, c.user.Lastname
	}
	return "A teammate", ""
}
