package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/seed"
)

// testLeadVersions holds FindLeadVersions to FindLeads: the same leads, order, counts and cursors
// (a cursor of one continues in the other), and a version that changes with every change of a lead.
func testLeadVersions(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	p, _ := project(t, s)
	for _, n := range []string{"delta", "alpha", "echo", "charlie", "bravo", "alpha", "Mário Rossi"} {
		mustCreateLead(t, s, newLead(p, n, strings.ToLower(strings.Fields(n)[0])+"@x.io"))
	}
	// Ids the API never makes, which a store reading a page as joined text must still carry.
	for _, id := range []string{"odd,id", "odd id"} {
		l := newLead(p, "odd", "odd@x.io")
		l.ID = id
		mustCreateLead(t, s, l)
	}
	filters := []tiledesk.LeadFilter{{Email: "ALPHA@x.io"}, {Text: "mar ros"}, {Text: "!!"}, {NoCount: true}, {Offset: 2, Limit: 3},
		{Text: "alpha", Limit: 1}, {Text: "alpha", Offset: 5}, {Text: "alpha", NoCount: true},
		// Each way of counting: the project's counter (also on an empty page), a window (also past the
		// last match), and a count apart when a cursor narrows the page.
		{Offset: 10}, {Email: "alpha@x.io", Limit: 1}, {Email: "alpha@x.io", Offset: 5}, {Tags: []string{"none"}},
		// A first page that holds every match counts itself; a full one is counted apart.
		{WithEmail: true, Limit: 100}, {WithEmail: true, Limit: 2}, {WithEmail: true, Limit: 9}, {WithEmail: true, Limit: 8},
		// A counted set of matches sorted by each kind of column: another one, the id, the version.
		{Text: "a", Sort: tiledesk.LeadSortFullname}, {Text: "a", Sort: tiledesk.LeadSortID, Desc: true},
		{Text: "a", Sort: tiledesk.LeadSortUpdatedAt, Limit: 2}}
	for _, sortKey := range []string{tiledesk.LeadSortCreatedAt, tiledesk.LeadSortUpdatedAt, tiledesk.LeadSortFullname,
		tiledesk.LeadSortEmail, tiledesk.LeadSortLeadID, tiledesk.LeadSortID} {
		for _, desc := range []bool{false, true} {
			filters = append(filters, tiledesk.LeadFilter{Sort: sortKey, Desc: desc, Limit: 3})
		}
	}
	for _, f := range filters {
		fromVersions := false
		for i := 0; ; i++ {
			want := findLeads(t, s, p.ID, f)
			got, err := viewStore(t, s).FindLeadVersions(ctx, p.ID, f)
			if err != nil {
				t.Fatalf("FindLeadVersions(%+v): %v", f, err)
			}
			if len(got.Versions) != len(want.Leads) || got.Count != want.Count || fmt.Sprint(got.Next) != fmt.Sprint(want.Next) {
				t.Fatalf("filter %+v: versions %+v (count %d, next %v), leads %v (count %d, next %v)", f, got.Versions,
					got.Count, got.Next, leadNames(want.Leads), want.Count, want.Next)
			}
			for k, l := range want.Leads {
				if v := got.Versions[k]; v.ID != l.ID || !v.UpdatedAt.Equal(l.UpdatedAt) {
					t.Fatalf("filter %+v: version %d = %+v, lead %s updated %s", f, k, v, l.ID, l.UpdatedAt)
				}
			}
			if want.Next == nil {
				break
			}
			// Continue alternately from each one's cursor: they are interchangeable.
			if fromVersions {
				f.After = got.Next
			} else {
				f.After = want.Next
			}
			fromVersions = !fromVersions
			if i > 10 {
				t.Fatal("cursor never ends")
			}
		}
	}
	l := findLeads(t, s, p.ID, tiledesk.LeadFilter{Email: "echo@x.io"}).Leads[0]
	before, _ := viewStore(t, s).FindLeadVersions(ctx, p.ID, tiledesk.LeadFilter{Email: "echo@x.io"})
	name := "Echo Changed"
	if _, err := s.UpdateLead(ctx, p.ID, l.ID, tiledesk.LeadUpdate{Fullname: &name}, nil); err != nil {
		t.Fatal(err)
	}
	after, _ := viewStore(t, s).FindLeadVersions(ctx, p.ID, tiledesk.LeadFilter{Email: "echo@x.io"})
	if !after.Versions[0].UpdatedAt.After(before.Versions[0].UpdatedAt) {
		t.Fatalf("an update left the version at %s (was %s)", after.Versions[0].UpdatedAt, before.Versions[0].UpdatedAt)
	}
	// Leads whose project has no counter row (written by another path): the list counts none, as
	// FindLeads does, instead of failing on the missing count.
	if db, ok := s.(interface{ WriteDB() *sql.DB }); ok {
		if _, err := db.WriteDB().ExecContext(ctx, `DELETE FROM project_counters WHERE id_project = '`+p.ID+`'`); err != nil {
			t.Fatal(err)
		}
		got, err := viewStore(t, s).FindLeadVersions(ctx, p.ID, tiledesk.LeadFilter{})
		if want := findLeads(t, s, p.ID, tiledesk.LeadFilter{}); err != nil || got.Count != want.Count || len(got.Versions) != len(want.Leads) {
			t.Fatalf("without a counter row: %d versions, count %d, %v; FindLeads: %d leads, count %d", len(got.Versions), got.Count, err,
				len(want.Leads), want.Count)
		}
	}
}

