package api

import (
	"strings"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

// TestPatchStatusClosesAsClose: a conversation is closed by PATCH status as by PUT .../close: only
// by an admin or a participating agent, with its transcript, closing time and event; and leaving
// the closed status reopens it as PUT .../reopen does.
func TestPatchStatusClosesAsClose(t *testing.T) {
	e := newChatEnv(t) // routing gives conversations to the owner; the agent takes part in none
	rid := e.rid("patch-close")
	e.post(rid, `{"text":"Hello, I need help","senderFullname":"Sample One"}`, e.owner.jwt()).want(t, 200)
	path := "/" + e.pid + "/requests/" + rid
	for _, route := range []struct{ method, path, body string }{
		{"PATCH", path, `{"status":1000}`},
		{"PUT", path + "/close", `{}`},
		{"PUT", path + "/closeg", ``},
	} {
		r := e.do(route.method, route.path, route.body, e.agent.jwt())
		r.wantBody(t, 403, `{"success":false,"error":"You must be among the participants to close a conversation."}`)
	}
	if got := e.do("GET", path, nil, e.agent.jwt()).want(t, 200).json(t); got["status"] != 200.0 {
		t.Fatalf("an agent who takes no part closed the conversation: status %v", got["status"])
	}
	closed := e.do("PATCH", path, `{"status":1000}`, e.owner.jwt()).want(t, 200).json(t)
	if closed["status"] != 1000.0 || closed["closed_by"] != e.owner.id || closed["closed_at"] == nil ||
		!strings.Contains(closed["transcript"].(string), "Sample One: Hello, I need help") {
		t.Fatalf("closed by PATCH = %v", closed)
	}
	reopened := e.do("PATCH", path, `{"status":200}`, e.owner.jwt()).want(t, 200).json(t)
	if reopened["status"] != 200.0 {
		t.Fatalf("reopened by PATCH = %v", reopened["status"])
	}
	names := e.events(e.pid)
	if !containsName(names, tiledesk.EventRequestClose) || !containsName(names, tiledesk.EventRequestReopen) {
		t.Fatalf("events %v lack the close and the reopening", names)
	}
	// Other status changes are set as they are, by any agent who sees the conversation.
	if got := e.do("PATCH", path, `{"status":150}`, e.agent.jwt()).want(t, 200).json(t); got["status"] != 150.0 {
		t.Fatalf("status = %v, want 150", got["status"])
	}
}
