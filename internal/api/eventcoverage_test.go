package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

// notInProjectLog lists the write routes that need not append to the log of the project they are
// called on, each with the reason. Any other POST, PUT, PATCH or DELETE route that succeeds must
// make the project's log grow.
var notInProjectLog = map[string]string{
	// Accounts: no project; their events (user.*) are outside any project's log.
	"POST /auth/signup":                     "an account, in no project",
	"POST /auth/signin":                     "a session, no change",
	"POST /auth/signinWithCustomToken":      "a session; a customer's first one logs project_user.create (TestSigninWithCustomToken)",
	"POST /{pid}/jwt/decode":                "reads a token, changes nothing",
	"PUT /auth/verifyemail/{userid}/{code}": "an account",
	"POST /auth/verifyemail":                "an account",
	"PUT /auth/requestresetpsw":             "an account",
	"PUT /auth/resetpsw/{token}":            "an account",
	"PUT /users":                            "an account",
	"PUT /users/changepsw":                  "an account",
	// A new project's events go into the new project's log, checked by TestProjectCreateAndList.
	"POST /projects": "writes into the new project's log",
	// Webhook subscriptions are checked with the webhooks: their events are the webhooks' business.
	"POST /{pid}/subscriptions":                                        "webhooks, checked by their own tests",
	"PUT /{pid}/subscriptions/{id}":                                    "webhooks, checked by their own tests",
	"DELETE /{pid}/subscriptions/{id}":                                 "webhooks, checked by their own tests",
	"POST /{pid}/subscriptions/{id}/deliveries/{deliveryId}/redeliver": "a new delivery of an event already in the log",
	"POST /{pid}/emails/internal/send":                                 "a message handed to the mail server; nothing of the project changes",
	"POST /{pid}/faq_kb/askbot":                                        "a question answered from the intents; nothing changes",
	"POST /{pid}/bots/askbot":                                          "a question answered from the intents; nothing changes",
	// A bot's notes on a conversation, read on demand; the original writes no event for them either.
	"PATCH /{pid}/requests/{rid}/chatbot/parameters": "kept beside the conversation, read on demand",
	// A chat token is signed for its caller; nothing is stored.
	"POST /chat21/native/auth/createCustomToken":     "a token signed for the caller",
	"POST /chatapi/api/{app}/{uid}/{list}/{cw}":      "as the matrix calls it, nothing (a join, a device: TestChat21GroupMembers)",
	"PUT /chatapi/api/{app}/groups/{gid}":            "as the matrix calls it (a support group's id), nothing: TestChat21Groups",
	"PUT /chatapi/api/{app}/groups/{gid}/attributes": "as the matrix calls it (a support group's id), nothing: TestChat21Groups",
}

// TestEveryWriteRouteAppendsAnEvent calls every write route of the route table on a fresh world
// by the most powerful caller its policy admits that succeeds, and checks that project A's log
// grew: a write path added without its event fails here.
func TestEveryWriteRouteAppendsAnEvent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	n := 0
	for _, ri := range e.srv.RouteTable() {
		key := ri.Method + " " + ri.Pattern
		if ri.Method == http.MethodGet || ri.Method == http.MethodHead {
			continue
		}
		if _, ok := notInProjectLog[key]; ok {
			continue
		}
		p, ok := matrix[key]
		if !ok {
			t.Errorf("%s has no entry in the matrix", key)
			continue
		}
		n++
		w := newWorld(e)
		creds := slices.Clone(w.creds)
		slices.Reverse(creds) // the owner first
		var answers []string
		grew := false
		for _, c := range creds {
			if !p.allowed(c) {
				continue
			}
			before, err := e.store.LastEventSeq(ctx, w.pidA)
			if err != nil {
				t.Fatal(err)
			}
			r := w.call(ri, p, c, w.pidA)
			answers = append(answers, fmt.Sprintf("%s: %d %.200s", c.name, r.status, r.body))
			if r.status >= 300 {
				continue
			}
			after, err := e.store.LastEventSeq(ctx, w.pidA)
			if err != nil {
				t.Fatal(err)
			}
			if after <= before {
				t.Errorf("%s as %s answered %d but project A's log did not grow (seq %d): every change writes its event", key, c.name, r.status, before)
			}
			grew = true
			break
		}
		if !grew && !t.Failed() {
			t.Errorf("%s: no caller its policy admits succeeded, so its event is not checked; answers: %s", key, strings.Join(answers, "; "))
		}
	}
	if n < 40 {
		t.Fatalf("%d write routes checked; the route table has at least 40", n)
	}
}

