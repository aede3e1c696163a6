package api

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
)

// The visitor's view, field by field: every key of every answer a visitor gets must be in these
// lists. A key added to the view without being added here fails the test: decide first whether a
// visitor may see it.
var (
	visitorRequestKeys = []string{"status", "preflight", "hasBot", "participants", "participantsAgents",
		"participantsBots", "_id", "request_id", "requester", "lead", "subject", "first_text", "department", "id_project",
		"createdBy", "channel", "channel.name", "createdAt", "contact", "contact.phone", "contact.email", "contact.external_id",
		"updatedAt", "ticket_id", "__v", "attributes", "closed_at", "rating", "rating_message", "sourcePage", "language",
		"requester_id", "participatingAgents", "participatingBots", "participatingBots[]._id", "id",
		"requester._id", "requester.id_project", "requester.id_user", "requester.uuid_user", "requester.role",
		"requester.roleType", "requester.status", "requester.isAuthenticated", "requester.id",
		"lead._id", "lead.lead_id", "lead.fullname", "lead.email",
		"department._id", "department.name", "department.description", "department.online_msg", "department.offline_msg",
		"department.hasBot", "department.id",
		"participatingAgents[]._id", "participatingAgents[].firstname", "participatingAgents[].lastname"}
	visitorMessageKeys = append([]string{"senderFullname", "type", "channel_type", "status", "_id", "sender", "recipient",
		"recipientFullname", "text", "language", "id_project", "createdBy", "channel", "channel.name", "attributes",
		"metadata", "createdAt", "updatedAt", "__v", "request"}, under("request.", visitorRequestKeys)...)
	visitorListKeys = append([]string{"perPage", "count", "requests", "next_cursor"}, under("requests[].", visitorRequestKeys)...)
	// Free-form objects (what clients put in attributes and metadata): not walked key by key, but
	// searched for anything marked internal.
	visitorFreeForm = []string{"attributes", "metadata"}
)

func under(prefix string, keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = prefix + k
	}
	return out
}

// checkVisitorAnswer fails on any key of body outside allowed, on anything marked internal, and on
// any trace of the fixtures' private data (every private field holds "secret").
func checkVisitorAnswer(t *testing.T, what string, body []byte, allowed []string) {
	t.Helper()
	if strings.Contains(strings.ToLower(string(body)), "secret") {
		t.Errorf("%s: a visitor receives private data: %s", what, body)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: not JSON: %s", what, body)
	}
	allow := map[string]bool{}
	for _, k := range allowed {
		allow[k] = true
	}
	var bad []string
	walkVisitorJSON(v, "", allow, &bad)
	if len(bad) > 0 {
		sort.Strings(bad)
		t.Errorf("%s: keys outside the visitor's view: %v\n%s", what, bad, body)
	}
}

func walkVisitorJSON(v any, path string, allow map[string]bool, bad *[]string) {
	switch x := v.(type) {
	case map[string]any:
		if path != "" && isFreeForm(path) {
			if internalInside(x) {
				*bad = append(*bad, path+" (holds something marked internal)")
			}
			return
		}
		for k, e := range x {
			p := join(path, k)
			if !allow[p] {
				*bad = append(*bad, p)
				continue
			}
			walkVisitorJSON(e, p, allow, bad)
		}
	case []any:
		for _, e := range x {
			walkVisitorJSON(e, path+"[]", allow, bad)
		}
	}
}

func isFreeForm(path string) bool {
	last := path[strings.LastIndex(path, ".")+1:]
	for _, f := range visitorFreeForm {
		if last == f {
			return true
		}
	}
	return false
}

// internalInside reports whether v holds an object marked internal (tiledesk.InternalKey), itself
// or in its attributes.
func internalInside(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		if x[tiledesk.InternalKey] == true {
			return true
		}
		for _, e := range x {
			if internalInside(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if internalInside(e) {
				return true
			}
		}
	}
	return false
}

