package api

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/tiledesk-go/tiledesk/internal/auth"
	"github.com/tiledesk-go/tiledesk/internal/chat21"
)

// chat21Client is an MQTT client connected as the official ones connect, with the messages its
// inbox receives.
type chat21Client struct {
	t      *testing.T
	uid    string
	c      paho.Client
	inbox  chan map[string]any // messages added
	topics chan string         // every topic its inbox received
}

// chat21Token asks createCustomToken for a chat21 token with an API credential.
func (e *testEnv) chat21Token(c cred) (uid, token string) {
	e.t.Helper()
	m := e.do("POST", "/chat21/native/auth/createCustomToken", nil, c).want(e.t, 200).json(e.t)
	return m["userid"].(string), m["token"].(string)
}

// chat21Connect connects with a chat21 token and subscribes to the user's inbox.
func (e *testEnv) chat21Connect(uid, token string) *chat21Client {
	e.t.Helper()
	url := "ws" + strings.TrimPrefix(e.http.URL, "http") + chat21.Path
	opts := paho.NewClientOptions().AddBroker(url).SetUsername("JWT").SetPassword(token).
		SetClientID(uid + "-" + time.Now().Format("150405.000000000")).SetAutoReconnect(false)
	cl := &chat21Client{t: e.t, uid: uid, c: paho.NewClient(opts), inbox: make(chan map[string]any, 64), topics: make(chan string, 256)}
	if tok := cl.c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		e.t.Fatalf("%s connects: %v", uid, tok.Error())
	}
	e.t.Cleanup(func() { cl.c.Disconnect(0) })
	filter := "apps/tilechat/users/" + uid + "/#"
	tok := cl.c.Subscribe(filter, 0, func(_ paho.Client, m paho.Message) {
		select {
		case cl.topics <- m.Topic():
		default:
		}
		if !strings.Contains(m.Topic(), "/messages/") || !strings.HasSuffix(m.Topic(), "/clientadded") {
			return
		}
		var v map[string]any
		if json.Unmarshal(m.Payload(), &v) == nil {
			v["_topic"] = m.Topic()
			cl.inbox <- v
		}
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		e.t.Fatalf("%s subscribes: %v", uid, tok.Error())
	}
	return cl
}

// chatVisitor signs a visitor in, connects it, and has it start a conversation (a group named
// with prefix) with "hello"; it answers the visitor's client, chat token and group.
func (e *chatEnv) chatVisitor(prefix string) (*chat21Client, string, string) {
	e.t.Helper()
	guestToken, guestID := e.guest(e.pid)
	vuid, vtoken := e.chat21Token(jwtCred(guestToken))
	visitor := e.chat21Connect(vuid, vtoken)
	group := e.rid(prefix + strings.ReplaceAll(guestID, "-", "")[:12])
	visitor.send(group, "hello", "t1")
	visitor.next("hello")
	return visitor, vtoken, group
}

// send publishes a message to a group as the widget does.
func (cl *chat21Client) send(group, text, tempUID string) {
	msg, _ := json.Marshal(map[string]any{"text": text, "type": "text", "channel_type": "group",
		"sender_fullname": "Visitor", "recipient_fullname": "Support", "attributes": map[string]any{"tempUID": tempUID}})
	cl.c.Publish("apps/tilechat/outgoing/users/"+cl.uid+"/messages/"+group+"/outgoing", 0, false, msg).Wait()
}

// next is the next message the inbox receives with that text; other messages are skipped.
func (cl *chat21Client) next(text string) map[string]any {
	cl.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-cl.inbox:
			if m["text"] == text {
				return m
			}
		case <-deadline:
			cl.t.Fatalf("%s's inbox did not receive %q", cl.uid, text)
		}
	}
}

// topic waits until the inbox receives a publish on topic.
func (cl *chat21Client) topic(topic string) {
	cl.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case got := <-cl.topics:
			if got == topic {
				return
			}
		case <-deadline:
			cl.t.Fatalf("%s's inbox received nothing on %s", cl.uid, topic)
		}
	}
}

