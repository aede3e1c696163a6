package api

import (
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk/internal/auth"
)

func TestPasswordReset(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		ann := e.signupUnverified("Ann")
		// A Basic credential verified before the reset is cached; the reset must forget it.
		e.do("GET", "/users", nil, ann.basic()).want(t, 200)

		// The same answer whether or not the address has an account; a mail only for the account.
		known := e.do("PUT", "/auth/requestresetpsw", map[string]string{"email": strings.ToUpper(ann.email)}).want(t, 200)
		unknown := e.do("PUT", "/auth/requestresetpsw", map[string]string{"email": "nobody@example.com"}).want(t, 200)
		if string(known.body) != string(unknown.body) {
			t.Fatalf("answers differ: %s / %s", known.body, unknown.body)
		}
		if len(e.mails.to("nobody@example.com")) != 0 {
			t.Fatal("mailed an address without an account")
		}
		e.do("PUT", "/auth/requestresetpsw", map[string]string{"email": "not an address"}).want(t, 422)
		mail := e.mails.last(t, ann.email, "/#/resetpassword/")
		tok := token(t, mail.Link, "resetpassword/")

		check := e.do("GET", "/auth/checkpswresetkey/"+tok, nil).want(t, 200).json(t)
		if check["message"] != "Valid password reset key" || check["user"].(map[string]any)["_id"] != ann.id {
			t.Fatalf("checkpswresetkey = %v", check)
		}
		if _, ok := check["user"].(map[string]any)["password"]; ok {
			t.Fatal("the user shown carries its password hash")
		}
		const invalid = `{"success":false,"msg":"Invalid password reset key"}`
		expired := e.srv.links.Sign(auth.LinkResetPassword, ann.id, time.Now().Add(-time.Second), ann.email, "whatever")
		for _, bad := range []string{"garbage", tok[:len(tok)-2] + "AA", expired,
			token(t, e.mails.last(t, ann.email, "/verify/email/").Link, "/verify/email/"+ann.id+"/")} {
			e.do("GET", "/auth/checkpswresetkey/"+bad, nil).wantBody(t, 404, invalid)
			e.do("PUT", "/auth/resetpsw/"+bad, map[string]string{"password": "n3w-password"}).wantBody(t, 404, invalid)
		}
		e.do("PUT", "/auth/resetpsw/"+tok, map[string]string{}).want(t, 422)
		e.do("PUT", "/auth/resetpsw/"+tok, map[string]string{"password": strings.Repeat("x", 73)}).want(t, 422)

		r := e.do("PUT", "/auth/resetpsw/"+tok, map[string]string{"password": "n3w-password"}).want(t, 200).json(t)
		if r["message"] != "Password change successful" || r["user"].(map[string]any)["emailverified"] != true {
			t.Fatalf("reset = %v", r)
		}
		if changed := e.mails.to(ann.email); !strings.Contains(changed[len(changed)-1].Subject, "password has been changed") {
			t.Fatalf("no notice of the change: %+v", changed[len(changed)-1])
		}
		// Used once: the link is dead, the old password and its cached Basic pair too.
		e.do("GET", "/auth/checkpswresetkey/"+tok, nil).wantBody(t, 404, invalid)
		e.do("PUT", "/auth/resetpsw/"+tok, map[string]string{"password": "attacker"}).wantBody(t, 404, invalid)
		e.do("GET", "/users", nil, ann.basic()).want(t, 401)
		e.do("POST", "/auth/signin", map[string]string{"email": ann.email, "password": ann.password}).want(t, 401)
		e.do("POST", "/auth/signin", map[string]string{"email": ann.email, "password": "n3w-password"}).want(t, 200)
	})
}
