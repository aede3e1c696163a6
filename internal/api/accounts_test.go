package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
)

func TestSignup(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/auth/signup", `{"email":"Sample1@Example.com","password":"Passw0rd!","firstname":"Sample","lastname":"One"}`)
	matchesOriginal(t, r, "01-signup")
	golden(t, "signup", r)
	u := r.json(t)["user"].(map[string]any)
	if u["email"] != "sample1@example.com" || u["emailverified"] != false || u["status"] != 100.0 {
		t.Fatalf("user = %v", u)
	}
	if strings.Contains(string(r.body), "password") || strings.Contains(string(r.body), "$2a$") {
		t.Fatalf("signup leaks the password hash: %s", r.body)
	}
	if ev := e.events(""); len(ev) != 1 || ev[0] != tiledesk.EventUserSignup {
		t.Fatalf("events = %v, want [user.signup]", ev)
	}

	dup := e.do("POST", "/auth/signup", `{"email":"SAMPLE1@example.com","password":"x","firstname":"A","lastname":"B"}`)
	matchesOriginal(t, dup, "02-signup-duplicate")
	dup.wantBody(t, 403, `{"success":false,"message":"Email already registered"}`)

	missing := e.do("POST", "/auth/signup", `{"email":"sample2@example.com"}`)
	missing.want(t, 422)
	params := paramsOf(t, missing)
	if strings.Join(params, ",") != "password,firstname,lastname" {
		t.Fatalf("422 params = %v, want password, firstname, lastname", params)
	}
}

func paramsOf(t *testing.T, r *resp) []string {
	t.Helper()
	var out []string
	for _, e := range r.json(t)["errors"].([]any) {
		fe := e.(map[string]any)
		if fe["location"] == "" || fe["msg"] == "" {
			t.Fatalf("error entry without location or msg: %v", fe)
		}
		out = append(out, fe["param"].(string))
	}
	return out
}

func TestSignupValidation(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, body, param string
	}{
		{"bad email", `{"email":"not-an-email","password":"p","firstname":"a","lastname":"b"}`, "email"},
		{"email without domain dot", `{"email":"a@localhost","password":"p","firstname":"a","lastname":"b"}`, "email"},
		{"email wrong type", `{"email":42,"password":"p","firstname":"a","lastname":"b"}`, "email"},
		{"blank firstname", `{"email":"a@b.co","password":"p","firstname":"  ","lastname":"b"}`, "firstname"},
		{"password too long", `{"email":"a@b.co","password":"` + strings.Repeat("x", 73) + `","firstname":"a","lastname":"b"}`, "password"},
		{"password wrong type", `{"email":"a@b.co","password":true,"firstname":"a","lastname":"b"}`, "password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/auth/signup", tc.body).want(t, 422)
			if p := paramsOf(t, r); len(p) != 1 || p[0] != tc.param {
				t.Fatalf("params = %v, want [%s]", p, tc.param)
			}
			if strings.Contains(string(r.body), strings.Repeat("x", 73)) {
				t.Fatal("a password was echoed in the error")
			}
		})
	}
}

func TestSignin(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/auth/signup", `{"email":"sample1@example.com","password":"Passw0rd!","firstname":"Sample","lastname":"One"}`).want(t, 200)

	// The public document signs in with a form body.
	form := e.do("POST", "/v1/auth/signin", url.Values{"email": {"sample1@example.com"}, "password": {"Passw0rd!"}})
	matchesOriginal(t, form, "04-signin-form")
	golden(t, "signin", form)
	js := e.do("POST", "/auth/signin", `{"email":"Sample1@EXAMPLE.com","password":"Passw0rd!"}`)
	matchesOriginal(t, js, "05-signin-json")

	token := js.json(t)["token"].(string)
	if !strings.HasPrefix(token, "JWT ") {
		t.Fatalf("token %q lacks the JWT prefix", token)
	}
	claims, err := e.tokens.Verify(strings.TrimPrefix(token, "JWT "))
	if err != nil {
		t.Fatal(err)
	}
	if claims.Subject != auth.SubjectUser || claims.Email != "sample1@example.com" || claims.Audience != "https://tiledesk.com" ||
		claims.Issuer != "https://tiledesk.com" || claims.JTI == "" || claims.ExpiresAt <= time.Now().Unix() {
		t.Fatalf("claims = %+v", claims)
	}

	wrong := e.do("POST", "/auth/signin", `{"email":"sample1@example.com","password":"wrong"}`)
	matchesOriginal(t, wrong, "06-signin-wrong-password")
	wrong.wantBody(t, 401, `{"success":false,"msg":"Authentication failed. Wrong email or password."}`)
	unknown := e.do("POST", "/auth/signin", `{"email":"nobody@example.com","password":"x"}`)
	matchesOriginal(t, unknown, "07-signin-unknown-user")
	unknown.wantBody(t, 401, `{"success":false,"msg":"Authentication failed. Wrong email or password."}`)

	missing := e.do("POST", "/auth/signin", `{}`)
	missing.want(t, 422)
	if p := paramsOf(t, missing); strings.Join(p, ",") != "email,password" {
		t.Fatalf("params = %v", p)
	}
	matchesOriginal(t, missing, "53-signin-missing-fields")
}

