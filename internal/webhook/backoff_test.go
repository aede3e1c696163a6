package webhook

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

func TestBackoffDoublesUpToItsMaxWithJitter(t *testing.T) {
	b := Backoff{Base: 2 * time.Second, Max: time.Minute}
	for n, want := range map[int]time.Duration{1: 2 * time.Second, 2: 4 * time.Second, 3: 8 * time.Second,
		5: 32 * time.Second, 6: time.Minute, 60: time.Minute} {
		if got := b.wait(n); got != want {
			t.Errorf("wait(%d) = %v, want %v", n, got, want)
		}
		for range 100 {
			if j := jitter(want); j < want/2 || j > want {
				t.Fatalf("jitter(%v) = %v, outside [%v, %v]", want, j, want/2, want)
			}
		}
	}
	if DefaultBackoff.GiveUpAfter < 24*time.Hour {
		t.Fatalf("events are retried for %v, not at least a day", DefaultBackoff.GiveUpAfter)
	}
}

// With the breaker open, events already older than the retry window are given up without an
// attempt: a target back after a long outage is not made to wait for one probe per stale event.
// The dispatcher's clock is a day and more ahead of the store's, so every event is stale.
func TestOpenBreakerGivesUpStaleEventsWithoutAttempts(t *testing.T) {
	s := openStore(t, "sqlite", filepath.Join(t.TempDir(), "breaker.db"))
	f := newFixture(t, s, "")
	f.recv.down.Store(true)
	ids := f.leads(t, 10)
	last, _ := s.LastEventSeq(context.Background(), f.p.ID)
	start(t, s, allowLoopback(t), func(o *Options) {
		o.Now = func() time.Time { return time.Now().Add(25 * time.Hour) }
		o.Backoff = Backoff{Base: time.Millisecond, Max: 2 * time.Millisecond, GiveUpAfter: 24 * time.Hour, BreakerAfter: 2}
	})
	waitFor(t, "every event given up", func() bool {
		sub, _ := s.FindSubscriptionByID(context.Background(), f.p.ID, f.sub.ID)
		return sub.State.Cursor >= last
	})
	if n := f.recv.tries.Load(); n != 2 {
		t.Fatalf("the target was tried %d times, want 2 (until the breaker opened)", n)
	}
	var list []*tiledesk.Delivery
	waitFor(t, "every give-up recorded", func() bool {
		list, _ = s.FindDeliveries(context.Background(), f.p.ID, f.sub.ID, tiledesk.DeliveryFilter{})
		return len(list) == len(ids)
	})
	for _, d := range list {
		if d.Status != tiledesk.DeliveryGaveUp {
			t.Fatalf("attempt %+v, want every event given up", d)
		}
	}
}

// A host failing for one subscription slows the others that target it: once the host's breaker
// opens, their events wait without an attempt.
func TestHostBreakerSlowsEverySubscriptionOfAFailingHost(t *testing.T) {
	s := openStore(t, "sqlite", filepath.Join(t.TempDir(), "hosts.db"))
	f := newFixture(t, s, "")
	f.recv.down.Store(true)
	ctx := context.Background()
	subs := []*tiledesk.Subscription{f.sub}
	for _, path := range []string{"/b", "/c", "/d"} {
		now := tiledesk.Now()
		sub, _, err := s.CreateSubscription(ctx, &tiledesk.Subscription{ID: tiledesk.NewIDAt(now), ProjectID: f.p.ID,
			Event: tiledesk.EventLeadCreate, Target: f.recv.srv.URL + path, Secret: "s", CreatedAt: now, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	f.leads(t, 1)
	start(t, s, allowLoopback(t), func(o *Options) {
		o.Workers = 1 // one subscription at a time: the order of the attempts is the test's
		o.Backoff = Backoff{Base: time.Hour, Max: time.Hour, GiveUpAfter: 24 * time.Hour, BreakerAfter: 2}
	})
	waitFor(t, "every subscription waiting", func() bool {
		for _, sub := range subs {
			got, _ := s.FindSubscriptionByID(ctx, f.p.ID, sub.ID)
			if !got.State.NextAttempt.After(time.Now()) {
				return false
			}
		}
		return true
	})
	if n := f.recv.tries.Load(); n != 2 {
		t.Fatalf("the host was tried %d times by %d subscriptions, want 2 (until its breaker opened)", n, len(subs))
	}
}