// none checks that the inbox receives nothing with that text for a while.
func (cl *chat21Client) none(text string) {
	cl.t.Helper()
	deadline := time.After(300 * time.Millisecond)
	for {
		select {
		case m := <-cl.inbox:
			if m["text"] == text {
				cl.t.Fatalf("%s's inbox received %v", cl.uid, m)
			}
		case <-deadline:
			return
		}
	}
}

// TestChat21VisitorAndAgent: a visitor's first message over MQTT creates and routes the
// conversation as POST .../messages does; the visitor gets its echo (tempUID untouched), the
// agent routed to it gets it too; the agent's answer over REST reaches the visitor, an internal
// note does not.
func TestChat21VisitorAndAgent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newChatEnvOn(t, engine, nil)
		guestToken, guestID := e.guest(e.pid)
		vuid, vtoken := e.chat21Token(jwtCred(guestToken))
		if vuid != guestID {
			t.Fatalf("createCustomToken answered userid %s for visitor %s", vuid, guestID)
		}
		ouid, otoken := e.chat21Token(e.owner.basic())
		visitor, owner := e.chat21Connect(vuid, vtoken), e.chat21Connect(ouid, otoken)

		group := e.rid("c21" + strings.ReplaceAll(guestID, "-", "")[:12])
		visitor.send(group, "Hello from the widget", "temp-1")
		echo := visitor.next("Hello from the widget")
		attrs, _ := echo["attributes"].(map[string]any)
		if echo["sender"] != vuid || echo["recipient"] != group || echo["status"] != float64(chat21.StatusDelivered) ||
			attrs["tempUID"] != "temp-1" || echo["_topic"] != "apps/tilechat/users/"+vuid+"/messages/"+group+"/clientadded" {
			t.Fatalf("the visitor's echo: %v", echo)
		}
		if got := owner.next("Hello from the widget"); got["timelineOf"] != ouid || got["conversWith"] != group {
			t.Fatalf("the agent's copy: %v", got)
		}
		req := e.do("GET", "/"+e.pid+"/requests/"+group, nil, e.owner.jwt()).want(t, 200).json(t)
		if req["first_text"] != "Hello from the widget" || req["status"] != float64(200) {
			t.Fatalf("the conversation the first message created: %v", req)
		}

		e.post(group, `{"text":"How can I help?"}`, e.owner.jwt()).want(t, 200)
		if got := visitor.next("How can I help?"); got["sender"] != ouid {
			t.Fatalf("the agent's answer in the visitor's inbox: %v", got)
		}
		e.post(group, `{"text":"a note","attributes":{"internal":true}}`, e.owner.jwt()).want(t, 200)
		owner.next("a note")
		visitor.none("a note")
		// A second agent joins, gets what is written, leaves: the conversation is archived for it.
		auid, atoken := e.chat21Token(e.agent.basic())
		agent := e.chat21Connect(auid, atoken)
		e.do("POST", "/"+e.pid+"/requests/"+group+"/participants", map[string]string{"member": auid}, e.owner.jwt()).want(t, 200)
		// Joining, it gets the conversation's history, marked as such.
		if h := agent.next("Hello from the widget"); h["__history"] != "true" {
			t.Fatalf("the history given on joining: %v", h)
		}
		// The members are told of the join with the group, as the original's group updates.
		agent.topic("apps/tilechat/users/" + auid + "/groups/" + group + "/clientupdated")
		visitor.topic("apps/tilechat/users/" + vuid + "/groups/" + group + "/clientupdated")
		e.post(group, `{"text":"welcome aboard"}`, e.owner.jwt()).want(t, 200)
		if m := agent.next("welcome aboard"); m["__history"] != nil {
			t.Fatalf("a new message marked as history: %v", m)
		}
		e.do("DELETE", "/"+e.pid+"/requests/"+group+"/participants/"+auid, nil, e.owner.jwt()).want(t, 200)
		agent.topic("apps/tilechat/users/" + auid + "/archived_conversations/" + group + "/clientadded")
		agent.topic("apps/tilechat/users/" + auid + "/groups/" + group + "/clientupdated")
		e.post(group, `{"text":"after leaving"}`, e.owner.jwt()).want(t, 200)
		agent.none("after leaving")
		e.post(group, `{"text":"a second note","attributes":{"internal":true}}`, e.owner.jwt()).want(t, 200)
		chatLists(t, e, group, vuid, vtoken, ouid, otoken)
		// Closing archived the conversation for its members, as the original archives.
		for _, cl := range []*chat21Client{visitor, owner} {
			cl.topic("apps/tilechat/users/" + cl.uid + "/conversations/" + group + "/clientdeleted")
			cl.topic("apps/tilechat/users/" + cl.uid + "/archived_conversations/" + group + "/clientadded")
		}
	})
}

