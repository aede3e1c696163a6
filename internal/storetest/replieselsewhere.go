package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

// RepliesAfterChangesElsewhere replies into a conversation through store a while store b, another
// process's store on the same database, changes it in between: every reply through a writes on
// the conversation as b left it (its last message, its version), and once b has taken the agent off
// the conversation of a restricted department, the agent's next reply through a is refused as for
// a conversation it cannot see, and not stored. A store that keeps what its replies wrote must
// notice the change made elsewhere.
func RepliesAfterChangesElsewhere(t *testing.T, a, b tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, a)
	agent, apu := c.agent(t, true)
	g := c.guest(t)
	now := tiledesk.Now()
	grouped := &tiledesk.Department{ID: tiledesk.NewID(), ProjectID: c.p.ID, Name: "VIP", Routing: tiledesk.RoutingPooled,
		IDGroup: "group-1", Status: 1, CreatedBy: c.owner.ID, CreatedAt: now, UpdatedAt: now}
	if err := a.CreateDepartment(ctx, grouped); err != nil {
		t.Fatal(err)
	}
	in := c.newRequest(g, g.UUIDUser, "vip only")
	in.DepartmentID = grouped.ID
	conv := c.create(t, in)
	if _, err := c.change(conv.RequestID, func(r *tiledesk.Request, env tiledesk.RequestEnv) { r.AddParticipant(agent.ID, env.Now()) }); err != nil {
		t.Fatal(err)
	}
	asAgent := &tiledesk.Visibility{UserID: agent.ID, ProjectUserID: apu.ID}
	asGuest := &tiledesk.Visibility{Visitor: true, ProjectUserID: g.ID}
	post := func(s tiledesk.Store, sender, text string, v *tiledesk.Visibility) (*tiledesk.Message, *tiledesk.Request, error) {
		m := c.message(conv.RequestID, sender, text)
		last, _ := json.Marshal(map[string]string{"text": text})
		r, _, _, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: m, LastMessage: last, VisibleTo: v})
		return m, r, err
	}
	wantLast := func(r *tiledesk.Request, text string) {
		t.Helper()
		if last, _ := r.Attributes["last_message"].(map[string]any); last["text"] != text {
			t.Fatalf("the conversation was answered with last_message %v after the reply %q", last, text)
		}
	}
	var stored []string
	for round, s := range []tiledesk.Store{a, a, b, a, b, b, a} {
		text := "reply " + string(rune('a'+round))
		sender, v := agent.ID, asAgent
		if s == b {
			sender, v = g.UUIDUser, asGuest
		}
		m, r, err := post(s, sender, text, v)
		if err != nil {
			t.Fatalf("reply %d: %v", round, err)
		}
		wantLast(r, text)
		stored = append(stored, m.ID)
	}
	if _, err := b.ChangeRequest(ctx, c.p.ID, conv.RequestID, nil, func(r *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
		r.RemoveParticipant(agent.ID, env.Now())
		return nil, nil
	}, nil); err != nil {
		t.Fatal(err)
	}
	refused, _, err := post(a, agent.ID, "after leaving", asAgent)
	wantCode(t, err, tiledesk.ENOTFOUND)
	msgs, _, err := a.FindMessages(ctx, c.p.ID, conv.RequestID, tiledesk.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		if m.ID == refused.ID {
			t.Fatal("the reply of an agent no longer in the conversation is stored")
		}
		got = append(got, m.ID)
	}
	if len(got) < len(stored) || !slices.Equal(got[len(got)-len(stored):], stored) {
		t.Fatalf("the conversation holds %d messages, not the %d replies in their order", len(got), len(stored))
	}
}
