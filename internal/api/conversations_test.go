package api

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

// chatEnv is a project whose owner is its only (available) agent, plus a second agent.
type chatEnv struct {
	*leadsEnv
}

func newChatEnv(t *testing.T) *chatEnv { return newChatEnvWith(t, nil) }

func newChatEnvWith(t *testing.T, adjust func(*Config)) *chatEnv {
	return newChatEnvOn(t, "sqlite", adjust)
}

// newChatEnvOn is newChatEnvWith on the named engine.
func newChatEnvOn(t *testing.T, engine string, adjust func(*Config)) *chatEnv {
	e := newLeadsEnvOn(t, engine, adjust)
	// The agent is unavailable, so routing always picks the owner.
	e.do("PUT", "/"+e.pid+"/project_users", `{"user_available":false}`, e.agent.jwt()).want(t, 200)
	return &chatEnv{e}
}

func (e *chatEnv) rid(name string) string { return "support-group-" + e.pid + "-" + name }

func (e *chatEnv) post(rid, body string, c ...cred) *resp {
	e.t.Helper()
	return e.do("POST", "/"+e.pid+"/requests/"+rid+"/messages", body, c...)
}

func TestFirstMessageCreatesRequest(t *testing.T) {
	e := newChatEnv(t)
	rid := e.rid("samplereq1")
	r := e.post(rid, `{"text":"Hello, I need help","senderFullname":"Sample One"}`, e.owner.jwt())
	matchesOriginal(t, r, "20-message-creates-request", "-request.snapshot.agents")
	golden(t, "message-creates-request", r)
	m := r.json(t)
	req := m["request"].(map[string]any)
	if m["sender"] != e.owner.id || m["status"] != 0.0 || req["status"] != 200.0 || req["ticket_id"] != 1.0 ||
		req["request_id"] != rid || req["first_text"] != "Hello, I need help" ||
		fmt.Sprint(req["participants"]) != "["+e.owner.id+"]" || req["lead"].(map[string]any)["lead_id"] != e.owner.id ||
		req["lead"].(map[string]any)["createdBy"] != "system" || req["department"].(map[string]any)["default"] != true {
		t.Fatalf("message = %s", r.body)
	}
	if _, ok := req["snapshot"].(map[string]any)["agents"]; ok {
		t.Fatal("snapshot.agents is never returned")
	}
	second := e.post(rid, `{"text":"Second message"}`, e.owner.jwt())
	matchesOriginal(t, second, "21-message-second", "request.attributes", "request.first_response_at", "request.waiting_time")
	req = second.json(t)["request"].(map[string]any)
	if req["attributes"].(map[string]any)["last_message"].(map[string]any)["text"] != "Second message" ||
		req["requester"].(map[string]any)["number_assigned_requests"] != 1.0 {
		t.Fatalf("second message's request = %v", req)
	}
	missing := e.post(e.rid("notext"), `{"senderFullname":"X"}`, e.owner.jwt())
	matchesOriginal(t, missing, "22-message-missing-text")
	missing.wantBody(t, 422, `{"errors":["text field is required"]}`)
	e.do("GET", "/"+e.pid+"/requests/"+e.rid("notext"), nil, e.owner.jwt()).want(t, 404)
	names := e.events(e.pid)
	for _, want := range []string{tiledesk.EventLeadCreate, tiledesk.EventRequestCreate, tiledesk.EventMessageCreate} {
		if !containsName(names, want) {
			t.Fatalf("events %v lack %s", names, want)
		}
	}
}