// chatLists checks the chat REST routes the clients read their lists with, on the conversation
// of TestChat21VisitorAndAgent.
func chatLists(t *testing.T, e *chatEnv, group, vuid, vtoken, ouid, otoken string) {
	api := "/chatapi/api/tilechat/"
	result := func(r *resp) []any { return r.json(t)["result"].([]any) }
	raw := func(token string) cred { return header("Authorization", token) }
	// A visitor's list: its conversation, its last message as a visitor sees it (not the note).
	list := result(e.do("GET", api+vuid+"/conversations", nil, raw(vtoken)).want(t, 200))
	if len(list) != 1 || list[0].(map[string]any)["conversWith"] != group || list[0].(map[string]any)["text"] != "after leaving" {
		t.Fatalf("the visitor's conversations: %v", list)
	}
	if list := result(e.do("GET", api+ouid+"/conversations?token="+otoken, nil).want(t, 200)); len(list) != 1 ||
		list[0].(map[string]any)["text"] != "a second note" {
		t.Fatalf("the agent's conversations: %v", list)
	}
	msgs := result(e.do("GET", api+vuid+"/conversations/"+group+"/messages", nil, raw(vtoken)).want(t, 200))
	if len(msgs) != 4 || msgs[0].(map[string]any)["text"] != "after leaving" || msgs[3].(map[string]any)["text"] != "Hello from the widget" {
		t.Fatalf("the visitor's messages, newest first: %v", msgs)
	}
	if one := result(e.do("GET", api+vuid+"/conversations/"+group, nil, raw(vtoken)).want(t, 200)); len(one) != 1 {
		t.Fatalf("the conversation: %v", one)
	}
	g := e.do("GET", api+"groups/"+group, nil, raw(vtoken)).want(t, 200).json(t)["result"].(map[string]any)
	if members := g["members"].(map[string]any); members[vuid] == nil || members[ouid] == nil || members["system"] == nil {
		t.Fatalf("the group: %v", g)
	}
	e.do("POST", api+vuid+"/instances/device-1", map[string]string{"platform": "ios"}, raw(vtoken)).want(t, 200)
	// Nobody reads another's inbox, nor a conversation it has no part in.
	e.do("GET", api+ouid+"/conversations", nil, raw(vtoken)).want(t, 404)
	e.do("GET", api+vuid+"/conversations", nil, raw("not a token")).want(t, 401)
	stranger, _ := e.guest(e.pid)
	suid, stoken := e.chat21Token(jwtCred(stranger))
	e.do("GET", api+suid+"/conversations/"+group+"/messages", nil, raw(stoken)).want(t, 404)
	e.do("GET", api+"groups/"+group, nil, raw(stoken)).want(t, 404)
	// Closed, the conversation leaves the open list for the archived one.
	e.do("PUT", "/"+e.pid+"/requests/"+group+"/close", nil, e.owner.jwt()).want(t, 200)
	if list := result(e.do("GET", api+vuid+"/conversations", nil, raw(vtoken)).want(t, 200)); len(list) != 0 {
		t.Fatalf("open conversations after closing: %v", list)
	}
	for _, path := range []string{"/conversations/archived", "/archived_conversations", "/archived_conversations/" + group} {
		if list := result(e.do("GET", api+vuid+path, nil, raw(vtoken)).want(t, 200)); len(list) != 1 || list[0].(map[string]any)["archived"] != true {
			t.Fatalf("%s after closing: %v", path, list)
		}
	}
}

