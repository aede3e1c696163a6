package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
)

func projectsOf(t *testing.T, e *testEnv, a account) []any {
	t.Helper()
	return e.do("GET", "/projects", nil, a.jwt()).want(t, 200).list(t)
}

// TestInvitationGoesToTheMailboxOwner: an attacker who signs up with an invited address takes no
// invitation, cannot verify the address without the mailed link, and loses the account to the
// mailbox's owner, who joins the project through a password reset.
func TestInvitationGoesToTheMailboxOwner(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner := e.signup("Owner")
		pid := e.createProject(owner, "Team")
		const victim = "victim@example.com"
		r := e.do("POST", "/"+pid+"/project_users/invite", map[string]string{"email": victim, "role": "admin"}, owner.jwt()).want(t, 200)
		if r.json(t)["pendingInvitation"] == nil {
			t.Fatalf("invite of an unknown address = %s", r.body)
		}
		invMail := e.mails.last(t, victim, "/#/handle-invitation/")
		if !strings.HasPrefix(invMail.Link, "https://desk.example.com/#/handle-invitation/") || !strings.Contains(invMail.Subject, "Team") {
			t.Fatalf("invitation mail = %+v", invMail)
		}

		// The attacker signs up with the victim's address.
		e.do("POST", "/auth/signup", map[string]any{"email": "Victim@Example.com", "password": "attacker-pw",
			"firstname": "Eve", "lastname": "Attacker"}).want(t, 200)
		eve := account{email: victim, password: "attacker-pw"}
		m := e.do("POST", "/auth/signin", map[string]string{"email": victim, "password": eve.password}).want(t, 200).json(t)
		eve.token, eve.id = m["token"].(string), m["user"].(map[string]any)["_id"].(string)
		if got := projectsOf(t, e, eve); len(got) != 0 {
			t.Fatalf("signing up with an invited address took the invitation: %v", got)
		}
		// Without the mail, no verification: forged codes, the invitation's token, another user's code.
		other := e.signupUnverified("Mallory")
		otherCode := token(t, e.mails.last(t, other.email, "/#/verify/email/").Link, "/verify/email/"+other.id+"/")
		invToken := token(t, invMail.Link, "handle-invitation/")
		for _, code := range []string{"forged", invToken, otherCode, tampered(otherCode)} {
			if r := e.do("PUT", "/auth/verifyemail/"+eve.id+"/"+code, map[string]bool{"emailverified": true}); r.status != http.StatusUnauthorized {
				t.Fatalf("verify with %q: %d %s", code, r.status, r.body)
			}
		}
		e.do("POST", "/auth/verifyemail", map[string]string{"token": invToken}).want(t, 401)
		// A second invitation still waits: the account has not proved the address.
		e.do("POST", "/"+pid+"/project_users/invite", map[string]string{"email": victim, "role": "agent"}, owner.jwt()).want(t, 200)
		if got := projectsOf(t, e, eve); len(got) != 0 {
			t.Fatalf("inviting an unverified account added it: %v", got)
		}

		// The mailbox's owner takes the account over with a reset link, which also verifies the address.
		e.do("PUT", "/auth/requestresetpsw", map[string]string{"email": victim}).want(t, 200)
		reset := token(t, e.mails.last(t, victim, "/#/resetpassword/").Link, "resetpassword/")
		e.do("PUT", "/auth/resetpsw/"+reset, map[string]string{"password": "owner-pw"}).want(t, 200)
		real := account{id: eve.id, email: victim, password: "owner-pw"}
		m = e.do("POST", "/auth/signin", map[string]string{"email": victim, "password": "owner-pw"}).want(t, 200).json(t)
		real.token = m["token"].(string)
		if m["user"].(map[string]any)["emailverified"] != true {
			t.Fatalf("a reset did not verify the address: %v", m["user"])
		}
		got := projectsOf(t, e, real)
		if len(got) != 1 || got[0].(map[string]any)["role"] != "agent" {
			t.Fatalf("after the reset the owner's projects = %v, want the invited one as agent", got)
		}
		e.do("POST", "/auth/signin", map[string]string{"email": victim, "password": "attacker-pw"}).want(t, 401)
	})
}

// TestInviteReplyShowsWhatTeammatesSee: inviting any verified account answers only what the
// teammates list shows of it, never its phone or attributes.
func TestInviteReplyShowsWhatTeammatesSee(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Team")
	agent := e.signup("Agent")
	e.do("PUT", "/users", map[string]any{"phone": "+39 333 1234567", "attributes": map[string]string{"secret": "PrivateAttr"},
		"description": "Support lead"}, agent.jwt()).want(t, 200)
	r := e.do("POST", "/"+pid+"/project_users/invite", map[string]string{"email": agent.email}, owner.jwt()).want(t, 200)
	invited := r.json(t)["id_user"].(map[string]any)
	for _, private := range []string{"phone", "attributes"} {
		if _, ok := invited[private]; ok {
			t.Fatalf("the invite reply shows the user's %s: %s", private, r.body)
		}
	}
	if strings.Contains(string(r.body), "PrivateAttr") || strings.Contains(string(r.body), "1234567") {
		t.Fatalf("the invite reply leaks private data: %s", r.body)
	}
	var listed map[string]any
	for _, pu := range e.do("GET", "/"+pid+"/project_users", nil, owner.jwt()).want(t, 200).list(t) {
		if u := pu.(map[string]any)["id_user"].(map[string]any); u["_id"] == agent.id {
			listed = u
		}
	}
	a, _ := json.Marshal(invited)
	b, _ := json.Marshal(listed)
	if string(a) != string(b) {
		t.Fatalf("invite reply's user %s\nteammates list's %s", a, b)
	}
	if invited["description"] != "Support lead" || invited["email"] != agent.email {
		t.Fatalf("the public profile is missing: %v", invited)
	}
	if mail := e.mails.last(t, agent.email, "/#/project/"+pid); !strings.Contains(mail.Subject, "Team") {
		t.Fatalf("added mail = %+v", mail)
	}
}

