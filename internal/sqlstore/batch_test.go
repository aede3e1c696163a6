package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk/internal/sqlite"
)

// TestGroupCommitIsolatesWrites runs many concurrent writes, so that they share batches: the ones
// that fail, or panic, halfway leave nothing behind; every one that succeeded is committed.
func TestGroupCommitIsolatesWrites(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t)
	if _, err := s.WriteDB().Exec(`CREATE TABLE scratch (k TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	errHalfway := errors.New("failed halfway")
	const n = 300
	results := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = s.InTxForTest(ctx, func(exec func(string, ...any) error) error {
				if err := exec(`INSERT INTO scratch (k) VALUES ($1)`, fmt.Sprint("a", i)); err != nil {
					return err
				}
				if err := exec(`INSERT INTO scratch (k) VALUES ($1)`, fmt.Sprint("b", i)); err != nil {
					return err
				}
				switch i % 3 {
				case 1:
					return errHalfway
				case 2:
					if i%2 == 0 {
						panic("boom")
					}
					// A constraint violation after the first rows.
					return exec(`INSERT INTO scratch (k) VALUES ($1)`, fmt.Sprint("a", i))
				}
				return nil
			})
		}(i)
	}
	wg.Wait()
	for i, err := range results {
		switch {
		case i%3 == 0 && err != nil:
			t.Fatalf("write %d failed: %v", i, err)
		case i%3 == 1 && !errors.Is(err, errHalfway):
			t.Fatalf("write %d: err %v, want its own error", i, err)
		case i%3 == 2 && err == nil:
			t.Fatalf("write %d should have failed", i)
		}
	}
	rows, err := s.WriteDB().Query(`SELECT k FROM scratch`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	kept := map[string]bool{}
	for rows.Next() {
		var k string
		rows.Scan(&k)
		kept[k] = true
	}
	for i := 0; i < n; i++ {
		want := i%3 == 0
		if kept[fmt.Sprint("a", i)] != want || kept[fmt.Sprint("b", i)] != want {
			t.Fatalf("write %d: rows kept = %v/%v, want %v", i, kept[fmt.Sprint("a", i)], kept[fmt.Sprint("b", i)], want)
		}
	}
	if len(kept) != 2*((n+2)/3) {
		t.Fatalf("%d rows kept, want %d", len(kept), 2*((n+2)/3))
	}
}

// TestGroupCommitAfterClose refuses writes once the store is closed, instead of hanging.
func TestGroupCommitAfterClose(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "closed.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.InTxForTest(ctx, func(func(string, ...any) error) error { return nil }); err == nil {
		t.Fatal("a write after Close succeeded")
	}
}

// TestGroupCommitSurvivesACancelledCaller cancels one caller while its statement runs, inside a
// batch shared with many others: the others must all commit, and the cancelled caller must be
// answered truthfully (nil exactly when its write was committed).
func TestGroupCommitSurvivesACancelledCaller(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t)
	if _, err := s.WriteDB().Exec(`CREATE TABLE scratch (k TEXT PRIMARY KEY); CREATE TABLE bulk (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	// A first write holds the writer, so that everything below queues and shares one batch.
	hold, held := make(chan struct{}), make(chan struct{})
	gateDone := make(chan error, 1)
	go func() {
		gateDone <- s.InTxForTest(ctx, func(exec func(string, ...any) error) error {
			close(held)
			<-hold
			return exec(`INSERT INTO scratch (k) VALUES ('gate')`)
		})
	}()
	<-held
	const others = 40
	var wg sync.WaitGroup
	results := make([]error, others)
	start := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.InTxForTest(ctx, func(exec func(string, ...any) error) error {
				return exec(`INSERT INTO scratch (k) VALUES ($1)`, fmt.Sprint("w", i))
			})
		}()
	}
	for i := 0; i < others/2; i++ {
		start(i)
	}
	victimCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	running := make(chan struct{})
	victimDone := make(chan error, 1)
	go func() {
		victimDone <- s.InTxForTest(victimCtx, func(exec func(string, ...any) error) error {
			if err := exec(`INSERT INTO scratch (k) VALUES ('victim')`); err != nil {
				return err
			}
			close(running)
			// A write long enough to be cancelled halfway through: SQLite rolls back the whole
			// transaction of an interrupted INSERT.
			return exec(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000)
				INSERT INTO bulk (x) SELECT x FROM c`)
		})
	}()
	for s.QueuedWritesForTest() < others/2+1 {
		time.Sleep(time.Millisecond)
	}
	for i := others / 2; i < others; i++ {
		start(i)
	}
	for s.QueuedWritesForTest() < others+1 {
		time.Sleep(time.Millisecond)
	}
	close(hold)
	<-running
	time.Sleep(20 * time.Millisecond)
	cancel()
	victimErr := <-victimDone
	wg.Wait()
	if err := <-gateDone; err != nil {
		t.Fatalf("the first write failed: %v", err)
	}
	for i, err := range results {
		if err != nil {
			t.Errorf("write %d, batched with the cancelled one, failed: %v", i, err)
		}
	}
	kept := map[string]bool{}
	rows, err := s.WriteDB().Query(`SELECT k FROM scratch`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		rows.Scan(&k)
		kept[k] = true
	}
	for i := 0; i < others; i++ {
		if !kept[fmt.Sprint("w", i)] {
			t.Errorf("write %d was answered but is not in the database", i)
		}
	}
	if !kept["gate"] {
		t.Error("the first write is not in the database")
	}
	if kept["victim"] != (victimErr == nil) {
		t.Errorf("cancelled write: answered %v, committed %v", victimErr, kept["victim"])
	}
}
