package api

import (
	"context"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// TestChat21StalePresence: a process that stopped without saying so leaves its users online only
// until its records go stale; the next heartbeat of a running process clears them, and a user
// connected to the running process stays online.
func TestChat21StalePresence(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newChatEnvOn(t, engine, nil)
		ctx := context.Background()
		presence := func(a account) string {
			me := e.do("GET", "/"+e.pid+"/project_users/me", nil, a.jwt()).want(t, 200).list(t)[0].(map[string]any)
			p, _ := me["presence"].(map[string]any)
			s, _ := p["status"].(string)
			return s
		}
		// The agent was connected to a process that died; the owner is connected here.
		now := e.clock.Now()
		if _, err := e.store.SetChatPresence(ctx, e.agent.id, "a-dead-process", true, now, now.Add(-chatPresenceStale)); err != nil {
			t.Fatal(err)
		}
		ouid, otoken := e.chat21Token(e.owner.basic())
		e.chat21Connect(ouid, otoken)
		for deadline := time.Now().Add(10 * time.Second); presence(e.owner) != tiledesk.PresenceOnline; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the owner connected here is not online")
			}
		}
		h := chat21Handler{e.srv}
		h.Heartbeat(ctx)
		if got := presence(e.agent); got != tiledesk.PresenceOnline {
			t.Fatalf("a fresh record of another process: presence %q", got)
		}
		e.clock.Add(chatPresenceStale + time.Second)
		h.Heartbeat(ctx)
		if got := presence(e.agent); got != tiledesk.PresenceOffline {
			t.Fatalf("the record of a dead process, stale: presence %q", got)
		}
		if got := presence(e.owner); got != tiledesk.PresenceOnline {
			t.Fatalf("a user connected to the running process after a heartbeat: presence %q", got)
		}
	})
}