func TestGuestConversation(t *testing.T) {
	e := newChatEnv(t)
	token, uuid := e.guest(e.pid)
	g := jwtCred(token)
	rid := e.rid("samplereq2")
	r := e.post(rid, `{"text":"Hi from the widget","senderFullname":"Visitor","email":"visitor@example.com"}`, g)
	// The original answers the agents' document (24-message-as-guest-creates-request); a visitor
	// gets its own view of it (visitor_view.go).
	r.want(t, 200)
	checkVisitorAnswer(t, "the first message", r.body, visitorMessageKeys)
	m := r.json(t)
	req := m["request"].(map[string]any)
	if m["sender"] != uuid || req["requester"].(map[string]any)["uuid_user"] != uuid || req["requester"].(map[string]any)["role"] != "guest" ||
		req["lead"].(map[string]any)["fullname"] != "Visitor" || req["contact"].(map[string]any)["email"] != "visitor@example.com" {
		t.Fatalf("guest conversation = %s", r.body)
	}
	e.post(rid, `{"text":"still me"}`, g).want(t, 200)
	// A visitor writes only in its own conversations (others are not found), reads only their
	// messages, cannot pose as someone else, and cannot list the project's conversations.
	e.post(e.rid("owners"), `{"text":"mine"}`, e.owner.jwt()).want(t, 200)
	e.post(e.rid("owners"), `{"text":"intrusion"}`, g).want(t, 404)
	e.do("GET", "/"+e.pid+"/requests/"+e.rid("owners")+"/messages", nil, g).want(t, 404)
	e.post(e.rid("new"), `{"text":"as the owner","sender":"`+e.owner.id+`"}`, g).want(t, 403)
	e.do("GET", "/"+e.pid+"/requests", nil, g).wantBody(t, 403, `{"success":false,"msg":"you dont have the required role."}`)
	msgs := e.do("GET", "/"+e.pid+"/requests/"+rid+"/messages", nil, g).want(t, 200).list(t)
	if len(msgs) != 2 {
		t.Fatalf("the visitor reads %d messages of its conversation", len(msgs))
	}
	// The owner's page of every conversation, kept whole, is not the visitor's page of its own.
	if all := e.do("GET", "/"+e.pid+"/requests", nil, e.owner.jwt()).want(t, 200).json(t); all["count"] != 2.0 {
		t.Fatalf("the owner lists %v conversations, want 2", all["count"])
	}
	me := e.do("GET", "/"+e.pid+"/requests/me", nil, g).want(t, 200).json(t)
	if me["count"] != 1.0 || me["requests"].([]any)[0].(map[string]any)["request_id"] != rid {
		t.Fatalf("/requests/me = %v", me)
	}
	// Rating and closing its own conversation; not someone else's.
	rated := e.do("PATCH", "/"+e.pid+"/requests/"+rid+"/rating", `{"rating":5,"rating_message":"great"}`, g).want(t, 200).json(t)
	if rated["rating"] != 5.0 || rated["rating_message"] != "great" {
		t.Fatalf("rated = %v", rated)
	}
	e.do("PATCH", "/"+e.pid+"/requests/"+e.rid("owners")+"/rating", `{"rating":1}`, g).want(t, 404)
	e.do("PUT", "/"+e.pid+"/requests/"+e.rid("owners")+"/closeg", nil, g).want(t, 404)
	if got := e.do("PUT", "/"+e.pid+"/requests/"+rid+"/closeg", nil, g).want(t, 200).json(t); got["status"] != 1000.0 {
		t.Fatalf("closeg = %v", got["status"])
	}
}

func TestRequestCreatePost(t *testing.T) {
	e := newChatEnv(t)
	// The conversation is for the owner's own lead, as in the recording.
	e.post(e.rid("first"), `{"text":"x"}`, e.owner.jwt()).want(t, 200)
	r := e.do("POST", "/"+e.pid+"/requests", `{"first_text":"Request via POST /requests","sender_fullname":"Sample One"}`, e.owner.jwt())
	matchesOriginal(t, r, "25-request-create-post", "-snapshot.agents")
	m := r.json(t)
	if !strings.HasPrefix(m["request_id"].(string), "support-group-"+e.pid+"-") || len(m["request_id"].(string)) != len("support-group-"+e.pid+"-")+32 ||
		m["ticket_id"] != 2.0 || m["lead"] == nil || m["requester"] == nil {
		t.Fatalf("created = %s", r.body)
	}
	missing := e.do("POST", "/"+e.pid+"/requests", `{}`, e.owner.jwt())
	matchesOriginal(t, missing, "26-request-create-post-missing")
	if p := paramsOf(t, missing); len(p) != 1 || p[0] != "first_text" {
		t.Fatalf("params = %v", p)
	}
	e.do("POST", "/"+e.pid+"/requests", `{"first_text":"dup","request_id":"`+e.rid("first")+`"}`, e.owner.jwt()).want(t, 409)
	bad := e.do("POST", "/"+e.pid+"/requests", `{"first_text":"x","departmentid":"`+tiledesk.NewID()+`"}`, e.owner.jwt())
	bad.want(t, 400)
	if errs := bad.json(t)["errors"].([]any); errs[0].(map[string]any)["param"] != "departmentid" {
		t.Fatalf("unknown department = %s", bad.body)
	}
	e.do("POST", "/"+e.pid+"/requests", `{"first_text":"x","participants":["`+tiledesk.NewID()+`"]}`, e.owner.jwt()).want(t, 422)
	explicit := e.do("POST", "/"+e.pid+"/requests", `{"first_text":"for the agent","participants":["`+e.agent.id+`"]}`, e.owner.jwt()).want(t, 200).json(t)
	if fmt.Sprint(explicit["participants"]) != "["+e.agent.id+"]" {
		t.Fatalf("explicit participants = %v", explicit["participants"])
	}
}

