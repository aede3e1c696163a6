package api

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

// TestEveryEventRenders reads back every event a conversation's life writes and renders it in the
// original's shape: a payload the readers of the log (feed, websocket, webhooks) cannot decode
// would reach no one.
func TestEveryEventRenders(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Rendered")
	agent := e.signup("Agent")
	e.join(owner, agent, pid, "agent")
	e.do("POST", "/"+pid+"/departments", map[string]any{"name": "Sales"}, owner.jwt()).want(t, 200)
	lead := e.do("POST", "/"+pid+"/leads", map[string]string{"fullname": "Ann", "email": "ann@example.com"}, owner.jwt()).want(t, 200).json(t)
	e.do("PUT", "/"+pid+"/leads/"+lead["_id"].(string), map[string]string{"fullname": "Ann B"}, owner.jwt()).want(t, 200)
	rid := "support-group-" + pid + "-rendered"
	e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]string{"text": "hello"}, owner.jwt()).want(t, 200)
	e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]any{"text": "a note",
		"attributes": map[string]any{"internal": true}}, owner.jwt()).want(t, 200)
	e.do("PUT", "/"+pid+"/requests/"+rid+"/close", nil, owner.jwt()).want(t, 200)
	e.do("PUT", "/"+pid+"/project_users/", map[string]any{"user_available": false}, owner.jwt())
	group := e.do("POST", "/chatapi/api/tilechat/groups", map[string]any{"group_name": "Team", "group_members": map[string]int{agent.id: 1}},
		owner.jwt()).want(t, 200).json(t)["group"].(map[string]any)["uid"].(string)
	e.do("PUT", "/chatapi/api/tilechat/groups/"+group, map[string]string{"group_name": "Renamed"}, owner.jwt()).want(t, 200)

	evs, err := e.store.FindEvents(context.Background(), pid, tiledesk.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, ev := range evs {
		subject, err := decodeEvent(ev)
		if err != nil {
			t.Fatalf("%s: %v", ev.Name, err)
		}
		kinds[eventKind(ev.Name)] = true
		out, err := json.Marshal(subject.wire(e.clock.Now()))
		if err != nil {
			t.Fatalf("%s: %v", ev.Name, err)
		}
		var shape map[string]any
		if err := json.Unmarshal(out, &shape); err != nil || shape["_id"] == nil && shape["id"] == nil {
			t.Errorf("%s renders %s, want an object with its id", ev.Name, out)
		}
		switch eventKind(ev.Name) {
		case "request", "message":
			if subject.requestID() != rid {
				t.Errorf("%s belongs to %q, want %q", ev.Name, subject.requestID(), rid)
			}
		}
		if m := subject.Message; m != nil && tiledesk.IsInternal(m.Attributes) && subject.visitorWire() != nil {
			t.Errorf("a visitor sees the internal note of %s", ev.Name)
		}
	}
	for _, kind := range []string{"project", "project_user", "department", "lead", "request", "message", "chat_group", "direct_message"} {
		if !kinds[kind] {
			t.Errorf("no %s event among %v", kind, e.events(pid))
		}
	}
}
