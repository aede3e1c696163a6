package api

import (
	"strings"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

func TestProjectUsersList(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Team")
	r := e.do("GET", "/"+pid+"/project_users", nil, owner.jwt())
	matchesOriginal(t, r, "49-project-users")
	golden(t, "project-users", r)

	agent := e.signup("Agent")
	e.join(owner, agent, pid, tiledesk.RoleAgent)
	e.guest(pid)
	list := e.do("GET", "/"+pid+"/project_users", nil, agent.jwt()).want(t, 200).list(t)
	if len(list) != 2 {
		t.Fatalf("agents listed = %d, want 2 (guests are not teammates)", len(list))
	}
	guests := e.do("GET", "/"+pid+"/project_users?role=guest", nil, owner.jwt()).want(t, 200).list(t)
	if len(guests) != 1 || guests[0].(map[string]any)["uuid_user"] == nil {
		t.Fatalf("guests = %v", guests)
	}
	owners := e.do("GET", "/"+pid+"/project_users?role=owner,admin", nil, owner.jwt()).want(t, 200).list(t)
	if len(owners) != 1 {
		t.Fatalf("owners and admins = %d, want 1", len(owners))
	}
	e.do("GET", "/"+pid+"/project_users?role=emperor", nil, owner.jwt()).
		wantBody(t, 400, `{"errors":[{"value":"emperor","msg":"unknown role","param":"role","location":"query"}]}`)

	me := e.do("GET", "/"+pid+"/project_users/me", nil, agent.jwt()).want(t, 200).list(t)
	mine := me[0].(map[string]any)
	if len(me) != 1 || mine["role"] != "agent" || mine["id_user"].(map[string]any)["email"] != agent.email {
		t.Fatalf("me = %v", me)
	}
	one := e.do("GET", "/"+pid+"/project_users/"+mine["_id"].(string), nil, owner.jwt()).want(t, 200).json(t)
	if one["_id"] != mine["_id"] || one["isBusy"] != false {
		t.Fatalf("by id = %v", one)
	}
	byUser := e.do("GET", "/"+pid+"/project_users/users/"+agent.id, nil, owner.jwt()).want(t, 200).list(t)
	if byUser[0].(map[string]any)["_id"] != mine["_id"] {
		t.Fatalf("by user id = %v", byUser)
	}
	e.do("GET", "/"+pid+"/project_users/"+tiledesk.NewID(), nil, owner.jwt()).wantBody(t, 404, `{"success":false,"msg":"Object not found."}`)
	e.do("GET", "/"+pid+"/project_users/not-an-id", nil, owner.jwt()).want(t, 404)
	e.do("GET", "/"+pid+"/project_users/users/nobody", nil, owner.jwt()).want(t, 404)
}

func TestInvite(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Team")
	agent := e.signup("Agent")

	r := e.do("POST", "/"+pid+"/project_users/invite", map[string]any{"email": agent.email, "role": "agent", "user_available": false}, owner.jwt()).want(t, 200)
	golden(t, "invite-existing", r)
	pu := r.json(t)
	if pu["role"] != "agent" || pu["user_available"] != false || pu["id_user"].(map[string]any)["_id"] != agent.id {
		t.Fatalf("invited membership = %v", pu)
	}
	e.do("GET", "/"+pid+"/project_users", nil, agent.jwt()).want(t, 200)

	e.do("POST", "/"+pid+"/project_users/invite", map[string]string{"email": agent.email, "role": "admin"}, owner.jwt()).
		wantBody(t, 403, `{"success":false,"msg":"Forbidden. The user is already a member of the project.","code":4001}`)
	e.do("POST", "/"+pid+"/project_users/invite", map[string]string{"email": owner.email, "role": "admin"}, owner.jwt()).
		wantBody(t, 403, `{"success":false,"msg":"Forbidden. It is not allowed to invite yourself","code":4000}`)
	for _, body := range []string{`{"email":"x@y.co","role":"owner"}`, `{"email":"x@y.co","role":"guest"}`, `{"email":"nope","role":"agent"}`, `{"role":"agent"}`} {
		e.do("POST", "/"+pid+"/project_users/invite", body, owner.jwt()).want(t, 422)
	}
	e.do("POST", "/"+pid+"/project_users/invite", map[string]string{"email": "z@y.co"}, agent.jwt()).
		wantBody(t, 403, `{"success":false,"msg":"you dont have the required role."}`)

	// An unknown email waits as a pending invitation and joins once its owner verifies it.
	pending := e.do("POST", "/"+pid+"/project_users/invite", map[string]string{"email": "Later@Example.com", "role": "admin"}, owner.jwt()).want(t, 200)
	golden(t, "invite-pending", pending)
	if inv := pending.json(t)["pendingInvitation"].(map[string]any); inv["email"] != "later@example.com" || inv["role"] != "admin" {
		t.Fatalf("pending invitation = %v", inv)
	}
	e.do("POST", "/auth/signup", `{"email":"later@example.com","password":"p","firstname":"Late","lastname":"Comer"}`).want(t, 200)
	later := e.do("POST", "/auth/signin", `{"email":"later@example.com","password":"p"}`).want(t, 200).json(t)["token"].(string)
	if list := e.do("GET", "/projects", nil, jwtCred(later)).want(t, 200).list(t); len(list) != 0 {
		t.Fatalf("the invitation applied before the address was verified: %v", list)
	}
	link := e.mails.last(t, "later@example.com", "/verify/email/").Link
	e.do("POST", "/auth/verifyemail", map[string]string{"token": link[strings.LastIndex(link, "/")+1:]}).want(t, 200)
	list := e.do("GET", "/projects", nil, jwtCred(later)).want(t, 200).list(t)
	if len(list) != 1 || list[0].(map[string]any)["role"] != "admin" {
		t.Fatalf("the invited user's projects = %v", list)
	}
	evs := e.events(pid)
	want := map[string]bool{tiledesk.EventInvitePending: false, tiledesk.EventProjectUserInvite: false}
	for _, name := range evs {
		if _, ok := want[name]; ok {
			want[name] = true
		}
	}
	for name, seen := range want {
		if !seen {
			t.Fatalf("no %s event in %v", name, evs)
		}
	}
}

func TestUpdateMyAvailability(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Team")
	agent := e.signup("Agent")
	e.join(owner, agent, pid, tiledesk.RoleAgent)
	r := e.do("PUT", "/"+pid+"/project_users", `{"user_available":false,"max_assigned_chat":3,"profileStatus":"busy"}`, agent.jwt()).want(t, 200)
	pu := r.json(t)
	if pu["user_available"] != false || pu["max_assigned_chat"] != 3.0 || pu["profileStatus"] != "busy" {
		t.Fatalf("my membership = %v", pu)
	}
	r = e.do("PUT", "/"+pid+"/project_users", `{"max_assigned_chat":null}`, agent.jwt()).want(t, 200)
	if _, ok := r.json(t)["max_assigned_chat"]; ok {
		t.Fatal("max_assigned_chat:null did not clear the limit")
	}
	// Only the caller's own membership changed.
	ownerPU := e.do("GET", "/"+pid+"/project_users/users/"+owner.id, nil, owner.jwt()).list(t)[0].(map[string]any)
	if ownerPU["user_available"] != true {
		t.Fatal("updating my availability changed the owner's")
	}
	e.do("PUT", "/"+pid+"/project_users", `{"user_available":"no"}`, agent.jwt()).want(t, 422)
	e.do("PUT", "/"+pid+"/project_users", `{"max_assigned_chat":-5}`, agent.jwt()).want(t, 422)
	e.do("PUT", "/"+pid+"/project_users", `{"max_assigned_chat":1.5}`, agent.jwt()).want(t, 422)
}

func TestAdminUpdatesTeammates(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Team")
	admin, agent := e.signup("Admin"), e.signup("Agent")
	e.join(owner, admin, pid, tiledesk.RoleAdmin)
	agentPU := e.join(owner, agent, pid, tiledesk.RoleAgent)
	ownerPU := e.do("GET", "/"+pid+"/project_users/me", nil, owner.jwt()).list(t)[0].(map[string]any)["_id"].(string)

	r := e.do("PUT", "/"+pid+"/project_users/"+agentPU, `{"role":"supervisor","user_available":false}`, admin.jwt()).want(t, 200)
	if pu := r.json(t); pu["role"] != "supervisor" || pu["roleType"] != 1.0 || pu["user_available"] != false {
		t.Fatalf("updated teammate = %v", pu)
	}
	e.do("PUT", "/"+pid+"/project_users/"+agentPU, `{"role":"emperor"}`, admin.jwt()).want(t, 422)
	e.do("PUT", "/"+pid+"/project_users/"+agentPU, `{"status":"gone"}`, admin.jwt()).want(t, 422)
	// An admin can neither grant ownership nor touch the owner.
	e.do("PUT", "/"+pid+"/project_users/"+agentPU, `{"role":"owner"}`, admin.jwt()).want(t, 403)
	e.do("PUT", "/"+pid+"/project_users/"+ownerPU, `{"role":"agent"}`, admin.jwt()).want(t, 403)
	e.do("DELETE", "/"+pid+"/project_users/"+ownerPU, nil, admin.jwt()).want(t, 403)
	e.do("PUT", "/"+pid+"/project_users/"+ownerPU, `{"role":"agent"}`, owner.jwt()).want(t, 409) // the last owner
	e.do("PUT", "/"+pid+"/project_users/"+agentPU, `{"role":"admin"}`, agent.jwt()).want(t, 403)

	// Disable, then the agent is out; trash; hard delete.
	r = e.do("DELETE", "/"+pid+"/project_users/"+agentPU, nil, admin.jwt()).want(t, 200)
	if pu := r.json(t); pu["status"] != "disabled" || pu["user_available"] != false {
		t.Fatalf("disabled membership = %v", pu)
	}
	e.do("GET", "/"+pid+"/project_users", nil, agent.jwt()).wantBody(t, 403, `{"success":false,"msg":"you dont belong to the project."}`)
	e.do("PUT", "/"+pid+"/project_users/"+agentPU, `{"status":"active"}`, admin.jwt()).want(t, 200)
	e.do("GET", "/"+pid+"/project_users", nil, agent.jwt()).want(t, 200)
	r = e.do("DELETE", "/"+pid+"/project_users/"+agentPU+"?soft=true", nil, admin.jwt()).want(t, 200)
	if r.json(t)["trashed"] != true {
		t.Fatalf("soft delete did not trash: %s", r.body)
	}
	e.do("DELETE", "/"+pid+"/project_users/"+agentPU+"?hard=true", nil, admin.jwt()).want(t, 200)
	e.do("GET", "/"+pid+"/project_users/"+agentPU, nil, admin.jwt()).want(t, 404)
	e.do("DELETE", "/"+pid+"/project_users/"+agentPU, nil, admin.jwt()).want(t, 404)
	if ev := e.events(pid); !containsName(ev, tiledesk.EventProjectUserDelete) || !containsName(ev, tiledesk.EventProjectUserUpdate) {
		t.Fatalf("events = %v", ev)
	}
}

func containsName(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

func TestIsBusy(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Team")
	e.do("PUT", "/projects/"+pid, `{"settings":{"chat_limit_on":true,"max_agent_assigned_chat":0}}`, owner.jwt()).want(t, 200)
	me := e.do("GET", "/"+pid+"/project_users/me", nil, owner.jwt()).list(t)[0].(map[string]any)
	if me["isBusy"] != true {
		t.Fatalf("with a project limit of 0 the owner is not busy: %v", me)
	}
	e.do("PUT", "/"+pid+"/project_users", `{"max_assigned_chat":5}`, owner.jwt()).want(t, 200)
	me = e.do("GET", "/"+pid+"/project_users/me", nil, owner.jwt()).list(t)[0].(map[string]any)
	if me["isBusy"] != false {
		t.Fatalf("with an own limit of 5 and no chats the owner is busy: %v", me)
	}
}