func TestRequestListAndRead(t *testing.T) {
	e := newChatEnv(t)
	token, _ := e.guest(e.pid)
	e.post(e.rid("samplereq1"), `{"text":"Hello, I need help","senderFullname":"Sample One"}`, e.owner.jwt()).want(t, 200)
	e.post(e.rid("samplereq1"), `{"text":"Second message"}`, e.owner.jwt()).want(t, 200)
	e.post(e.rid("samplereq2"), `{"text":"Hi from the widget","senderFullname":"Visitor"}`, jwtCred(token)).want(t, 200)
	e.do("POST", "/"+e.pid+"/requests", `{"first_text":"Request via POST /requests"}`, e.owner.jwt()).want(t, 200)
	base := "/" + e.pid + "/requests"
	list := e.do("GET", base, nil, e.owner.jwt())
	matchesOriginal(t, list, "27-requests-list", "next_cursor")
	golden(t, "requests-list", list)
	if m := list.json(t); m["count"] != 3.0 || m["perPage"] != 40.0 {
		t.Fatalf("list = count %v perPage %v", m["count"], m["perPage"])
	}
	matchesOriginal(t, e.do("GET", base+"?status=all", nil, e.owner.jwt()), "28-requests-list-status-all", "next_cursor")
	paged := e.do("GET", base+"?page=0&limit=1", nil, e.owner.jwt())
	matchesOriginal(t, paged, "30-requests-list-page-limit", "next_cursor")
	cursor := paged.json(t)["next_cursor"].(string)
	page2 := e.do("GET", base+"?limit=1&cursor="+cursor, nil, e.owner.jwt()).want(t, 200).json(t)
	if page2["requests"].([]any)[0].(map[string]any)["ticket_id"] != 2.0 {
		t.Fatalf("second cursor page = %v", page2["requests"])
	}
	one := e.do("GET", base+"/"+e.rid("samplereq1"), nil, e.owner.jwt())
	matchesOriginal(t, one, "31-request-get", "attributes", "first_response_at", "waiting_time")
	unknown := e.do("GET", base+"/"+e.rid("nope"), nil, e.owner.jwt())
	matchesOriginal(t, unknown, "32-request-get-unknown")
	msgs := e.do("GET", base+"/"+e.rid("samplereq1")+"/messages", nil, e.owner.jwt())
	matchesOriginal(t, msgs, "33-messages-list")
	if texts := msgs.list(t); len(texts) != 2 || texts[0].(map[string]any)["text"] != "Hello, I need help" {
		t.Fatalf("messages = %s", msgs.body)
	}
	closed := e.do("PUT", base+"/"+e.rid("samplereq1")+"/close", `{}`, e.owner.jwt())
	matchesOriginal(t, closed, "34-request-close", "first_response_at", "waiting_time")
	c := closed.json(t)
	if c["status"] != 1000.0 || c["closed_by"] != e.owner.id || !strings.Contains(c["transcript"].(string), "Sample One: Hello, I need help\r\n") {
		t.Fatalf("closed = %v", c)
	}
	after := e.do("GET", base+"?status=1000", nil, e.owner.jwt())
	matchesOriginal(t, after, "35-requests-list-status-1000", "next_cursor", "requests[].first_response_at", "requests[].waiting_time")
	if m := after.json(t); m["count"] != 1.0 {
		t.Fatalf("closed list count = %v", m["count"])
	}
	if open := e.do("GET", base, nil, e.owner.jwt()).json(t); open["count"] != 2.0 {
		t.Fatalf("open count after closing = %v", open["count"])
	}
	plain := e.do("GET", base+"?no_populate=true", nil, e.owner.jwt()).json(t)
	if _, isID := plain["requests"].([]any)[0].(map[string]any)["lead"].(string); !isID {
		t.Fatal("no_populate still populates the lead")
	}
	for query, param := range map[string]string{"status=7": "status", "limit=x": "limit", "page=-2": "page", "sort=first_text": "sort",
		"direction=sideways": "direction", "hasbot=maybe": "hasbot", "ticket_id=0": "ticket_id", "dept_id=x": "dept_id",
		"start_date=31-12-2024": "start_date", "timezone=Mars/Base": "timezone", "cursor=x": "cursor", "updated_since=x": "updated_since"} {
		r := e.do("GET", base+"?"+query, nil, e.owner.jwt())
		r.want(t, 400)
		if errs := r.json(t)["errors"].([]any); errs[0].(map[string]any)["param"] != param {
			t.Errorf("%s: 400 names %v, want %s", query, errs[0], param)
		}
	}
	counts := e.do("GET", base+"/count", nil, e.owner.jwt()).want(t, 200).json(t)
	if counts["assigned"] != 2.0 || counts["unassigned"] != 0.0 || counts["bot_assigned"] != 0.0 {
		t.Fatalf("count = %v", counts)
	}
}

