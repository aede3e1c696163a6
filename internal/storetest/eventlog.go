package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

var eventLogTests = []struct {
	name string
	fn   func(*testing.T, tiledesk.Store)
}{
	{"EventLogNumbersInOrder", testEventLogNumbersInOrder},
	{"EventLogConcurrentWritersNoGap", testEventLogConcurrentWritersNoGap},
	{"EventLogPerProject", testEventLogPerProject},
}

// WaitNumbered waits until the project's log numbers at least want events (PostgreSQL numbers
// them just after their commit) and returns its last Seq.
func WaitNumbered(t testing.TB, s tiledesk.Store, projectID string, want int64) int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		last, err := s.LastEventSeq(context.Background(), projectID)
		if err != nil {
			t.Fatalf("LastEventSeq: %v", err)
		}
		if last >= want {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log of %s numbers %d events after 10 s, want %d", projectID, last, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func testEventLogNumbersInOrder(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "log")
	p, _, _ := mustCreateProject(t, s, owner, "Log")
	for i := range 5 {
		mustCreateLead(t, s, newLead(p, fmt.Sprintf("Lead %d", i), ""))
	}
	all := events(t, s, p.ID, "")
	last := WaitNumbered(t, s, p.ID, int64(len(all)))
	if last != int64(len(all)) {
		t.Fatalf("LastEventSeq = %d, want one per event: %d", last, len(all))
	}
	got, err := s.EventsAfter(ctx, p.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(all) {
		t.Fatalf("EventsAfter(0) = %d events, want %d", len(got), len(all))
	}
	for i, ev := range got {
		// Writes one after the other are numbered in the order they committed.
		if ev.Seq != int64(i+1) || ev.ID != all[i].ID {
			t.Errorf("event %d: seq %d id %s (%s), want seq %d id %s (%s)", i, ev.Seq, ev.ID, ev.Name, i+1, all[i].ID, all[i].Name)
		}
	}
	page, err := s.EventsAfter(ctx, p.ID, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 || page[0].Seq != 3 || page[1].Seq != 4 {
		t.Errorf("EventsAfter(2, limit 2) = %v, want seqs 3 and 4", seqsOf(page))
	}
	if oldest, err := s.OldestEventSeq(ctx, p.ID); err != nil || oldest != 1 {
		t.Errorf("OldestEventSeq = %d, %v; want 1", oldest, err)
	}
	if none, err := s.LastEventSeq(ctx, tiledesk.NewID()); err != nil || none != 0 {
		t.Errorf("LastEventSeq of a project without events = %d, %v; want 0", none, err)
	}
}

func seqsOf(evs []*tiledesk.Event) []int64 {
	out := make([]int64, len(evs))
	for i, ev := range evs {
		out[i] = ev.Seq
	}
	return out
}

// testEventLogConcurrentWritersNoGap reads the log while many writers add to it: each read
// continues exactly after the last Seq the reader saw, so an event numbered below a Seq already
// seen (a number handed out before a later commit) would show as a gap or a repeat.
func testEventLogConcurrentWritersNoGap(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "logc")
	p, _, _ := mustCreateProject(t, s, owner, "Concurrent log")
	base := WaitNumbered(t, s, p.ID, int64(len(events(t, s, p.ID, ""))))
	const writers, each = 8, 25
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				l := newLead(p, fmt.Sprintf("W%d L%d", w, i), "")
				if _, _, err := s.CreateLead(ctx, l, nil); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	want := base + writers*each
	seen := base
	ids := map[string]bool{}
	deadline := time.Now().Add(20 * time.Second)
	for seen < want {
		if time.Now().After(deadline) {
			t.Fatalf("read %d of %d events in 20 s", seen, want)
		}
		evs, err := s.EventsAfter(ctx, p.ID, seen, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Seq != seen+1 {
				t.Fatalf("after seq %d the log gave %d: a gap or an event numbered out of commit order", seen, ev.Seq)
			}
			if ids[ev.ID] {
				t.Fatalf("event %s read twice", ev.ID)
			}
			ids[ev.ID] = true
			seen = ev.Seq
		}
		if len(evs) == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	<-done
	if err, _ := failed.Load().(error); err != nil {
		t.Fatalf("CreateLead: %v", err)
	}
	if extra, err := s.EventsAfter(ctx, p.ID, seen, 10); err != nil || len(extra) != 0 {
		t.Errorf("after the last event the log gave %v, %v", seqsOf(extra), err)
	}
}

func testEventLogPerProject(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "logp")
	a, _, _ := mustCreateProject(t, s, owner, "A")
	b, _, _ := mustCreateProject(t, s, owner, "B")
	mustCreateLead(t, s, newLead(a, "Only in A", ""))
	WaitNumbered(t, s, a.ID, int64(len(events(t, s, a.ID, ""))))
	lastB := WaitNumbered(t, s, b.ID, int64(len(events(t, s, b.ID, ""))))
	evs, err := s.EventsAfter(ctx, b.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(evs)) != lastB {
		t.Fatalf("B's log holds %d events, numbered up to %d", len(evs), lastB)
	}
	for _, ev := range evs {
		if ev.ProjectID != b.ID {
			t.Errorf("B's log gave an event of %s: %s", ev.ProjectID, ev.Name)
		}
	}
}

// testEventLogPruning removes old events in bounded batches and numbers on from the last Seq.
func testEventLogPruning(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	var mu sync.Mutex
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return at }
	s := newStore(t, clock)
	owner := mustCreateUser(t, s, "prune")
	p, _, _ := mustCreateProject(t, s, owner, "Pruned")
	for i := range 5 {
		mustCreateLead(t, s, newLead(p, fmt.Sprintf("Old %d", i), ""))
	}
	old := WaitNumbered(t, s, p.ID, int64(len(events(t, s, p.ID, ""))))
	mu.Lock()
	at = at.Add(8 * 24 * time.Hour)
	mu.Unlock()
	fresh := mustCreateLead(t, s, newLead(p, "Fresh", ""))
	last := WaitNumbered(t, s, p.ID, old+1)
	cutoff := clock().Add(-7 * 24 * time.Hour)
	total := 0
	for {
		n, err := s.PruneEvents(ctx, cutoff, 2)
		if err != nil {
			t.Fatal(err)
		}
		if n > 2 {
			t.Fatalf("a batch of 2 pruned %d events", n)
		}
		total += n
		if n == 0 {
			break
		}
	}
	if int64(total) < old {
		t.Errorf("pruned %d events, want at least the project's %d old ones", total, old)
	}
	kept, err := s.EventsAfter(ctx, p.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 1 || kept[0].Seq != last || kept[0].ObjectID != fresh.ID {
		t.Fatalf("after pruning the log holds %v, want only the fresh lead's event %d", seqsOf(kept), last)
	}
	if oldest, _ := s.OldestEventSeq(ctx, p.ID); oldest != last {
		t.Errorf("OldestEventSeq = %d, want %d", oldest, last)
	}
	if got, _ := s.LastEventSeq(ctx, p.ID); got != last {
		t.Errorf("LastEventSeq after pruning = %d, want %d", got, last)
	}
	mustCreateLead(t, s, newLead(p, "After", ""))
	if got := WaitNumbered(t, s, p.ID, last+1); got != last+1 {
		t.Errorf("the next event after pruning is numbered %d, want %d", got, last+1)
	}
}
