package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tiledesk-go/tiledesk/internal/pgtest"
)

// engines returns the --db values to run end-to-end tests on: SQLite always, PostgreSQL when
// TILEDESK_TEST_POSTGRES names a server (in a fresh schema, dropped afterwards).
func engines(t *testing.T) map[string]string {
	dbs := map[string]string{"sqlite": filepath.Join(t.TempDir(), "chat.db")}
	base := os.Getenv("TILEDESK_TEST_POSTGRES")
	if base == "" {
		t.Log("TILEDESK_TEST_POSTGRES is not set: the PostgreSQL run of this test is skipped")
		return dbs
	}
	dbs["postgres"] = pgtest.FreshSchema(t)
	return dbs
}

// TestChatFlowEndToEnd: a visitor's first message is routed to the available agent, they exchange
// replies, the agent closes and reopens the conversation.
func TestChatFlowEndToEnd(t *testing.T) {
	for engine, db := range engines(t) {
		t.Run(engine, func(t *testing.T) {
			base, logs, stop := start(t, []string{"--addr", "127.0.0.1:0", "--db", db}, nil)
			defer stop()
			js := map[string]string{"Content-Type": "application/json"}
			auth := func(tok string) map[string]string {
				return map[string]string{"Content-Type": "application/json", "Authorization": tok}
			}
			must := func(status int, what string) {
				t.Helper()
				if status != 200 {
					t.Fatalf("%s = %d", what, status)
				}
			}
			signup := func(email string) string {
				st, _, _ := call(t, "POST", base+"/auth/signup", `{"email":"`+email+`","password":"pw","firstname":"A","lastname":"B"}`, js)
				must(st, "signup "+email)
				st, m, _ := call(t, "POST", base+"/auth/signin", `{"email":"`+email+`","password":"pw"}`, js)
				must(st, "signin "+email)
				return m["token"].(string)
			}
			owner, agent := signup("owner@example.com"), signup("agent@example.com")
			// Without a mail server the verification link is in the log; the agent follows it, so
			// that the invitation below adds it at once.
			uid, code := linkFromLog(t, logs, "agent@example.com", "/verify/email/")
			st, _, _ := call(t, "PUT", base+"/auth/verifyemail/"+uid+"/"+code, "", js)
			must(st, "verify the agent's address")
			st, p, _ := call(t, "POST", base+"/projects", `{"name":"Shop"}`, auth(owner))
			must(st, "create project")
			pid := p["_id"].(string)
			st, _, _ = call(t, "POST", base+"/"+pid+"/project_users/invite", `{"email":"agent@example.com","role":"agent"}`, auth(owner))
			must(st, "invite")
			// Only the agent is available.
			st, _, _ = call(t, "PUT", base+"/"+pid+"/project_users", `{"user_available":false}`, auth(owner))
			must(st, "owner unavailable")
			st, g, _ := call(t, "POST", base+"/auth/signinAnonymously", `{"id_project":"`+pid+`","firstname":"Visitor"}`, js)
			must(st, "guest sign-in")
			guest := g["token"].(string)
			rid := "support-group-" + pid + "-e2e"
			st, m, _ := call(t, "POST", base+"/"+pid+"/requests/"+rid+"/messages", `{"text":"Hello?"}`, auth(guest))
			must(st, "first message")
			req := m["request"].(map[string]any)
			agentID := func() string {
				_, me, _ := call(t, "GET", base+"/users", "", auth(agent))
				return me["_id"].(string)
			}()
			if req["status"] != 200.0 || fmt.Sprint(req["participants"]) != "["+agentID+"]" {
				t.Fatalf("routing: status %v participants %v, want the agent %s", req["status"], req["participants"], agentID)
			}
			st, m, _ = call(t, "POST", base+"/"+pid+"/requests/"+rid+"/messages", `{"text":"Hi, how can I help?"}`, auth(agent))
			must(st, "agent reply")
			if m["request"].(map[string]any)["first_response_at"] == nil {
				t.Fatal("the agent's reply did not set first_response_at")
			}
			st, _, _ = call(t, "POST", base+"/"+pid+"/requests/"+rid+"/messages", `{"text":"My order is late"}`, auth(guest))
			must(st, "visitor reply")
			st, closed, _ := call(t, "PUT", base+"/"+pid+"/requests/"+rid+"/close", `{}`, auth(agent))
			must(st, "close")
			if closed["status"] != 1000.0 || closed["transcript"] == nil {
				t.Fatalf("closed = %v", closed["status"])
			}
			st, reopened, _ := call(t, "PUT", base+"/"+pid+"/requests/"+rid+"/reopen", ``, auth(agent))
			must(st, "reopen")
			if reopened["status"] != 200.0 {
				t.Fatalf("reopened status = %v", reopened["status"])
			}
			st, _, msgs := call(t, "GET", base+"/"+pid+"/requests/"+rid+"/messages", "", auth(guest))
			must(st, "messages")
			if len(msgs) != 3 {
				t.Fatalf("messages = %d, want 3", len(msgs))
			}
			st, list, _ := call(t, "GET", base+"/"+pid+"/requests", "", auth(agent))
			must(st, "list")
			if list["count"] != 1.0 {
				t.Fatalf("open conversations = %v", list["count"])
			}
		})
	}
}