// signupWithEmail is signup with an address of its own (local, numbered, @example.com).
func signupWithEmail(e *testEnv, first, local string) account {
	e.t.Helper()
	a := account{email: fmt.Sprintf("%s%d@example.com", local, e.users.Add(1)), password: "Passw0rd!"}
	r := e.do("POST", "/auth/signup", map[string]string{"email": a.email, "password": a.password, "firstname": first,
		"lastname": "Test"}).want(e.t, 200)
	a.id = r.json(e.t)["user"].(map[string]any)["_id"].(string)
	a.token = e.do("POST", "/auth/signin", map[string]string{"email": a.email, "password": a.password}).want(e.t, 200).json(e.t)["token"].(string)
	if _, err := e.store.VerifyUserEmail(context.Background(), a.id, a.email); err != nil { // as signup does
		e.t.Fatal(err)
	}
	return a
}

// visitorFixture is a conversation started by a visitor, which agents then worked on, leaving
// "secret" in every private field a visitor could be shown by mistake.
type visitorFixture struct {
	*testEnv
	pid, rid            string
	owner, agent        account
	visitor             cred
	publicMID, noteMID  string // an agent's message and an agent's internal note
	agentMember, leadID string
}

// newVisitorFixture starts the conversation as a guest (anonymous) or as a custom-token user.
func newVisitorFixture(t *testing.T, e *testEnv, kind string) *visitorFixture {
	f := &visitorFixture{testEnv: e, owner: e.signup("Owner"), agent: signupWithEmail(e, "Ann", "secret.agent")}
	f.pid = e.createProject(f.owner, "Shop")
	f.agentMember = e.join(f.owner, f.agent, f.pid, tiledesk.RoleAgent)
	e.do("PUT", "/users", map[string]any{"phone": "+39 secret", "description": "secret bio", "public_email": "secret@example.org",
		"attributes": map[string]any{"secret": true}}, f.agent.jwt()).want(t, 200)
	switch kind {
	case "guest":
		token, _ := e.guest(f.pid)
		f.visitor = jwtCred(token)
	case "user":
		id := "external-" + f.pid
		pu := tiledesk.NewProjectUser(f.pid, tiledesk.RoleUser, id, tiledesk.Now())
		pu.UUIDUser = id
		if err := e.store.CreateProjectUser(context.Background(), pu); err != nil {
			t.Fatal(err)
		}
		token, err := e.tokens.Issue(auth.Claims{ID: id, Firstname: "Customer", Subject: auth.SubjectUserExternal,
			Audience: auth.ProjectAudience(f.pid)})
		if err != nil {
			t.Fatal(err)
		}
		f.visitor = jwtCred("JWT " + token)
	}
	f.rid = "support-group-" + f.pid + "-" + kind
	m := e.do("POST", "/"+f.pid+"/requests/"+f.rid+"/messages", map[string]any{"text": "Hello, I need help",
		"senderFullname": "Visitor", "email": "visitor@example.com", "attributes": map[string]any{"tempUID": "t1"}},
		f.visitor).want(t, 200).json(t)
	f.leadID = m["request"].(map[string]any)["lead"].(map[string]any)["_id"].(string)
	base := "/" + f.pid + "/requests/" + f.rid
	owner := f.owner.jwt()
	e.do("PUT", base+"/participants", []string{f.agent.id}, owner).want(t, 200)
	e.do("POST", base+"/notes", map[string]string{"text": "secret note"}, owner).want(t, 200)
	e.do("PUT", base+"/tag", []map[string]string{{"tag": "secret-tag"}}, owner).want(t, 200)
	e.do("POST", base+"/followers", map[string]string{"member": f.agentMember}, owner).want(t, 200)
	e.do("PATCH", base+"/attributes", map[string]any{"crm": map[string]any{"internal": true, "account": "secret-crm"},
		"list": []any{"kept", map[string]any{"internal": true, "v": "secret in a list"}}, "shared": "for everyone"}, owner).want(t, 200)
	e.do("PATCH", base, map[string]any{"location": map[string]any{"city": "secret-city"}, "workingStatus": "secret-ws",
		"subject": "Help"}, owner).want(t, 200)
	e.do("PUT", "/"+f.pid+"/leads/"+f.leadID, map[string]any{"note": "secret lead note", "company": "secret co",
		"phone": "+39 000 secret", "tags": []string{"secret"}, "attributes": map[string]any{"secret": 1}}, owner).want(t, 200)
	e.do("POST", "/"+f.pid+"/leads/"+f.leadID+"/properties", map[string]any{"secret": 1}, owner).want(t, 200)
	requester := m["request"].(map[string]any)["requester"].(map[string]any)["_id"].(string)
	if _, err := e.store.UpdateProjectUser(context.Background(), f.pid, requester, tiledesk.ProjectUserUpdate{
		Attributes: map[string]any{"secret": 1}, Tags: []string{"secret"}}); err != nil {
		t.Fatal(err)
	}
	pub := e.do("POST", base+"/messages", map[string]any{"text": "How can I help?",
		"attributes": map[string]any{"x": map[string]any{"internal": true, "v": "secret nested"}, "keep": "fine"}},
		f.agent.jwt()).want(t, 200).json(t)
	f.publicMID = pub["_id"].(string)
	// The last message is an internal note, so that attributes.last_message holds it.
	note := e.do("POST", base+"/messages", map[string]any{"text": "secret internal note",
		"attributes": map[string]any{"internal": true}}, f.agent.jwt()).want(t, 200).json(t)
	f.noteMID = note["_id"].(string)
	return f
}

