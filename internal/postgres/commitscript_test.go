package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

// TestCommitScriptFailures fails the write that goes with the COMMIT (an agent's count, when a
// conversation is routed to the agent) and the COMMIT itself: neither leaves the conversation, nor
// a transaction open on a connection of the small pool, and the next creation succeeds.
func TestCommitScriptFailures(t *testing.T) {
	dsn := freshSchema(t)
	s := open(t, dsn+"&pool_max_conns=2")
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, owner := storetest.NewProject(t, s)
	pu, err := s.FindProjectUserByUserID(ctx, p.ID, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	create := func(n int) error {
		r := &tiledesk.Request{ID: tiledesk.NewID(), ProjectID: p.ID, RequestID: fmt.Sprintf("support-group-%s-%d", p.ID, n),
			FirstText: "hi", Priority: "medium", SmartAssignment: true, RequesterID: pu.ID, CreatedBy: owner.ID}
		_, err := s.CreateRequest(ctx, &tiledesk.NewRequest{Request: r, Lead: tiledesk.LeadRef{LeadID: "visitor"}})
		return err
	}
	for _, trigger := range []string{
		// The agent's update fails.
		`CREATE TRIGGER refuse BEFORE UPDATE ON project_users FOR EACH ROW EXECUTE FUNCTION refuse()`,
		// The COMMIT fails, in a deferred trigger of the agent's update.
		`CREATE CONSTRAINT TRIGGER refuse AFTER UPDATE ON project_users DEFERRABLE INITIALLY DEFERRED
			FOR EACH ROW EXECUTE FUNCTION refuse()`,
	} {
		if _, err := db.ExecContext(ctx, `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN RAISE EXCEPTION 'refused'; END $$`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, trigger); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 5; i++ { // more than the pool's connections
			if err := create(i); err == nil {
				t.Fatalf("%s: created", trigger)
			}
		}
		if _, err := db.ExecContext(ctx, `DROP FUNCTION refuse() CASCADE`); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM requests`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%s: %d conversations (%v), want 0", trigger, n, err)
		}
	}
	if err := create(99); err != nil {
		t.Fatal(err)
	}
	var assigned int
	if err := db.QueryRowContext(ctx, `SELECT number_assigned_requests FROM project_users WHERE id = $1`, pu.ID).Scan(&assigned); err != nil || assigned != 1 {
		t.Fatalf("number_assigned_requests = %d (%v), want 1", assigned, err)
	}
}
