package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tiledesk-go/tiledesk/internal/sqlite"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

// openSQLite opens a migrated SQLite store in a temporary file, closed when the test ends.
func openSQLite(t *testing.T) *sqlstore.Store { t.Helper(); return openSQLiteWith(t, sqlite.Options{}) }

// openSQLiteQuiet opens a SQLite store whose only commits are the test's: no text merger, whose
// merge steps are commits of the store's own and end whatever it keeps between its writes.
func openSQLiteQuiet(t *testing.T) *sqlstore.Store {
	t.Helper()
	return openSQLiteWith(t, sqlite.Options{TextMergeEvery: -1})
}

func openSQLiteWith(t *testing.T, opt sqlite.Options) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "store.db"), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return s
}
