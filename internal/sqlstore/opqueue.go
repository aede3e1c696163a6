package sqlstore

import (
	"context"
	"errors"
	"sync"
)

// opQueue hands the operations callers put in it to one runner, in batches: whatever queued while
// the runner was busy goes together, up to max. Group commit on SQLite, and on PostgreSQL the
// replies' reads and writes, are such batches.
type opQueue[T any] struct {
	queue  chan T
	stop   chan struct{}
	exited chan struct{} // closed when the runner has returned: nothing queued will run any more
	once   sync.Once
}

var errClosed = errors.New("store closed")

// newOpQueue starts the runner, which passes each batch to run and, once the queue is closed,
// what is still queued to refuse.
func newOpQueue[T any](max int, run func([]T), refuse func(T)) *opQueue[T] {
	q := &opQueue[T]{queue: make(chan T, 4*max), stop: make(chan struct{}), exited: make(chan struct{})}
	go func() {
		defer close(q.exited)
		runBatches(q.queue, q.stop, max, run, refuse)
	}()
	return q
}

// put queues op, unless the queue is closed or ctx ends first.
func (q *opQueue[T]) put(ctx context.Context, op T) error {
	select {
	case <-q.stop:
		return errClosed
	default:
	}
	select {
	case q.queue <- op:
		return nil
	case <-q.exited:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// await waits for the answer to an operation put in q, whatever the caller's context: once queued
// an operation is run or refused, so that a write's caller hears "done" only of what was done.
// closed answers an operation queued after the runner's last look.
func await[T, R any](q *opQueue[T], done <-chan R, closed R) R {
	select {
	case r := <-done:
		return r
	case <-q.exited:
		select {
		case r := <-done: // answered just before the runner stopped
			return r
		default:
			return closed
		}
	}
}

func (q *opQueue[T]) close() {
	q.once.Do(func() { close(q.stop) })
	<-q.exited
}

// runBatches takes what queue holds, as much of it at once as is there up to max, and hands it to
// run, until stop closes; then it refuses what is still queued.
func runBatches[T any](queue chan T, stop chan struct{}, max int, run func([]T), refuse func(T)) {
	for {
		var first T
		select {
		case first = <-queue:
		case <-stop:
			for {
				select {
				case op := <-queue:
					refuse(op)
				default:
					return
				}
			}
		}
		batch := []T{first}
	gather:
		for len(batch) < max {
			select {
			case op := <-queue:
				batch = append(batch, op)
			default:
				break gather
			}
		}
		run(batch)
	}
}