func TestSigninAnonymously(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Widget")
	r := e.do("POST", "/auth/signinAnonymously", map[string]string{"id_project": pid, "firstname": "Visitor", "email": "visitor@example.com"})
	matchesOriginal(t, r, "23-signin-anonymous")
	golden(t, "signin-anonymous", r)
	m := r.json(t)
	u := m["user"].(map[string]any)
	if u["fullName"] != "Visitor " || u["_id"] != u["id"] {
		t.Fatalf("guest user = %v", u)
	}
	claims, err := e.tokens.Verify(strings.TrimPrefix(m["token"].(string), "JWT "))
	if err != nil || claims.Subject != auth.SubjectGuest || claims.ID != u["_id"] {
		t.Fatalf("guest claims = %+v, %v", claims, err)
	}
	pu, err := e.store.FindProjectUserByUUID(t.Context(), pid, claims.ID)
	if err != nil || pu.Role != tiledesk.RoleGuest || pu.RoleType != tiledesk.RoleTypeUser {
		t.Fatalf("guest membership = %+v, %v", pu, err)
	}

	noName := e.do("POST", "/auth/signinAnonymously", map[string]string{"id_project": pid}).want(t, 200)
	first := noName.json(t)["user"].(map[string]any)["firstname"].(string)
	if !strings.HasPrefix(first, "guest#") || len(first) != len("guest#")+4 {
		t.Fatalf("default firstname = %q, want guest#xxxx", first)
	}

	e.do("POST", "/auth/signinAnonymously", `{}`).want(t, 422)
	e.do("POST", "/auth/signinAnonymously", map[string]string{"id_project": "garbage"}).
		wantBody(t, 400, `{"error":"Invalid project id: garbage"}`)
	ghost := tiledesk.NewID()
	e.do("POST", "/auth/signinAnonymously", map[string]string{"id_project": ghost}).
		wantBody(t, 400, `{"error":"Project not found with id: `+ghost+`"}`)
}

func TestUsersMe(t *testing.T) {
	e := newEnv(t)
	a := e.signup("Ann")
	r := e.do("GET", "/users", nil, a.jwt())
	matchesOriginal(t, r, "48-users-me")
	if r.json(t)["email"] != a.email {
		t.Fatalf("GET /users = %s", r.body)
	}
	e.do("GET", "/users", nil, a.basic()).want(t, 200)

	up := e.do("PUT", "/users", `{"firstname":"Annie","description":"hi","attributes":{"x":1}}`, a.jwt()).want(t, 200)
	golden(t, "user-update", up)
	if got := up.json(t)["updatedUser"].(map[string]any); got["firstname"] != "Annie" || got["lastname"] != "Test" {
		t.Fatalf("updatedUser = %v", got)
	}
	e.do("PUT", "/users", `{"firstname":7}`, a.jwt()).want(t, 422)
	e.do("PUT", "/users", `{"firstname":""}`, a.jwt()).want(t, 422)
}

