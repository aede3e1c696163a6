package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

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