// TestVisitorView calls every route a visitor can reach and holds each answer to the visitor's view.
func TestVisitorView(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		for _, kind := range []string{"guest", "user"} {
			t.Run(kind, func(t *testing.T) { testVisitorView(t, newEnvOn(t, engine, nil), kind) })
		}
	})
}

func testVisitorView(t *testing.T, e *testEnv, kind string) {
	f := newVisitorFixture(t, e, kind)
	base := "/" + f.pid + "/requests/" + f.rid
	g := f.visitor
	covered := map[string]bool{}
	check := func(route, what string, r *resp, allowed []string) {
		t.Helper()
		covered[route] = true
		r.want(t, 200)
		checkVisitorAnswer(t, what, r.body, allowed)
	}
	me := "GET /{pid}/requests/me"
	for _, q := range []string{"", "?no_populate=true", "?status=all&preflight=true"} {
		r := e.do("GET", "/"+f.pid+"/requests/me"+q, nil, g)
		check(me, "requests/me"+q, r, visitorListKeys)
		if n := r.json(t)["count"]; n != 1.0 {
			t.Fatalf("requests/me%s counts %v conversations", q, n)
		}
	}
	msgs := e.do("GET", base+"/messages", nil, g)
	check("GET /{pid}/requests/{rid}/messages", "messages", msgs, under("[].", visitorMessageKeys))
	if got := msgs.list(t); len(got) != 2 || got[1].(map[string]any)["attributes"].(map[string]any)["keep"] != "fine" {
		t.Fatalf("the visitor reads %d messages (its own and the agent's, not the note): %s", len(got), msgs.body)
	}
	check("GET /{pid}/requests/{rid}/messages/{mid}", "message", e.do("GET", base+"/messages/"+f.publicMID, nil, g), visitorMessageKeys)
	e.do("GET", base+"/messages/"+f.noteMID, nil, g).want(t, 404)
	csv := e.do("GET", base+"/messages/csv", nil, g)
	covered["GET /{pid}/requests/{rid}/messages/csv"] = true
	if csv.status != 200 || strings.Contains(strings.ToLower(string(csv.body)), "secret") || !strings.Contains(string(csv.body), "How can I help?") {
		t.Errorf("messages CSV for a visitor: %d %s", csv.status, csv.body)
	}
	reply := e.do("POST", base+"/messages", map[string]any{"text": "Thanks", "attributes": map[string]any{"tempUID": "t2"}}, g)
	check("POST /{pid}/requests/{rid}/messages", "reply", reply, visitorMessageKeys)
	if req := reply.json(t)["request"].(map[string]any); req["attributes"].(map[string]any)["shared"] != "for everyone" ||
		req["participatingAgents"].([]any)[0].(map[string]any)["firstname"] != "Ann" {
		t.Errorf("the reply's conversation lacks what the visitor may see: %s", reply.body)
	}
	e.do("POST", base+"/messages", map[string]any{"text": "psst", "attributes": map[string]any{"internal": true}}, g).want(t, 422)
	check("PATCH /{pid}/requests/{rid}/rating", "rating", e.do("PATCH", base+"/rating", map[string]any{"rating": 5}, g), visitorRequestKeys)
	check("PUT /{pid}/requests/{rid}/closeg", "closeg", e.do("PUT", base+"/closeg", nil, g), visitorRequestKeys)
	// Closed, the conversation has a transcript holding the note: still never shown.
	check(me, "requests/me after closing", e.do("GET", "/"+f.pid+"/requests/me?status=all", nil, g), visitorListKeys)
	check(me, "requests/me after closing", e.do("GET", "/"+f.pid+"/requests/me?status=all&no_populate=true", nil, g), visitorListKeys)

	// A custom event answers only what the visitor sent, with its ids.
	ev := e.do("POST", "/"+f.pid+"/events", map[string]any{"name": "page.viewed", "attributes": map[string]any{"page": "/pricing"}}, g)
	check("POST /{pid}/events", "custom event", ev, []string{"_id", "name", "attributes", "id_project", "project_user",
		"createdBy", "status", "createdAt", "updatedAt", "__v"})

	// What bots set in the conversation is the visitor's to read (the original's least role for it
	// is guest): it is what they learnt from the visitor.
	params := e.do("GET", base+"/chatbot/parameters", nil, g)
	covered["GET /{pid}/requests/{rid}/chatbot/parameters"] = true
	if params.status != 200 || string(params.body) != "{}" {
		t.Errorf("chatbot parameters for a visitor: %d %s", params.status, params.body)
	}

	// Every route a visitor can reach is covered above.
	for _, ri := range e.srv.RouteTable() {
		key := ri.Method + " " + ri.Pattern
		if ri.Access == "member" && ri.Role == "" && !covered[key] {
			t.Errorf("route %s is open to visitors but TestVisitorView does not check its answers", key)
		}
	}
	// The agents still see everything.
	full := e.do("GET", base, nil, f.owner.jwt()).want(t, 200)
	for _, want := range []string{"secret note", "secret-tag", "secret-crm", "secret.agent", "secret lead note", "secret internal note"} {
		if !strings.Contains(strings.ToLower(string(full.body)), want) {
			t.Errorf("the owner's conversation lacks %q: %s", want, full.body)
		}
	}
}

