package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

// TestLeadClockKeptBetweenWrites: on SQLite a lead clock is read from the database once per write
// of the store, not once per call. The test proves the clock was not read again by changing it
// behind the store's back (a plain connection of the same process, which the store cannot count):
// the store answers what it kept until its own next write, and once WriteDB has handed its pool
// out, which lets writes bypass the count, it reads the clock on every call.
func TestLeadClockKeptBetweenWrites(t *testing.T) {
	ctx := context.Background()
	s := openSQLiteQuiet(t)
	p, owner := storetest.NewProject(t, s)
	create := func() { t.Helper(); writeLead(t, s, p.ID, owner.ID) }
	// clock reads LeadListClock, and Clocks' kept lead clock must agree with it while the store
	// keeps it, and be zero once it does not.
	keeps := true
	clock := func() int64 {
		t.Helper()
		c, err := s.LeadListClock(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		kept, err := s.Clocks(ctx, p.ID)
		if err != nil || keeps && kept.KeptLeads != c || !keeps && kept.KeptLeads != 0 {
			t.Fatalf("Clocks = %+v, %v; LeadListClock %d, kept expected: %v", kept, err, c, keeps)
		}
		return c
	}
	raw := behindTheStore(t, s)
	behindItsBack := func() {
		t.Helper()
		if _, err := raw.Exec(`UPDATE project_counters SET leads_clock = leads_clock + 100 WHERE id_project = ?`, p.ID); err != nil {
			t.Fatal(err)
		}
	}

	create()
	first := clock()
	behindItsBack()
	if c := clock(); c != first {
		t.Fatalf("with no write of its own the store read the clock again: %d, kept %d", c, first)
	}
	create()
	if c := clock(); c <= first+100 {
		t.Fatalf("after a write of its own the store answered %d, not the database's clock (past %d)", c, first+100)
	}
	afterWrite := clock()
	_ = s.WriteDB()
	keeps = false
	behindItsBack()
	if c := clock(); c != afterWrite+100 {
		t.Fatalf("with its pool handed out the store answered %d, not the database's %d", c, afterWrite+100)
	}
}

// TestPopulationClockKeptBetweenWrites: the clocks of a populated list are kept the same way, each
// of the four (a requests', a leads', a members' and the users' clock) changed behind the store's
// back in turn.
func TestPopulationClockKeptBetweenWrites(t *testing.T) {
	ctx := context.Background()
	s := openSQLiteQuiet(t)
	p, owner := storetest.NewProject(t, s)
	write := func() { t.Helper(); writeLead(t, s, p.ID, owner.ID) }
	clock := func() tiledesk.PopulationClock {
		t.Helper()
		c, err := s.Clocks(ctx, p.ID)
		if err != nil || c.Population == (tiledesk.PopulationClock{}) {
			t.Fatalf("Clocks: %+v, %v", c, err)
		}
		return c.Population
	}
	raw := behindTheStore(t, s)
	for _, change := range []struct {
		name  string
		sql   string
		clock func(tiledesk.PopulationClock) int64
	}{
		{"requests", `UPDATE project_counters SET requests_clock = requests_clock + 100 WHERE id_project = ?`,
			func(c tiledesk.PopulationClock) int64 { return c.Requests }},
		{"leads", `UPDATE project_counters SET leads_clock = leads_clock + 100 WHERE id_project = ?`,
			func(c tiledesk.PopulationClock) int64 { return c.Leads }},
		{"members", `UPDATE project_counters SET members_clock = members_clock + 100 WHERE id_project = ?`,
			func(c tiledesk.PopulationClock) int64 { return c.Members }},
		{"users", `UPDATE meta SET value = CAST(value AS INTEGER) + 100 WHERE key = 'users_clock' AND ? <> ''`,
			func(c tiledesk.PopulationClock) int64 { return c.Users }},
	} {
		write()
		kept := clock()
		if _, err := raw.Exec(change.sql, p.ID); err != nil {
			t.Fatal(err)
		}
		if c := clock(); c != kept {
			t.Fatalf("%s clock: with no write of its own the store read the clocks again: %+v, kept %+v", change.name, c, kept)
		}
		write()
		if c := clock(); change.clock(c) < change.clock(kept)+100 {
			t.Fatalf("%s clock: after a write of its own the store answered %+v, not the database's (past %d)",
				change.name, c, change.clock(kept)+100)
		}
	}
	_ = s.WriteDB()
	before := clock()
	if _, err := raw.Exec(`UPDATE project_counters SET requests_clock = requests_clock + 100 WHERE id_project = ?`, p.ID); err != nil {
		t.Fatal(err)
	}
	if c := clock(); c.Requests != before.Requests+100 {
		t.Fatalf("with its pool handed out the store answered %+v, not the database's requests clock %d", c, before.Requests+100)
	}
}

// writeLead creates a lead through the store: a write of its own.
func writeLead(t *testing.T, s *sqlstore.Store, projectID, ownerID string) {
	t.Helper()
	l := &tiledesk.Lead{ID: tiledesk.NewID(), ProjectID: projectID, LeadID: tiledesk.NewID(), Tags: []string{},
		Status: tiledesk.LeadActive, CreatedBy: ownerID}
	if _, _, err := s.CreateLead(context.Background(), l, nil); err != nil {
		t.Fatal(err)
	}
}

// behindTheStore opens a plain connection to the store's SQLite file, in the same process, whose
// writes the store cannot count.
func behindTheStore(t *testing.T, s *sqlstore.Store) *sql.DB {
	t.Helper()
	_, path := s.Engine()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}
