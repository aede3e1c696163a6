package api

import "github.com/tiledesk-go/tiledesk"

// routes registers every route, on one page. Root routes have a fixed first segment; project routes
// start with the project id and resolve it before anything else.
func (s *Server) routes() {
	r, p := s.root, s.project

	s.handle(r, "GET /{$}", public, s.handleRoot)

	s.handle(r, "POST /auth/signup", signIn, s.handleSignup)
	s.handle(r, "POST /auth/signin", signIn, s.handleSignin)
	s.handle(r, "POST /auth/signinAnonymously", public, s.handleSigninAnonymously)
	s.handle(r, "GET /testauth", authed, s.handleTestAuth)

	s.handle(r, "GET /users", authed, s.handleUserGet)
	s.handle(r, "PUT /users", registered, s.handleUserUpdate)
	s.handle(r, "PUT /users/changepsw", registered, s.handleChangePassword)

	s.handle(r, "POST /projects", registered, s.handleProjectCreate)
	s.handle(r, "GET /projects", registered, s.handleProjectList)
	s.handle(r, "GET /projects/{pid}", member(tiledesk.RoleAgent), s.handleProjectGet)
	s.handle(r, "PUT /projects/{pid}", member(tiledesk.RoleAdmin), s.handleProjectUpdate)
	s.handle(r, "DELETE /projects/{pid}", member(tiledesk.RoleOwner), s.handleProjectDelete)

	s.handle(p, "GET /{pid}/project_users", member(tiledesk.RoleAgent), s.handleProjectUserList)
	s.handle(p, "GET /{pid}/project_users/me", member(tiledesk.RoleAgent), s.handleProjectUserMe)
	s.handle(p, "GET /{pid}/project_users/{id}", member(tiledesk.RoleAgent), s.handleProjectUserGet)
	s.handle(p, "GET /{pid}/project_users/users/{user_id}", member(tiledesk.RoleAgent), s.handleProjectUserByUser)
	s.handle(p, "POST /{pid}/project_users/invite", member(tiledesk.RoleAdmin), s.handleProjectUserInvite)
	s.handle(p, "PUT /{pid}/project_users", member(tiledesk.RoleAgent), s.handleProjectUserUpdateMe)
	s.handle(p, "PUT /{pid}/project_users/{id}", member(tiledesk.RoleAdmin), s.handleProjectUserUpdate)
	s.handle(p, "DELETE /{pid}/project_users/{id}", member(tiledesk.RoleAdmin), s.handleProjectUserDelete)

	s.handle(p, "GET /{pid}/departments", public, s.handleDepartmentList)
	s.handle(p, "GET /{pid}/departments/allstatus", member(tiledesk.RoleAgent), s.handleDepartmentListAll)
	s.handle(p, "GET /{pid}/departments/{id}", public, s.handleDepartmentGet)
	s.handle(p, "POST /{pid}/departments", member(tiledesk.RoleAdmin), s.handleDepartmentCreate)
	s.handle(p, "PUT /{pid}/departments/{id}", member(tiledesk.RoleAdmin), s.handleDepartmentPut)
	s.handle(p, "PATCH /{pid}/departments/{id}", member(tiledesk.RoleAdmin), s.handleDepartmentPatch)
	s.handle(p, "DELETE /{pid}/departments/{id}", member(tiledesk.RoleAdmin), s.handleDepartmentDelete)
}