func TestRequestFiltersAPI(t *testing.T) {
	e := newChatEnv(t)
	e.post(e.rid("a"), `{"text":"Billing invoice question","email":"buyer@example.com","senderFullname":"Bea"}`, e.owner.jwt()).want(t, 200)
	second := e.post(e.rid("b"), `{"text":"Shipping","channel":{"name":"email"},"priority":"high"}`, e.owner.jwt()).want(t, 200).json(t)
	base := "/" + e.pid + "/requests"
	e.do("PUT", base+"/"+e.rid("b")+"/tag", `[{"tag":"vip","color":"red"},"eu","vip"]`, e.owner.jwt()).want(t, 200)
	leadID := second["request"].(map[string]any)["lead"].(map[string]any)["_id"].(string)
	for query, want := range map[string]float64{
		"full_text=invo":                   1,
		"tags=vip":                         1,
		"tags=vip&tags=eu":                 1,
		"channel=offline":                  1,
		"channel=online":                   1,
		"priority=high":                    1,
		"ticket_id=2":                      1,
		"participant=" + e.owner.id:        2,
		"lead=" + leadID:                   2,
		"requester_email=" + e.owner.email: 2,
		"dept_id=" + second["request"].(map[string]any)["department"].(map[string]any)["_id"].(string): 2,
		"hasbot=true":                      0,
		"status=100,200":                   2,
		"draft=false":                      2,
		"start_date=01/01/2020":            2,
		"end_date=01/01/2020":              0,
		"workingStatus[nin]=done,archived": 2,
	} {
		got := e.do("GET", base+"?"+query, nil, e.owner.jwt()).want(t, 200).json(t)
		if got["count"] != want {
			t.Errorf("%s: count %v, want %v", query, got["count"], want)
		}
	}
	since := second["request"].(map[string]any)["updatedAt"].(string)
	feed := e.do("GET", base+"?updated_since="+url.QueryEscape(since), nil, e.owner.jwt()).want(t, 200).json(t)
	if feed["count"] != 1.0 || feed["requests"].([]any)[0].(map[string]any)["request_id"] != e.rid("b") {
		t.Fatalf("changes after the second message = %v", feed)
	}
}

