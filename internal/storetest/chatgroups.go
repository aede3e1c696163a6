package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// testChatGroups: a chat group's id is unique across projects; its changes keep its members where
// a member's groups are found, with its info messages; a member's conversations are the last
// message of each of its groups.
func testChatGroups(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	at := time.UnixMilli(1_772_366_400_000).UTC()
	info := func(pid, gid, text string, sec int) tiledesk.ChatInfo {
		created := at.Add(time.Duration(sec) * time.Second)
		return tiledesk.ChatInfo{Message: &tiledesk.Message{ID: tiledesk.NewID(), ProjectID: pid, Sender: "system", Recipient: gid,
			Type: "text", ChannelType: "group", Text: text, Channel: tiledesk.Channel{Name: "chat21"}, CreatedBy: "system",
			CreatedAt: created, UpdatedAt: created}, Event: []byte(`{}`)}
	}
	g := &tiledesk.ChatGroup{ID: "group-1", ProjectID: "p1", Name: "Team", Owner: "u1", Members: []string{"u1", "u2"}, CreatedAt: at, UpdatedAt: at}
	if err := s.CreateChatGroup(ctx, &tiledesk.ChatGroupChange{Group: g, Key: tiledesk.ChatGroupCreated, Notify: g.Members},
		[]tiledesk.ChatInfo{info("p1", "group-1", "created", 1)}); err != nil {
		t.Fatal(err)
	}
	taken := &tiledesk.ChatGroup{ID: "group-1", ProjectID: "p2", Name: "Other", Owner: "u9", Members: []string{"u9"}, CreatedAt: at, UpdatedAt: at}
	if err := s.CreateChatGroup(ctx, &tiledesk.ChatGroupChange{Group: taken}, nil); tiledesk.ErrorCode(err) != tiledesk.ECONFLICT {
		t.Fatalf("a second group with the id of another project's: %v", err)
	}
	got, err := s.FindChatGroup(ctx, "group-1")
	if err != nil || got.ProjectID != "p1" || got.Name != "Team" || !slices.Equal(got.Members, []string{"u1", "u2"}) {
		t.Fatalf("the group: %+v, %v", got, err)
	}
	changed, err := s.ChangeChatGroup(ctx, "group-1", func(g *tiledesk.ChatGroup) (*tiledesk.ChatGroupChange, []tiledesk.ChatInfo, error) {
		g.Members = []string{"u1", "u3"}
		return &tiledesk.ChatGroupChange{Group: g, Joined: []string{"u3"}, Left: []string{"u2"}, Notify: []string{"u1", "u2", "u3"}},
			[]tiledesk.ChatInfo{info("p1", "group-1", "u3 joined", 2)}, nil
	})
	if err != nil || !slices.Equal(changed.Members, []string{"u1", "u3"}) || changed.ProjectID != "p1" {
		t.Fatalf("the changed group: %+v, %v", changed, err)
	}
	unchanged, err := s.ChangeChatGroup(ctx, "group-1", func(g *tiledesk.ChatGroup) (*tiledesk.ChatGroupChange, []tiledesk.ChatInfo, error) {
		return nil, nil, nil
	})
	if err != nil || !unchanged.UpdatedAt.Equal(changed.UpdatedAt) {
		t.Fatalf("a change that did nothing: %+v, %v", unchanged, err)
	}
	if _, err := s.ChangeChatGroup(ctx, "group-none", nil); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("changing a missing group: %v", err)
	}
	if evs := events(t, s, "p1", tiledesk.EventChatGroupUpdate); len(evs) != 1 {
		t.Fatalf("chat_group.update events: %d", len(evs))
	}
	for member, want := range map[string]int{"u1": 1, "u2": 0, "u3": 1} {
		convs, err := s.FindChatGroupConversations(ctx, "p1", member, 10)
		if err != nil || len(convs) != want || want == 1 && convs[0].Text != "u3 joined" {
			t.Fatalf("%s's group conversations: %v, %v", member, convs, err)
		}
	}
	msgs, err := s.FindChatGroupMessages(ctx, "p1", "group-1", 10)
	if err != nil || len(msgs) != 2 || msgs[0].Text != "u3 joined" {
		t.Fatalf("the group's messages: %v, %v", msgs, err)
	}
}
