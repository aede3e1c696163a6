package api

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// TestPasswordChangeEndsSessions: every token issued before a password change (through the route,
// or through the store as a reset does) stops working at once, in this process despite its caches;
// the changing session gets a new token; Basic credentials follow the password.
func TestPasswordChangeEndsSessions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		a := e.signup("Ann")
		pid := e.createProject(a, "P")
		other := e.do("POST", "/auth/signin", map[string]string{"email": a.email, "password": a.password}).want(t, 200).json(t)["token"].(string)
		for _, tok := range []string{a.token, other} { // warm every cache
			e.do("GET", "/"+pid+"/project_users", nil, jwtCred(tok)).want(t, 200)
		}
		e.do("GET", "/users", nil, a.basic()).want(t, 200)

		changed := e.do("PUT", "/users/changepsw", `{"oldpsw":"Passw0rd!","newpsw":"N3w-secret"}`, a.jwt()).want(t, 200).json(t)
		fresh := changed["token"].(string)
		for name, tok := range map[string]string{"the changing session's": a.token, "another session's": other} {
			if r := e.do("GET", "/"+pid+"/project_users", nil, jwtCred(tok)); r.status != 401 {
				t.Fatalf("%s token after the password change: %d, want 401", name, r.status)
			}
		}
		e.do("GET", "/users", nil, a.basic()).want(t, 401)
		e.do("GET", "/"+pid+"/project_users", nil, jwtCred(fresh)).want(t, 200)
		e.do("GET", "/users", nil, basicCred(a.email, "N3w-secret")).want(t, 200)

		// A reset sets the password through the store: the same.
		u, err := e.store.FindUserByID(context.Background(), a.id)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.SetUserPassword(context.Background(), a.id, u.PasswordHash, "$2a$04$reset.hash.that.matches.nothing.at.all.xxxxxxxxxxxxxx"); err != nil {
			t.Fatal(err)
		}
		e.do("GET", "/"+pid+"/project_users", nil, jwtCred(fresh)).want(t, 401)
		e.do("GET", "/users", nil, basicCred(a.email, "N3w-secret")).want(t, 401)
	})
}

// TestUserDelete: DELETE /users anonymises the account as the original does, ends its sessions,
// leaves its memberships granting nothing, frees its email; the last owner of a project is refused.
func TestUserDelete(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner, agent := e.signup("Owner"), e.signup("Agent")
		pid := e.createProject(owner, "Team")
		agentPU := e.join(owner, agent, pid, tiledesk.RoleAgent)
		e.do("GET", "/"+pid+"/project_users", nil, agent.jwt()).want(t, 200)
		e.do("GET", "/users", nil, agent.basic()).want(t, 200)

		r := e.do("DELETE", "/users", nil, agent.jwt()).want(t, 200).json(t)
		u, _ := r["updatedUser"].(map[string]any)
		if r["success"] != true || u["_id"] != agent.id || u["status"] != 0.0 || u["firstname"] != "anonymized" ||
			u["lastname"] != "anonymized" || !strings.HasSuffix(u["email"].(string), "@tiledesk.com") || u["email"] == agent.email {
			t.Fatalf("DELETE /users answered %v", r)
		}
		for name, c := range map[string]cred{"token": agent.jwt(), "Basic": agent.basic()} {
			if s := e.do("GET", "/"+pid+"/project_users", nil, c).status; s != 401 {
				t.Fatalf("the deleted user's %s: %d, want 401", name, s)
			}
		}
		e.do("POST", "/auth/signin", map[string]string{"email": agent.email, "password": agent.password}).
			wantBody(t, 401, `{"success":false,"msg":"Authentication failed. Wrong email or password."}`)
		pu := e.do("GET", "/"+pid+"/project_users/"+agentPU, nil, owner.jwt()).want(t, 200).json(t)
		if pu["status"] != "disabled" || pu["user_available"] != false {
			t.Fatalf("the deleted user's membership is %v / available %v, want disabled", pu["status"], pu["user_available"])
		}
		for _, m := range e.do("GET", "/"+pid+"/project_users", nil, owner.jwt()).want(t, 200).list(t) {
			if m.(map[string]any)["_id"] == agentPU {
				t.Fatal("the deleted user is still listed among the active teammates")
			}
		}
		if ev := e.events(""); !slices.Contains(ev, tiledesk.EventUserDelete) {
			t.Fatalf("events = %v", ev)
		}
		// The address is free again.
		e.do("POST", "/auth/signup", map[string]string{"email": agent.email, "password": "An0ther!", "firstname": "New",
			"lastname": "Agent"}).want(t, 200)

		// The last owner of a project cannot delete the account; once someone else owns it, it can.
		e.do("DELETE", "/users", nil, owner.jwt()).want(t, 409)
		e.do("GET", "/users", nil, owner.jwt()).want(t, 200)
		heir := e.signup("Heir")
		heirPU := e.join(owner, heir, pid, tiledesk.RoleAdmin)
		e.do("PUT", "/"+pid+"/project_users/"+heirPU, `{"role":"owner"}`, owner.jwt()).want(t, 200)
		e.do("DELETE", "/users", nil, owner.jwt()).want(t, 200)
		e.do("GET", "/users", nil, owner.jwt()).want(t, 401)
		// The deleted owner no longer counts as an owner: the heir is now the last one.
		e.do("DELETE", "/"+pid+"/project_users/me", nil, heir.jwt()).want(t, 409)
	})
}

