package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

// TestDeadlockedTransactionRunsAgain: with many writers (PostgreSQL) a transaction the database
// failed to break a deadlock runs again, and only its last run's writes are kept; any other error
// ends it at once. SQLite's writers take turns and never see one.
func TestDeadlockedTransactionRunsAgain(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		deadlock := &pgconn.PgError{Code: "40P01", Message: "deadlock detected"}
		runs := 0
		err := s.InTxForTest(ctx, func(exec func(string, ...any) error) error {
			runs++
			if err := exec(`INSERT INTO meta (key, value) VALUES ($1, $2)`, "retry-test", fmt.Sprint(runs)); err != nil {
				return err
			}
			if runs == 1 {
				return fmt.Errorf("a write: %w", deadlock)
			}
			return nil
		})
		multi := s.WriteDB().Stats().MaxOpenConnections != 1 // SQLite writes through one connection
		switch {
		case multi && (err != nil || runs != 2):
			t.Fatalf("a deadlocked transaction ran %d times, ending with %v; want 2 runs and success", runs, err)
		case !multi && (!errors.Is(err, deadlock) || runs != 1):
			t.Fatalf("with one writer a transaction ran %d times, ending with %v; want 1 run and its error", runs, err)
		}
		if multi {
			if v, err := s.GetMeta(ctx, "retry-test"); err != nil || v != "2" {
				t.Fatalf("after the runs the row reads %q, %v; want the second run's", v, err)
			}
		}
		runs = 0
		other := errors.New("not a deadlock")
		if err := s.InTxForTest(ctx, func(func(string, ...any) error) error { runs++; return other }); !errors.Is(err, other) || runs != 1 {
			t.Fatalf("another error: %d runs, %v; want 1 run and the error", runs, err)
		}
	})
}
