package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

func testRequestPostMessage(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	g := c.guest(t)
	in := c.newRequest(g, g.UUIDUser, "first words")
	rid := in.Request.RequestID
	m1 := c.message(rid, g.UUIDUser, "first words")
	r, m, created, replayed, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: m1, Create: in, VisibleTo: tiledesk.VisibilityOf(g, g.UUIDUser)})
	if err != nil || !created || replayed || m.ID != m1.ID || r.RequestID != rid || r.FirstText != "first words" {
		t.Fatalf("first message: created %v replayed %v err %v r %+v", created, replayed, err, r)
	}
	if r.Attributes["last_message"] != nil {
		t.Fatal("the first message set last_message")
	}
	// The agent answers: first response time.
	reply := c.message(rid, c.owner.ID, "how can I help?")
	reply.CreatedAt = reply.CreatedAt.Add(1500 * time.Millisecond)
	r, _, created, _, err = s.PostMessage(ctx, &tiledesk.MessagePost{Message: reply, LastMessage: json.RawMessage(`{"text":"how can I help?"}`)})
	if err != nil || created {
		t.Fatalf("reply: created %v err %v", created, err)
	}
	if r.FirstResponseAt == nil || r.WaitingTime == nil || *r.WaitingTime < 1500 ||
		r.Attributes["last_message"].(map[string]any)["text"] != "how can I help?" || !r.UpdatedAt.After(r.CreatedAt) {
		t.Fatalf("after the reply: first response %v waiting %v attrs %v", r.FirstResponseAt, r.WaitingTime, r.Attributes)
	}
	other := c.guest(t)
	// Another visitor cannot write into this conversation: it is not found, and not created again.
	intrusion := c.newRequest(other, other.UUIDUser, "intruder")
	intrusion.Request.RequestID = rid
	_, _, _, _, err = s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(rid, other.UUIDUser, "intruder"),
		VisibleTo: tiledesk.VisibilityOf(other, other.UUIDUser), Create: intrusion})
	wantCode(t, err, tiledesk.ENOTFOUND)
	_, _, _, _, err = s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message("nope", c.owner.ID, "x")})
	wantCode(t, err, tiledesk.ENOTFOUND)
	msgs, next, err := s.FindMessages(ctx, c.p.ID, rid, tiledesk.MessageFilter{})
	if err != nil || len(msgs) != 2 || next != nil || msgs[0].Text != "first words" || msgs[1].Text != "how can I help?" {
		t.Fatalf("messages = %v, %v", len(msgs), err)
	}
	got, err := s.FindMessage(ctx, c.p.ID, rid, m1.ID)
	if err != nil || got.Text != "first words" {
		t.Fatalf("FindMessage = %+v, %v", got, err)
	}
	_, err = s.FindMessage(ctx, c.p.ID, "other", m1.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
	more := []*tiledesk.Message{c.message(rid, g.UUIDUser, "a"), c.message(rid, g.UUIDUser, "b")}
	r, err = s.AddMessages(ctx, c.p.ID, rid, nil, more, json.RawMessage(`{"text":"b"}`))
	if err != nil || r.Attributes["last_message"].(map[string]any)["text"] != "b" {
		t.Fatalf("AddMessages = %v", err)
	}
	_, err = s.AddMessages(ctx, c.p.ID, "missing", nil, more, nil)
	wantCode(t, err, tiledesk.ENOTFOUND)
	all, _, _ := s.FindMessages(ctx, c.p.ID, rid, tiledesk.MessageFilter{})
	page1, next, _ := s.FindMessages(ctx, c.p.ID, rid, tiledesk.MessageFilter{Limit: 3})
	page2, last, _ := s.FindMessages(ctx, c.p.ID, rid, tiledesk.MessageFilter{Limit: 3, After: next})
	if len(all) != 4 || len(page1) != 3 || next == nil || len(page2) != 1 || last != nil || page2[0].ID != all[3].ID {
		t.Fatalf("message pages: %d then %d of %d", len(page1), len(page2), len(all))
	}
	newest, cursor, err := s.FindMessages(ctx, c.p.ID, rid, tiledesk.MessageFilter{Limit: 3, Newest: true})
	if err != nil || cursor != nil || len(newest) != 3 || newest[0].ID != all[3].ID || newest[2].ID != all[1].ID {
		t.Fatalf("the newest 3 messages: %d, %v", len(newest), err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].CreatedAt.Before(all[i-1].CreatedAt) {
			t.Fatal("messages are not oldest first")
		}
	}
	var msgEvents int
	for _, ev := range events(t, s, c.p.ID, tiledesk.EventMessageCreate) {
		if ev.Name == tiledesk.EventMessageCreate {
			msgEvents++
		}
	}
	if msgEvents != 4 {
		t.Fatalf("message.create events = %d, want 4", msgEvents)
	}
}

func testRequestConcurrentFirstMessages(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	g := c.guest(t)
	rid := "support-group-race"
	const n = 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	createdCount := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			in := c.newRequest(g, g.UUIDUser, "race")
			in.Request.RequestID = rid
			_, _, created, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(rid, g.UUIDUser, fmt.Sprint(i)), Create: in})
			if err != nil {
				t.Errorf("concurrent first message: %v", err)
				return
			}
			if created {
				mu.Lock()
				createdCount++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if createdCount != 1 {
		t.Fatalf("%d first messages created %d conversations", n, createdCount)
	}
	all := find(t, s, c.p.ID, tiledesk.RequestFilter{AllStatuses: true})
	if all.Count != 1 {
		t.Fatalf("conversations = %d, want 1", all.Count)
	}
	msgs, _, _ := s.FindMessages(ctx, c.p.ID, rid, tiledesk.MessageFilter{})
	if len(msgs) != n {
		t.Fatalf("messages = %d, want %d", len(msgs), n)
	}
	leads := findLeads(t, s, c.p.ID, tiledesk.LeadFilter{})
	if leads.Count != 1 {
		t.Fatalf("leads = %d, want 1", leads.Count)
	}
}

func testRequestMessageIdempotency(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	g := c.guest(t)
	in := c.newRequest(g, g.UUIDUser, "hi")
	idem := &tiledesk.Idempotency{Key: "send-1", Hash: "h"}
	_, m1, _, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(in.Request.RequestID, g.UUIDUser, "hi"), Create: in, Idempotency: idem})
	if err != nil {
		t.Fatal(err)
	}
	r, m2, created, replayed, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(in.Request.RequestID, g.UUIDUser, "hi"),
		Create: c.newRequest(g, g.UUIDUser, "hi"), Idempotency: idem})
	if err != nil || !replayed || created || m2.ID != m1.ID || r.RequestID != in.Request.RequestID {
		t.Fatalf("retried send: replayed %v created %v err %v", replayed, created, err)
	}
	msgs, _, _ := s.FindMessages(ctx, c.p.ID, in.Request.RequestID, tiledesk.MessageFilter{})
	if len(msgs) != 1 {
		t.Fatalf("messages after a retried send = %d, want 1", len(msgs))
	}
	_, _, _, _, err = s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(in.Request.RequestID, g.UUIDUser, "other"),
		Idempotency: &tiledesk.Idempotency{Key: "send-1", Hash: "different"}})
	wantCode(t, err, tiledesk.ECONFLICT)
}
