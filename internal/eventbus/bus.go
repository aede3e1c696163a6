// Package eventbus tells the readers of the event log inside one process (the feed's long polls,
// the websocket hub, the webhook dispatcher) that a project's log has grown. It carries sequence
// numbers only, never events: the log in the database stays the one source, so a reader that
// misses a wake-up, or starts late, loses nothing by reading the log from where it stopped.
package eventbus

import (
	"context"
	"sync"
)

// Bus is safe for concurrent use. The zero value is not usable; call New.
type Bus struct {
	mu       sync.Mutex
	last     map[string]int64         // project id -> highest Seq announced
	waiting  map[string]chan struct{} // project id -> closed at its next Advance
	watchers map[*Watcher]struct{}
}

// New returns an empty Bus.
func New() *Bus {
	return &Bus{last: map[string]int64{}, waiting: map[string]chan struct{}{}, watchers: map[*Watcher]struct{}{}}
}

// Advance announces that the project's log holds every event up to seq. Announcements may come
// out of order or twice (several processes, a replayed notification): the highest one counts.
func (b *Bus) Advance(projectID string, seq int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if seq <= b.last[projectID] {
		return
	}
	b.last[projectID] = seq
	if ch, ok := b.waiting[projectID]; ok {
		close(ch)
		delete(b.waiting, projectID)
	}
	for w := range b.watchers {
		w.mark(projectID)
	}
}

// Last is the highest Seq announced for the project (0: none since the process started).
func (b *Bus) Last(projectID string) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last[projectID]
}

// Wait returns nil once an event above after is announced for the project, or the context's
// error. A caller reads the log, then waits with the last Seq it read: an event committed between
// the two was announced before Wait looks, and Wait returns at once.
func (b *Bus) Wait(ctx context.Context, projectID string, after int64) error {
	for {
		b.mu.Lock()
		if b.last[projectID] > after {
			b.mu.Unlock()
			return nil
		}
		ch, ok := b.waiting[projectID]
		if !ok {
			ch = make(chan struct{})
			b.waiting[projectID] = ch
		}
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Watcher collects the projects whose logs grew since it last looked, for a reader that follows
// every project (the dispatcher, the websocket hub). Wake-ups coalesce: however many events
// arrive, a slow watcher holds one entry per project.
type Watcher struct {
	bus   *Bus
	mu    sync.Mutex
	dirty map[string]struct{}
	ready chan struct{}
}

// Watch starts a Watcher; Close it when done.
func (b *Bus) Watch() *Watcher {
	w := &Watcher{bus: b, dirty: map[string]struct{}{}, ready: make(chan struct{}, 1)}
	b.mu.Lock()
	b.watchers[w] = struct{}{}
	b.mu.Unlock()
	return w
}

func (w *Watcher) mark(projectID string) {
	w.mu.Lock()
	w.dirty[projectID] = struct{}{}
	w.mu.Unlock()
	select {
	case w.ready <- struct{}{}:
	default:
	}
}

// Ready receives a value when Take has something to return.
func (w *Watcher) Ready() <-chan struct{} { return w.ready }

// Take returns the projects that grew since the last Take, and forgets them.
func (w *Watcher) Take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.dirty))
	for p := range w.dirty {
		out = append(out, p)
	}
	clear(w.dirty)
	return out
}

// Close stops the Watcher's collecting.
func (w *Watcher) Close() {
	w.bus.mu.Lock()
	delete(w.bus.watchers, w)
	w.bus.mu.Unlock()
}
