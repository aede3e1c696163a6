package api

import (
	"net/http"
	"strings"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
)

// fresh is the store underneath the identity cache, for the few reads that must not be a moment
// old: whether a single-use link was used already, on any process.
func (s *Server) fresh() tiledesk.Store {
	if u, ok := s.store.(interface{ Unwrap() tiledesk.Store }); ok {
		return u.Unwrap()
	}
	return s.store
}

// handleProjectUserInvite adds an account whose address is verified at once, as the original and its
// dashboard expect, and answers the membership as the teammates list shows it. Any other address (no
// account, or an account that never proved it holds the mailbox) gets a pending invitation and a
// mail: the invitation becomes a membership when an account verifies that address, so that signing
// up with someone else's address takes nothing. Both answers are the original's; an unverified
// account's is the same as no account's.
func (s *Server) handleProjectUserInvite(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	email := b.accountEmail("email")
	role := tiledesk.RoleAgent
	if v := b.oneOf("role", invitableRoles...); v != nil {
		role = *v
	}
	available := b.boolean("user_available")
	if err := b.err(); err != nil {
		return err
	}
	if c.caller.user != nil && c.caller.user.Email == email {
		return &apiError{status: http.StatusForbidden, body: map[string]any{"success": false,
			"msg": "Forbidden. It is not allowed to invite yourself", "code": 4000}}
	}
	if err := s.takeMail(w, r, email); err != nil {
		return err
	}
	now := tiledesk.Millis(s.now())
	u, err := s.store.FindUserByEmail(r.Context(), email)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND || err == nil && !u.EmailVerified {
		inv, err := s.store.SavePendingInvitation(r.Context(), &tiledesk.PendingInvitation{ID: tiledesk.NewIDAt(now),
			ProjectID: c.project.ID, Email: email, Role: role, CreatedBy: c.caller.id, CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return err
		}
		s.sendMail(r, s.invitationMail(inv, c.project, c.caller))
		writeJSON(w, http.StatusOK, struct {
			Msg               string         `json:"msg"`
			PendingInvitation invitationJSON `json:"pendingInvitation"`
		}{"User not found, save invite in pending ", toInvitation(inv)})
		return nil
	} else if err != nil {
		return err
	}
	pu := tiledesk.NewProjectUser(c.project.ID, role, c.caller.id, now)
	pu.UserID = u.ID
	if available != nil {
		pu.UserAvailable = *available
	}
	if err := s.store.CreateProjectUser(r.Context(), pu); tiledesk.ErrorCode(err) == tiledesk.ECONFLICT {
		return &apiError{status: http.StatusForbidden, body: map[string]any{"success": false,
			"msg": "Forbidden. The user is already a member of the project.", "code": 4001}}
	} else if err != nil {
		return err
	}
	pu.User = u
	s.sendMail(r, s.addedMail(u, c.project, role, c.caller))
	writeJSON(w, http.StatusOK, toProjectUser(pu, c.project))
	return nil
}

func (s *Server) handlePendingInvitationList(w http.ResponseWriter, r *http.Request, c *call) error {
	invs, err := s.store.FindPendingInvitations(r.Context(), c.project.ID)
	if err != nil {
		return err
	}
	out := make([]invitationJSON, 0, len(invs))
	for _, inv := range invs {
		out = append(out, toInvitation(inv))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// pendingInvitation reads the invitation the path's {id} names in the route's project.
func (s *Server) pendingInvitation(r *http.Request, c *call) (*tiledesk.PendingInvitation, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.store.FindPendingInvitationByID(r.Context(), c.project.ID, id)
}

func (s *Server) handlePendingInvitationGet(w http.ResponseWriter, r *http.Request, c *call) error {
	inv, err := s.pendingInvitation(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toInvitation(inv))
	return nil
}

// handlePendingInvitationDelete revokes an invitation and answers what it was.
func (s *Server) handlePendingInvitationDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	inv, err := s.store.DeletePendingInvitation(r.Context(), c.project.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toInvitation(inv))
	return nil
}

// handlePendingInvitationResend mails the invitation again, with a fresh link.
func (s *Server) handlePendingInvitationResend(w http.ResponseWriter, r *http.Request, c *call) error {
	inv, err := s.pendingInvitation(r, c)
	if err != nil {
		return err
	}
	if err := s.takeMail(w, r, inv.Email); err != nil {
		return err
	}
	s.sendMail(r, s.invitationMail(inv, c.project, c.caller))
	writeJSON(w, http.StatusOK, map[string]any{"Resend invitation email to": toInvitation(inv)})
	return nil
}

// handlePendingInvitationNoAuth shows an invitation to whoever holds its mailed link, for the
// dashboard's page that offers to sign up with the invited address. The original took the raw
// invitation id, which is guessable (ObjectIds count up); here the path must hold the signed token of the
// mail, bound to the invited address: a raw id, a revoked or answered invitation, or an expired link
// all answer 404.
func (s *Server) handlePendingInvitationNoAuth(w http.ResponseWriter, r *http.Request, c *call) error {
	link, err := s.links.Parse(r.PathValue("token"), auth.LinkInvitation)
	if err != nil {
		return errNotFound
	}
	pid, id, ok := strings.Cut(link.Subject, "/")
	if !ok {
		return errNotFound
	}
	inv, err := s.store.FindPendingInvitationByID(r.Context(), pid, id)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return errNotFound
	} else if err != nil {
		return err
	}
	if s.links.Check(link, s.now(), inv.Email) != nil {
		return errNotFound
	}
	writeJSON(w, http.StatusOK, toInvitation(inv))
	return nil
}
