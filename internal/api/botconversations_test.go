package api

import (
	"slices"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

func TestReplaceBot(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner := e.signup("Owner")
		pid := e.createProject(owner, "Shop")
		sales := e.do("POST", "/"+pid+"/faq_kb", map[string]any{"name": "Sales Bot"}, owner.jwt()).want(t, 200).json(t)["_id"].(string)
		support := e.do("POST", "/"+pid+"/faq_kb", map[string]any{"name": "Support Bot"}, owner.jwt()).want(t, 200).json(t)["_id"].(string)
		visitor, _ := e.guest(pid)
		rid := "support-group-" + pid + "-replace"
		e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]string{"text": "Hi"}, jwtCred(visitor)).want(t, 200)
		path := "/" + pid + "/requests/" + rid + "/replace"

		r := e.do("PUT", path, map[string]string{"name": "Sales Bot"}, owner.jwt()).want(t, 200)
		golden(t, "request-replace-bot", r)
		m := r.json(t)
		if m["replaced_bot_root_id"] != sales || m["hasBot"] != true || !containsAny(m["participants"], "bot_"+sales) ||
			!containsAny(m["participants"], owner.id) {
			t.Fatalf("after replace: %v", m)
		}
		if evs := e.events(pid); !slices.Contains(evs, tiledesk.EventRequestParticipantsJoin) {
			t.Fatalf("replace logs %v", evs)
		}
		// The next bot takes the first one's place; the agent stays.
		m = e.do("PUT", path, map[string]string{"slug": "support-bot"}, owner.jwt()).want(t, 200).json(t)
		if containsAny(m["participants"], "bot_"+sales) || !containsAny(m["participants"], "bot_"+support) ||
			!containsAny(m["participantsBots"], support) || !containsAny(m["participants"], owner.id) {
			t.Fatalf("after a second replace: %v", m["participants"])
		}
		e.do("PUT", path, map[string]string{"id": sales}, owner.jwt()).want(t, 200)

		if m := e.do("PUT", path, map[string]string{}, owner.jwt()).want(t, 400).json(t); m["success"] != false ||
			m["error"] != "Missing field 'id' or 'name' in body" {
			t.Fatalf("no bot named: %v", m)
		}
		e.do("PUT", path, map[string]string{"id": tiledesk.NewID()}, owner.jwt()).want(t, 404)
		e.do("PUT", path, map[string]string{"name": "Nobody"}, owner.jwt()).want(t, 404)
		e.do("PUT", "/"+pid+"/faq_kb/"+support, map[string]any{"trashed": true}, owner.jwt()).want(t, 200)
		e.do("PUT", path, map[string]string{"id": support}, owner.jwt()).want(t, 404)
		e.do("PUT", "/"+pid+"/requests/no-such-conversation/replace", map[string]string{"id": sales}, owner.jwt()).want(t, 404)
		e.do("PUT", path, map[string]string{"id": sales}, jwtCred(visitor)).want(t, 403)
	})
}

func TestChatbotParameters(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner := e.signup("Owner")
		pid := e.createProject(owner, "Shop")
		bot := e.do("POST", "/"+pid+"/faq_kb", map[string]any{"name": "Helper"}, owner.jwt()).want(t, 200).json(t)["_id"].(string)
		tok := e.do("GET", "/"+pid+"/faq_kb/"+bot+"/jwt", nil, owner.jwt()).want(t, 200).json(t)["jwt"].(string)
		asBot := header("Authorization", "JWT "+tok)
		visitor, _ := e.guest(pid)
		other, _ := e.guest(pid)
		rid := "support-group-" + pid + "-params"
		e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]string{"text": "Hi"}, jwtCred(visitor)).want(t, 200)
		path := "/" + pid + "/requests/" + rid + "/chatbot/parameters"

		if m := e.do("GET", path, nil, owner.jwt()).want(t, 200).json(t); len(m) != 0 {
			t.Fatalf("before any bot wrote: %v", m)
		}
		e.do("PATCH", path, map[string]any{"user_email": "ann@example.com", "step": 1}, asBot).want(t, 200)
		r := e.do("PATCH", path, map[string]any{"user_name": "Ann", "step": 2}, asBot).want(t, 200)
		golden(t, "chatbot-parameters", r)
		if m := e.do("GET", path, nil, jwtCred(visitor)).want(t, 200).json(t); m["user_email"] != "ann@example.com" || m["step"] != float64(2) {
			t.Fatalf("the visitor reads %v", m)
		}
		e.do("GET", path, nil, jwtCred(other)).want(t, 404)
		e.do("PATCH", path, map[string]any{"x": 1}, jwtCred(visitor)).want(t, 403)
		e.do("PATCH", path, []int{1}, asBot).want(t, 422)
		e.do("GET", "/"+pid+"/requests/unknown-conversation/chatbot/parameters", nil, owner.jwt()).want(t, 404)
		e.do("PATCH", "/"+pid+"/requests/unknown-conversation/chatbot/parameters", map[string]any{"x": 1}, asBot).want(t, 404)

		// They go with their conversation.
		e.do("DELETE", "/"+pid+"/requests/"+rid, nil, owner.jwt()).want(t, 200)
		e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]string{"text": "Again"}, jwtCred(visitor)).want(t, 200)
		if m := e.do("GET", path, nil, owner.jwt()).want(t, 200).json(t); len(m) != 0 {
			t.Fatalf("a deleted conversation's parameters outlive it: %v", m)
		}
	})
}

// containsAny reports whether a JSON array holds s.
func containsAny(v any, s string) bool {
	arr, _ := v.([]any)
	for _, e := range arr {
		if e == s {
			return true
		}
	}
	return false
}
