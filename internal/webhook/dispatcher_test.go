package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/eventbus"
	"github.com/tiledesk-go/tiledesk/internal/pgtest"
	"github.com/tiledesk-go/tiledesk/internal/postgres"
	"github.com/tiledesk-go/tiledesk/internal/sqlite"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

// forEachEngine runs test on SQLite and, when TILEDESK_TEST_POSTGRES names a server, PostgreSQL.
func forEachEngine(t *testing.T, test func(t *testing.T, open func() *sqlstore.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "hooks.db")
		var once sync.Once
		var s *sqlstore.Store
		test(t, func() *sqlstore.Store { // one process holds a SQLite file: every open is that one
			once.Do(func() { s = openStore(t, "sqlite", path) })
			return s
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.FreshSchema(t)
		test(t, func() *sqlstore.Store { return openStore(t, "postgres", dsn) })
	})
}

func openStore(t *testing.T, engine, where string) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	var s *sqlstore.Store
	var err error
	if engine == "sqlite" {
		s, err = sqlite.Open(ctx, where, sqlite.Options{Synchronous: "OFF"})
	} else {
		s, err = postgres.Open(ctx, where, postgres.Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// received is one delivery a receiver accepted.
type received struct {
	seq      int64
	delivery string
	event    string
	object   string
	hook     map[string]any
}

// receiver is a webhook target that checks every signature and can be taken down.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret atomic.Pointer[string]
	down   atomic.Bool
	block  chan struct{} // when set, requests wait for it to close
	mu     sync.Mutex
	got    []received
	tries  atomic.Int64
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.tries.Add(1)
	if r.block != nil {
		<-r.block
	}
	if r.down.Load() {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	raw, _ := io.ReadAll(req.Body)
	secret := *r.secret.Load()
	if err := verify(secret, req.Header.Get("X-Tiledesk-Signature"), raw, time.Now()); err != nil {
		r.t.Errorf("signature: %v", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if req.Header.Get("X-Hook-Secret") != secret || req.Header.Get("User-Agent") != "tiledesk-webhooks" ||
		req.Header.Get("Content-Type") != "application/json" {
		r.t.Errorf("headers: %v", req.Header)
	}
	var b struct {
		Timestamp int64          `json:"timestamp"`
		Payload   map[string]any `json:"payload"`
		Hook      map[string]any `json:"hook"`
		Token     string         `json:"token"`
	}
	if err := json.Unmarshal(raw, &b); err != nil || b.Timestamp == 0 {
		r.t.Errorf("body %s: %v", raw, err)
	}
	checkToken(r.t, b.Token, secret, b.Hook)
	seq, _ := strconv.ParseInt(req.Header.Get("X-Tiledesk-Event-Seq"), 10, 64)
	object, _ := b.Payload["ID"].(string)
	r.mu.Lock()
	r.got = append(r.got, received{seq: seq, delivery: req.Header.Get("X-Tiledesk-Delivery"),
		event: req.Header.Get("X-Tiledesk-Event"), object: object, hook: b.Hook})
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) deliveries() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// verify is the receiver's check of X-Tiledesk-Signature, as docs/events.md shows it.
func verify(secret, header string, body []byte, now time.Time) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return fmt.Errorf("stale or missing timestamp in %q", header)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return fmt.Errorf("signature %q, want %q", sig, want)
	}
	return nil
}

func checkToken(t *testing.T, token, secret string, hook map[string]any) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return []byte(secret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithSubject("subscription"),
		jwt.WithAudience("https://tiledesk.com/subscriptions/"+fmt.Sprint(hook["_id"])))
	if err != nil {
		t.Errorf("token: %v", err)
	}
	if _, ok := hook["secret"]; ok {
		t.Errorf("the hook shows its secret: %v", hook)
	}
}

// fixture is a project with one subscription to lead.create at a receiver.
type fixture struct {
	store *sqlstore.Store
	p     *tiledesk.Project
	sub   *tiledesk.Subscription
	recv  *receiver
}

func newFixture(t *testing.T, s *sqlstore.Store, target string) *fixture {
	t.Helper()
	ctx := context.Background()
	now := tiledesk.Now()
	u := &tiledesk.User{ID: tiledesk.NewID(), Email: tiledesk.NewID() + "@example.com", PasswordHash: "x",
		Status: tiledesk.UserActive, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	p := tiledesk.NewProject("Hooks", u.ID, now)
	pu := tiledesk.NewProjectUser(p.ID, tiledesk.RoleOwner, u.ID, now)
	pu.UserID = u.ID
	if err := s.CreateProject(ctx, p, pu, tiledesk.NewDefaultDepartment(p.ID, u.ID, now)); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: s, p: p, recv: newReceiver(t)}
	if target == "" {
		target = f.recv.srv.URL + "/hook"
	}
	sub := &tiledesk.Subscription{ID: tiledesk.NewIDAt(now), ProjectID: p.ID, Event: tiledesk.EventLeadCreate,
		Target: target, Secret: "whsec-" + tiledesk.NewID(), CreatedBy: u.ID, CreatedAt: now, UpdatedAt: now}
	got, _, err := s.CreateSubscription(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	f.sub = got
	f.recv.secret.Store(&got.Secret)
	return f
}

func (f *fixture) leads(t *testing.T, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		l := &tiledesk.Lead{ID: tiledesk.NewID(), ProjectID: f.p.ID, LeadID: fmt.Sprintf("l-%s-%d", tiledesk.NewID(), i),
			Fullname: fmt.Sprintf("Lead %d", i), Tags: []string{}, Status: tiledesk.LeadActive}
		if _, _, err := f.store.CreateLead(context.Background(), l, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, l.ID)
	}
	return ids
}

var quickBackoff = Backoff{Base: 5 * time.Millisecond, Max: 40 * time.Millisecond, GiveUpAfter: 24 * time.Hour, BreakerAfter: 5}

func start(t *testing.T, s *sqlstore.Store, guard *Guard, adjust func(*Options)) *Dispatcher {
	t.Helper()
	bus := eventbus.New()
	s.OnEvents(bus.Advance)
	opt := Options{Store: s, Events: bus, Guard: guard, Backoff: quickBackoff, Poll: 10 * time.Millisecond,
		Timeout: 2 * time.Second}
	if adjust != nil {
		adjust(&opt)
	}
	d := New(opt)
	d.Start()
	t.Cleanup(func() { d.Stop(time.Second) })
	return d
}

func allowLoopback(t *testing.T) *Guard {
	g, err := ParseAllow("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkInOrder checks that got holds the leads' events, each once, in Seq order.
func checkInOrder(t *testing.T, f *fixture, got []received, ids []string) {
	t.Helper()
	if len(got) != len(ids) {
		t.Fatalf("received %d deliveries, want %d", len(got), len(ids))
	}
	for i, r := range got {
		if r.object != ids[i] || r.event != tiledesk.EventLeadCreate {
			t.Fatalf("delivery %d is %s of %s, want lead.create of %s", i, r.event, r.object, ids[i])
		}
		if i > 0 && r.seq <= got[i-1].seq {
			t.Fatalf("delivery %d has Seq %d after %d", i, r.seq, got[i-1].seq)
		}
		if r.delivery != tiledesk.DeliveryID(f.sub.ID, r.seq) {
			t.Fatalf("delivery id %q for Seq %d", r.delivery, r.seq)
		}
	}
}

func TestReceiverDownThenBackGetsEveryEventInOrder(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open func() *sqlstore.Store) {
		s := open()
		f := newFixture(t, s, "")
		f.recv.down.Store(true)
		start(t, s, allowLoopback(t), nil)
		ids := f.leads(t, 20)
		waitFor(t, "several failed attempts", func() bool { return f.recv.tries.Load() >= 4 })
		f.recv.down.Store(false)
		waitFor(t, "every event delivered", func() bool { return len(f.recv.deliveries()) >= len(ids) })
		checkInOrder(t, f, f.recv.deliveries(), ids)

		// The last success is recorded just after the receiver has it.
		var list []*tiledesk.Delivery
		waitFor(t, "every success recorded", func() bool {
			var err error
			if list, err = s.FindDeliveries(context.Background(), f.p.ID, f.sub.ID, tiledesk.DeliveryFilter{Limit: 200}); err != nil {
				t.Fatal(err)
			}
			return len(list) > 0 && list[0].Status == tiledesk.DeliverySucceeded && list[0].Seq == f.recv.deliveries()[len(ids)-1].seq
		})
		first := tiledesk.DeliveryID(f.sub.ID, f.recv.deliveries()[0].seq)
		var failed, succeeded int
		for _, d := range list {
			switch {
			case d.Status == tiledesk.DeliveryFailed && d.DeliveryID == first && d.Code == http.StatusServiceUnavailable:
				failed++
			case d.Status == tiledesk.DeliverySucceeded:
				succeeded++
			}
		}
		if failed < 3 || succeeded != len(ids) {
			t.Fatalf("deliveries: %d failed attempts at the first event (want at least 3, one id), %d successes", failed, succeeded)
		}
	})
}

func TestTwoDispatchersDeliverEachEventOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open func() *sqlstore.Store) {
		a, b := open(), open()
		f := newFixture(t, a, "")
		start(t, a, allowLoopback(t), func(o *Options) { o.Owner = "a" })
		start(t, b, allowLoopback(t), func(o *Options) { o.Owner = "b" })
		ids := f.leads(t, 100)
		waitFor(t, "every event delivered", func() bool { return len(f.recv.deliveries()) >= len(ids) })
		time.Sleep(50 * time.Millisecond) // a duplicate would arrive now
		checkInOrder(t, f, f.recv.deliveries(), ids)
	})
}

