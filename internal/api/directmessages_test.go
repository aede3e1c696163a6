package api

import (
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

func TestDirectMessages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner, agent := e.signup("Owner"), e.signup("Alex")
		pid := e.createProject(owner, "Shop")
		e.join(owner, agent, pid, tiledesk.RoleAgent)
		visitor, _ := e.guest(pid)
		path := "/" + pid + "/messages"

		r := e.do("POST", path, map[string]any{"recipient": owner.id, "recipientFullname": "Owner Test", "text": "Shift swap?",
			"attributes": map[string]any{"urgent": true}}, agent.jwt()).want(t, 200)
		golden(t, "direct-message-create", r)
		if evs := e.events(pid); evs[len(evs)-1] != tiledesk.EventDirectMessageCreate {
			t.Fatalf("a direct message logs %s last, not direct_message.create", evs[len(evs)-1])
		}
		if m := r.json(t); m["sender"] != agent.id || m["senderFullname"] != "Alex Test" || m["channel_type"] != "direct" {
			t.Fatalf("direct message %v", m)
		}
		for field, body := range map[string]map[string]any{
			"recipient":         {"recipientFullname": "X", "text": "hi"},
			"recipientFullname": {"recipient": owner.id, "text": "hi"},
			"text":              {"recipient": owner.id, "recipientFullname": "X"},
		} {
			if r := e.do("POST", path, body, agent.jwt()).want(t, 422); !strings.Contains(string(r.body), `"param":"`+field+`"`) {
				t.Errorf("without %s: %s", field, r.body)
			}
		}
		e.do("POST", path, map[string]any{"recipient": owner.id, "recipientFullname": "X", "type": "image",
			"metadata": map[string]any{"src": "https://example.com/a.png"}}, agent.jwt()).want(t, 200) // no text needed
		// Only an admin sends in another's name; visitors send none.
		e.do("POST", path, map[string]any{"recipient": owner.id, "recipientFullname": "X", "text": "hi", "sender": owner.id}, agent.jwt()).want(t, 403)
		if m := e.do("POST", path, map[string]any{"recipient": agent.id, "recipientFullname": "Alex", "text": "from the bot",
			"sender": "bot_6650a1e9c2b7e2a1d4f0b0b1", "senderFullname": "Helper"}, owner.jwt()).want(t, 200).json(t); m["sender"] != "bot_6650a1e9c2b7e2a1d4f0b0b1" || m["senderFullname"] != "Helper" {
			t.Fatalf("owner's message in a bot's name: %v", m)
		}
		e.do("POST", path, map[string]any{"recipient": owner.id, "recipientFullname": "X", "text": "hi"}, jwtCred(visitor)).want(t, 403)

		// The feed shows them to admins only (the numbering is immediate on SQLite).
		if engine == "sqlite" {
			count := func(who cred) (n int) {
				for _, ev := range e.feed(pid, "after=0", who).Events {
					if ev.Name == tiledesk.EventDirectMessageCreate {
						n++
					}
				}
				return n
			}
			if owners, agents := count(owner.jwt()), count(agent.jwt()); owners != 3 || agents != 0 {
				t.Fatalf("direct messages in the feed: the owner's %d (want 3), an agent's %d (want 0)", owners, agents)
			}
		}
		// The owner lists them, newest first; a conversation whose request_id is a recipient shows none.
		e.do("GET", path, nil, agent.jwt()).want(t, 403)
		e.clock.Add(time.Second)
		e.do("POST", path, map[string]any{"recipient": owner.id, "recipientFullname": "X", "text": "newest"}, agent.jwt()).want(t, 200)
		list := e.do("GET", path+"?limit=2", nil, owner.jwt()).want(t, 200).list(t)
		if len(list) != 2 || list[0].(map[string]any)["text"] != "newest" {
			t.Fatalf("first page %v", list)
		}
		if all := e.do("GET", path+"?limit=500", nil, owner.jwt()).want(t, 200).list(t); len(all) != 4 {
			t.Fatalf("a limit over 50 lists the default 10: got %d of 4", len(all))
		}
		if next := e.do("GET", path+"?limit=2&page=1", nil, owner.jwt()).want(t, 200).list(t); len(next) != 2 || next[1].(map[string]any)["text"] != "Shift swap?" {
			t.Fatalf("second page %v", next)
		}
		e.do("GET", path+"?limit=x", nil, owner.jwt()).want(t, 400)
		e.do("POST", "/"+pid+"/requests/"+owner.id+"/messages", map[string]string{"text": "a conversation"}, jwtCred(visitor)).want(t, 200)
		if msgs := e.do("GET", "/"+pid+"/requests/"+owner.id+"/messages", nil, owner.jwt()).want(t, 200).list(t); len(msgs) != 1 {
			t.Fatalf("the conversation shows %d messages, direct ones among them", len(msgs))
		}
	})
}
