package api

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/live"
)

func TestSigninWithCustomToken(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pidA, pidB := e.createProject(owner, "Shop A"), e.createProject(owner, "Shop B")
	secretA := e.do("POST", "/"+pidA+"/keys/generate", nil, owner.jwt()).want(t, 200).json(t)["jwtSecret"].(string)
	secretB := e.do("POST", "/"+pidB+"/keys/generate", nil, owner.jwt()).want(t, 200).json(t)["jwtSecret"].(string)
	now := e.clock.Now().Unix()
	sign := func(secret string, claims jwt.MapClaims) string {
		base := jwt.MapClaims{"iat": now, "exp": now + 3600}
		for k, v := range claims {
			base[k] = v
		}
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, base).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	customer := func(pid string) jwt.MapClaims {
		return jwt.MapClaims{"_id": "cust-1", "firstname": "Grace", "lastname": "Hopper", "email": "grace@example.com",
			"aud": "https://tiledesk.com/projects/" + pid, "attributes": map[string]any{"plan": "gold"}}
	}
	exchange := func(token string) *resp {
		return e.do("POST", "/auth/signinWithCustomToken", nil, header("Authorization", "JWT "+token))
	}

	r := exchange(sign(secretA, customer(pidA))).want(t, 200)
	golden(t, "signin-custom-token", r)
	tokA := jwtCred(r.json(t)["token"].(string))
	pu, err := e.store.FindMember(context.Background(), pidA, "cust-1", true)
	if err != nil || pu.Role != tiledesk.RoleUser || pu.UUIDUser != "cust-1" {
		t.Fatalf("membership %+v %v", pu, err)
	}
	if evs := e.events(pidA); !slices.Contains(evs, tiledesk.EventProjectUserCreate) {
		t.Fatalf("the customer's membership was not logged: %v", evs)
	}
	// Again: the same membership.
	exchange(sign(secretA, customer(pidA))).want(t, 200)
	if pus, err := e.store.FindProjectUsers(context.Background(), pidA, tiledesk.ProjectUserFilter{Roles: []string{tiledesk.RoleUser}}); err != nil || len(pus) != 1 {
		t.Fatalf("memberships after two sign-ins: %d %v", len(pus), err)
	}
	// The token answered is the customer's in project A: it writes there as a visitor.
	ridA := "support-group-" + pidA + "-grace"
	m := e.do("POST", "/"+pidA+"/requests/"+ridA+"/messages", map[string]string{"text": "Where is my order?"}, tokA).want(t, 200).json(t)
	if m["sender"] != "cust-1" {
		t.Fatalf("sender %v", m["sender"])
	}
	if me := e.do("GET", "/"+pidA+"/requests/me", nil, tokA).want(t, 200).json(t); me["count"] != float64(1) {
		t.Fatalf("the customer's conversations: %v", me)
	}

	// Project B has a customer with the same id: neither token acts in the other project.
	tokB := jwtCred(exchange(sign(secretB, customer(pidB))).want(t, 200).json(t)["token"].(string))
	ridB := "support-group-" + pidB + "-grace"
	e.do("POST", "/"+pidB+"/requests/"+ridB+"/messages", map[string]string{"text": "Hi from B"}, tokB).want(t, 200)
	e.do("GET", "/"+pidB+"/requests/"+ridB+"/messages", nil, tokA).want(t, 403)
	e.do("GET", "/"+pidB+"/requests/me", nil, tokA).want(t, 403)
	e.do("POST", "/"+pidB+"/requests/"+ridB+"/messages", map[string]string{"text": "A's token in B"}, tokA).want(t, 403)
	e.do("GET", "/"+pidA+"/requests/"+ridA+"/messages", nil, tokB).want(t, 403)
	// A project's secret signs for that project only.
	exchange(sign(secretA, customer(pidB))).want(t, 401)

	for name, c := range map[string]struct {
		token  string
		status int
		msg    string
	}{
		"no audience":     {sign(secretA, jwt.MapClaims{"_id": "x"}), 400, "JWT Aud field is required"},
		"no _id":          {sign(secretA, jwt.MapClaims{"aud": "https://tiledesk.com/projects/" + pidA}), 401, "_id"},
		"expired":         {sign(secretA, jwt.MapClaims{"_id": "x", "aud": "https://x.example/projects/" + pidA, "exp": now - 60}), 401, "Authentication failed"},
		"owner role":      {sign(secretA, jwt.MapClaims{"_id": "x", "aud": "https://tiledesk.com/projects/" + pidA, "role": "owner"}), 403, "owner"},
		"agent, no email": {sign(secretA, jwt.MapClaims{"_id": "x", "aud": "https://tiledesk.com/projects/" + pidA, "role": "agent"}), 400, "email"},
		"unknown role":    {sign(secretA, jwt.MapClaims{"_id": "x", "aud": "https://tiledesk.com/projects/" + pidA, "role": "king"}), 400, "Unknown role"},
		"not a token":     {"abc", 401, "Unauthorized"},
	} {
		if r := exchange(c.token).want(t, c.status); !strings.Contains(string(r.body), c.msg) {
			t.Errorf("%s: %s", name, r.body)
		}
	}
	other := e.createProject(owner, "No keys")
	exchange(sign(secretA, jwt.MapClaims{"_id": "x", "aud": "https://tiledesk.com/projects/" + other})).want(t, 401)

	// A disabled membership refuses; the query parameter carries a token as the header does.
	disabled := tiledesk.MemberDisabled
	if _, err := e.store.UpdateProjectUser(context.Background(), pidA, pu.ID, tiledesk.ProjectUserUpdate{Status: &disabled}); err != nil {
		t.Fatal(err)
	}
	e.do("POST", "/auth/signinWithCustomToken?secret_token=JWT%20"+sign(secretA, customer(pidA)), nil).
		wantBody(t, 401, `{"msg":"Authentication failed. Project_user not active.","success":false}`)

	// One of this server's own tokens is answered as it came.
	if got := e.do("POST", "/auth/signinWithCustomToken", nil, owner.jwt()).want(t, 200).json(t)["token"]; got != owner.token {
		t.Fatalf("token %v, want the caller's", got)
	}
}

