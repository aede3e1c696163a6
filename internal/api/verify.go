package api

import (
	"net/http"
	"strings"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
)

// errVerifyLink answers every verification link that does not verify: malformed, expired, signed for
// another address, or for a user that no longer exists. The original's words.
var errVerifyLink = &apiError{status: http.StatusUnauthorized, body: map[string]any{"success": false,
	"error": "Unable to verify email: the verification code is expired or invalid."}}

// handleVerifyEmailCode serves the original's PUT /auth/verifyemail/:userid/:code, which the
// dashboard calls from the mailed link. The body (the original applied it to the user) is ignored:
// verifying an address changes nothing else.
func (s *Server) handleVerifyEmailCode(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.verifyEmail(w, r, r.PathValue("code"), r.PathValue("userid"))
}

// handleVerifyEmail serves POST /auth/verifyemail {"token": ...}: the token alone names the user.
func (s *Server) handleVerifyEmail(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	token := b.requiredStr("token")
	if err := b.err(); err != nil {
		return err
	}
	return s.verifyEmail(w, r, token, "")
}

// verifyEmail checks a verification token (for userID, when given) and marks the address verified,
// which turns the invitations waiting for it into memberships. It answers the user.
func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request, token, userID string) error {
	link, err := s.links.Parse(token, auth.LinkVerifyEmail)
	if err != nil {
		return errVerifyLink
	}
	if userID != "" && !strings.EqualFold(userID, link.Subject) {
		return &apiError{status: http.StatusUnauthorized, body: map[string]any{"success": false,
			"error": "Trying to use a verification code from another user."}}
	}
	u, err := s.fresh().FindUserByID(r.Context(), link.Subject)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return errVerifyLink
	} else if err != nil {
		return err
	}
	if s.links.Check(link, s.now(), u.Email) != nil {
		return errVerifyLink
	}
	u, err = s.store.VerifyUserEmail(r.Context(), u.ID, u.Email)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return errVerifyLink
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUser(u))
	return nil
}

// handleResendVerifyEmail mails the caller a new verification link (GET /users/resendverifyemail).
func (s *Server) handleResendVerifyEmail(w http.ResponseWriter, r *http.Request, c *call) error {
	u := c.caller.user
	if u.EmailVerified {
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "The email address is already verified"})
		return nil
	}
	if err := s.takeMail(w, r, u.Email); err != nil {
		return err
	}
	s.sendMail(r, s.verifyMail(u))
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Verify email successfully sent"})
	return nil
}
