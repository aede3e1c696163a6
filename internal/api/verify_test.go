package api

import (
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk/internal/auth"
)

func TestVerifyEmail(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner := e.signup("Owner")
		pid := e.createProject(owner, "Team")
		e.do("POST", "/"+pid+"/project_users/invite", map[string]string{"email": "new@example.com", "role": "admin"}, owner.jwt()).want(t, 200)

		e.do("POST", "/auth/signup", map[string]string{"email": "New@Example.com", "password": "pw", "firstname": "Ann", "lastname": "New"}).want(t, 200)
		m := e.do("POST", "/auth/signin", map[string]string{"email": "new@example.com", "password": "pw"}).want(t, 200).json(t)
		ann := account{id: m["user"].(map[string]any)["_id"].(string), email: "new@example.com", password: "pw", token: m["token"].(string)}
		mail := e.mails.last(t, ann.email, "/#/verify/email/")
		prefix := "https://desk.example.com/#/verify/email/" + ann.id + "/"
		if !strings.HasPrefix(mail.Link, prefix) || !strings.Contains(mail.Text, "72 hours") {
			t.Fatalf("verification mail = %+v", mail)
		}
		code := strings.TrimPrefix(mail.Link, prefix)

		// Before the link is used, the invitation waits.
		if got := projectsOf(t, e, ann); len(got) != 0 {
			t.Fatalf("projects before verification = %v", got)
		}
		// Someone else's id with Ann's code, and a code that expired, are refused.
		e.do("PUT", "/auth/verifyemail/"+owner.id+"/"+code, nil).
			wantBody(t, 401, `{"success":false,"error":"Trying to use a verification code from another user."}`)
		expired := e.srv.links.Sign(auth.LinkVerifyEmail, ann.id, e.clock.Now().Add(-time.Minute), ann.email)
		e.do("PUT", "/auth/verifyemail/"+ann.id+"/"+expired, nil).
			wantBody(t, 401, `{"success":false,"error":"Unable to verify email: the verification code is expired or invalid."}`)

		// The body the original applied to the user is ignored: nothing but the flag changes.
		r := e.do("PUT", "/auth/verifyemail/"+ann.id+"/"+code, map[string]any{"emailverified": true, "email": "evil@example.com", "status": 0})
		u := r.want(t, 200).json(t)
		if u["emailverified"] != true || u["email"] != "new@example.com" || u["status"] != 100.0 {
			t.Fatalf("verified user = %v", u)
		}
		got := projectsOf(t, e, ann)
		if len(got) != 1 || got[0].(map[string]any)["role"] != "admin" {
			t.Fatalf("projects after verification = %v, want the invited one", got)
		}
		// The link can be followed again, and POST /auth/verifyemail takes the token alone.
		e.do("PUT", "/auth/verifyemail/"+ann.id+"/"+code, nil).want(t, 200)
		e.do("POST", "/auth/verifyemail", map[string]string{"token": code}).want(t, 200)
		e.do("POST", "/auth/verifyemail", map[string]string{}).want(t, 422)
		e.do("POST", "/auth/verifyemail", map[string]string{"token": "x.y"}).want(t, 401)

		// Asking again: a verified address gets no mail.
		before := len(e.mails.to(ann.email))
		r = e.do("GET", "/users/resendverifyemail", nil, ann.jwt()).want(t, 200)
		if len(e.mails.to(ann.email)) != before || !strings.Contains(string(r.body), "already verified") {
			t.Fatalf("resend for a verified address: %s, %d mails", r.body, len(e.mails.to(ann.email))-before)
		}
	})
}

func TestResendVerifyEmailAndDisableEmail(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/auth/signup", map[string]any{"email": "quiet@example.com", "password": "pw", "firstname": "Q", "lastname": "Q",
		"disableEmail": true}).want(t, 200)
	if n := len(e.mails.to("quiet@example.com")); n != 0 {
		t.Fatalf("disableEmail: %d mails sent", n)
	}
	tok := e.do("POST", "/auth/signin", map[string]string{"email": "quiet@example.com", "password": "pw"}).want(t, 200).json(t)["token"].(string)
	e.do("GET", "/users/resendverifyemail", nil, jwtCred(tok)).
		wantBody(t, 200, `{"success":true,"message":"Verify email successfully sent"}`)
	link := e.mails.last(t, "quiet@example.com", "/verify/email/").Link
	e.do("POST", "/auth/verifyemail", map[string]string{"token": link[strings.LastIndex(link, "/")+1:]}).want(t, 200)
	// A guest has no address to verify.
	guest, _ := e.guest(e.createProject(e.signup("Owner"), "P"))
	e.do("GET", "/users/resendverifyemail", nil, jwtCred(guest)).want(t, 403)
}

func TestMailBudgetPerRecipient(t *testing.T) {
	e, _ := limitedEnv(t, RateLimits{Mail: rate(2, time.Hour)})
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Team")
	known := e.signup("Known")
	for i := 0; i < 2; i++ {
		e.do("PUT", "/auth/requestresetpsw", map[string]string{"email": known.email}).want(t, 200)
		e.do("PUT", "/auth/requestresetpsw", map[string]string{"email": "nobody@example.com"}).want(t, 200)
	}
	// Spent alike for an address with an account and one without: the 429 tells nothing.
	a := e.do("PUT", "/auth/requestresetpsw", map[string]string{"email": known.email}).want(t, 429)
	b := e.do("PUT", "/auth/requestresetpsw", map[string]string{"email": "nobody@example.com"}).want(t, 429)
	resets := 0
	for _, m := range e.mails.to(known.email) {
		if strings.Contains(m.Link, "resetpassword") {
			resets++
		}
	}
	if string(a.body) != string(b.body) || resets != 2 {
		t.Fatalf("429s differ (%s / %s) or reset mails %d, want 2", a.body, b.body, resets)
	}
	for i := 0; i < 2; i++ {
		e.do("POST", "/"+pid+"/project_users/invite", map[string]string{"email": "target@example.com"}, owner.jwt()).want(t, 200)
	}
	e.do("POST", "/"+pid+"/project_users/invite", map[string]string{"email": "target@example.com"}, owner.jwt()).want(t, 429)
	if n := len(e.mails.to("target@example.com")); n != 2 {
		t.Fatalf("mails to one address = %d, want the budget's 2", n)
	}
}
