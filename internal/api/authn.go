package api

import (
	"net/http"
	"strings"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
)

// caller is an authenticated identity: a registered user, or a guest / external visitor known only by
// the claims of its token.
type caller struct {
	user    *tiledesk.User // registered users
	bot     *tiledesk.Bot  // a bot, by a token its own secret signed
	claims  *auth.Claims   // token callers
	subject string         // auth.SubjectUser, SubjectGuest, ...
	id      string         // user id, the visitor's uuid, or bot_<id>
	scope   string         // the one project the caller may act in; "" for any it is a member of
}

// authenticate identifies the caller by Basic credentials, an "Authorization: JWT|Bearer <token>"
// header, or a ?secret_token= parameter. Every failure is the same 401, so that nothing tells a bad
// password from an unknown email; the cause is logged at debug level.
func (s *Server) authenticate(r *http.Request) (*caller, error) {
	if ic := internalCallOf(r); ic != nil {
		return ic.caller, nil
	}
	header := r.Header.Get("Authorization")
	if header == "" {
		if tok := r.URL.Query().Get("secret_token"); tok != "" {
			return s.tokenCaller(r, stripScheme(tok))
		}
		return nil, errUnauthorized
	}
	scheme, value, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok {
		return nil, errUnauthorized
	}
	value = strings.TrimSpace(value)
	switch strings.ToLower(scheme) {
	case "basic":
		email, password, ok := r.BasicAuth()
		if !ok {
			return nil, errUnauthorized
		}
		return s.basicCaller(r, email, password)
	case "jwt", "bearer":
		return s.tokenCaller(r, value)
	}
	return nil, errUnauthorized
}

func stripScheme(tok string) string {
	for _, p := range []string{"JWT ", "jwt ", "Bearer ", "bearer "} {
		if strings.HasPrefix(tok, p) {
			return strings.TrimSpace(tok[len(p):])
		}
	}
	return tok
}

// basicCaller verifies Basic credentials. Only the bcrypt path is guarded by the failure budgets: a
// pair verified recently (cached) keeps working while someone else guesses at the same account.
func (s *Server) basicCaller(r *http.Request, email, password string) (*caller, error) {
	u, err := s.store.FindUserByEmail(r.Context(), lookupEmail(email))
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		if err := s.checkLogin(r, email); err != nil {
			return nil, err
		}
		auth.WasteComparisonAt(password, s.pwCost)
		s.loginFailed(r, email)
		return nil, errUnauthorized
	} else if err != nil {
		return nil, err
	}
	if !s.basic.Verified(u.Email, password, u.ID, u.PasswordHash) {
		if err := s.checkLogin(r, email); err != nil {
			return nil, err
		}
		if !auth.CheckPassword(u.PasswordHash, password) {
			s.loginFailed(r, email)
			return nil, errUnauthorized
		}
		s.basic.Remember(u.Email, password, u.ID, u.PasswordHash)
		s.signedIn(nil, r, u.Email)
	}
	return &caller{user: u, subject: auth.SubjectUser, id: u.ID}, nil
}

func (s *Server) tokenCaller(r *http.Request, token string) (*caller, error) {
	if un, err := auth.Unverified(token); err == nil && auth.AudienceBot(un.Audience) != "" {
		return s.botCaller(r, token, un)
	}
	claims, err := s.tokens.Verify(token)
	if err != nil {
		s.log.Debug("token rejected", "err", err)
		return nil, errUnauthorized
	}
	switch claims.Subject {
	case auth.SubjectGuest:
		return &caller{claims: claims, subject: claims.Subject, id: claims.ID}, nil
	case auth.SubjectUserExternal:
		// Its uuid is the project's customer's own id, which another project may use too: the token
		// acts in the project it was issued for, and nowhere else.
		scope := auth.AudienceProject(claims.Audience)
		if scope == "" {
			s.log.Debug("token rejected", "err", "external token without a project audience")
			return nil, errUnauthorized
		}
		return &caller{claims: claims, subject: claims.Subject, id: claims.ID, scope: scope}, nil
	case auth.SubjectUser:
		u, err := s.store.FindUserByID(r.Context(), claims.ID)
		if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
			return nil, errUnauthorized
		} else if err != nil {
			return nil, err
		}
		if claims.Generation != u.TokenGeneration { // issued before a password change (revoked)
			s.log.Debug("token rejected", "err", "token generation", "user", u.ID)
			return nil, errUnauthorized
		}
		// A token issued for a project's custom sign-in acts in that project only.
		return &caller{user: u, claims: claims, subject: auth.SubjectUser, id: u.ID, scope: auth.AudienceProject(claims.Audience)}, nil
	}
	// Subscription tokens are for webhook receivers to check, not credentials of this API.
	return nil, errUnauthorized
}

