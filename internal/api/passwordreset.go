package api

import (
	"net/http"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
)

// errResetKey answers every reset link that does not reset: malformed, expired, already used (the
// password changed since), or for an address that changed.
var errResetKey = errMsg(http.StatusNotFound, "Invalid password reset key")

// handleRequestResetPassword mails a reset link to the address, when it has an account. The answer
// is the same either way (the original said "User not found."), and so is its time: the mail is only
// queued.
func (s *Server) handleRequestResetPassword(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	email := b.email("email")
	if err := b.err(); err != nil {
		return err
	}
	key := lookupEmail(email)
	if err := s.takeMail(w, r, key); err != nil {
		return err
	}
	u, err := s.store.FindUserByEmail(r.Context(), key)
	switch {
	case err == nil:
		s.sendMail(r, s.resetMail(u))
	case tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND:
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true,
		"message": "If an account uses this address, an email has been sent to it to reset the password"})
	return nil
}

// resetUser returns the user a reset token is for, while the token is good.
func (s *Server) resetUser(r *http.Request, token string) (*tiledesk.User, error) {
	link, err := s.links.Parse(token, auth.LinkResetPassword)
	if err != nil {
		return nil, errResetKey
	}
	u, err := s.fresh().FindUserByID(r.Context(), link.Subject)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return nil, errResetKey
	} else if err != nil {
		return nil, err
	}
	if s.links.Check(link, s.now(), u.Email, u.PasswordHash) != nil {
		return nil, errResetKey
	}
	return u, nil
}

// handleCheckResetKey tells the dashboard whether a reset link is still good.
func (s *Server) handleCheckResetKey(w http.ResponseWriter, r *http.Request, c *call) error {
	u, err := s.resetUser(r, r.PathValue("token"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "Valid password reset key", "user": toUserBrief(u)})
	return nil
}

// handleResetPassword sets a new password with a reset link. The link proved the mailbox, so the
// address becomes verified too (and the invitations waiting for it apply). Cached Basic credentials
// are forgotten, the client becomes known to the account, and the owner is told by mail.
func (s *Server) handleResetPassword(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	u, err := s.resetUser(r, r.PathValue("token"))
	if err != nil {
		return err // before bcrypt: a wrong link costs nothing
	}
	password := b.password("password")
	if err := b.err(); err != nil {
		return err
	}
	hash, err := auth.HashPassword(password, s.pwCost)
	if err != nil {
		return err
	}
	// Only while the hash is still the one the link was checked against: of two resets with one
	// link, however close, the second finds the password changed and the link used.
	err = s.store.SetUserPassword(r.Context(), u.ID, u.PasswordHash, hash)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return errResetKey
	} else if err != nil {
		return err
	}
	s.basic.Forget(u.ID)
	if v, err := s.store.VerifyUserEmail(r.Context(), u.ID, u.Email); err == nil {
		u = v
	} else if tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		return err
	}
	// The client proved the mailbox: it signs in from here at once, even while strangers have spent
	// the account's budget (the usual reason to reset).
	s.signedIn(w, r, u.Email)
	s.sendMail(r, passwordChangedMail(u))
	writeJSON(w, http.StatusOK, map[string]any{"message": "Password change successful", "user": toUserBrief(u)})
	return nil
}