func TestRequestLifecycleAPI(t *testing.T) {
	e := newChatEnv(t)
	rid := e.rid("life")
	e.post(rid, `{"text":"help me"}`, e.owner.jwt()).want(t, 200)
	path := "/" + e.pid + "/requests/" + rid
	// The agent is not a participant: it cannot close, nor write notes.
	e.do("PUT", path+"/close", `{}`, e.agent.jwt()).
		wantBody(t, 403, `{"success":false,"error":"You must be among the participants to close a conversation."}`)
	e.do("POST", path+"/notes", `{"text":"n"}`, e.agent.jwt()).want(t, 403)
	p := e.do("POST", path+"/participants", `{"member":"`+e.agent.id+`"}`, e.owner.jwt()).want(t, 200).json(t)
	if len(p["participantsAgents"].([]any)) != 2 || len(p["participatingAgents"].([]any)) != 2 {
		t.Fatalf("after adding = %v", p["participants"])
	}
	e.do("POST", path+"/participants", `{"member":"nobody"}`, e.owner.jwt()).want(t, 422)
	e.do("POST", path+"/participants", `{}`, e.owner.jwt()).want(t, 422)
	n := e.do("POST", path+"/notes", `{"text":"called the customer"}`, e.agent.jwt()).want(t, 200).json(t)
	notes := n["notes"].([]any)
	if len(notes) != 1 || notes[0].(map[string]any)["text"] != "called the customer" {
		t.Fatalf("notes = %v", notes)
	}
	e.do("POST", path+"/notes", `{}`, e.agent.jwt()).wantBody(t, 400, `{"success":false,"error":"Field 'text' is required."}`)
	e.do("DELETE", path+"/notes/"+notes[0].(map[string]any)["_id"].(string), nil, e.agent.jwt()).want(t, 200)
	e.do("DELETE", path+"/notes/"+tiledesk.NewID(), nil, e.agent.jwt()).want(t, 404)
	agentPU := e.do("GET", "/"+e.pid+"/project_users/me", nil, e.agent.jwt()).list(t)[0].(map[string]any)
	if agentPU["number_assigned_requests"] != 1.0 {
		t.Fatalf("agent's assigned count = %v", agentPU["number_assigned_requests"])
	}
	// Followers, tags, patch and attributes.
	f := e.do("POST", path+"/followers", `{"member":"`+agentPU["_id"].(string)+`"}`, e.owner.jwt()).want(t, 200).json(t)
	if len(f["followers"].([]any)) != 1 {
		t.Fatalf("followers = %v", f["followers"])
	}
	e.do("POST", path+"/followers", `{"member":"`+tiledesk.NewID()+`"}`, e.owner.jwt()).want(t, 422)
	e.do("DELETE", path+"/followers/"+agentPU["_id"].(string), nil, e.owner.jwt()).want(t, 200)
	tagged := e.do("PUT", path+"/tag", `[{"tag":"urgent"}]`, e.owner.jwt()).want(t, 200).json(t)
	tagID := tagged["tags"].([]any)[0].(map[string]any)["_id"].(string)
	e.do("PUT", path+"/tag", `[]`, e.owner.jwt()).wantBody(t, 400, `{"success":false,"message":"No tag specified"}`)
	if untagged := e.do("DELETE", path+"/tag/"+tagID, nil, e.owner.jwt()).want(t, 200).json(t); len(untagged["tags"].([]any)) != 0 {
		t.Fatalf("tags after removal = %v", untagged["tags"])
	}
	patched := e.do("PATCH", path, `{"priority":"high","subject":"Order 42","workingStatus":"pending"}`, e.owner.jwt()).want(t, 200).json(t)
	if patched["priority"] != "high" || patched["subject"] != "Order 42" || patched["workingStatus"] != "pending" {
		t.Fatalf("patched = %v", patched)
	}
	e.do("PATCH", path, `{"status":42}`, e.owner.jwt()).want(t, 422)
	attrs := e.do("PATCH", path+"/attributes", `{"sla":"gold"}`, e.owner.jwt()).want(t, 200).json(t)
	if attrs["attributes"].(map[string]any)["sla"] != "gold" {
		t.Fatalf("attributes = %v", attrs["attributes"])
	}
	// Remove the owner; close as the agent; reopen.
	e.do("DELETE", path+"/participants/"+e.owner.id, nil, e.owner.jwt()).want(t, 200)
	e.do("DELETE", path+"/participants/"+e.owner.id, nil, e.owner.jwt()).wantBody(t, 400,
		`{"success":false,"error":"Unable to remove the participant `+e.owner.id+` from the request `+rid+`"}`)
	closed := e.do("PUT", path+"/close", `{}`, e.agent.jwt()).want(t, 200).json(t)
	if closed["status"] != 1000.0 || closed["closed_by"] != e.agent.id || closed["duration"] == nil {
		t.Fatalf("closed = %v", closed)
	}
	again := e.do("PUT", path+"/close", `{}`, e.agent.jwt()).want(t, 200).json(t)
	if again["closed_at"] != closed["closed_at"] {
		t.Fatal("closing a closed conversation changed it")
	}
	reopened := e.do("PUT", path+"/reopen", nil, e.owner.jwt()).want(t, 200).json(t)
	if reopened["status"] != 200.0 {
		t.Fatalf("reopened status = %v", reopened["status"])
	}
	// Reroute to a pooled department: unassigned.
	dept := e.do("POST", "/"+e.pid+"/departments", `{"name":"Pool","routing":"pooled"}`, e.owner.jwt()).want(t, 200).json(t)
	moved := e.do("PUT", path+"/departments", `{"departmentid":"`+dept["_id"].(string)+`"}`, e.owner.jwt()).want(t, 200).json(t)
	if moved["status"] != 100.0 || moved["department"].(map[string]any)["_id"] != dept["_id"] || len(moved["participants"].([]any)) != 0 {
		t.Fatalf("moved = %v", moved)
	}
	gone := tiledesk.NewID()
	e.do("PUT", path+"/departments", `{"departmentid":"`+gone+`"}`, e.owner.jwt()).wantBody(t, 400,
		`{"errors":[{"msg":"no department `+gone+` in this project","param":"departmentid","location":"body"}]}`)
	e.do("PUT", path+"/departments", `{}`, e.owner.jwt()).wantBody(t, 422,
		`{"errors":[{"msg":"is required","param":"departmentid","location":"body"}]}`)
	assignedBack := e.do("PUT", path+"/agent", nil, e.owner.jwt()).want(t, 200).json(t)
	if assignedBack["status"] != 100.0 {
		t.Fatalf("/agent in a pooled department = %v", assignedBack["status"])
	}
	e.do("PUT", path+"/departments", `{"departmentid":"`+e.defaultDept()+`"}`, e.owner.jwt()).want(t, 200)
	if got := e.do("PUT", path+"/assign", nil, e.owner.jwt()).want(t, 200).json(t); got["status"] != 200.0 {
		t.Fatalf("/assign = %v", got["status"])
	}
	// Only the owner deletes; the messages go too.
	e.do("DELETE", path, nil, e.agent.jwt()).wantBody(t, 403, `{"success":false,"msg":"Unauthorized."}`)
	e.do("DELETE", path, nil, e.owner.jwt()).want(t, 200)
	e.do("GET", path, nil, e.owner.jwt()).want(t, 404)
	e.do("GET", path+"/messages", nil, e.owner.jwt()).want(t, 404)
	for _, want := range []string{tiledesk.EventRequestClose, tiledesk.EventRequestReopen, tiledesk.EventRequestDelete,
		tiledesk.EventRequestParticipants, tiledesk.EventRequestDepartment} {
		if !containsName(e.events(e.pid), want) {
			t.Fatalf("no %s event", want)
		}
	}
}

