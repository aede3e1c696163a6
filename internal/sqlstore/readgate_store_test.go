package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// With one read at a time, a read waits while another's rows are open, and goes once they close;
// a read of one row gives its place back once scanned, found or not.
func TestStoreReadsWaitTheirTurn(t *testing.T) {
	s := openSQLite(t)
	s.SetActiveReads(1)
	ctx := context.Background()

	for range 3 { // each would wait forever if the one before kept its place
		short, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := s.FindLeadByID(short, "p1", "missing")
		cancel()
		if !isNotFound(err) {
			t.Fatalf("reading a missing lead: %v; want not found", err)
		}
	}

	rows, err := s.QueryForTest(ctx, `SELECT 1`)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.FindLeadByID(ctx, "p1", "missing")
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a read ran while another held the only place: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !isNotFound(err) {
			t.Fatalf("the waiting read: %v; want not found", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting read did not run once the rows were closed")
	}
	if places, waits, waited := s.ReadQueue(); places != 1 || waits != 1 || waited < 50*time.Millisecond {
		t.Errorf("ReadQueue() = %d places, %d waits, %v waited; want 1, 1 (the read that waited), at least 50ms", places, waits, waited)
	}
}

func isNotFound(err error) bool { return tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND }
