package postgres_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

// insertUnnumbered writes an event as a store's transaction does, inside tx.
func insertUnnumbered(t *testing.T, tx *sql.Tx, projectID, name string) string {
	t.Helper()
	id := tiledesk.NewID()
	if _, err := tx.Exec(`INSERT INTO events (id_project, id, name, object_id, payload, created_at)
		VALUES ($1, $2, $3, '', '{}', $4)`, projectID, id, name, time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestRelayNumbersInCommitOrder holds a transaction with an event open while a later one commits
// its own: the later event is not numbered before the earlier transaction ends, and then comes
// after it, so that no reader ever sees a number below one it has seen.
func TestRelayNumbersInCommitOrder(t *testing.T) {
	dsn := freshSchema(t)
	s := open(t, dsn)
	ctx := context.Background()
	pid := tiledesk.NewID()
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	early, err := raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer early.Rollback()
	earlyID := insertUnnumbered(t, early, pid, "early") // draws the older transaction id
	late, err := raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	lateID := insertUnnumbered(t, late, pid, "late")
	if err := late.Commit(); err != nil {
		t.Fatal(err)
	}
	// Several turns of the relay run while the older transaction is open (it retries every few
	// milliseconds while committed events wait); none may number the later event.
	for range 20 {
		time.Sleep(10 * time.Millisecond)
		if last, err := s.LastEventSeq(ctx, pid); err != nil || last != 0 {
			t.Fatalf("with an older transaction open, the log numbered %d events (%v), want 0", last, err)
		}
	}
	if err := early.Commit(); err != nil {
		t.Fatal(err)
	}
	storetest.WaitNumbered(t, s, pid, 2)
	evs, err := s.EventsAfter(ctx, pid, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].ID != earlyID || evs[0].Seq != 1 || evs[1].ID != lateID || evs[1].Seq != 2 {
		t.Fatalf("numbered %v, want the older transaction's event 1, the later's 2", evs)
	}
}

// TestRelayNumbersEventsLeftUnnumbered: a process killed between its commit and the numbering
// leaves its events unnumbered; the relay of the next process to open the database numbers them.
func TestRelayNumbersEventsLeftUnnumbered(t *testing.T) {
	dsn := freshSchema(t)
	s := open(t, dsn)
	if err := s.Close(); err != nil { // no relay runs any more
		t.Fatal(err)
	}
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	pid := tiledesk.NewID()
	tx, err := raw.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		insertUnnumbered(t, tx, pid, "left")
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	next := open(t, dsn)
	if got := storetest.WaitNumbered(t, next, pid, 3); got != 3 {
		t.Fatalf("numbered up to %d, want 3", got)
	}
}