func (e *chatEnv) defaultDept() string {
	return e.do("GET", "/"+e.pid+"/departments/default", nil).json(e.t)["_id"].(string)
}

func TestRequestIfMatch(t *testing.T) {
	e := newChatEnv(t)
	rid := e.rid("etag")
	e.post(rid, `{"text":"x"}`, e.owner.jwt()).want(t, 200)
	path := "/" + e.pid + "/requests/" + rid
	plain := e.do("GET", path+"?no_populate=true", nil, e.owner.jwt())
	tag := etagOf(plain.body)
	e.do("PATCH", path, `{"priority":"low"}`, e.owner.jwt(), header("If-Match", tag)).want(t, 200)
	e.do("PATCH", path, `{"priority":"high"}`, e.owner.jwt(), header("If-Match", tag)).want(t, 412)
	if got := e.do("GET", path, nil, e.owner.jwt()).json(t); got["priority"] != "low" {
		t.Fatalf("priority = %v after a refused write", got["priority"])
	}
}

func TestMessagesAPI(t *testing.T) {
	e := newChatEnv(t)
	rid := e.rid("msgs")
	first := e.post(rid, `{"text":"one"}`, e.owner.jwt()).want(t, 200).json(t)
	multi := e.do("POST", "/"+e.pid+"/requests/"+rid+"/messages/multi", `[{"text":"two"},{"text":"three","type":"text"},{"type":"image","metadata":{"src":"http://x/y.png"}}]`, e.owner.jwt()).want(t, 200).list(t)
	if len(multi) != 3 {
		t.Fatalf("multi = %v", multi)
	}
	e.do("POST", "/"+e.pid+"/requests/"+e.rid("none")+"/messages/multi", `[{"text":"x"}]`, e.owner.jwt()).
		wantBody(t, 404, `{"success":false,"msg":"Request doesn't exist."}`)
	e.do("POST", "/"+e.pid+"/requests/"+rid+"/messages/multi", `[{"senderFullname":"no text"}]`, e.owner.jwt()).want(t, 422)
	base := "/" + e.pid + "/requests/" + rid + "/messages"
	all := e.do("GET", base, nil, e.owner.jwt()).want(t, 200).list(t)
	if len(all) != 4 || all[0].(map[string]any)["text"] != "one" || all[3].(map[string]any)["type"] != "image" {
		t.Fatalf("all messages = %v", all)
	}
	page := e.do("GET", base+"?limit=3", nil, e.owner.jwt()).want(t, 200)
	next := page.header.Get("X-Next-Cursor")
	if len(page.list(t)) != 3 || next == "" {
		t.Fatalf("first page: %d messages, cursor %q", len(page.list(t)), next)
	}
	rest := e.do("GET", base+"?limit=3&cursor="+next, nil, e.owner.jwt()).want(t, 200)
	if len(rest.list(t)) != 1 || rest.header.Get("X-Next-Cursor") != "" {
		t.Fatalf("second page: %s", rest.body)
	}
	e.do("GET", base+"?limit=0", nil, e.owner.jwt()).want(t, 400)
	id := first["_id"].(string)
	if got := e.do("GET", base+"/"+id, nil, e.owner.jwt()).want(t, 200).json(t); got["text"] != "one" {
		t.Fatalf("message by id = %v", got)
	}
	e.do("GET", base+"/"+tiledesk.NewID(), nil, e.owner.jwt()).want(t, 404)
	csvBody := string(e.do("GET", base+"/csv", nil, e.owner.jwt()).body)
	if lines := strings.Split(strings.TrimSpace(csvBody), "\n"); len(lines) != 5 || !strings.HasPrefix(lines[0], "_id;sender;") {
		t.Fatalf("messages csv = %q", csvBody)
	}
	key := header("Idempotency-Key", "send-once")
	a := e.post(rid, `{"text":"retry me"}`, e.owner.jwt(), key).want(t, 200)
	b := e.post(rid, `{"text":"retry me"}`, e.owner.jwt(), key).want(t, 200)
	if a.json(t)["_id"] != b.json(t)["_id"] || b.header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("a retried send made a second message")
	}
	if n := len(e.do("GET", base, nil, e.owner.jwt()).list(t)); n != 5 {
		t.Fatalf("messages after a retried send = %d, want 5", n)
	}
	e.post(rid, `{"text":"other"}`, e.owner.jwt(), key).want(t, 409)
	csvResp := e.do("GET", "/"+e.pid+"/requests/csv", nil, e.owner.jwt())
	csvList := string(csvResp.body)
	if csvResp.status != 200 || !strings.HasPrefix(csvResp.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("requests csv = %d %s", csvResp.status, csvResp.header.Get("Content-Type"))
	}
	if !strings.HasPrefix(csvList, "_id;request_id;ticket_id;") || !strings.Contains(csvList, rid) {
		t.Fatalf("requests csv = %q", csvList)
	}
}

