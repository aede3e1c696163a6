package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// testChatStates: a chat user's readings and archivings of conversations are kept apart per user,
// conversation and project, and a new mark keeps what it does not change.
func testChatStates(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	t1 := time.UnixMilli(1_772_366_400_000).UTC()
	t2, t3 := t1.Add(time.Minute), t1.Add(2*time.Minute)
	for _, m := range []struct {
		pid, rid, user string
		read, archive  bool
		at             time.Time
	}{
		{"p1", "r1", "u1", true, false, t1},
		{"p1", "r1", "u1", false, true, t2},
		{"p1", "r2", "u1", true, false, t1},
		{"p1", "r2", "u1", true, false, t3},
		{"p1", "r1", "u2", true, true, t3},
		{"p2", "r1", "u1", false, true, t1},
	} {
		if err := s.MarkChat(ctx, m.pid, m.rid, m.user, m.read, m.archive, m.at); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.FindChatStates(ctx, "p1", "u1", []string{"r1", "r2", "r3"})
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := got["r1"], got["r2"]
	if len(got) != 2 || r1.ReadAt == nil || !r1.ReadAt.Equal(t1) || r1.ArchivedAt == nil || !r1.ArchivedAt.Equal(t2) ||
		r2.ReadAt == nil || !r2.ReadAt.Equal(t3) || r2.ArchivedAt != nil {
		t.Fatalf("u1's states in p1: %+v", got)
	}
	if none, err := s.FindChatStates(ctx, "p1", "u3", []string{"r1"}); err != nil || len(none) != 0 {
		t.Fatalf("a user who marked nothing: %v, %v", none, err)
	}
	if other, _ := s.FindChatStates(ctx, "p2", "u1", []string{"r1", "r2"}); len(other) != 1 || other["r1"].ReadAt != nil {
		t.Fatalf("u1's states in p2: %+v", other)
	}
	if empty, err := s.FindChatStates(ctx, "p1", "u1", nil); err != nil || len(empty) != 0 {
		t.Fatalf("no conversation asked: %v, %v", empty, err)
	}
}
