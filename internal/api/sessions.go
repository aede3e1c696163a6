package api

import (
	"net/http"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
)

// errSigninFailed is the one answer to a failed sign-in, whether the email has no account or the
// password is wrong (the original says which), so that sign-in cannot be used to learn which
// addresses have accounts; both cost one bcrypt comparison.
var errSigninFailed = errMsg(http.StatusUnauthorized, "Authentication failed. Wrong email or password.")

// issueUserToken signs a token for u carrying its token generation: the token stops working when
// the password changes or the account is deleted.
func (s *Server) issueUserToken(u *tiledesk.User) (string, error) {
	return s.issueScopedUserToken(u, "")
}

// issueScopedUserToken is issueUserToken for a token that acts in one project only ("" for any),
// as a custom token's exchange gives (customtoken.go).
func (s *Server) issueScopedUserToken(u *tiledesk.User, projectID string) (string, error) {
	verified := u.EmailVerified
	c := auth.Claims{ID: u.ID, Email: u.Email, Firstname: u.Firstname, Lastname: u.Lastname,
		EmailVerified: &verified, Subject: auth.SubjectUser, Generation: u.TokenGeneration}
	if projectID != "" {
		c.Audience = auth.ProjectAudience(projectID)
	}
	return s.tokens.Issue(c)
}

// handleUserDelete deletes the caller's account as the original does: anonymised (status 0,
// email <uuid>@tiledesk.com, names "anonymized"), its sessions ended and its memberships disabled.
// The last active owner of a project is refused (409) until someone else owns it or it is deleted.
func (s *Server) handleUserDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	u, err := s.store.DeleteUser(r.Context(), c.caller.user.ID)
	if err != nil {
		return err
	}
	s.basic.Forget(u.ID)
	writeJSON(w, http.StatusOK, struct {
		Success     bool      `json:"success"`
		UpdatedUser *userJSON `json:"updatedUser"`
	}{true, toUser(u)})
	return nil
}
