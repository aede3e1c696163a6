package api

import (
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

func TestCannedResponses(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner, agent, other := e.signup("Owner"), e.signup("Alex"), e.signup("Bea")
		pid := e.createProject(owner, "Shop")
		e.join(owner, agent, pid, tiledesk.RoleAgent)
		e.join(owner, other, pid, tiledesk.RoleAgent)
		base := "/" + pid + "/canned"

		r := e.do("POST", base, map[string]any{"title": "Greeting", "text": "Hi $recipient_name, I'm $agent_name from $project_name.",
			"shared": true}, owner.jwt()).want(t, 200)
		golden(t, "canned-create", r)
		shared := r.json(t)["_id"].(string)
		mine := e.do("POST", base, map[string]any{"title": "Refund", "text": "Your refund is on its way, $recipient_name."},
			agent.jwt()).want(t, 200).json(t)["_id"].(string)
		e.do("POST", base, map[string]any{"title": "No text"}, agent.jwt()).want(t, 422)

		titles := func(who cred, query string) (out []string) {
			for _, v := range e.do("GET", base+query, nil, who).want(t, 200).list(t) {
				out = append(out, v.(map[string]any)["title"].(string))
			}
			return out
		}
		// Each sees the shared ones and its own.
		if got := titles(agent.jwt(), ""); len(got) != 2 {
			t.Fatalf("the author sees %v", got)
		}
		if got := titles(other.jwt(), ""); len(got) != 1 || got[0] != "Greeting" {
			t.Fatalf("another agent sees %v", got)
		}
		if got := titles(owner.jwt(), ""); len(got) != 1 {
			t.Fatalf("the owner sees an agent's own response: %v", got)
		}
		e.do("GET", base+"/"+mine, nil, other.jwt()).want(t, 404)
		if got := titles(agent.jwt(), "?full_text=REFUND%20way"); len(got) != 1 || got[0] != "Refund" {
			t.Fatalf("full_text: %v", got)
		}
		if got := titles(agent.jwt(), "?sort=title&direction=-1"); len(got) != 2 || got[0] != "Refund" {
			t.Fatalf("by title, descending: %v", got)
		}
		e.do("GET", base+"?sort=text", nil, agent.jwt()).want(t, 400)

		// Used in a conversation, the placeholders are filled.
		visitor, _ := e.guest(pid)
		rid := "support-group-" + pid + "-canned"
		e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]any{"text": "Hi", "senderFullname": "Grace Hopper"},
			jwtCred(visitor)).want(t, 200)
		m := e.do("GET", base+"/"+shared+"?request_id="+rid, nil, agent.jwt()).want(t, 200).json(t)
		if m["text"] != "Hi Grace Hopper, I'm Alex Test from Shop." {
			t.Fatalf("filled text %q", m["text"])
		}
		e.do("GET", base+"/"+shared+"?request_id=unknown", nil, agent.jwt()).want(t, 404)

		// Its author changes it; an admin changes the shared ones; no one else.
		e.do("PUT", base+"/"+shared, map[string]any{"text": "Changed"}, agent.jwt()).want(t, 403)
		e.do("PUT", base+"/"+mine, map[string]any{"shared": true}, agent.jwt()).want(t, 200)
		if got := titles(other.jwt(), ""); len(got) != 2 {
			t.Fatalf("once shared: %v", got)
		}
		e.do("PUT", base+"/"+mine, map[string]any{"text": "Taken over"}, other.jwt()).want(t, 403)
		e.do("PUT", base+"/"+mine, map[string]any{"text": "Checked by the owner"}, owner.jwt()).want(t, 200)
		if m := e.do("DELETE", base+"/"+mine, nil, agent.jwt()).want(t, 200).json(t); m["status"] != float64(tiledesk.CannedDeleted) {
			t.Fatalf("deleted canned response %v", m)
		}
		if got := titles(agent.jwt(), ""); len(got) != 1 {
			t.Fatalf("a deleted response is listed: %v", got)
		}
		e.do("DELETE", base+"/"+mine+"/physical", nil, agent.jwt()).want(t, 200)
		e.do("GET", base+"/"+mine, nil, agent.jwt()).want(t, 404)
		if evs := e.events(pid); evs[len(evs)-1] != tiledesk.EventCannedDelete {
			t.Fatalf("canned responses log %v", evs)
		}
	})
}