// TestChat21Tenancy: a token acts as its caller, and no further: a visitor cannot write into
// another visitor's conversation, nor a project's into another project's; a bot gets no token.
func TestChat21Tenancy(t *testing.T) {
	e := newChatEnv(t)
	aToken, aID := e.guest(e.pid)
	bToken, _ := e.guest(e.pid)
	auid, atoken := e.chat21Token(jwtCred(aToken))
	buid, btoken := e.chat21Token(jwtCred(bToken))
	a, b := e.chat21Connect(auid, atoken), e.chat21Connect(buid, btoken)
	group := e.rid("c21" + strings.ReplaceAll(aID, "-", "")[:12])
	a.send(group, "mine", "t-a")
	a.next("mine")
	b.send(group, "intruding", "t-b")
	b.none("intruding")
	a.none("intruding")
	msgs := e.do("GET", "/"+e.pid+"/requests/"+group+"/messages", nil, e.owner.jwt()).want(t, 200).list(t)
	if len(msgs) != 1 {
		t.Fatalf("the conversation holds %d messages: %v", len(msgs), msgs)
	}
	// Another project's conversation id: the visitor is no member there.
	other := e.createProject(e.owner, "Elsewhere")
	a.send("support-group-"+other+"-abcdef", "elsewhere", "t-x")
	a.none("elsewhere")
	if list := e.do("GET", "/"+other+"/requests", nil, e.owner.jwt()).want(t, 200).json(t)["requests"].([]any); len(list) != 0 {
		t.Fatalf("a visitor of another project wrote there: %v", list)
	}
}

// TestChat21Presence: an agent's chat connections make its presence, which routing follows: with
// its app disconnected, an available agent gets no new conversation.
func TestChat21Presence(t *testing.T) {
	e := newChatEnv(t)
	presence := func() string {
		me := e.do("GET", "/"+e.pid+"/project_users/me", nil, e.owner.jwt()).want(t, 200).list(t)[0].(map[string]any)
		p, _ := me["presence"].(map[string]any)
		s, _ := p["status"].(string)
		return s
	}
	until := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); presence() != want; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("presence %q, want %q", presence(), want)
			}
		}
	}
	if got := presence(); got != "" {
		t.Fatalf("presence before any chat connection: %q", got)
	}
	ouid, otoken := e.chat21Token(e.owner.basic())
	owner := e.chat21Connect(ouid, otoken)
	until("online")
	status := func(name string) any {
		return e.post(e.rid(name), `{"text":"hi"}`, e.owner.jwt()).want(t, 200).json(t)["request"].(map[string]any)["status"]
	}
	if st := status("while-online"); st != float64(200) {
		t.Fatalf("a conversation while the agent is online: status %v", st)
	}
	owner.c.Disconnect(0)
	until("offline")
	if st := status("while-offline"); st != float64(100) {
		t.Fatalf("a conversation while the agent's app is offline: status %v, want unassigned", st)
	}
	e.chat21Connect(ouid, otoken)
	until("online")
	if st := status("back-online"); st != float64(200) {
		t.Fatalf("a conversation once the agent is back: status %v", st)
	}
}

