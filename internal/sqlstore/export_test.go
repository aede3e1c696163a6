package sqlstore

import (
	"context"

	"github.com/tiledesk-go/tiledesk"
)

// InTxForTest runs fn in a write transaction as the store's own writes run (batched on SQLite),
// giving it a way to execute statements.
func (s *Store) InTxForTest(ctx context.Context, fn func(exec func(query string, args ...any) error) error) error {
	return s.inTx(ctx, func(t *tx) error {
		return fn(func(q string, args ...any) error {
			_, err := t.exec(ctx, q, args...)
			return err
		})
	})
}

// PreparedReadsForTest lists the texts of the read statements the store keeps prepared, as run
// (rebound), so that a test can tell which form of a query ran.
func (s *Store) PreparedReadsForTest() []string {
	s.readStmts.mu.RLock()
	defer s.readStmts.mu.RUnlock()
	out := make([]string, 0, len(s.readStmts.m))
	for q := range s.readStmts.m {
		out = append(out, q)
	}
	return out
}

// QueuedWritesForTest is how many writes wait for the group-commit writer (0 without one).
func (s *Store) QueuedWritesForTest() int {
	if s.batch == nil {
		return 0
	}
	return len(s.batch.q.queue)
}

// TextMatchesForTest counts the rows of table (leads or requests) that a search's text condition
// selects on its own, without the project's condition: the rows the index lookup hands to the query
// of a search in projectID.
func (s *Store) TextMatchesForTest(ctx context.Context, table, projectID, text string) (int, error) {
	words := impliedWordsDropped(tiledesk.SearchTerms(text))
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM `+table+` WHERE `+s.dialect.TextMatch(table, "$1"),
		s.dialect.TextQuery(table, projectID, words)).Scan(&n)
	return n, err
}

// SetEventLogOffForTest stops the store writing events, so that a benchmark can price the log
// against the same writes without it.
func (s *Store) SetEventLogOffForTest(off bool) { s.eventLogOff = off }

// QueryForTest runs a read as the store's own reads run, in its turn among those that run at once.
func (s *Store) QueryForTest(ctx context.Context, query string, args ...any) (interface{ Close() error }, error) {
	return s.query(ctx, query, args...)
}
