package api

import (
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

func TestEmailSend(t *testing.T) {
	e, _ := limitedEnv(t, RateLimits{ProjectMail: rate(3, time.Hour), Mail: rate(2, time.Hour)})
	owner, agent := e.signup("Owner"), e.signup("Alex")
	pid := e.createProject(owner, "Shop")
	e.join(owner, agent, pid, tiledesk.RoleAgent)
	visitor, _ := e.guest(pid)
	path := "/" + pid + "/emails/internal/send"

	r := e.do("POST", path, map[string]any{"to": "Sales@Example.com, boss@example.com", "subject": "New lead\r\nBcc: x@evil.example",
		"text": "Ann wants a quote.", "replyto": "ann@example.com"}, agent.jwt()).want(t, 200)
	golden(t, "email-send", r)
	for _, addr := range []string{"sales@example.com", "boss@example.com"} {
		got := e.mails.to(addr)
		if len(got) != 1 || got[0].Text != "Ann wants a quote." {
			t.Fatalf("mails to %s: %v", addr, got)
		}
		if m := got[0]; m.Subject != "New lead Bcc: x@evil.example" || m.ReplyTo != "ann@example.com" {
			t.Fatalf("mail to %s: subject %q, reply-to %q", addr, m.Subject, m.ReplyTo)
		}
	}
	for field, body := range map[string]map[string]any{
		"to":      {"text": "hi"},
		"text":    {"to": "a@example.com"},
		"replyto": {"to": "a@example.com", "text": "hi", "replyto": "nobody"},
	} {
		if r := e.do("POST", path, body, agent.jwt()).want(t, 422); !strings.Contains(string(r.body), `"param":"`+field+`"`) {
			t.Errorf("bad %s: %s", field, r.body)
		}
	}
	e.do("POST", path, map[string]any{"to": "not an address", "text": "hi"}, agent.jwt()).want(t, 422)
	e.do("POST", path, map[string]any{"to": strings.Repeat("a@example.com,", 11), "text": "hi"}, agent.jwt()).want(t, 422)
	// Visitors send nothing; a message about a conversation needs one the sender sees.
	e.do("POST", path, map[string]any{"to": "a@example.com", "text": "hi"}, jwtCred(visitor)).want(t, 403)
	e.do("POST", path, map[string]any{"to": "a@example.com", "text": "hi", "request_id": "no-such"}, agent.jwt()).want(t, 404)
	// The project's budget is shared by all its members. The budget of account mail to an address
	// (two an hour here: the sign-up mail, then the reset) is not spent: a member cannot hold back
	// someone's password reset.
	e.do("POST", path, map[string]any{"to": "sales@example.com", "text": "again"}, owner.jwt()).want(t, 200)
	e.do("POST", path, map[string]any{"to": agent.email, "text": "hi"}, owner.jwt()).want(t, 200)
	e.do("PUT", "/auth/requestresetpsw", map[string]string{"email": agent.email}).want(t, 200)
	if m := e.mails.last(t, agent.email, "/#/resetpassword/"); m.Link == "" {
		t.Fatal("no password reset mail after project mail to the address")
	}
	e.do("POST", path, map[string]any{"to": "c@example.com", "text": "hi"}, owner.jwt()).want(t, 429)
	if got := e.mails.to("c@example.com"); len(got) != 0 {
		t.Fatalf("a message past the project's budget went out: %v", got)
	}
}
