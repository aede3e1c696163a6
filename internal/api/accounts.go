package api

import (
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
)

func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request, c *call) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := w.Write([]byte("Hello from Tiledesk server. It's UP. See the documentation here http://developer.tiledesk.com"))
	return err
}

// password reads a password field: required, and within bcrypt's 72 bytes.
func (b *body) password(field string) string {
	if !b.has(field) {
		b.fail(field, "is required", nil)
		return ""
	}
	p := b.str(field)
	if p == nil {
		return ""
	}
	if *p == "" {
		b.fail(field, "must not be empty", nil)
	} else if len(*p) > auth.MaxPasswordBytes {
		b.fail(field, "must be at most 72 bytes", nil)
	}
	return *p
}

func (s *Server) handleSignup(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	email := b.accountEmail("email")
	password := b.password("password")
	first := b.requiredStr("firstname")
	last := b.requiredStr("lastname")
	phone := b.str("phone")
	noMail := b.boolean("disableEmail") // the verification mail can be asked for later (resendverifyemail)
	if err := b.err(); err != nil {
		return err
	}
	if err := s.checkLogin(r, email); err != nil {
		return err
	}
	hash, err := auth.HashPassword(password, s.pwCost)
	if err != nil {
		return err
	}
	now := tiledesk.Millis(s.now())
	u := &tiledesk.User{ID: tiledesk.NewIDAt(now), Email: email, PasswordHash: hash,
		Firstname: first, Lastname: last, Status: tiledesk.UserActive, CreatedAt: now, UpdatedAt: now}
	if phone != nil {
		u.Phone = *phone
	}
	if err := s.store.CreateUser(r.Context(), u); tiledesk.ErrorCode(err) == tiledesk.ECONFLICT {
		s.loginFailed(r, email) // probing which emails exist costs like guessing passwords
		return &apiError{status: http.StatusForbidden, body: map[string]any{"success": false, "message": "Email already registered"}}
	} else if err != nil {
		return err
	}
	s.signedIn(w, r, u.Email)
	if noMail == nil || !*noMail {
		s.sendMail(r, s.verifyMail(u))
	}
	writeJSON(w, http.StatusOK, struct {
		Success bool      `json:"success"`
		Msg     string    `json:"msg"`
		User    *userJSON `json:"user"`
	}{true, "Successfully created new user.", toUser(u)})
	return nil
}

func (s *Server) handleSignin(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	email := b.email("email")
	password := b.password("password")
	if err := b.err(); err != nil {
		return err
	}
	if err := s.checkLogin(r, email); err != nil {
		return err
	}
	u, err := s.store.FindUserByEmail(r.Context(), lookupEmail(email))
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		auth.WasteComparisonAt(password, s.pwCost) // the same time as a wrong password
		s.loginFailed(r, email)
		return errSigninFailed
	} else if err != nil {
		return err
	}
	if !auth.CheckPassword(u.PasswordHash, password) {
		s.loginFailed(r, email)
		return errSigninFailed
	}
	s.signedIn(w, r, u.Email)
	token, err := s.issueUserToken(u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tokenResponse{true, "JWT " + token, toUserBrief(u)})
	return nil
}

// tokenResponse is the answer of every sign-in.
type tokenResponse struct {
	Success bool   `json:"success"`
	Token   string `json:"token"`
	User    any    `json:"user"`
}