// botCaller checks a bot's token with the bot's own secret: the token names the bot (aud, _id) and
// its project (id_project); a bot deleted, trashed or whose secret changed since is refused.
func (s *Server) botCaller(r *http.Request, token string, un *auth.Claims) (*caller, error) {
	id := strings.ToLower(auth.AudienceBot(un.Audience))
	if !tiledesk.IsID(id) || !tiledesk.IsID(un.Project) || strings.ToLower(un.ID) != id {
		return nil, errUnauthorized
	}
	b, err := s.store.FindBot(r.Context(), strings.ToLower(un.Project), id)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return nil, errUnauthorized
	} else if err != nil {
		return nil, err
	}
	claims, err := s.tokens.VerifyWith(token, []byte(b.Secret))
	if err != nil || claims.Subject != auth.SubjectBot || b.Trashed {
		s.log.Debug("bot token rejected", "bot", id, "err", err)
		return nil, errUnauthorized
	}
	return &caller{bot: b, claims: claims, subject: auth.SubjectBot, id: b.ParticipantID(), scope: b.ProjectID}, nil
}

// resolveProject loads the project a route names, with the original's 400 answers.
func (s *Server) resolveProject(r *http.Request, pid string) (*tiledesk.Project, error) {
	if !tiledesk.IsID(pid) {
		return nil, &apiError{status: http.StatusBadRequest, body: map[string]string{"error": "Invalid project id: " + pid}}
	}
	p, err := s.store.FindProjectByID(r.Context(), strings.ToLower(pid))
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return nil, &apiError{status: http.StatusBadRequest, body: map[string]string{"error": "Project not found with id: " + pid}}
	}
	return p, err
}

// membership returns the caller's membership of a project, whatever its status; none outside the
// caller's scope.
func (s *Server) membership(r *http.Request, c *caller, projectID string) (*tiledesk.ProjectUser, error) {
	if c.scope != "" && c.scope != projectID {
		return nil, tiledesk.NotFound("project_user")
	}
	return s.store.FindMember(r.Context(), projectID, c.id, c.user == nil)
}

// checkRole requires an active membership with at least role ("" admits any member). A bot is no
// member: it passes, in its own project, the routes that admit bots.
func (s *Server) checkRole(r *http.Request, c *caller, projectID, role string, bots bool) (*tiledesk.ProjectUser, error) {
	if c.bot != nil {
		if !bots || c.scope != projectID {
			return nil, errNotMember
		}
		return botMember(c.bot), nil
	}
	pu, err := s.membership(r, c, projectID)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return nil, errNotMember
	} else if err != nil {
		return nil, err
	}
	if !pu.IsActive() {
		return nil, errNotMember
	}
	if role != "" && !tiledesk.HasRole(pu.Role, role) {
		return nil, errRoleRequired
	}
	return pu, nil
}

// pathID returns a path id lower-cased, or 404 when it is not an id: a malformed id names nothing.
func pathID(r *http.Request, name string) (string, error) {
	id := r.PathValue(name)
	if !tiledesk.IsID(id) {
		return "", errNotFound
	}
	return strings.ToLower(id), nil
}

// botMember is what a bot may do where bots are admitted: what an admin may, as the original lets
// bots past every role check of those routes.
func botMember(b *tiledesk.Bot) *tiledesk.ProjectUser {
	return &tiledesk.ProjectUser{ID: b.ParticipantID(), ProjectID: b.ProjectID, UserID: b.ParticipantID(),
		Role: tiledesk.RoleAdmin, RoleType: tiledesk.RoleTypeAgent, Status: tiledesk.MemberActive,
		CreatedBy: b.CreatedBy, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt}
}