// A write that fails after its transaction appended an event leaves no event, and the next event
// follows the last one without a gap: a visitor's first message creates a lead (lead.create) and
// then fails on a department that does not exist, and the whole transaction is rolled back.
func TestRolledBackWriteLeavesNoEvent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		ctx := context.Background()
		owner := e.signup("Owner")
		pid := e.createProject(owner, "Rollback")
		guest, _ := e.guest(pid)
		last := storetest.WaitNumbered(t, e.store, pid, int64(len(e.events(pid))))
		r := e.do("POST", "/"+pid+"/requests/support-group-"+pid+"-rollback/messages",
			map[string]any{"text": "hello", "departmentid": tiledesk.NewID(), "senderFullname": "Rolled Back"}, jwtCred(guest))
		if r.status < 400 || r.status >= 500 {
			t.Fatalf("message to a missing department: %d %s, want a 4xx", r.status, r.body)
		}
		e.do("POST", "/"+pid+"/leads", map[string]string{"fullname": "After"}, owner.jwt()).want(t, 200)
		if got := storetest.WaitNumbered(t, e.store, pid, last+1); got != last+1 {
			t.Fatalf("last seq = %d after one more event, want %d", got, last+1)
		}
		evs, err := e.store.EventsAfter(ctx, pid, last, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].Name != tiledesk.EventLeadCreate || strings.Contains(string(evs[0].Payload), "Rolled Back") {
			t.Fatalf("events after the failed write: %d, the first %s %s", len(evs), evs[0].Name, evs[0].Payload)
		}
	})
}

// The events of a conversation's life, beyond request.update: who joined and who left (assignment
// and unassignment, with the original's {member, request}), the working status, close and reopen.
func TestConversationEvents(t *testing.T) {
	e := newEnv(t)
	owner, agent := e.signup("Owner"), e.signup("Agent")
	pid := e.createProject(owner, "Conversation events")
	e.join(owner, agent, pid, tiledesk.RoleAgent)
	rid := "support-group-" + pid + "-events"
	guest, _ := e.guest(pid)
	e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]string{"text": "hi"}, jwtCred(guest)).want(t, 200)
	_, next := e.feedUntil(pid, 0, len(e.events(pid)), owner.jwt())
	steps := []struct {
		method, path string
		body         any
		who          cred
		want         []string
	}{
		{"POST", "/participants", map[string]string{"member": agent.id}, owner.jwt(),
			[]string{"request.update", "request.participants.update", "request.participants.join"}},
		{"DELETE", "/participants/" + agent.id, nil, owner.jwt(),
			[]string{"request.update", "request.participants.update", "request.participants.leave"}},
		{"PATCH", "", map[string]string{"workingStatus": "pending"}, owner.jwt(), []string{"request.update", "request.workingStatus.update"}},
		{"POST", "/messages", map[string]string{"text": "back"}, jwtCred(guest), []string{"message.create", "request.workingStatus.update"}},
		{"PUT", "/close", nil, owner.jwt(), []string{"request.update", "request.close"}},
		{"PUT", "/reopen", nil, owner.jwt(), []string{"request.update", "request.reopen"}},
	}
	for _, st := range steps {
		e.do(st.method, "/"+pid+"/requests/"+rid+st.path, st.body, st.who).want(t, 200)
		p := e.feed(pid, fmt.Sprintf("after=%d&limit=1000", next), owner.jwt())
		var names []string
		for _, ev := range p.Events {
			names = append(names, ev.Name)
			if strings.HasPrefix(ev.Name, "request.participants.") && ev.Name != "request.participants.update" &&
				(!strings.Contains(string(ev.Payload), `"member":"`+agent.id+`"`) || !strings.Contains(string(ev.Payload), `"request":{`)) {
				t.Errorf("%s payload = %s, want {member, request}", ev.Name, ev.Payload)
			}
			// Every other event of the conversation carries it whole, whatever wrote it.
			var whole map[string]any
			if strings.HasPrefix(ev.Name, "request.") && !strings.HasPrefix(ev.Name, "request.participants.") &&
				(json.Unmarshal(ev.Payload, &whole) != nil || whole["request_id"] != rid || whole["first_text"] != "hi" ||
					whole["priority"] != "medium" || whole["status"] == float64(0)) {
				t.Errorf("%s payload = %s, want the whole conversation", ev.Name, ev.Payload)
			}
		}
		for _, w := range st.want {
			if !slices.Contains(names, w) {
				t.Errorf("%s %s wrote %v, want %s among them", st.method, st.path, names, w)
			}
		}
		next = p.Next
	}
}
