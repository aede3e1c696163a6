package storetest

import (
	"context"
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
	if clock, err := s.LeadListClock(ctx, c.p.ID); err != nil || clock != want.UnixMilli() {
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
