package sqlstore

import (
	"context"
	"fmt"

	"github.com/tiledesk-go/tiledesk"
)

// batcher is group commit for an engine with one writer (SQLite): the write transactions that
// queue while one runs are run together in one database transaction, each inside its own savepoint,
// and committed with one fsync. A caller is answered only after that commit, so a write that
// returned is durable; a failing write rolls back to its savepoint and leaves the others alone.
type batcher struct {
	s *Store
	q *opQueue[*batchOp]
}

type batchOp struct {
	ctx  context.Context
	fn   func(*tx) error
	done chan error
}

// maxBatch bounds how many writes share a commit, and so how long the first one waits for it.
const maxBatch = 64

func newBatcher(s *Store) *batcher {
	b := &batcher{s: s}
	b.q = newOpQueue(maxBatch, b.commit, func(op *batchOp) { op.done <- errClosed })
	return b
}

// do runs fn in the next batch and waits for its commit.
func (b *batcher) do(ctx context.Context, fn func(*tx) error) error {
	op := &batchOp{ctx: ctx, fn: fn, done: make(chan error, 1)}
	if err := b.q.put(ctx, op); err != nil {
		return err
	}
	// Once queued, the op runs (unless its context ends before its turn): waiting for the commit
	// regardless of ctx keeps "answered" and "committed" the same thing.
	return await(b.q, op.done, errClosed)
}

func (b *batcher) close() { b.q.close() }

// commit runs a batch in one transaction.
func (b *batcher) commit(batch []*batchOp) {
	// The transaction ignores the callers' contexts, and so do the statements the writes run in it
	// (tx.shared): a cancelled INSERT, UPDATE or DELETE inside an explicit SQLite transaction rolls
	// the whole transaction back, and with it the others' writes, which were then answered as
	// committed. The rule for a caller whose context ends: before its turn, its write is not run
	// and it gets the context's error; once its turn has come, its write runs to the end and it
	// gets the batch's outcome, as if it had not been cancelled. Either way the answer is true.
	ctx := context.Background()
	results := make([]error, len(batch))
	var unprepared []string
	var events []*tiledesk.Event // of the writes that succeeded, in order
	finish := func(commitErr error) {
		for i, op := range batch {
			if commitErr != nil && results[i] == nil {
				results[i] = commitErr
			}
			op.done <- results[i]
		}
		for _, q := range unprepared {
			b.s.writeStmts.prepare(ctx, q)
		}
	}
	sqlTx, err := b.s.write.BeginTx(ctx, nil)
	if err != nil {
		for i := range results {
			results[i] = fmt.Errorf("begin: %w", err)
		}
		finish(nil)
		return
	}
	for i, op := range batch {
		if err := op.ctx.Err(); err != nil {
			results[i] = err // gave up before its turn: not run
			continue
		}
		t := &tx{Tx: sqlTx, s: b.s, now: b.s.stamp(), shared: ctx}
		if _, err := sqlTx.ExecContext(ctx, `SAVEPOINT write_op`); err != nil {
			results[i] = fmt.Errorf("savepoint: %w", err)
			continue
		}
		err := runGuarded(t, op.fn)
		unprepared = append(unprepared, t.unprepared...)
		if err != nil {
			if _, rbErr := sqlTx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT write_op`); rbErr != nil {
				// The transaction is unusable: fail the whole batch.
				_ = sqlTx.Rollback()
				for j := range results {
					if results[j] == nil {
						results[j] = fmt.Errorf("rollback to savepoint: %w", rbErr)
					}
				}
				results[i] = err
				finish(nil)
				return
			}
			results[i] = err
		} else {
			events = append(events, t.events...)
		}
		if _, err := sqlTx.ExecContext(ctx, `RELEASE SAVEPOINT write_op`); err != nil {
			_ = sqlTx.Rollback()
			finish(fmt.Errorf("release savepoint: %w", err))
			return
		}
	}
	err = sqlTx.Commit()
	b.s.committed() // before the writers hear of it
	if err != nil {
		finish(fmt.Errorf("commit: %w", err))
		return
	}
	b.s.eventsCommitted(events) // before the writers hear of it, as the commit count
	finish(nil)
}

// runGuarded runs fn, turning a panic into an error so that one bad write cannot take the batch down.
func runGuarded(t *tx, fn func(*tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	return fn(t)
}
