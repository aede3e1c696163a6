package api

import (
	"context"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/webhook"
)

// botMessages lists the texts the conversation rid has from sender.
func botMessages(t *testing.T, e *testEnv, pid, rid, sender string, who cred) []string {
	var out []string
	for _, v := range e.do("GET", "/"+pid+"/requests/"+rid+"/messages", nil, who).want(t, 200).list(t) {
		if m := v.(map[string]any); m["sender"] == sender {
			out = append(out, m["text"].(string))
		}
	}
	return out
}

// TestBotsInConversations: a conversation routed to a department with a bot has the bot in it;
// an internal bot answers each of the visitor's messages from its intents (never agents' or its
// own), once even when the delivery is repeated; an external bot gets the messages at its url,
// signed, with a token it answers through the API with.
func TestBotsInConversations(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		guard, _ := webhook.ParseAllow("127.0.0.1")
		e := newEnvOn(t, engine, func(c *Config) { c.WebhookGuard = guard })
		e.engine.OnEvents(e.srv.events.Advance)
		d := webhook.New(webhook.Options{Store: e.engine, Events: e.srv.events, Render: e.srv.RenderEvent, Guard: guard,
			Poll: 10 * time.Millisecond, Sinks: map[string]webhook.Sink{webhook.InternalBots: e.srv.BotSink()}})
		d.Start()
		defer d.Stop(time.Second)
		owner := e.signup("Owner")
		pid := e.createProject(owner, "Shop")
		bot := e.do("POST", "/"+pid+"/faq_kb", map[string]any{"name": "Helper"}, owner.jwt()).want(t, 200).json(t)["_id"].(string)
		e.do("POST", "/"+pid+"/faq", map[string]any{"id_faq_kb": bot, "question": "When are you open?", "answer": "From 9 to 18"},
			owner.jwt()).want(t, 200)
		if subs := e.do("GET", "/"+pid+"/subscriptions", nil, owner.jwt()).want(t, 200).list(t); len(subs) != 0 {
			t.Fatalf("the bots' subscription is listed among the webhooks: %v", subs)
		}
		dept := e.do("POST", "/"+pid+"/departments", map[string]any{"name": "Front desk", "id_bot": bot}, owner.jwt()).want(t, 200).json(t)["_id"].(string)

		visitor, _ := e.guest(pid)
		rid := "support-group-" + pid + "-bot"
		m := e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]any{"text": "when are you OPEN?", "departmentid": dept},
			jwtCred(visitor)).want(t, 200).json(t)
		if r := m["request"].(map[string]any); r["hasBot"] != true || !containsAny(r["participants"], "bot_"+bot) {
			t.Fatalf("a conversation of the bot's department: %v", r["participants"])
		}
		answers := func() []string { return botMessages(t, e, pid, rid, "bot_"+bot, owner.jwt()) }
		waitUntil(t, "the bot's answer", func() bool { return len(answers()) == 1 })
		if got := answers(); got[0] != "From 9 to 18" {
			t.Fatalf("the bot answered %q", got[0])
		}
		// A teammate's message gets no answer, whether it takes part or not; the visitor's next one
		// gets the fallback.
		e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]any{"text": "When are you open?"}, owner.jwt()).want(t, 200)
		e.do("POST", "/"+pid+"/requests/"+rid+"/participants", map[string]string{"member": owner.id}, owner.jwt()).want(t, 200)
		e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]any{"text": "When are you open?"}, owner.jwt()).want(t, 200)
		e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]any{"text": "quantum physics"}, jwtCred(visitor)).want(t, 200)
		waitUntil(t, "the fallback", func() bool { return len(answers()) == 2 })
		time.Sleep(100 * time.Millisecond)
		if got := answers(); len(got) != 2 || got[1] != "I did not understand. Can you say it in other words?" {
			t.Fatalf("the bot's answers %q", got)
		}

		// A delivery repeated (a retry after a crash) answers once.
		ctx := context.Background()
		evs, err := e.engine.EventsAfter(ctx, pid, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var first *tiledesk.Event
		for _, ev := range evs {
			if ev.Name == tiledesk.EventMessageCreate && first == nil {
				first = ev
			}
		}
		sub := &tiledesk.Subscription{ID: "replay", ProjectID: pid, Target: webhook.InternalBots}
		if err := e.srv.deliverToBots(ctx, sub, first); err != nil {
			t.Fatal(err)
		}
		if got := answers(); len(got) != 2 {
			t.Fatalf("a repeated delivery answered again: %q", got)
		}

		// An external bot gets the visitor's messages and answers with the token they carry.
		recv := newHookReceiver(t)
		ext := e.do("POST", "/"+pid+"/faq_kb", map[string]any{"name": "Hook bot", "type": "external", "url": recv.srv.URL + "/bot"},
			owner.jwt()).want(t, 200).json(t)["_id"].(string)
		stored, err := e.engine.FindBot(ctx, pid, ext)
		if err != nil {
			t.Fatal(err)
		}
		recv.mu.Lock()
		recv.secret = stored.Secret
		recv.mu.Unlock()
		e.do("PUT", "/"+pid+"/requests/"+rid+"/replace", map[string]string{"id": ext}, owner.jwt()).want(t, 200)
		e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]any{"text": "Talk to me"}, jwtCred(visitor)).want(t, 200)
		waitUntil(t, "the external bot's delivery", func() bool { return recv.count() == 1 })
		recv.mu.Lock()
		b, head := recv.bodies[0], recv.heads[0]
		recv.mu.Unlock()
		payload, _ := b["payload"].(map[string]any)
		if payload["text"] != "Talk to me" || payload["request"].(map[string]any)["request_id"] != rid || head.Get("User-Agent") != "tiledesk-bots" {
			t.Fatalf("the external bot got %v %v", b, head)
		}
		tok, _ := b["token"].(string)
		reply := e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]any{"text": "Hello from outside"},
			header("Authorization", "JWT "+tok)).want(t, 200).json(t)
		if reply["sender"] != "bot_"+ext {
			t.Fatalf("the external bot's reply is from %v", reply["sender"])
		}
		if got := answers(); len(got) != 2 {
			t.Fatalf("the internal bot, replaced, answered: %q", got)
		}
	})
}
