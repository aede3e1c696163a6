package api

import (
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
)

// Sign-in with a custom token: a project's own back end signs a token with the project's secret
// (POST /:pid/keys/generate), audience https://tiledesk.com/projects/<id> and its own id of the
// person in _id; the widget (or the back end) exchanges it here. A customer (role user or guest,
// the default) gets a membership found by that id; a member of the staff (teammate to admin) a
// registered account of the token's email (customAgent). Either way the token answered is this
// server's, and acts in that project only: the id is the project's to choose, and another project
// may use the same; the account may be a member elsewhere. The original answers the customer's
// own token, valid everywhere.

// maxCustomID bounds the customer's id, which becomes the membership's uuid.
const maxCustomID = 256

// visitorRoles are the roles a custom token gives a project's customers.
var visitorRoles = map[string]bool{tiledesk.RoleUser: true, tiledesk.RoleGuest: true}

// agentTokenRoles are the roles a custom token gives the project's staff, as registered users.
var agentTokenRoles = map[string]bool{tiledesk.RoleTeammate: true, tiledesk.RoleAgent: true,
	tiledesk.RoleSupervisor: true, tiledesk.RoleAdmin: true}

func (s *Server) handleSigninWithCustomToken(w http.ResponseWriter, r *http.Request, c *call) error {
	raw := customToken(r)
	if raw == "" {
		return errUnauthorized
	}
	unverified := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(raw, unverified); err != nil {
		return errUnauthorized
	}
	aud := firstAudience(unverified["aud"])
	if aud == "" {
		return errMsg(http.StatusBadRequest, "JWT Aud field is required")
	}
	pid := auth.AudienceProject(aud)
	if pid == "" {
		// Not a project's token: one of this server's own is answered as it came, as the original
		// answers a token of its global key, and gives nothing new.
		if _, err := s.tokens.Verify(raw); err != nil {
			return errMsg(http.StatusUnauthorized, "Authentication failed. A custom token is signed with a project's secret, "+
				"for the audience https://tiledesk.com/projects/<project id>.")
		}
		writeJSON(w, http.StatusOK, tokenResponse{true, "JWT " + raw, unverified})
		return nil
	}
	project, err := s.resolveProject(r, pid)
	if err != nil {
		return err
	}
	if err := s.limitAnonymousSignIn(w, r, project.ID); err != nil {
		return err
	}
	if project.JWTSecret == "" {
		return errMsg(http.StatusUnauthorized, "Authentication failed. The project has no secret yet (POST /"+project.ID+"/keys/generate).")
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return []byte(project.JWTSecret), nil },
		jwt.WithValidMethods([]string{"HS256", "HS384", "HS512"}), jwt.WithTimeFunc(s.now)); err != nil {
		s.log.Debug("custom token rejected", "project", project.ID, "err", err)
		return errMsg(http.StatusUnauthorized, "Authentication failed")
	}
	id, _ := claims["_id"].(string)
	if id == "" || len(id) > maxCustomID {
		return errMsg(http.StatusUnauthorized, "Authentication failed. The token's _id must be a string of 1 to 256 bytes.")
	}
	role := tiledesk.RoleUser
	if v, ok := claims["role"].(string); ok && v != "" {
		role = v
	}
	switch {
	case agentTokenRoles[role]:
		return s.customAgent(w, r, project.ID, id, role, claims)
	case role == tiledesk.RoleOwner:
		return errMsg(http.StatusForbidden, "A custom token does not make an owner; the project's owner transfers ownership.")
	case !visitorRoles[role]:
		return errMsg(http.StatusBadRequest, "Unknown role "+role+" in the token.")
	}
	if err := s.customMember(r, project.ID, id, role); err != nil {
		return err
	}
	user := guestUser{ID: id, UID: id, Firstname: claimString(claims, "firstname"), Lastname: claimString(claims, "lastname"),
		Email: tiledesk.EmailKey(claimString(claims, "email"))}
	user.FullName = strings.TrimSpace(user.Firstname + " " + user.Lastname)
	if attrs, ok := claims["attributes"].(map[string]any); ok && tiledesk.CheckJSON("attributes", attrs, tiledesk.MaxGuestJSONBytes) == nil {
		user.Attributes = attrs
	}
	token, err := s.tokens.Issue(auth.Claims{ID: id, Firstname: user.Firstname, Lastname: user.Lastname, Email: user.Email,
		Attributes: user.Attributes, UID: id, FullName: user.FullName, Subject: auth.SubjectUserExternal,
		Audience: auth.ProjectAudience(project.ID)})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tokenResponse{true, "JWT " + token, user})
	return nil
}