func TestPendingInvitationsAdmin(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Team")
	admin := e.signup("Admin")
	e.join(owner, admin, pid, tiledesk.RoleAdmin)
	r := e.do("POST", "/"+pid+"/project_users/invite", map[string]string{"email": "Later@Example.com", "role": "supervisor"}, admin.jwt()).want(t, 200)
	id := r.json(t)["pendingInvitation"].(map[string]any)["_id"].(string)
	e.do("POST", "/"+pid+"/project_users/invite", map[string]string{"email": "second@example.com"}, admin.jwt()).want(t, 200)

	list := e.do("GET", "/"+pid+"/pendinginvitations", nil, admin.jwt()).want(t, 200).list(t)
	if len(list) != 2 || list[0].(map[string]any)["email"] != "later@example.com" || list[0].(map[string]any)["role"] != "supervisor" {
		t.Fatalf("pending invitations = %v", list)
	}
	one := e.do("GET", "/"+pid+"/pendinginvitations/"+id, nil, admin.jwt()).want(t, 200).json(t)
	if one["_id"] != id || one["id_project"] != pid {
		t.Fatalf("invitation = %v", one)
	}
	e.do("GET", "/"+pid+"/pendinginvitations/"+tiledesk.NewID(), nil, admin.jwt()).wantBody(t, 404, `{"success":false,"msg":"Object not found."}`)
	e.do("GET", "/"+pid+"/pendinginvitations/nope", nil, admin.jwt()).want(t, 404)

	// The mailed link shows the invitation without authentication; the raw id does not.
	link := e.mails.last(t, "later@example.com", "handle-invitation").Link
	tok := token(t, link, "handle-invitation/")
	shown := e.do("GET", "/auth/pendinginvitationsnoauth/"+tok, nil).want(t, 200).json(t)
	if shown["email"] != "later@example.com" || shown["_id"] != id {
		t.Fatalf("invitation by its link = %v", shown)
	}
	for _, bad := range []string{id, tok[:len(tok)-3] + "AAA", e.srv.links.Sign(auth.LinkInvitation, pid+"/"+id, e.clock.Now().Add(-time.Second), "later@example.com"),
		e.srv.links.Sign(auth.LinkVerifyEmail, pid+"/"+id, e.clock.Now().Add(time.Hour), "later@example.com")} {
		e.do("GET", "/auth/pendinginvitationsnoauth/"+bad, nil).want(t, 404)
	}

	before := len(e.mails.to("later@example.com"))
	r = e.do("GET", "/"+pid+"/pendinginvitations/resendinvite/"+id, nil, admin.jwt()).want(t, 200)
	if r.json(t)["Resend invitation email to"].(map[string]any)["_id"] != id || len(e.mails.to("later@example.com")) != before+1 {
		t.Fatalf("resend = %s, mails %d -> %d", r.body, before, len(e.mails.to("later@example.com")))
	}

	gone := e.do("DELETE", "/"+pid+"/pendinginvitations/"+id, nil, admin.jwt()).want(t, 200).json(t)
	if gone["_id"] != id {
		t.Fatalf("deleted = %v", gone)
	}
	e.do("DELETE", "/"+pid+"/pendinginvitations/"+id, nil, admin.jwt()).want(t, 404)
	e.do("GET", "/auth/pendinginvitationsnoauth/"+tok, nil).want(t, 404)
	// A revoked invitation no longer applies to the address.
	later := e.signup("Later")
	if _, err := e.store.VerifyUserEmail(context.Background(), later.id, "later@example.com"); err == nil {
		t.Fatal("verified an address that is not the user's")
	}
	if e.do("POST", "/auth/signup", map[string]string{"email": "later@example.com", "password": "pw", "firstname": "L", "lastname": "L"}).status != 200 {
		t.Fatal("sign-up of the revoked address failed")
	}
	u, err := e.store.FindUserByEmail(context.Background(), "later@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.VerifyUserEmail(context.Background(), u.ID, u.Email); err != nil {
		t.Fatal(err)
	}
	if ms, _ := e.store.FindMemberships(context.Background(), u.ID); len(ms) != 0 {
		t.Fatalf("a revoked invitation applied: %d memberships", len(ms))
	}
	// Agents neither see nor revoke invitations.
	agent := e.signup("Agent")
	e.join(owner, agent, pid, tiledesk.RoleAgent)
	e.do("GET", "/"+pid+"/pendinginvitations", nil, agent.jwt()).want(t, 403)
}