// TestRemovedMembershipEndsAccess: a membership disabled, trashed or removed stops working for its
// project at once, for agents and for visitors' guest tokens, though the token stays valid.
func TestRemovedMembershipEndsAccess(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Team")
	for _, how := range []string{"", "?soft=true", "?hard=true"} {
		agent := e.signup("Agent")
		agentPU := e.join(owner, agent, pid, tiledesk.RoleAgent)
		guestToken, guestUUID := e.guest(pid)
		guest := header("Authorization", guestToken)
		e.do("GET", "/"+pid+"/project_users", nil, agent.jwt()).want(t, 200)
		e.do("GET", "/"+pid+"/requests/me", nil, guest).want(t, 200)
		guestPU := e.do("GET", "/"+pid+"/project_users/users/"+guestUUID, nil, owner.jwt()).want(t, 200).list(t)[0].(map[string]any)["_id"].(string)

		e.do("DELETE", "/"+pid+"/project_users/"+agentPU+how, nil, owner.jwt()).want(t, 200)
		e.do("DELETE", "/"+pid+"/project_users/"+guestPU+how, nil, owner.jwt()).want(t, 200)
		if s := e.do("GET", "/"+pid+"/project_users", nil, agent.jwt()).status; s != 403 {
			t.Fatalf("agent after DELETE%s of its membership: %d, want 403", how, s)
		}
		if s := e.do("GET", "/"+pid+"/requests/me", nil, guest).status; s != 403 {
			t.Fatalf("guest after DELETE%s of its membership: %d, want 403", how, s)
		}
		if s := e.do("POST", "/"+pid+"/requests/support-group-"+pid+"-x/messages", `{"text":"hi"}`, guest).status; s != 403 {
			t.Fatalf("guest writing after DELETE%s of its membership: %d, want 403", how, s)
		}
		e.do("GET", "/users", nil, agent.jwt()).want(t, 200) // the account itself is untouched
	}
}

// TestSigninFailureSaysNothing: an unknown email and a wrong password get the same status, the same
// body and the same cost (one bcrypt comparison at the server's cost each).
func TestSigninFailureSaysNothing(t *testing.T) {
	e := newEnvWith(t, func(c *Config) { c.PasswordCost = 8 })
	a := e.signup("Ann")
	unknown := e.do("POST", "/auth/signin", map[string]string{"email": "nobody@example.com", "password": "x"})
	wrong := e.do("POST", "/auth/signin", map[string]string{"email": a.email, "password": "x"})
	if unknown.status != 401 || wrong.status != 401 || string(unknown.body) != string(wrong.body) {
		t.Fatalf("unknown email: %d %s; wrong password: %d %s", unknown.status, unknown.body, wrong.status, wrong.body)
	}
	// The fastest of several tries, alternating the two, is each path's own cost: load on a shared
	// machine only ever adds to it.
	fastest := map[string]time.Duration{}
	for i := 0; i < 9; i++ {
		for _, email := range []string{"nobody@example.com", a.email} {
			start := time.Now()
			e.do("POST", "/auth/signin", map[string]string{"email": email, "password": "x"}).want(t, 401)
			if d := time.Since(start); fastest[email] == 0 || d < fastest[email] {
				fastest[email] = d
			}
		}
	}
	u, w := fastest["nobody@example.com"], fastest[a.email]
	if u > 2*w || w > 2*u {
		t.Fatalf("an unknown email takes %v, a wrong password %v: the time tells them apart", u, w)
	}
}