// testLeadListClock holds LeadListClock to its promise: it moves on every kind of lead change,
// create, update, tag, soft and physical deletion, a retried create that creates nothing does not
// move it, and one project's changes never move another's.
func testLeadListClock(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	p, _ := project(t, s)
	other, _ := project(t, s)
	clock := func(pid string) int64 {
		t.Helper()
		c, err := viewStore(t, s).LeadListClock(ctx, pid)
		if err != nil {
			t.Fatalf("LeadListClock: %v", err)
		}
		// Where the store keeps the clock, what it keeps is the clock, and so is the population
		// clock's part.
		kept, err := viewStore(t, s).Clocks(ctx, pid)
		if err != nil || kept.KeptLeads != 0 && kept.KeptLeads != c || kept.Population.Leads != 0 && kept.Population.Leads != c {
			t.Fatalf("Clocks = %+v, %v; LeadListClock %d", kept, err, c)
		}
		if k, err := viewStore(t, s).KeptLeadClock(ctx, pid); err != nil || k != kept.KeptLeads {
			t.Fatalf("KeptLeadClock = %d, %v; Clocks' KeptLeads %d", k, err, kept.KeptLeads)
		}
		return c
	}
	if c := clock(p.ID); c != 0 {
		t.Fatalf("clock before any lead = %d, want 0", c)
	}
	last := clock(p.ID)
	otherAt := clock(other.ID)
	moved := func(what string) {
		t.Helper()
		now := clock(p.ID)
		if now <= last {
			t.Fatalf("after %s the clock reads %d, was %d", what, now, last)
		}
		last = now
		if c := clock(other.ID); c != otherAt {
			t.Fatalf("after %s in one project another's clock moved %d -> %d", what, otherAt, c)
		}
	}
	idem := &tiledesk.Idempotency{Key: "clock-key", Hash: "h"}
	l, _, err := s.CreateLead(ctx, newLead(p, "Clocked", "clocked@x.io"), idem)
	if err != nil {
		t.Fatal(err)
	}
	moved("a create")
	if _, replayed, err := s.CreateLead(ctx, newLead(p, "Clocked", "clocked@x.io"), idem); err != nil || !replayed {
		t.Fatalf("retried create: replayed %v, %v", replayed, err)
	}
	if c := clock(p.ID); c != last {
		t.Fatalf("a retried create that created nothing moved the clock %d -> %d", last, c)
	}
	for i := range 3 { // several changes within one millisecond still move it
		name := fmt.Sprint("Renamed ", i)
		if _, err := s.UpdateLead(ctx, p.ID, l.ID, tiledesk.LeadUpdate{Fullname: &name}, nil); err != nil {
			t.Fatal(err)
		}
		moved("an update")
	}
	if _, err := s.UpdateLead(ctx, p.ID, l.ID, tiledesk.LeadUpdate{AddTags: []string{"vip"}}, nil); err != nil {
		t.Fatal(err)
	}
	moved("a tag")
	if _, err := s.DeleteLead(ctx, p.ID, l.ID); err != nil {
		t.Fatal(err)
	}
	moved("a deletion")
	if _, err := s.DeleteLeadPermanently(ctx, p.ID, l.ID); err != nil {
		t.Fatal(err)
	}
	moved("a physical deletion")
	if sd, ok := s.(Seeder); ok {
		// A bulk load of leads stamped in the past still moves it.
		if err := sd.SeedLeads(ctx, seed.Leads(p.ID, p.CreatedBy, 900000, 3, tiledesk.Now().Add(-24*time.Hour))); err != nil {
			t.Fatal(err)
		}
		moved("a bulk load of older leads")
	}
}