func TestConversationTenancy(t *testing.T) {
	e := newChatEnv(t)
	rid := e.rid("secret")
	e.post(rid, `{"text":"secret of A"}`, e.owner.jwt()).want(t, 200)
	other := e.signup("Mallory")
	pb := e.createProject(other, "B")
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/" + pb + "/requests/" + rid, ""},
		{"GET", "/" + pb + "/requests/" + rid + "/messages", ""},
		{"PUT", "/" + pb + "/requests/" + rid + "/close", "{}"},
		{"PATCH", "/" + pb + "/requests/" + rid, `{"priority":"low"}`},
		{"DELETE", "/" + pb + "/requests/" + rid, ""},
	} {
		r := e.do(c.method, c.path, c.body, other.jwt())
		if r.status != 404 || strings.Contains(string(r.body), "secret of A") {
			t.Errorf("%s %s through B = %d %s", c.method, c.path, r.status, r.body)
		}
	}
	// Posting to the same request_id in B makes B's own conversation, leaving A's untouched.
	e.do("POST", "/"+pb+"/requests/"+rid+"/messages", `{"text":"B's own"}`, other.jwt()).want(t, 200)
	msgs := e.do("GET", "/"+e.pid+"/requests/"+rid+"/messages", nil, e.owner.jwt()).list(t)
	if len(msgs) != 1 || msgs[0].(map[string]any)["text"] != "secret of A" {
		t.Fatalf("A's conversation = %v", msgs)
	}
	if list := e.do("GET", "/"+pb+"/requests?status=all", nil, other.jwt()).json(t); list["count"] != 1.0 || strings.Contains(fmt.Sprint(list), "secret of A") {
		t.Fatalf("B's list = %v", list)
	}
	e.do("GET", "/"+e.pid+"/requests", nil, other.jwt()).wantBody(t, 403, `{"success":false,"msg":"you dont belong to the project."}`)
}

