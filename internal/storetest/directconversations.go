package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// testDirectConversations: a user's direct conversations are the last direct message it
// exchanged with each other user of a project, in either direction; messages to groups and other
// projects' messages are not among them.
func testDirectConversations(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	at := time.UnixMilli(1_772_366_400_000).UTC()
	n := 0
	add := func(pid, from, to, channel string) *tiledesk.Message {
		n++
		created := at.Add(time.Duration(n) * time.Second)
		m := &tiledesk.Message{ID: tiledesk.NewID(), ProjectID: pid, Sender: from, Recipient: to, RecipientFullname: to,
			Type: "text", ChannelType: channel, Text: fmt.Sprintf("m%d", n), Channel: tiledesk.Channel{Name: "chat21"},
			CreatedBy: from, CreatedAt: created, UpdatedAt: created}
		if err := s.AddDirectMessage(ctx, m, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		return m
	}
	add("p1", "u1", "u2", "direct")     // m1
	add("p1", "u2", "u1", "direct")     // m2: the last with u2
	add("p1", "u3", "u1", "direct")     // m3: the last with u3
	add("p1", "u1", "group-x", "group") // a group's
	add("p2", "u1", "u2", "direct")     // another project's
	add("p1", "u2", "u3", "direct")     // others'
	add("p1", "u1", "u1", "direct")     // m7: a note to itself
	convs, err := s.FindDirectConversations(ctx, "p1", "u1", 10)
	if err != nil {
		t.Fatal(err)
	}
	texts := func(ms []*tiledesk.Message) string {
		out := ""
		for _, m := range ms {
			out += m.Text + " "
		}
		return out
	}
	if got := texts(convs); got != "m7 m3 m2 " {
		t.Fatalf("u1's direct conversations: %s", got)
	}
	if convs, _ := s.FindDirectConversations(ctx, "p1", "u1", 2); len(convs) != 2 {
		t.Fatalf("a limit of 2 answered %d", len(convs))
	}
	between, err := s.FindDirectMessagesBetween(ctx, "p1", "u2", "u1", 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(between); got != "m2 m1 " {
		t.Fatalf("u1 and u2's messages: %s", got)
	}
	if none, err := s.FindDirectMessagesBetween(ctx, "p2", "u1", "u3", 10); err != nil || len(none) != 0 {
		t.Fatalf("no messages between u1 and u3 in p2: %v %v", none, err)
	}
}

// testDirectMessageStatus: a direct message's status only rises, and each rise is logged once.
func testDirectMessageStatus(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	at := time.UnixMilli(1_772_366_400_000).UTC()
	m := &tiledesk.Message{ID: tiledesk.NewID(), ProjectID: "p1", Sender: "u1", Recipient: "u2", Type: "text",
		ChannelType: "direct", Text: "hi", Channel: tiledesk.Channel{Name: "chat21"}, CreatedBy: "u1", CreatedAt: at, UpdatedAt: at}
	if err := s.AddDirectMessage(ctx, m, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		up := *m
		up.Status, up.UpdatedAt = 200, at.Add(time.Minute)
		raised, err := s.RaiseDirectMessageStatus(ctx, &up, []byte(`{}`))
		if err != nil || raised != want {
			t.Fatalf("raise %d: %v, %v; want %v", i, raised, err, want)
		}
	}
	got, err := s.FindDirectMessage(ctx, "p1", m.ID)
	if err != nil || got.Status != 200 || !got.UpdatedAt.Equal(at.Add(time.Minute)) {
		t.Fatalf("the message after its receipt: %+v, %v", got, err)
	}
	if evs := events(t, s, "p1", tiledesk.EventDirectMessageUpdate); len(evs) != 1 || evs[0].ObjectID != m.ID {
		t.Fatalf("the events of the receipt: %v", evs)
	}
	if _, err := s.FindDirectMessage(ctx, "p2", m.ID); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("another project's message: %v", err)
	}
}
