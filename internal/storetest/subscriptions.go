package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

var subscriptionTests = []struct {
	name string
	fn   func(*testing.T, tiledesk.Store)
}{
	{"Subscriptions", testSubscriptions},
	{"SubscriptionsTenantIsolation", testSubscriptionsTenantIsolation},
	{"SubscriptionLeaseOneOwner", testSubscriptionLeaseOneOwner},
	{"SubscriptionDeliveryState", testSubscriptionDeliveryState},
}

// deliveryStore is s as the webhook dispatcher reads it.
func deliveryStore(t testing.TB, s tiledesk.Store) tiledesk.DeliveryStore {
	for {
		if d, ok := s.(tiledesk.DeliveryStore); ok {
			return d
		}
		wrapper, ok := s.(interface{ Unwrap() tiledesk.Store })
		if !ok {
			t.Fatalf("%T is no tiledesk.DeliveryStore", s)
		}
		s = wrapper.Unwrap()
	}
}

func newSubscription(p *tiledesk.Project, event, target string) *tiledesk.Subscription {
	now := tiledesk.Millis(tiledesk.Now())
	return &tiledesk.Subscription{ID: tiledesk.NewIDAt(now), ProjectID: p.ID, Event: event, Target: target,
		Secret: "s3cret-" + tiledesk.NewID(), CreatedBy: p.CreatedBy, CreatedAt: now, UpdatedAt: now}
}

func mustSubscribe(t *testing.T, s tiledesk.Store, sub *tiledesk.Subscription) *tiledesk.Subscription {
	t.Helper()
	got, created, err := s.CreateSubscription(context.Background(), sub)
	if err != nil || !created {
		t.Fatalf("CreateSubscription = %v, created %v", err, created)
	}
	return got
}