// exchangeCustomToken gives the project keys and signs in its customer id, returning the token
// this server answers.
func exchangeCustomToken(t *testing.T, e *testEnv, owner account, pid, id string) string {
	t.Helper()
	secret := e.do("POST", "/"+pid+"/keys/generate", nil, owner.jwt()).want(t, 200).json(t)["jwtSecret"].(string)
	now := e.clock.Now().Unix()
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"_id": id, "aud": "https://tiledesk.com/projects/" + pid,
		"iat": now, "exp": now + 600}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return e.do("POST", "/auth/signinWithCustomToken", nil, header("Authorization", "JWT "+signed)).want(t, 200).json(t)["token"].(string)
}

// A customer's token follows, on the websocket too, only the project it was issued for, though
// another project has a customer of the same id.
func TestLiveCustomTokenStaysInItsProject(t *testing.T) {
	e := newLiveEnv(t, live.Options{})
	other := e.createProject(e.owner, "Other shop")
	here := exchangeCustomToken(t, e.testEnv, e.owner, e.pid, "cust-1")
	there := exchangeCustomToken(t, e.testEnv, e.owner, other, "cust-1")
	rid := e.rid("customer")
	e.post(rid, `{"text":"hello"}`, jwtCred(here)).want(t, 200)

	intruder := e.dial(there)
	for _, topic := range []string{"/" + e.pid + "/requests", "/" + e.pid + "/requests/" + rid + "/messages"} {
		intruder.subscribe(topic)
	}
	if e.gets(intruder, rid, e.owner.jwt()) {
		t.Fatal("another project's customer of the same id follows the conversation")
	}
	if frames := intruder.drain(e.pid); len(frames) != 0 {
		t.Fatalf("another project's customer got %v", frames)
	}
	own := e.dial(here)
	own.subscribe("/" + e.pid + "/requests/" + rid + "/messages")
	if snap := own.publish("/"+e.pid+"/requests/"+rid+"/messages", "CREATE")["message"].([]any); len(snap) != 2 {
		t.Fatalf("the customer's own snapshot = %v", snap)
	}
}