func TestRedeliverSendsTheEventAgainWithItsDeliveryID(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open func() *sqlstore.Store) {
		s := open()
		f := newFixture(t, s, "")
		start(t, s, allowLoopback(t), nil)
		ids := f.leads(t, 3)
		waitFor(t, "every event delivered", func() bool { return len(f.recv.deliveries()) >= len(ids) })
		again := f.recv.deliveries()[1]
		waitFor(t, "the successes recorded", func() bool {
			list, _ := s.FindDeliveries(context.Background(), f.p.ID, f.sub.ID, tiledesk.DeliveryFilter{})
			return len(list) == len(ids)
		})
		if err := s.Redeliver(context.Background(), f.p.ID, f.sub.ID, again.delivery); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the redelivery", func() bool { return len(f.recv.deliveries()) == len(ids)+1 })
		if got := f.recv.deliveries()[len(ids)]; got.delivery != again.delivery || got.object != ids[1] {
			t.Fatalf("redelivered %s of %s, want %s of %s", got.delivery, got.object, again.delivery, ids[1])
		}
		var list []*tiledesk.Delivery
		waitFor(t, "the redelivery recorded", func() bool {
			list, _ = s.FindDeliveries(context.Background(), f.p.ID, f.sub.ID, tiledesk.DeliveryFilter{})
			return len(list) == 4
		})
		if !list[0].Redelivery || list[0].Status != tiledesk.DeliverySucceeded {
			t.Fatalf("deliveries after a redelivery: %d, newest %+v", len(list), list[0])
		}
	})
}