func testSubscriptions(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "hook")
	p, _, _ := mustCreateProject(t, s, owner, "Hooks")
	last := WaitNumbered(t, s, p.ID, 1)
	sub := mustSubscribe(t, s, newSubscription(p, "request.create", "https://example.com/a"))
	if sub.State.Cursor != last {
		t.Errorf("a new subscription's cursor = %d, want the project's last event %d", sub.State.Cursor, last)
	}
	dup := newSubscription(p, "request.create", "https://example.com/a")
	got, created, err := s.CreateSubscription(ctx, dup)
	if err != nil || created || got.ID != sub.ID || got.Secret != sub.Secret {
		t.Fatalf("duplicate: %v created %v id %s, want the existing %s with its secret", err, created, got.ID, sub.ID)
	}
	other := mustSubscribe(t, s, newSubscription(p, "lead.create", "https://example.com/a"))
	list, err := s.FindSubscriptions(ctx, p.ID)
	if err != nil || len(list) != 2 || list[0].ID != sub.ID || list[1].ID != other.ID {
		t.Fatalf("FindSubscriptions = %d, %v", len(list), err)
	}
	target := "https://example.com/b"
	upd, err := s.UpdateSubscription(ctx, p.ID, sub.ID, tiledesk.SubscriptionUpdate{Target: &target})
	if err != nil || upd.Target != target || upd.Event != "request.create" {
		t.Fatalf("UpdateSubscription = %+v, %v", upd, err)
	}
	event := "request.create"
	_, err = s.UpdateSubscription(ctx, p.ID, other.ID, tiledesk.SubscriptionUpdate{Event: &event, Target: &target})
	wantCode(t, err, tiledesk.ECONFLICT)
	read, err := s.FindSubscriptionByID(ctx, p.ID, sub.ID)
	if err != nil || read.Target != target || read.Secret != sub.Secret {
		t.Fatalf("FindSubscriptionByID = %+v, %v", read, err)
	}
	if _, err := s.DeleteSubscription(ctx, p.ID, sub.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.FindSubscriptionByID(ctx, p.ID, sub.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
	_, err = s.DeleteSubscription(ctx, p.ID, sub.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
	for _, name := range []string{tiledesk.EventSubscriptionCreate, tiledesk.EventSubscriptionUpdate, tiledesk.EventSubscriptionDelete} {
		evs := events(t, s, p.ID, name)
		if len(evs) == 0 {
			t.Fatalf("no %s event", name)
		}
		if contains(string(evs[0].Payload), "s3cret") {
			t.Errorf("the %s event shows the secret: %s", name, evs[0].Payload)
		}
	}
}

func testSubscriptionsTenantIsolation(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	a, _, _ := mustCreateProject(t, s, mustCreateUser(t, s, "hooka"), "A")
	b, _, _ := mustCreateProject(t, s, mustCreateUser(t, s, "hookb"), "B")
	sub := mustSubscribe(t, s, newSubscription(a, "lead.create", "https://example.com/a"))
	_, err := s.FindSubscriptionByID(ctx, b.ID, sub.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
	target := "https://evil.example.com"
	_, err = s.UpdateSubscription(ctx, b.ID, sub.ID, tiledesk.SubscriptionUpdate{Target: &target})
	wantCode(t, err, tiledesk.ENOTFOUND)
	_, err = s.DeleteSubscription(ctx, b.ID, sub.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
	_, err = s.FindDeliveries(ctx, b.ID, sub.ID, tiledesk.DeliveryFilter{})
	wantCode(t, err, tiledesk.ENOTFOUND)
	if list, err := s.FindSubscriptions(ctx, b.ID); err != nil || len(list) != 0 {
		t.Fatalf("B lists %d subscriptions, %v", len(list), err)
	}
	// The same event and target in another project is another subscription.
	mustSubscribe(t, s, newSubscription(b, "lead.create", "https://example.com/a"))
}

func testSubscriptionLeaseOneOwner(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	ds := deliveryStore(t, s)
	p, _, _ := mustCreateProject(t, s, mustCreateUser(t, s, "lease"), "Lease")
	sub := mustSubscribe(t, s, newSubscription(p, "lead.create", "https://example.com/a"))
	now := time.Now()
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := ds.LeaseSubscription(ctx, p.ID, sub.ID, string(rune('a'+i)), now, now.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d owners took one lease at once", wins.Load())
	}
	// Once expired, another owner takes it, and the first can no longer write.
	later := now.Add(2 * time.Minute)
	held, ok, err := ds.LeaseSubscription(ctx, p.ID, sub.ID, "z", later, later.Add(time.Minute))
	if err != nil || !ok || held.State.LeaseOwner != "z" {
		t.Fatalf("taking an expired lease: %v %v", ok, err)
	}
	for i := range 8 {
		held.State.Cursor = 99
		if ok, err := ds.SaveSubscriptionState(ctx, held, string(rune('a'+i)), later, nil); ok || err != nil {
			t.Fatalf("a former owner saved state: %v %v", ok, err)
		}
	}
	if err := ds.ReleaseSubscription(ctx, p.ID, sub.ID, "z"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := ds.LeaseSubscription(ctx, p.ID, sub.ID, "y", later, later.Add(time.Minute)); !ok {
		t.Fatal("a released lease is not free")
	}
}

func testSubscriptionDeliveryState(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	ds := deliveryStore(t, s)
	p, _, _ := mustCreateProject(t, s, mustCreateUser(t, s, "due"), "Due")
	sub := mustSubscribe(t, s, newSubscription(p, "lead.create", "https://example.com/a"))
	now := time.Now()
	// Its own subscription.create event is above its cursor: due, with nothing of its name to send.
	WaitNumbered(t, s, p.ID, int64(len(events(t, s, p.ID, ""))))
	if due, err := ds.DueSubscriptions(ctx, p.ID, "me", now, 10); err != nil || !hasSubscription(due, sub.ID) {
		t.Fatalf("not due after its own event: %v", err)
	}
	if evs, err := ds.SubscriptionEvents(ctx, p.ID, "lead.create", sub.State.Cursor, 1<<40, 10); err != nil || len(evs) != 0 {
		t.Fatalf("lead.create events before any lead: %d %v", len(evs), err)
	}
	lead := mustCreateLead(t, s, newLead(p, "Ada", ""))
	last := WaitNumbered(t, s, p.ID, int64(len(events(t, s, p.ID, ""))))
	due, err := ds.DueSubscriptions(ctx, "", "me", now, 1000)
	if err != nil || !hasSubscription(due, sub.ID) {
		t.Fatalf("not due after an event: %v", err)
	}
	evs, err := ds.SubscriptionEvents(ctx, p.ID, "lead.create", sub.State.Cursor, last, 10)
	if err != nil || len(evs) != 1 || evs[0].ObjectID != lead.ID {
		t.Fatalf("SubscriptionEvents = %d, %v", len(evs), err)
	}
	held, ok, err := ds.LeaseSubscription(ctx, p.ID, sub.ID, "me", now, now.Add(time.Minute))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	ev := evs[0]
	for attempt, status := range []string{tiledesk.DeliveryFailed, tiledesk.DeliverySucceeded} {
		d := &tiledesk.Delivery{ID: tiledesk.NewID(), ProjectID: p.ID, SubscriptionID: sub.ID,
			DeliveryID: tiledesk.DeliveryID(sub.ID, ev.Seq), Seq: ev.Seq, Event: ev.Name, Attempt: attempt + 1,
			Status: status, Code: 500 - 300*attempt, Latency: 12 * time.Millisecond, Error: "boom", CreatedAt: now}
		held.State.Attempts = 1 - attempt
		if status == tiledesk.DeliverySucceeded {
			held.State.Cursor = last
		}
		if ok, err := ds.SaveSubscriptionState(ctx, held, "me", now.Add(time.Minute), []*tiledesk.Delivery{d}); !ok || err != nil {
			t.Fatalf("SaveSubscriptionState: %v %v", ok, err)
		}
	}
	if due, _ := ds.DueSubscriptions(ctx, p.ID, "me", now, 10); len(due) != 0 {
		t.Fatal("still due once its cursor reached the last event")
	}
	list, err := s.FindDeliveries(ctx, p.ID, sub.ID, tiledesk.DeliveryFilter{})
	if err != nil || len(list) != 2 || list[0].Status != tiledesk.DeliverySucceeded || list[1].Code != 500 ||
		list[1].Latency != 12*time.Millisecond || list[0].DeliveryID != list[1].DeliveryID {
		t.Fatalf("FindDeliveries = %d, %v", len(list), err)
	}
	page, err := s.FindDeliveries(ctx, p.ID, sub.ID, tiledesk.DeliveryFilter{BeforeID: list[0].ID, Limit: 5})
	if err != nil || len(page) != 1 || page[0].ID != list[1].ID {
		t.Fatalf("the page before the newest = %d, %v", len(page), err)
	}
	wantCode(t, s.Redeliver(ctx, p.ID, sub.ID, tiledesk.DeliveryID(sub.ID, ev.Seq+1000)), tiledesk.ENOTFOUND)
	if err := s.Redeliver(ctx, p.ID, sub.ID, list[0].DeliveryID); err != nil {
		t.Fatal(err)
	}
	queued, err := ds.QueuedRedeliveries(ctx, p.ID, sub.ID, 10)
	if err != nil || len(queued) != 1 || queued[0].Seq != ev.Seq {
		t.Fatalf("QueuedRedeliveries = %v, %v", queued, err)
	}
	if due, _ := ds.DueSubscriptions(ctx, p.ID, "me", now, 10); !hasSubscription(due, sub.ID) {
		t.Fatal("a queued redelivery does not make the subscription due")
	}
}

func hasSubscription(list []*tiledesk.Subscription, id string) bool {
	for _, s := range list {
		if s.ID == id {
			return true
		}
	}
	return false
}