// A custom token with a staff role signs in a registered user, created for a new address; the
// token answered acts in that project only, even for an account that is a member elsewhere.
func TestSigninWithCustomTokenAgentRoles(t *testing.T) {
	e := newEnv(t)
	owner, outsider := e.signup("Owner"), e.signup("Outsider")
	pidA, pidB := e.createProject(owner, "Shop A"), e.createProject(owner, "Shop B")
	secret := e.do("POST", "/"+pidA+"/keys/generate", nil, owner.jwt()).want(t, 200).json(t)["jwtSecret"].(string)
	now := e.clock.Now().Unix()
	exchange := func(claims jwt.MapClaims) *resp {
		claims["aud"], claims["iat"], claims["exp"] = "https://tiledesk.com/projects/"+pidA, now, now+600
		signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return e.do("POST", "/auth/signinWithCustomToken", nil, header("Authorization", "JWT "+signed))
	}

	r := exchange(jwt.MapClaims{"_id": "staff-7", "role": "agent", "email": "New.Agent@Example.com", "firstname": "Nina", "lastname": "Agent"}).want(t, 200)
	agent := jwtCred(r.json(t)["token"].(string))
	user := r.json(t)["user"].(map[string]any)
	if user["email"] != "new.agent@example.com" || user["firstname"] != "Nina" || user["emailverified"] != false {
		t.Fatalf("the new agent's account: %v", user)
	}
	pu, err := e.store.FindMember(context.Background(), pidA, user["_id"].(string), false)
	if err != nil || pu.Role != tiledesk.RoleAgent || pu.UUIDUser != "staff-7" {
		t.Fatalf("the new agent's membership: %+v %v", pu, err)
	}
	e.do("GET", "/"+pidA+"/leads", nil, agent).want(t, 200)
	e.do("GET", "/users", nil, agent).want(t, 200)
	for _, c := range []struct{ method, path string }{{"GET", "/" + pidB + "/leads"}, {"GET", "/projects"},
		{"PUT", "/users"}, {"POST", "/projects"}} {
		if got := e.do(c.method, c.path, map[string]any{"name": "x"}, agent).status; got != 403 {
			t.Errorf("%s %s with a token of project A: %d", c.method, c.path, got)
		}
	}
	// Again: the same account, no second membership.
	exchange(jwt.MapClaims{"_id": "staff-7", "role": "agent", "email": "new.agent@example.com"}).want(t, 200)
	if pus, _ := e.store.FindProjectUsers(context.Background(), pidA, tiledesk.ProjectUserFilter{}); len(pus) != 2 {
		t.Fatalf("%d memberships after two sign-ins, want the owner's and the agent's", len(pus))
	}

	// The owner's own address: a member of A, so it is signed in, but its token acts in A only,
	// though the account owns B too.
	scoped := jwtCred(exchange(jwt.MapClaims{"_id": "boss", "role": "admin", "email": owner.email}).want(t, 200).json(t)["token"].(string))
	e.do("GET", "/"+pidA+"/leads", nil, scoped).want(t, 200)
	e.do("GET", "/"+pidB+"/leads", nil, scoped).want(t, 403)
	e.do("DELETE", "/projects/"+pidB, nil, scoped).want(t, 403)
	// An account that is not a member of the project is out of its secret's reach.
	exchange(jwt.MapClaims{"_id": "x", "role": "admin", "email": outsider.email}).want(t, 403)
	e.do("GET", "/"+pidA+"/leads", nil, outsider.jwt()).want(t, 403)
}