// TestChat21ReadAndArchive: a conversation is new for a user until it reads it; a user archives a
// conversation in its own list, and the next message brings it back.
func TestChat21ReadAndArchive(t *testing.T) {
	e := newChatEnv(t)
	visitor, vtoken, group := e.chatVisitor("ra")
	vuid := visitor.uid
	list := func(path string) []any {
		return e.do("GET", "/chatapi/api/tilechat/"+vuid+path, nil, header("Authorization", vtoken)).want(t, 200).json(t)["result"].([]any)
	}
	isNew := func() any { return list("/conversations")[0].(map[string]any)["is_new"] }
	if isNew() != false {
		t.Fatal("the visitor's own message made the conversation new for it")
	}
	e.clock.Add(time.Second)
	e.post(group, `{"text":"an answer"}`, e.owner.jwt()).want(t, 200)
	visitor.next("an answer")
	if isNew() != true {
		t.Fatal("an answer did not make the conversation new")
	}
	e.clock.Add(time.Second)
	visitor.c.Publish("apps/tilechat/users/"+vuid+"/conversations/"+group+"/update", 0, false, `{"is_new":false}`).Wait()
	visitor.topic("apps/tilechat/users/" + vuid + "/conversations/" + group + "/clientupdated")
	for deadline := time.Now().Add(5 * time.Second); isNew() != false; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the read mark was not kept")
		}
	}
	visitor.c.Publish("apps/tilechat/users/"+vuid+"/conversations/"+group+"/archive", 0, false, `{}`).Wait()
	visitor.topic("apps/tilechat/users/" + vuid + "/conversations/" + group + "/clientdeleted")
	visitor.topic("apps/tilechat/users/" + vuid + "/archived_conversations/" + group + "/clientadded")
	if open, archived := list("/conversations"), list("/archived_conversations"); len(open) != 0 || len(archived) != 1 {
		t.Fatalf("after archiving: %d open, %d archived", len(open), len(archived))
	}
	// Archived for the visitor only: the agent's list still has it.
	if open := e.do("GET", "/chatapi/api/tilechat/"+e.owner.id+"/conversations", nil, e.owner.jwt()).want(t, 200).json(t)["result"].([]any); len(open) != 1 {
		t.Fatalf("the agent's list after the visitor archived: %v", open)
	}
	e.clock.Add(time.Second)
	e.post(group, `{"text":"are you still there?"}`, e.owner.jwt()).want(t, 200)
	visitor.next("are you still there?")
	if open := list("/conversations"); len(open) != 1 || open[0].(map[string]any)["is_new"] != true {
		t.Fatalf("a new message did not bring the conversation back: %v", open)
	}
	// Nobody marks a conversation it has no part in.
	sToken, _ := e.guest(e.pid)
	suid, stoken := e.chat21Token(jwtCred(sToken))
	stranger := e.chat21Connect(suid, stoken)
	stranger.c.Publish("apps/tilechat/users/"+suid+"/conversations/"+group+"/archive", 0, false, `{}`).Wait()
	time.Sleep(200 * time.Millisecond)
	states, err := e.store.FindChatStates(context.Background(), e.pid, suid, []string{group})
	if err != nil || len(states) != 0 {
		t.Fatalf("a stranger's archiving was kept: %v, %v", states, err)
	}
}