func TestPrivateTargetsRefusedUnlessAllowed(t *testing.T) {
	s := openStore(t, "sqlite", filepath.Join(t.TempDir(), "ssrf.db"))
	// localhost passes as a name; its address is refused when the connection is made.
	f := newFixture(t, s, "")
	byName := strings.Replace(f.recv.srv.URL, "127.0.0.1", "localhost", 1) + "/hook"
	if _, err := s.UpdateSubscription(context.Background(), f.p.ID, f.sub.ID, tiledesk.SubscriptionUpdate{Target: &byName}); err != nil {
		t.Fatal(err)
	}
	g, _ := ParseAllow("")
	start(t, s, g, nil)
	f.leads(t, 1)
	waitFor(t, "a refused attempt", func() bool {
		list, _ := s.FindDeliveries(context.Background(), f.p.ID, f.sub.ID, tiledesk.DeliveryFilter{})
		return len(list) > 0 && strings.Contains(list[len(list)-1].Error, ErrRefusedAddress.Error())
	})
	if n := f.recv.tries.Load(); n != 0 {
		t.Fatalf("the receiver on 127.0.0.1 was reached %d times", n)
	}
}

func TestStopWaitsForTheAttemptInFlightAndLosesNothing(t *testing.T) {
	s := openStore(t, "sqlite", filepath.Join(t.TempDir(), "stop.db"))
	f := newFixture(t, s, "")
	f.recv.block = make(chan struct{})
	d := New(Options{Store: s, Guard: allowLoopback(t), Backoff: quickBackoff, Poll: 10 * time.Millisecond, Timeout: 5 * time.Second})
	d.Start()
	f.leads(t, 1)
	waitFor(t, "the attempt in flight", func() bool { return f.recv.tries.Load() == 1 })
	d.Stop(20 * time.Millisecond) // the grace ends before the receiver answers
	close(f.recv.block)
	sub, err := s.FindSubscriptionByID(context.Background(), f.p.ID, f.sub.ID)
	if err != nil || sub.State.Cursor != f.sub.State.Cursor {
		t.Fatalf("the cursor moved past an event cut in flight: %d -> %d (%v)", f.sub.State.Cursor, sub.State.Cursor, err)
	}
	// The next dispatcher delivers it.
	start(t, s, allowLoopback(t), nil)
	waitFor(t, "the event delivered after the restart", func() bool { return len(f.recv.deliveries()) == 1 })
}

