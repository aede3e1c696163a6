package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// testStampsFromItsClock: a store opened on a clock stamps what it writes with that clock's time, in
// milliseconds UTC, and never with the machine's: the changes and creations a caller leaves
// unstamped, the conversation a first message opens, the events, and the lead list's clock. The
// clock stands far from the machine's time, between two milliseconds and not in UTC, so that a stamp
// from anywhere else shows.
func testStampsFromItsClock(t *testing.T, newStore NewStore) {
	at := time.Date(2099, 1, 2, 3, 4, 5, 678_900_000, time.FixedZone("UTC+1", 3600))
	want := tiledesk.Millis(at)
	s := newStore(t, func() time.Time { return at })
	ctx := context.Background()
	stamped := func(what string, got time.Time) {
		t.Helper()
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s stamped %s, want the store's clock: %s", what, got, want)
		}
	}
	c := newChat(t, s) // the caller stamps the user, the project and its owner (tiledesk.Now)

	name := "Clocked"
	u, err := s.UpdateUser(ctx, c.owner.ID, tiledesk.UserUpdate{Firstname: &name})
	if err != nil {
		t.Fatal(err)
	}
	stamped("a user's change", u.UpdatedAt)
	p, err := s.UpdateProject(ctx, c.p.ID, tiledesk.ProjectUpdate{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	stamped("a project's change", p.UpdatedAt)

	l, _, err := s.CreateLead(ctx, &tiledesk.Lead{ID: tiledesk.NewID(), ProjectID: c.p.ID, LeadID: "clock-lead",
		Fullname: "Lead", Status: tiledesk.LeadActive, CreatedBy: c.owner.ID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	stamped("a lead's creation", l.CreatedAt)
	stamped("a new lead's updatedAt", l.UpdatedAt)
	// One writer's lead clock is the stamp of the last change; many writers' counts changes.
	if clock, err := viewStore(t, s).LeadListClock(ctx, c.p.ID); err != nil || clock == 0 ||
		(stampsInCommitOrder(s) && clock != want.UnixMilli()) {
		t.Errorf("lead list clock = %d, %v; want %d", clock, err, want.UnixMilli())
	}

	g := c.guest(t)
	in := c.newRequest(g, g.UUIDUser, "hello")
	m := c.message(in.Request.RequestID, g.UUIDUser, "hello")
	m.CreatedAt, m.UpdatedAt = time.Time{}, time.Time{}
	r, m, _, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: m, Create: in, VisibleTo: tiledesk.VisibilityOf(g, g.UUIDUser)})
	if err != nil {
		t.Fatal(err)
	}
	stamped("a message", m.CreatedAt)
	stamped("the conversation its message opened", r.CreatedAt)
	// The message changed the conversation after its creation: its list clock moved on by a tick.
	if d := r.UpdatedAt.Sub(want); d < 0 || d > time.Second {
		t.Errorf("the conversation's updatedAt is %s, not just after the store's clock %s", r.UpdatedAt, want)
	}

	evs := events(t, s, c.p.ID, "")
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	for _, ev := range evs {
		stamped("event "+ev.Name, ev.CreatedAt)
	}
}

func testTimestamps(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	u := newUser("ts")
	u.CreatedAt = time.Date(2024, 5, 24, 14, 2, 24, 512_000_000, time.UTC)
	u.UpdatedAt = u.CreatedAt
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, _ := s.FindUserByID(ctx, u.ID)
	if !got.CreatedAt.Equal(u.CreatedAt) || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("CreatedAt = %v, want %v in UTC", got.CreatedAt, u.CreatedAt)
	}
}

// testEveryChangeNewStamp: every change of a membership or a user carries a new, later updated_at,
// even several within one millisecond; lists cache renderings by it.
func testEveryChangeNewStamp(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "stamps")
	p, pu, _ := mustCreateProject(t, s, owner, "Stamps")
	last := pu.UpdatedAt
	for i := range 5 {
		n := i + 1
		got, err := s.UpdateProjectUser(ctx, p.ID, pu.ID, tiledesk.ProjectUserUpdate{NumberAssignedRequests: &n})
		if err != nil {
			t.Fatal(err)
		}
		stored, err := s.FindProjectUserByUserID(ctx, p.ID, owner.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.UpdatedAt.After(last) || !stored.UpdatedAt.Equal(got.UpdatedAt) {
			t.Fatalf("membership change %d stamped %s (stored %s) after %s", i, got.UpdatedAt, stored.UpdatedAt, last)
		}
		last = got.UpdatedAt
	}
	last = owner.UpdatedAt
	for i := range 5 {
		name := fmt.Sprint("Name ", i)
		got, err := s.UpdateUser(ctx, owner.ID, tiledesk.UserUpdate{Firstname: &name})
		if err != nil {
			t.Fatal(err)
		}
		if !got.UpdatedAt.After(last) {
			t.Fatalf("user change %d stamped %s after %s", i, got.UpdatedAt, last)
		}
		last = got.UpdatedAt
	}
	for i := range 3 {
		if err := s.SetUserPassword(ctx, owner.ID, owner.PasswordHash, fmt.Sprint("hash-", i)); err != nil {
			t.Fatal(err)
		}
		owner.PasswordHash = fmt.Sprint("hash-", i)
		u, err := s.FindUserByID(ctx, owner.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !u.UpdatedAt.After(last) {
			t.Fatalf("password change %d stamped %s after %s", i, u.UpdatedAt, last)
		}
		last = u.UpdatedAt
	}
}
