package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// testChatPresence: a user is online while one process holds its chat connections, whichever
// leaves first; a process's records go stale unless it touches them, and stale ones count for
// nothing.
func testChatPresence(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	u := mustCreateUser(t, s, "presence")
	p, _, _ := mustCreateProject(t, s, u, "Presence")
	t0 := time.UnixMilli(1_772_366_400_000).UTC()
	fresh := t0.Add(-time.Minute)
	set := func(process string, online bool, at time.Time, want string, changes int) {
		t.Helper()
		changed, err := s.SetChatPresence(ctx, u.ID, process, online, at, fresh)
		if err != nil || len(changed) != changes {
			t.Fatalf("%s online=%v: %d changed, %v; want %d", process, online, len(changed), err, changes)
		}
		pu, err := s.FindProjectUserByUserID(ctx, p.ID, u.ID)
		if err != nil || pu.Presence == nil || pu.Presence.Status != want {
			t.Fatalf("%s online=%v: presence %+v, %v; want %s", process, online, pu.Presence, err, want)
		}
	}
	set("a", true, t0, tiledesk.PresenceOnline, 1)
	set("b", true, t0, tiledesk.PresenceOnline, 0)
	set("a", false, t0, tiledesk.PresenceOnline, 0) // b still holds some
	set("b", false, t0, tiledesk.PresenceOffline, 1)
	if evs := events(t, s, p.ID, tiledesk.EventProjectUserUpdate); len(evs) != 2 {
		t.Fatalf("%d project_user.update events, want one per change", len(evs))
	}
	// A record not seen since fresh counts for nothing, and is found stale.
	set("c", true, fresh.Add(-time.Second), tiledesk.PresenceOffline, 0)
	stale, err := s.FindStaleChatPresence(ctx, fresh, 10)
	if err != nil || len(stale) != 1 || stale[0] != (tiledesk.StalePresence{UserID: u.ID, Process: "c"}) {
		t.Fatalf("stale records: %v, %v", stale, err)
	}
	if err := s.TouchChatPresence(ctx, "c", t0); err != nil {
		t.Fatal(err)
	}
	if stale, _ := s.FindStaleChatPresence(ctx, fresh, 10); len(stale) != 0 {
		t.Fatalf("a touched record is stale: %v", stale)
	}
	if _, err := s.SetChatPresence(ctx, "no-such-user", "a", true, t0, fresh); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("presence of no user: %v", err)
	}
}