// TestRequestsMeFollowsVisibility holds the caller's own list to the visibility rule: an agent who
// asked for a conversation of a department restricted to a group, and neither takes part in it nor
// follows it, finds it neither by id nor in /requests/me; once it follows it, in both.
func TestRequestsMeFollowsVisibility(t *testing.T) {
	e := newChatEnv(t)
	vip := e.do("POST", "/"+e.pid+"/departments", `{"name":"VIP","id_group":"group-vip"}`, e.owner.jwt()).want(t, 200).json(t)["_id"].(string)
	rid := e.rid("restricted")
	e.do("POST", "/"+e.pid+"/requests", `{"first_text":"x","request_id":"`+rid+`","departmentid":"`+vip+`","participants":["`+
		e.owner.id+`"]}`, e.agent.jwt()).want(t, 200)
	mine := func() float64 {
		return e.do("GET", "/"+e.pid+"/requests/me", nil, e.agent.jwt()).want(t, 200).json(t)["count"].(float64)
	}
	e.do("GET", "/"+e.pid+"/requests/"+rid, nil, e.agent.jwt()).want(t, 404)
	if n := mine(); n != 0 {
		t.Fatalf("/requests/me of an agent who may not see its conversation counts %v", n)
	}
	agentPU := e.do("GET", "/"+e.pid+"/project_users/me", nil, e.agent.jwt()).list(t)[0].(map[string]any)["_id"].(string)
	e.do("POST", "/"+e.pid+"/requests/"+rid+"/followers", `{"member":"`+agentPU+`"}`, e.owner.jwt()).want(t, 200)
	e.do("GET", "/"+e.pid+"/requests/"+rid, nil, e.agent.jwt()).want(t, 200)
	if n := mine(); n != 1 {
		t.Fatalf("/requests/me of an agent who follows its conversation counts %v", n)
	}
}

// TestFollowersAtCreationAreTeammates: a new conversation's followers, like those added later, are
// active teammates of its project: not a membership of another project, nor a visitor's.
func TestFollowersAtCreationAreTeammates(t *testing.T) {
	e := newChatEnv(t)
	agentPU := e.do("GET", "/"+e.pid+"/project_users/me", nil, e.agent.jwt()).list(t)[0].(map[string]any)["_id"].(string)
	other := e.signup("Mallory")
	pb := e.createProject(other, "B")
	strangerPU := e.do("GET", "/"+pb+"/project_users/me", nil, other.jwt()).list(t)[0].(map[string]any)["_id"].(string)
	guest := e.do("POST", "/auth/signinAnonymously", map[string]string{"id_project": e.pid}).want(t, 200).json(t)
	visitor, err := e.store.FindProjectUserByUUID(t.Context(), e.pid, guest["user"].(map[string]any)["_id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	visitorPU := visitor.ID
	for name, follower := range map[string]string{"another project's member": strangerPU, "a visitor": visitorPU} {
		wantInvalid(t, e.do("POST", "/"+e.pid+"/requests", `{"first_text":"x","followers":["`+follower+`"]}`, e.owner.jwt()),
			"creating with "+name+" as follower", "followers", "is not an active teammate")
		wantInvalid(t, e.post(e.rid("f-"+follower), `{"text":"x","followers":["`+follower+`"]}`, e.owner.jwt()),
			"a first message with "+name+" as follower", "followers", "is not an active teammate")
	}
	r := e.do("POST", "/"+e.pid+"/requests", `{"first_text":"x","followers":["`+strings.ToUpper(agentPU)+`"]}`, e.owner.jwt()).want(t, 200).json(t)
	if fmt.Sprint(r["followers"]) != "["+agentPU+"]" {
		t.Fatalf("followers = %v", r["followers"])
	}
}
