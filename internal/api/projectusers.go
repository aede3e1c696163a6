package api

import (
	"net/http"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// invitableRoles are the roles an invitation or a role change may grant. Ownership is never handed
// out through these routes; guests and users sign in through the widget and custom tokens.
var invitableRoles = []string{tiledesk.RoleAdmin, tiledesk.RoleSupervisor, tiledesk.RoleAgent, tiledesk.RoleTeammate}

func (s *Server) handleProjectUserList(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	var f tiledesk.ProjectUserFilter
	for _, v := range q["role"] {
		for _, role := range strings.Split(v, ",") {
			if role = strings.TrimSpace(role); role == "" {
				continue
			} else if !tiledesk.IsRole(role) {
				return invalidQuery("role", "unknown role", role)
			}
			f.Roles = append(f.Roles, role)
		}
	}
	if v := q.Get("status"); v != "" {
		if v != tiledesk.MemberActive && v != tiledesk.MemberDisabled && v != "all" {
			return invalidQuery("status", "must be active, disabled or all", v)
		}
		if v == "all" {
			v = ""
		}
		f.Status = &v
	}
	f.Trashed = q.Get("trashed") == "true"
	pus, err := s.store.FindProjectUsers(r.Context(), c.project.ID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.projectUsersJSON(c.project, pus))
	return nil
}

func (s *Server) projectUsersJSON(p *tiledesk.Project, pus []*tiledesk.ProjectUser) []*projectUserJSON {
	out := make([]*projectUserJSON, 0, len(pus))
	for _, pu := range pus {
		out = append(out, toProjectUser(pu, p))
	}
	return out
}

func (s *Server) handleProjectUserMe(w http.ResponseWriter, r *http.Request, c *call) error {
	pu, err := s.store.FindProjectUserByID(r.Context(), c.project.ID, c.member.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, []*projectUserJSON{toProjectUser(pu, c.project)})
	return nil
}

func (s *Server) handleProjectUserGet(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	pu, err := s.store.FindProjectUserByID(r.Context(), c.project.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toProjectUser(pu, c.project))
	return nil
}

// handleProjectUserByUser finds a membership by user id, or by the uuid of a guest.
func (s *Server) handleProjectUserByUser(w http.ResponseWriter, r *http.Request, c *call) error {
	uid := r.PathValue("user_id")
	var pu *tiledesk.ProjectUser
	var err error
	if tiledesk.IsID(uid) {
		pu, err = s.store.FindProjectUserByUserID(r.Context(), c.project.ID, strings.ToLower(uid))
	}
	if pu == nil && (err == nil || tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND) {
		pu, err = s.store.FindProjectUserByUUID(r.Context(), c.project.ID, uid)
	}
	if err != nil {
		return err
	}
	if pu, err = s.store.FindProjectUserByID(r.Context(), c.project.ID, pu.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, []*projectUserJSON{toProjectUser(pu, c.project)})
	return nil
}

// memberUpdate reads the fields every member may change about its own membership.
func memberUpdate(b *body) tiledesk.ProjectUserUpdate {
	upd := tiledesk.ProjectUserUpdate{UserAvailable: b.boolean("user_available"), ProfileStatus: b.str("profileStatus"),
		Attributes: b.boundedObject("attributes"), Tags: b.boundedStrs("tags")}
	if v, ok := b.m["max_assigned_chat"]; ok && v == nil {
		upd.ClearMaxAssignedChat = true
	} else {
		upd.MaxAssignedChat = b.integer("max_assigned_chat", -1, 1_000_000)
	}
	return upd
}

func (s *Server) handleProjectUserUpdateMe(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	upd := memberUpdate(b)
	if err := b.err(); err != nil {
		return err
	}
	pu, err := s.store.UpdateProjectUser(r.Context(), c.project.ID, c.member.ID, upd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toProjectUser(pu, c.project))
	return nil
}

// handleProjectUserUpdate lets an admin change a teammate. Only an owner may touch an owner's
// membership or hand out ownership, so an admin cannot take a project over. Whether the change
// would leave the project without an active owner is the store's to decide, inside its write
// (409, tiledesk.ErrLastOwner): a check here would race with another owner's change.
func (s *Server) handleProjectUserUpdate(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	upd := memberUpdate(b)
	upd.Role = b.oneOf("role", append([]string{tiledesk.RoleOwner}, invitableRoles...)...)
	upd.Status = b.oneOf("status", tiledesk.MemberActive, tiledesk.MemberDisabled)
	if err := b.err(); err != nil {
		return err
	}
	target, err := s.store.FindProjectUserByID(r.Context(), c.project.ID, id)
	if err != nil {
		return err
	}
	callerIsOwner := c.member.Role == tiledesk.RoleOwner
	if (target.Role == tiledesk.RoleOwner || (upd.Role != nil && *upd.Role == tiledesk.RoleOwner)) && !callerIsOwner {
		return errMsg(http.StatusForbidden, "Only the owner may change the owner's membership or grant ownership.")
	}
	if target.RoleType != tiledesk.RoleTypeAgent && upd.Role != nil {
		return invalidField("role", "body", "visitor memberships keep their role")
	}
	pu, err := s.store.UpdateProjectUser(r.Context(), c.project.ID, id, upd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toProjectUser(pu, c.project))
	return nil
}

// handleProjectUserDelete disables a membership (default), trashes it (?soft=true) or removes it
// (?hard=true). Only an owner may remove an owner, and never the last active one (409).
func (s *Server) handleProjectUserDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	target, err := s.store.FindProjectUserByID(r.Context(), c.project.ID, id)
	if err != nil {
		return err
	}
	if target.Role == tiledesk.RoleOwner && c.member.Role != tiledesk.RoleOwner {
		return errMsg(http.StatusForbidden, "Only the owner may remove the owner's membership.")
	}
	q := r.URL.Query()
	if q.Get("hard") == "true" {
		if err := s.store.DeleteProjectUser(r.Context(), c.project.ID, id); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, toProjectUser(target, c.project))
		return nil
	}
	disabled, unavailable := tiledesk.MemberDisabled, false
	upd := tiledesk.ProjectUserUpdate{Status: &disabled, UserAvailable: &unavailable}
	if q.Get("soft") == "true" {
		trashed := true
		upd.Trashed = &trashed
	}
	pu, err := s.store.UpdateProjectUser(r.Context(), c.project.ID, id, upd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toProjectUser(pu, c.project))
	return nil
}

// handleProjectUserLeave removes the caller's own membership: any teammate may leave a project,
// except its last active owner (409). The original has no such route; the answer is the removed
// membership, as DELETE /:pid/project_users/:id?hard=true answers.
func (s *Server) handleProjectUserLeave(w http.ResponseWriter, r *http.Request, c *call) error {
	pu, err := s.store.FindProjectUserByID(r.Context(), c.project.ID, c.member.ID)
	if err != nil {
		return err
	}
	if err := s.store.DeleteProjectUser(r.Context(), c.project.ID, c.member.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toProjectUser(pu, c.project))
	return nil
}