// testLeadOrder: LeadOrder reads exactly the default list of one project (no deleted lead, no other
// project's), by creation then id (ties included), each lead at its version, after the clock it
// returns; it stops past max, and an error of each stops it.
func testLeadOrder(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	p, owner := project(t, s)
	other, _ := project(t, s)
	type entry struct {
		id               string
		created, updated time.Time
	}
	read := func(pid string, max int) ([]entry, int64, bool) {
		t.Helper()
		var got []entry
		clock, ok, err := viewStore(t, s).LeadOrder(ctx, pid, max, func(id string, created, updated time.Time) error {
			got = append(got, entry{id, created, updated})
			return nil
		})
		if err != nil {
			t.Fatalf("LeadOrder: %v", err)
		}
		return got, clock, ok
	}
	if got, clock, ok := read(p.ID, 10); len(got) != 0 || clock != 0 || !ok {
		t.Fatalf("a project without leads: %v, clock %d, ok %v", got, clock, ok)
	}
	var leads []*tiledesk.Lead
	for i := range 6 {
		leads = append(leads, mustCreateLead(t, s, newLead(p, fmt.Sprint("Ordered ", i), "")))
	}
	mustCreateLead(t, s, newLead(other, "Elsewhere", ""))
	if _, err := s.DeleteLead(ctx, p.ID, leads[1].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteLeadPermanently(ctx, p.ID, leads[2].ID); err != nil {
		t.Fatal(err)
	}
	if sd, ok := s.(Seeder); ok { // leads created in the same millisecond are ordered by id
		twins := seed.Leads(p.ID, owner.ID, 900, 3, tiledesk.Now().Add(-time.Minute))
		for _, l := range twins {
			l.CreatedAt = twins[0].CreatedAt
		}
		if err := sd.SeedLeads(ctx, twins); err != nil {
			t.Fatal(err)
		}
	}
	name := "Renamed"
	if _, err := s.UpdateLead(ctx, p.ID, leads[4].ID, tiledesk.LeadUpdate{Fullname: &name}, nil); err != nil {
		t.Fatal(err)
	}

	want := findLeads(t, s, p.ID, tiledesk.LeadFilter{Sort: tiledesk.LeadSortCreatedAt, Limit: 100})
	clockBefore, err := viewStore(t, s).LeadListClock(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, clock, ok := read(p.ID, len(want.Leads))
	if !ok || clock != clockBefore {
		t.Fatalf("LeadOrder: ok %v, clock %d; want ok and the list's clock %d", ok, clock, clockBefore)
	}
	if len(got) != len(want.Leads) {
		t.Fatalf("LeadOrder read %d leads, the default list holds %d", len(got), len(want.Leads))
	}
	for i, l := range want.Leads {
		if e := got[i]; e.id != l.ID || !e.created.Equal(l.CreatedAt) || !e.updated.Equal(l.UpdatedAt) {
			t.Fatalf("entry %d = %+v, want lead %s created %v updated %v", i, e, l.ID, l.CreatedAt, l.UpdatedAt)
		}
	}
	if _, _, ok := read(p.ID, len(want.Leads)-1); ok {
		t.Fatal("LeadOrder read past max")
	}
	stop := errors.New("enough")
	if _, _, err := viewStore(t, s).LeadOrder(ctx, p.ID, 100, func(string, time.Time, time.Time) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("an error of each came back as %v", err)
	}
}