// TestChat21GroupMembers: the official clients' group routes change a support group's members,
// which are its conversation's participants, with the participants routes' rule.
func TestChat21GroupMembers(t *testing.T) {
	e := newChatEnv(t)
	visitor, vtoken, group := e.chatVisitor("gm")
	vuid := visitor.uid
	ouid, otoken := e.chat21Token(e.owner.basic())
	auid, atoken := e.chat21Token(e.agent.basic())
	agent := e.chat21Connect(auid, atoken)
	api := "/chatapi/api/tilechat/groups/" + group + "/members"
	participants := func() string {
		r := e.do("GET", "/"+e.pid+"/requests/"+group, nil, e.owner.jwt()).want(t, 200).json(t)
		var ids []string
		for _, p := range r["participants"].([]any) {
			ids = append(ids, p.(string))
		}
		slices.Sort(ids)
		return strings.Join(ids, ",")
	}
	e.do("POST", api, map[string]string{"member_id": auid}, header("Authorization", otoken)).want(t, 200)
	if h := agent.next("hello"); h["__history"] != "true" || !strings.Contains(participants(), auid) {
		t.Fatalf("after the join: participants %s, the agent got %v", participants(), h)
	}
	// The original's info message tells the members, the visitor included.
	info := visitor.next("Agent Test added to group")
	label, _ := info["attributes"].(map[string]any)["messagelabel"].(map[string]any)
	if info["sender"] != "system" || label["key"] != "MEMBER_JOINED_GROUP" {
		t.Fatalf("the join's info message: %v", info)
	}
	// A visitor changes no group's members.
	e.do("POST", api, map[string]string{"member_id": vuid}, header("Authorization", vtoken)).want(t, 403)
	e.do("PUT", api, map[string]any{"members": map[string]int{ouid: 1, vuid: 1, "system": 1}}, header("Authorization", otoken)).want(t, 200)
	if got := participants(); got != ouid {
		t.Fatalf("after setting the members: participants %s, want %s", got, ouid)
	}
	agent.topic("apps/tilechat/users/" + auid + "/archived_conversations/" + group + "/clientadded")
	e.do("DELETE", api+"/"+ouid, nil, header("Authorization", otoken)).want(t, 200)
	if got := participants(); got != "" {
		t.Fatalf("after the owner left: participants %s", got)
	}
	e.do("POST", api, map[string]string{}, header("Authorization", otoken)).want(t, 422)
}

// TestChat21Reconnect: what a client misses while disconnected it reads from the chat REST routes,
// as the clients do when they reconnect; once reconnected, it gets every new message live.
func TestChat21Reconnect(t *testing.T) {
	e := newChatEnv(t)
	visitor, vtoken, group := e.chatVisitor("rc")
	visitor.c.Disconnect(0)
	e.clock.Add(time.Second)
	e.post(group, `{"text":"while you were away"}`, e.owner.jwt()).want(t, 200)
	again := e.chat21Connect(visitor.uid, vtoken)
	msgs := e.do("GET", "/chatapi/api/tilechat/"+visitor.uid+"/conversations/"+group+"/messages", nil,
		header("Authorization", vtoken)).want(t, 200).json(t)["result"].([]any)
	if len(msgs) != 2 || msgs[0].(map[string]any)["text"] != "while you were away" {
		t.Fatalf("the messages read after reconnecting: %v", msgs)
	}
	e.post(group, `{"text":"welcome back"}`, e.owner.jwt()).want(t, 200)
	again.next("welcome back")
	// The conversation is new for the visitor: answers came after its last read mark (none).
	list := e.do("GET", "/chatapi/api/tilechat/"+visitor.uid+"/conversations", nil, header("Authorization", vtoken)).want(t, 200).json(t)["result"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["is_new"] != true {
		t.Fatalf("the conversation after reconnecting: %v", list)
	}
}

// A chat identity scoped to one project (a project's customer) reaches no conversation of
// another, though its id is a member there too.
func TestChat21ScopeHolds(t *testing.T) {
	e := newChatEnv(t)
	visitor, _, group := e.chatVisitor("sc")
	other := e.createProject(e.owner, "Elsewhere")
	c := &caller{claims: &auth.Claims{ID: visitor.uid, Subject: auth.SubjectUserExternal}, subject: auth.SubjectUserExternal,
		id: visitor.uid}
	if _, _, err := e.srv.chatRequest(context.Background(), c, group); err != nil {
		t.Fatalf("unscoped, the visitor's own conversation: %v", err)
	}
	c.scope = other
	if _, _, err := e.srv.chatRequest(context.Background(), c, group); err != errNotFound {
		t.Fatalf("scoped to another project, the conversation answered %v", err)
	}
}