func TestTestAuth(t *testing.T) {
	e := newEnv(t)
	a := e.signup("Ann")
	matchesOriginal(t, e.do("GET", "/testauth", nil, a.jwt()), "47-testauth")
	e.do("GET", "/testauth", nil).want(t, 401)
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	a := e.signup("Ann")
	// Warm the Basic cache with the old password.
	e.do("GET", "/users", nil, a.basic()).want(t, 200)
	e.do("PUT", "/users/changepsw", `{"oldpsw":"wrong","newpsw":"N3w-secret"}`, a.jwt()).
		wantBody(t, 401, `{"success":false,"msg":"Current password is invalid."}`)
	e.do("PUT", "/users/changepsw", `{"oldpsw":"Passw0rd!","newpsw":"Passw0rd!"}`, a.jwt()).
		wantBody(t, 403, `{"success":false,"message":"The new password must be different from the previous one."}`)
	if p := paramsOf(t, e.do("PUT", "/users/changepsw", `{}`, a.jwt()).want(t, 422)); strings.Join(p, ",") != "oldpsw,newpsw" {
		t.Fatalf("params = %v", p)
	}
	changed := e.do("PUT", "/users/changepsw", `{"oldpsw":"Passw0rd!","newpsw":"N3w-secret"}`, a.jwt()).want(t, 200).json(t)
	if changed["message"] != "Password change successful" || !strings.HasPrefix(changed["token"].(string), "JWT ") {
		t.Fatalf("password change answered %v", changed)
	}
	// The cached old password no longer opens the door; the new one does.
	e.do("GET", "/users", nil, a.basic()).want(t, 401)
	e.do("GET", "/users", nil, basicCred(a.email, "N3w-secret")).want(t, 200)
	e.do("POST", "/auth/signin", map[string]string{"email": a.email, "password": "N3w-secret"}).want(t, 200)
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	a := e.signup("Ann")
	pid := e.createProject(a, "P")
	raw := strings.TrimPrefix(a.token, "JWT ")

	ok := []struct {
		name string
		c    cred
		path string
	}{
		{"JWT scheme", jwtCred("JWT " + raw), "/" + pid + "/project_users"},
		{"jwt lower-case scheme", jwtCred("jwt " + raw), "/" + pid + "/project_users"},
		{"Bearer scheme", jwtCred("Bearer " + raw), "/" + pid + "/project_users"},
		{"Basic", a.basic(), "/" + pid + "/project_users"},
		{"Basic upper-case email", basicCred(strings.ToUpper(a.email), a.password), "/" + pid + "/project_users"},
		{"secret_token query", noCred, "/" + pid + "/project_users?secret_token=" + raw},
		{"secret_token with JWT prefix", noCred, "/" + pid + "/project_users?secret_token=" + url.QueryEscape("JWT "+raw)},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			e.do("GET", tc.path, nil, tc.c).want(t, 200)
		})
	}

	expired, _ := auth.NewTokens([]byte("test secret of sufficient length"), time.Hour)
	expired.SetClock(func() time.Time { return time.Now().Add(-3 * time.Hour) })
	old, _ := expired.Issue(auth.Claims{ID: a.id, Subject: auth.SubjectUser})
	forger, _ := auth.NewTokens([]byte("some other secret, long enough"), time.Hour)
	forged, _ := forger.Issue(auth.Claims{ID: a.id, Subject: auth.SubjectUser})
	ghost, _ := e.tokens.Issue(auth.Claims{ID: tiledesk.NewID(), Subject: auth.SubjectUser})
	bot, _ := e.tokens.Issue(auth.Claims{ID: "bot1", Subject: auth.SubjectBot})

	bad := []struct {
		name string
		c    cred
	}{
		{"no credentials", noCred},
		{"wrong password", basicCred(a.email, "wrong")},
		{"unknown email", basicCred("nobody@example.com", "x")},
		{"garbage token", jwtCred("JWT garbage")},
		{"expired token", jwtCred("JWT " + old)},
		{"forged token", jwtCred("JWT " + forged)},
		{"token of no user", jwtCred("JWT " + ghost)},
		{"bot token", jwtCred("JWT " + bot)},
		{"token without scheme", jwtCred(raw)},
		{"unknown scheme", jwtCred("Digest " + raw)},
		{"malformed basic", jwtCred("Basic !!!")},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", "/"+pid+"/project_users", nil, tc.c)
			r.wantBody(t, 401, `{"success":false,"msg":"Unauthorized"}`)
			if got := r.header.Get("WWW-Authenticate"); got != `Basic realm="Users"` {
				t.Fatalf("WWW-Authenticate = %q", got)
			}
		})
	}
}

func TestBasicAuthIsCached(t *testing.T) {
	e := newEnv(t)
	a := e.signup("Ann")
	if e.srv.basic.Len() != 0 {
		t.Fatal("cache not empty before any Basic call")
	}
	e.do("GET", "/users", nil, a.basic()).want(t, 200)
	if e.srv.basic.Len() != 1 {
		t.Fatalf("cache holds %d entries after one Basic call, want 1", e.srv.basic.Len())
	}
	u, err := e.store.FindUserByEmail(t.Context(), a.email)
	if err != nil {
		t.Fatal(err)
	}
	if !e.srv.basic.Verified(u.Email, a.password, u.ID, u.PasswordHash) {
		t.Fatal("the verified credentials are not in the cache")
	}
	// A wrong password is never cached.
	e.do("GET", "/users", nil, basicCred(a.email, "wrong")).want(t, 401)
	if e.srv.basic.Len() != 1 {
		t.Fatalf("a failed Basic call changed the cache to %d entries", e.srv.basic.Len())
	}
}

func TestGuestLimits(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "P")
	other := e.createProject(owner, "Other")
	token, _ := e.guest(pid)
	g := jwtCred(token)
	e.do("GET", "/users", nil, g).want(t, 404)
	e.do("GET", "/"+pid+"/project_users", nil, g).
		wantBody(t, 403, `{"success":false,"msg":"you dont have the required role."}`)
	e.do("GET", "/"+other+"/project_users", nil, g).
		wantBody(t, 403, `{"success":false,"msg":"you dont belong to the project."}`)
	e.do("POST", "/projects", `{"name":"mine"}`, g).want(t, http.StatusForbidden)
	e.do("GET", "/"+pid+"/departments", nil, g).want(t, 200)
}