func TestGiveUpAfterTheRetryWindowThenGoOn(t *testing.T) {
	s := openStore(t, "sqlite", filepath.Join(t.TempDir(), "giveup.db"))
	f := newFixture(t, s, "")
	f.recv.down.Store(true)
	start(t, s, allowLoopback(t), func(o *Options) {
		o.Backoff = Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond, GiveUpAfter: 300 * time.Millisecond, BreakerAfter: 1000}
	})
	ids := f.leads(t, 2)
	last, _ := s.LastEventSeq(context.Background(), f.p.ID)
	waitFor(t, "both events given up", func() bool {
		sub, _ := s.FindSubscriptionByID(context.Background(), f.p.ID, f.sub.ID)
		return sub.State.Cursor >= last
	})
	list, _ := s.FindDeliveries(context.Background(), f.p.ID, f.sub.ID, tiledesk.DeliveryFilter{Limit: 200})
	gaveUp := 0
	for _, d := range list {
		if d.Status == tiledesk.DeliveryGaveUp {
			gaveUp++
		}
	}
	if gaveUp != len(ids) {
		t.Fatalf("%d deliveries given up, want %d", gaveUp, len(ids))
	}
	f.recv.down.Store(false)
	more := f.leads(t, 1)
	waitFor(t, "the next event delivered", func() bool { return len(f.recv.deliveries()) == 1 })
	if got := f.recv.deliveries()[0].object; got != more[0] {
		t.Fatalf("delivered %s, want the new lead %s", got, more[0])
	}
}

func TestSoleProcessFreesTheLeaseOfAStoppedProcess(t *testing.T) {
	s := openStore(t, "sqlite", filepath.Join(t.TempDir(), "sole.db"))
	f := newFixture(t, s, "")
	now := time.Now()
	// A process killed while delivering left its lease for an hour.
	if _, ok, err := s.LeaseSubscription(context.Background(), f.p.ID, f.sub.ID, "killed", now, now.Add(time.Hour)); !ok || err != nil {
		t.Fatal(ok, err)
	}
	ids := f.leads(t, 2)
	start(t, s, allowLoopback(t), func(o *Options) { o.SoleProcess = true })
	waitFor(t, "the events delivered at once", func() bool { return len(f.recv.deliveries()) == len(ids) })
	checkInOrder(t, f, f.recv.deliveries(), ids)
}

func TestCustomEventSubscriptionGetsOnlyItsName(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open func() *sqlstore.Store) {
		s := open()
		f := newFixture(t, s, "")
		ctx := context.Background()
		event := "event.emit.pricing:viewed"
		if _, err := s.UpdateSubscription(ctx, f.p.ID, f.sub.ID, tiledesk.SubscriptionUpdate{Event: &event}); err != nil {
			t.Fatal(err)
		}
		start(t, s, allowLoopback(t), nil)
		var want []string
		for i, name := range []string{"pricing:viewed", "cart", "pricing:viewed"} {
			id := tiledesk.NewID()
			payload := fmt.Sprintf(`{"ID":%q,"name":%q,"n":%d}`, id, name, i)
			if err := s.AddCustomEvent(ctx, f.p.ID, id, json.RawMessage(payload)); err != nil {
				t.Fatal(err)
			}
			if name == "pricing:viewed" {
				want = append(want, id)
			}
		}
		waitFor(t, "the custom events of its name", func() bool { return len(f.recv.deliveries()) >= len(want) })
		time.Sleep(50 * time.Millisecond) // another one would arrive now
		got := f.recv.deliveries()
		if len(got) != len(want) || got[0].object != want[0] || got[1].object != want[1] || got[0].event != tiledesk.EventCustom {
			t.Fatalf("delivered %+v, want the events %v", got, want)
		}
	})
}

// A redelivery of the event being retried delivers it, and the retries stop: it is not sent twice.
func TestRedeliveringTheEventBeingRetriedSendsItOnce(t *testing.T) {
	s := openStore(t, "sqlite", filepath.Join(t.TempDir(), "head.db"))
	f := newFixture(t, s, "")
	f.recv.down.Store(true)
	start(t, s, allowLoopback(t), func(o *Options) {
		o.Backoff = Backoff{Base: time.Hour, Max: time.Hour, GiveUpAfter: 24 * time.Hour, BreakerAfter: 100}
	})
	ids := f.leads(t, 1)
	var failed []*tiledesk.Delivery
	waitFor(t, "a failed attempt", func() bool {
		failed, _ = s.FindDeliveries(context.Background(), f.p.ID, f.sub.ID, tiledesk.DeliveryFilter{})
		return len(failed) == 1
	})
	f.recv.down.Store(false)
	if err := s.Redeliver(context.Background(), f.p.ID, f.sub.ID, failed[0].DeliveryID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the redelivery", func() bool { return len(f.recv.deliveries()) == 1 })
	more := f.leads(t, 1) // delivered next: the retried event is not sent again before it
	waitFor(t, "the next event", func() bool { return len(f.recv.deliveries()) >= 2 })
	time.Sleep(50 * time.Millisecond)
	got := f.recv.deliveries()
	if len(got) != 2 || got[0].object != ids[0] || got[1].object != more[0] {
		t.Fatalf("delivered %+v, want %s once then %s", got, ids[0], more[0])
	}
}