// guestUser is the user object of an anonymous sign-in.
type guestUser struct {
	ID         string         `json:"_id"`
	Firstname  string         `json:"firstname"`
	Lastname   string         `json:"lastname,omitempty"`
	Email      string         `json:"email,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
	UID        string         `json:"id"`
	FullName   string         `json:"fullName"`
}

// handleSigninAnonymously gives a widget visitor a guest identity in a project: a random uuid, a
// guest membership and a token.
func (s *Server) handleSigninAnonymously(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	pid := b.requiredStr("id_project")
	first, last, email := b.str("firstname"), b.str("lastname"), b.str("email")
	attrs := b.boundedObjectOf("attributes", tiledesk.MaxGuestJSONBytes) // they ride in the token
	if email != nil && *email != "" && !validEmail(*email) {
		b.fail("email", "must be a valid email address", *email)
	}
	if err := b.err(); err != nil {
		return err
	}
	project, err := s.resolveProject(r, pid)
	if err != nil {
		return err
	}
	if err := s.limitAnonymousSignIn(w, r, project.ID); err != nil {
		return err
	}
	id := uuid.NewString()
	g := guestUser{ID: id, Firstname: "guest#" + id[:4], Attributes: attrs, UID: id}
	if first != nil && *first != "" {
		g.Firstname = *first
	}
	if last != nil {
		g.Lastname = *last
	}
	if email != nil {
		g.Email = tiledesk.EmailKey(*email) // a visitor's address: kept as typed, ASCII letters folded
	}
	g.FullName = g.Firstname + " " + g.Lastname
	pu := tiledesk.NewProjectUser(project.ID, tiledesk.RoleGuest, id, tiledesk.Millis(s.now()))
	pu.UUIDUser = id
	if err := s.store.CreateProjectUser(r.Context(), pu); err != nil {
		return err
	}
	token, err := s.tokens.Issue(auth.Claims{ID: id, Firstname: g.Firstname, Lastname: g.Lastname, Email: g.Email,
		Attributes: attrs, UID: id, FullName: g.FullName, Subject: auth.SubjectGuest})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tokenResponse{true, "JWT " + token, g})
	return nil
}

func (s *Server) handleTestAuth(w http.ResponseWriter, r *http.Request, c *call) error {
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}

func (s *Server) handleUserGet(w http.ResponseWriter, r *http.Request, c *call) error {
	if c.caller.user == nil {
		return errNotFound // guests have no account
	}
	writeJSON(w, http.StatusOK, toUserBrief(c.caller.user))
	return nil
}

func (s *Server) handleUserUpdate(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	upd := tiledesk.UserUpdate{Firstname: b.str("firstname"), Lastname: b.str("lastname"), Phone: b.str("phone"),
		Description: b.str("description"), PublicEmail: b.str("public_email"), PublicWebsite: b.str("public_website"),
		Attributes: b.boundedObject("attributes")}
	if upd.Firstname != nil && strings.TrimSpace(*upd.Firstname) == "" {
		b.fail("firstname", "must not be empty", *upd.Firstname)
	}
	if upd.PublicEmail != nil && *upd.PublicEmail != "" && !validEmail(*upd.PublicEmail) {
		b.fail("public_email", "must be a valid email address", *upd.PublicEmail)
	}
	if err := b.err(); err != nil {
		return err
	}
	u, err := s.store.UpdateUser(r.Context(), c.caller.user.ID, upd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Success     bool      `json:"success"`
		UpdatedUser *userJSON `json:"updatedUser"`
	}{true, toUser(u)})
	return nil
}

func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	oldPsw := b.password("oldpsw")
	newPsw := b.password("newpsw")
	if err := b.err(); err != nil {
		return err
	}
	u := c.caller.user
	// The old password is guessed on sign-in's failure budgets, so that a stolen token cannot try
	// passwords at bcrypt speed, nor get around a lockout by the route it tries them on.
	if err := s.checkLogin(r, u.Email); err != nil {
		return err
	}
	if !auth.CheckPassword(u.PasswordHash, oldPsw) {
		s.loginFailed(r, u.Email)
		return errMsg(http.StatusUnauthorized, "Current password is invalid.")
	}
	if oldPsw == newPsw {
		return &apiError{status: http.StatusForbidden, body: map[string]any{"success": false,
			"message": "The new password must be different from the previous one."}}
	}
	hash, err := auth.HashPassword(newPsw, s.pwCost)
	if err != nil {
		return err
	}
	// Only while the hash is still the one the old password was checked against: a change that
	// committed since makes the old password given no longer the current one.
	err = s.store.SetUserPassword(r.Context(), u.ID, u.PasswordHash, hash)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return errMsg(http.StatusUnauthorized, "Current password is invalid.")
	} else if err != nil {
		return err
	}
	s.basic.Forget(u.ID)
	// Every token issued before is revoked now, the caller's own included: the answer carries a
	// new one, so that the session that changed the password goes on.
	if u, err = s.store.FindUserByID(r.Context(), u.ID); err != nil {
		return err
	}
	token, err := s.issueUserToken(u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "Password change successful", "token": "JWT " + token})
	return nil
}
