package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// Reads at once. Where the database serves many connections (PostgreSQL), every read statement
// the pool lets through runs at once on the database's cores: with a dozen running on a few cores,
// each takes several times its own time, and database/sql hands a freed connection to a random
// waiter, so that some reads wait many turns in a row: under load a search's p99 was five times
// its median. So the store lets a bounded number of read statements run at once (SetActiveReads)
// and queues the others in arrival order; writes do not queue behind them.
//
// A read holds its place from its statement's start until its rows are closed (or its one row
// scanned). Like a pooled connection, a place is never held while waiting for another: the store
// reads nothing while it iterates a read's rows.

// readGate is a queue of reads in arrival order with a bounded number of places; a nil gate lets
// every read through at once.
type readGate struct {
	places chan struct{}
	waits  atomic.Int64 // reads that found no free place
	waited atomic.Int64 // nanoseconds they waited, in all
}

func newReadGate(n int) *readGate {
	if n <= 0 {
		return nil
	}
	return &readGate{places: make(chan struct{}, n)}
}

// enter waits for a place, in arrival order (a channel's blocked senders are served first come,
// first served), or until ctx ends.
func (g *readGate) enter(ctx context.Context) error {
	if g == nil {
		return nil
	}
	select {
	case g.places <- struct{}{}: // a free place: no one waits while one is free
		return nil
	default:
	}
	g.waits.Add(1)
	start := time.Now()
	defer func() { g.waited.Add(int64(time.Since(start))) }()
	select {
	case g.places <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// leaver returns the function that gives the place back, once however often it is called.
func (g *readGate) leaver() func() {
	if g == nil {
		return func() {}
	}
	return sync.OnceFunc(func() { <-g.places })
}

// SetActiveReads bounds the read statements the store runs at once to n (0 or less: no bound).
// Call it before use.
func (s *Store) SetActiveReads(n int) { s.gate = newReadGate(n) }

// ReadQueue reports the bound on reads at once (0: none), how many reads waited for a place since
// the store opened, and how long they waited in all.
func (s *Store) ReadQueue() (places int, waits int64, waited time.Duration) {
	if s.gate == nil {
		return 0, 0, 0
	}
	return cap(s.gate.places), s.gate.waits.Load(), time.Duration(s.gate.waited.Load())
}

// rowSource is what reading rows needs: *sql.Rows inside a transaction, *readRows outside.
type rowSource interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// readRows are a read's rows, giving back the read's place when closed.
type readRows struct {
	*sql.Rows
	leave func()
}

// Close closes the rows and gives back their place.
func (r *readRows) Close() error {
	err := r.Rows.Close()
	r.leave()
	return err
}

// readRow is a read of one row, as sql.Row, giving back the read's place once scanned.
type readRow struct {
	rows *readRows
	err  error
}

// Scan copies the row's columns into dest as sql.Row.Scan does: sql.ErrNoRows when there is none.
func (r *readRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	return r.rows.Close()
}