// customMember finds the customer's membership, or gives it one: an inactive one refuses.
func (s *Server) customMember(r *http.Request, projectID, id, role string) error {
	for attempt := 0; attempt < 2; attempt++ {
		pu, err := s.store.FindMember(r.Context(), projectID, id, true)
		switch {
		case err == nil && !pu.IsActive():
			return errMsg(http.StatusUnauthorized, "Authentication failed. Project_user not active.")
		case err == nil:
			return nil
		case tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND:
			return err
		}
		pu = tiledesk.NewProjectUser(projectID, role, id, tiledesk.Millis(s.now()))
		pu.UUIDUser = id
		err = s.store.CreateProjectUser(r.Context(), pu)
		if tiledesk.ErrorCode(err) != tiledesk.ECONFLICT {
			return err // nil: created
		}
		// Another sign-in of the same customer created it meanwhile: read it.
	}
	return tiledesk.Errorf(tiledesk.ECONFLICT, "the customer's membership changed while signing in; try again")
}

// customToken is the token of "Authorization: JWT|Bearer <token>" or of ?secret_token=.
func customToken(r *http.Request) string {
	if h := strings.TrimSpace(r.Header.Get("Authorization")); h != "" {
		scheme, value, ok := strings.Cut(h, " ")
		if !ok || (!strings.EqualFold(scheme, "JWT") && !strings.EqualFold(scheme, "Bearer")) {
			return ""
		}
		return strings.TrimSpace(value)
	}
	return stripScheme(r.URL.Query().Get("secret_token"))
}

// firstAudience reads aud, a string or a list of them.
func firstAudience(v any) string {
	switch a := v.(type) {
	case string:
		return a
	case []any:
		if len(a) > 0 {
			s, _ := a[0].(string)
			return s
		}
	}
	return ""
}

// claimString reads a short string claim ("" when absent, not a string or too long).
func claimString(claims jwt.MapClaims, key string) string {
	s, _ := claims[key].(string)
	if len(s) > 256 {
		return ""
	}
	return s
}

// customAgent signs in a member of the project's staff whom the project's back end vouches for: a
// registered user of the token's email, created (unverified, with a password nobody knows: a
// password reset gives them one) when the address has no account. The token answered acts in this
// project only. An existing account that is not an active member of the project is refused: a
// project's secret must not reach into an account it did not create.
func (s *Server) customAgent(w http.ResponseWriter, r *http.Request, projectID, id, role string, claims jwt.MapClaims) error {
	key, bad := accountEmail(claimString(claims, "email"))
	if key == "" || bad != "" {
		return errMsg(http.StatusBadRequest, "A custom token with the role "+role+" carries the agent's email.")
	}
	u, err := s.store.FindUserByEmail(r.Context(), key)
	switch {
	case err == nil:
		pu, err := s.store.FindMember(r.Context(), projectID, u.ID, false)
		if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND || (err == nil && !pu.IsActive()) {
			return errMsg(http.StatusForbidden, "An account of this email exists and is not a member of the project: invite it.")
		} else if err != nil {
			return err
		}
	case tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND:
		if u, err = s.createCustomAgent(r, projectID, id, role, key, claims); err != nil {
			return err
		}
	default:
		return err
	}
	token, err := s.issueScopedUserToken(u, projectID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tokenResponse{true, "JWT " + token, toUserBrief(u)})
	return nil
}

// createCustomAgent creates the account and its membership of the project.
func (s *Server) createCustomAgent(r *http.Request, projectID, id, role, email string, claims jwt.MapClaims) (*tiledesk.User, error) {
	hash, err := auth.HashPassword(uuid.NewString()+uuid.NewString(), s.pwCost)
	if err != nil {
		return nil, err
	}
	now := tiledesk.Millis(s.now())
	u := &tiledesk.User{ID: tiledesk.NewIDAt(now), Email: email, PasswordHash: hash, Firstname: claimString(claims, "firstname"),
		Lastname: claimString(claims, "lastname"), Status: tiledesk.UserActive, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateUser(r.Context(), u); tiledesk.ErrorCode(err) == tiledesk.ECONFLICT {
		return nil, errMsg(http.StatusConflict, "The account of this email was just created; sign in again.")
	} else if err != nil {
		return nil, err
	}
	pu := tiledesk.NewProjectUser(projectID, role, u.ID, now)
	pu.UserID, pu.UUIDUser = u.ID, id
	if err := s.store.CreateProjectUser(r.Context(), pu); err != nil {
		return nil, err
	}
	return u, nil
}
