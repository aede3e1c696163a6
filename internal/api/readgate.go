package api

import (
	"context"
	"net/http"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// readGate lets a bounded number of reads (GET and HEAD) run their handlers at once and makes the
// others wait in arrival order. On SQLite a read is CPU work over memory-mapped pages: past the
// number of cores, more reads at once only share the cores, and who gets them next is left to the
// Go scheduler and to database/sql, which hands a freed connection to a random waiter. Under load
// that lottery, not the work, made the slowest answers: in line, each read waits about as long as
// the others. Writes are not gated: they wait on the single writer and on the disk, not on a core.
// A held-back answer is sent after the handler returns, so a slow client never holds a place.
type readGate struct {
	sem     *semaphore.Weighted // FIFO: Acquire serves waiters in order
	waiting atomic.Int64
}

// newReadGate admits n reads at once; n <= 0 admits any number (nil gate).
func newReadGate(n int) *readGate {
	if n <= 0 {
		return nil
	}
	return &readGate{sem: semaphore.NewWeighted(int64(n))}
}

// gated reports whether r waits at the gate: reads do, except streamed exports, whose batches
// wait each in turn (inLine), and connection upgrades (websockets), which would hold their place
// for as long as the client stays.
func (g *readGate) gated(r *http.Request, streamed bool) bool {
	return g != nil && !streamed && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		r.Header.Get("Upgrade") == ""
}

// run waits for a place, runs fn and gives the place back. A caller that goes away while waiting
// gets errGaveUp and fn does not run.
func (g *readGate) run(ctx context.Context, fn func() error) error {
	g.waiting.Add(1)
	err := g.sem.Acquire(ctx, 1)
	g.waiting.Add(-1)
	if err != nil {
		return errGaveUp
	}
	defer g.sem.Release(1)
	return fn()
}

// inLine runs fn as run does, or at once where reads are not gated (a nil gate): an export's
// batches wait their turn as other reads do, each holding a place only while it reads.
func (g *readGate) inLine(ctx context.Context, fn func() error) error {
	if g == nil {
		return fn()
	}
	return g.run(ctx, fn)
}

// errGaveUp answers a read whose client went away before its turn; nobody reads it but the log.
var errGaveUp = errMsg(http.StatusServiceUnavailable, "The request was cancelled while it waited for its turn.")

// waitingNow is the number of reads waiting, for the metrics.
func (g *readGate) waitingNow() float64 {
	if g == nil {
		return 0
	}
	return float64(g.waiting.Load())
}
