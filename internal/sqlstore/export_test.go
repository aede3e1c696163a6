package sqlstore

import "context"

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