// TestVisitorAndAgentRenderingsKeptApart reads one conversation, at one version, as an agent and as
// its visitor in both orders: each keeps its own rendering, and neither is served to the other.
func TestVisitorAndAgentRenderingsKeptApart(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		counter := &requestReads{}
		e := newEnvOn(t, engine, func(c *Config) { counter.Store, c.Store = c.Store, counter })
		f := newVisitorFixture(t, e, "guest")
		byID := "/" + f.pid + "/requests/" + f.rid
		agentRead := func(when string) {
			t.Helper()
			for _, path := range []string{byID, "/" + f.pid + "/requests"} {
				body := strings.ToLower(string(e.do("GET", path, nil, f.agent.jwt()).want(t, 200).body))
				if !strings.Contains(body, "secret note") || !strings.Contains(body, "secret.agent") {
					t.Fatalf("%s, the agent reads %s without its notes or the agents' emails: %s", when, path, body)
				}
			}
		}
		visitorRead := func(when string) {
			t.Helper()
			checkVisitorAnswer(t, when, e.do("GET", "/"+f.pid+"/requests/me", nil, f.visitor).want(t, 200).body, visitorListKeys)
		}
		agentRead("first")
		visitorRead("after the agent's read")
		agentRead("after the visitor's read")
		// Both renderings are kept, under kinds of their own: each list read again renders none.
		counter.byIDs.Store(0)
		agentRead("read again")
		visitorRead("read again")
		if n := counter.byIDs.Load(); n != 0 {
			t.Fatalf("lists read again read conversations %d times: a rendering was not kept", n)
		}
		// The other order, on a conversation changed since (a new version, of which nothing is kept
		// yet: this change answers unpopulated).
		e.do("PATCH", byID+"/attributes", map[string]any{"shared": "changed"}, f.owner.jwt()).want(t, 200)
		visitorRead("first, after a change")
		agentRead("after the visitor's first read")
		visitorRead("after the agent's read")
	})
}

// requestReads counts the reads of conversations by id, which lists make for the conversations
// whose renderings are not kept.
type requestReads struct {
	tiledesk.Store
	byIDs atomic.Int32
}

func (c *requestReads) FindRequestsByIDs(ctx context.Context, projectID string, ids []string) (map[string]*tiledesk.Request, error) {
	c.byIDs.Add(1)
	return c.Store.FindRequestsByIDs(ctx, projectID, ids)
}
