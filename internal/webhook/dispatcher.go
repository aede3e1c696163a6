// Package webhook delivers a project's events to its subscriptions' targets, from the event log:
// per subscription in Seq order, one at a time, retried with backoff and jitter, slowed by a
// circuit breaker while a target fails, signed, and shared between processes through a lease
// kept with each subscription.
package webhook

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/eventbus"
)

// Store is what the dispatcher reads and writes.
type Store interface {
	tiledesk.DeliveryStore
	EventsAfter(ctx context.Context, projectID string, after int64, limit int) ([]*tiledesk.Event, error)
	LastEventSeq(ctx context.Context, projectID string) (int64, error)
}

// Render turns an event into the payload its deliveries carry (the object in the original's shape).
type Render func(ctx context.Context, ev *tiledesk.Event) (json.RawMessage, error)

// Backoff says how long a failing target is left alone.
type Backoff struct {
	// Base is the wait after the first failure; each further consecutive failure doubles it, up to Max.
	Base, Max time.Duration
	// GiveUpAfter is how long after an event happened it is still retried; an attempt failing later
	// is the last, and delivery goes on with the next event.
	GiveUpAfter time.Duration
	// BreakerAfter consecutive failures open the breaker: events already older than GiveUpAfter are
	// then given up without an attempt, so that a target back after a long outage is not made to
	// wait for one probe per stale event.
	BreakerAfter int
}

// DefaultBackoff retries for a day, at most an hour apart.
var DefaultBackoff = Backoff{Base: 2 * time.Second, Max: time.Hour, GiveUpAfter: 24 * time.Hour, BreakerAfter: 5}

// Options configure a Dispatcher; zero values take the defaults.
type Options struct {
	Store  Store
	Events *eventbus.Bus // wakes the dispatcher when a project's log grows in this or, on PostgreSQL, any process
	Render Render        // nil: the payload as stored
	Guard  *Guard        // nil: refuses every private address
	Logger *slog.Logger
	// Now is the dispatcher's clock (time.Now): leases, backoff, give-ups, timestamps.
	Now     func() time.Time
	Backoff Backoff
	// Poll is how often due work is looked for when nothing wakes the dispatcher (1 s): retries
	// coming due, leases of stopped processes expiring, events announced where this process
	// did not hear them.
	Poll time.Duration
	// Timeout bounds one attempt (10 s); Lease how long a subscription stays claimed without a
	// word from its owner (60 s, at least four Timeouts).
	Timeout, Lease time.Duration
	// Workers bounds the subscriptions delivered at once (64).
	Workers int
	// Owner names this dispatcher in leases (host, pid and a random part).
	Owner string
	// SoleProcess says that no other process can deliver from this database (SQLite): the
	// leases found at start are a stopped process's, and are freed rather than waited out.
	SoleProcess bool
	Metrics     prometheus.Registerer
	// Client replaces the guarded HTTP client (tests of the guard itself must not).
	Client *http.Client
	// Sinks deliver in this process the subscriptions whose target they are keyed by (such as
	// InternalBots): the same order, retries, breaker and leases as a target's, without HTTP.
	Sinks map[string]Sink
}

// Sink takes one event of an internal subscription; an error is a failed attempt, retried.
type Sink func(ctx context.Context, sub *tiledesk.Subscription, ev *tiledesk.Event) error

// InternalBots is the target of each project's subscription through which its bots get the
// messages of their conversations.
const InternalBots = tiledesk.InternalBotsTarget

// Dispatcher delivers webhooks until Stop.
type Dispatcher struct {
	opt     Options
	store   Store
	client  *http.Client
	now     func() time.Time
	log     *slog.Logger
	metrics *metrics
	hosts   hostBreakers

	mu sync.Mutex
	// running has the subscriptions (project/id) with a worker in this process, each with the
	// channel that tells it of news since it last looked.
	running map[string]chan struct{}

	loop     context.Context // ends when Stop begins: no new attempts
	stopLoop context.CancelFunc
	work     context.Context // ends when Stop's grace is over: attempts in flight are cut
	stopWork context.CancelFunc
	wg       sync.WaitGroup
}

// New returns a Dispatcher; Start runs it.
func New(opt Options) *Dispatcher {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Backoff == (Backoff{}) {
		opt.Backoff = DefaultBackoff
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.Lease < 4*opt.Timeout {
		opt.Lease = max(60*time.Second, 4*opt.Timeout)
	}
	if opt.Workers <= 0 {
		opt.Workers = 64
	}
	if opt.Owner == "" {
		opt.Owner = newOwner()
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{opt: opt, store: opt.Store, client: opt.Client, now: opt.Now, log: opt.Logger,
		metrics: newMetrics(opt.Metrics), running: map[string]chan struct{}{}, hosts: hostBreakers{hosts: map[string]*hostBreaker{}}}
	if d.client == nil {
		d.client = newClient(opt.Guard, opt.Timeout)
	}
	d.loop, d.stopLoop = context.WithCancel(context.Background())
	d.work, d.stopWork = context.WithCancel(context.Background())
	return d
}

func newOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = crand.Read(b[:])
	return host + "/" + strconv.Itoa(os.Getpid()) + "/" + hex.EncodeToString(b[:])
}

// Start begins delivering in the background.
func (d *Dispatcher) Start() {
	var w *eventbus.Watcher
	if d.opt.Events != nil {
		w = d.opt.Events.Watch()
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if w != nil {
			defer w.Close()
		}
		d.run(w)
	}()
}

// Stop stops looking for work, lets attempts in flight finish for up to grace, then cuts them, and
// returns once every worker has ended. Events not delivered are delivered by the next process
// (their subscriptions' cursors did not move).
func (d *Dispatcher) Stop(grace time.Duration) {
	d.stopLoop()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		d.stopWork()
		<-done
	}
	d.stopWork()
	d.client.CloseIdleConnections() // their goroutines end with the dispatcher
}

func (d *Dispatcher) run(w *eventbus.Watcher) {
	if d.opt.SoleProcess {
		if err := d.store.ReleaseLeases(d.loop); err != nil && d.loop.Err() == nil {
			d.log.Warn("webhooks: freeing the leases of a stopped process failed", "err", err)
		}
	}
	var ready <-chan struct{}
	if w != nil {
		ready = w.Ready()
	}
	tick := time.NewTicker(d.opt.Poll)
	defer tick.Stop()
	d.scan("")
	for {
		select {
		case <-d.loop.Done():
			return
		case <-ready:
			for _, p := range w.Take() {
				d.scan(p)
			}
		case <-tick.C:
			d.scan("")
		}
	}
}

// scanPage bounds the subscriptions one scan starts.
const scanPage = 256

// scan starts a worker for every due subscription of the project ("" for all).
func (d *Dispatcher) scan(projectID string) {
	if projectID == "" {
		// Subscriptions with a worker here are due again as soon as their worker is; leave room.
		d.mu.Lock()
		busy := len(d.running)
		d.mu.Unlock()
		if busy >= d.opt.Workers {
			return
		}
	}
	due, err := d.store.DueSubscriptions(d.loop, projectID, d.opt.Owner, d.now(), scanPage)
	if err != nil {
		if d.loop.Err() == nil {
			d.log.Warn("webhooks: looking for due subscriptions failed", "err", err)
		}
		return
	}
	for _, sub := range due {
		d.start(sub)
	}
}

// start runs a worker for sub unless one runs already (which is then told to look again).
func (d *Dispatcher) start(sub *tiledesk.Subscription) {
	key := sub.ProjectID + "/" + sub.ID
	d.mu.Lock()
	defer d.mu.Unlock()
	if kick, ok := d.running[key]; ok {
		select {
		case kick <- struct{}{}:
		default: // told already
		}
		return
	}
	if len(d.running) >= d.opt.Workers || d.loop.Err() != nil {
		return // the next scan finds it again
	}
	kick := make(chan struct{}, 1)
	d.running[key] = kick
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.worker(key, sub.ProjectID, sub.ID, kick)
	}()
}

// worker delivers one subscription's due work while it holds its lease, then releases it.
func (d *Dispatcher) worker(key, projectID, id string, kick chan struct{}) {
	for {
		d.deliverLeased(projectID, id, kick)
		if err := d.store.ReleaseSubscription(d.work, projectID, id, d.opt.Owner); err != nil && d.work.Err() == nil {
			d.log.Warn("webhooks: releasing a subscription failed", "subscription", id, "err", err)
		}
		d.mu.Lock()
		select {
		case <-kick:
			if d.loop.Err() == nil {
				d.mu.Unlock()
				continue
			}
		default:
		}
		delete(d.running, key)
		d.mu.Unlock()
		return
	}
}

// linger is how long a worker that has delivered everything keeps its lease, waiting for news:
// taking and releasing a lease are writes, which a busy database makes slow.
const linger = time.Second

// deliverLeased takes the subscription's lease and delivers until nothing is due and nothing new
// came for linger.
func (d *Dispatcher) deliverLeased(projectID, id string, kick chan struct{}) {
	now := d.now()
	sub, ok, err := d.store.LeaseSubscription(d.work, projectID, id, d.opt.Owner, now, now.Add(d.opt.Lease))
	if err != nil || !ok {
		if err != nil && d.work.Err() == nil {
			d.log.Warn("webhooks: leasing a subscription failed", "subscription", id, "err", err)
		}
		return
	}
	run := &delivery{d: d, sub: sub, leaseUntil: now.Add(d.opt.Lease), saved: now}
	for err == nil && d.loop.Err() == nil {
		more := true
		for more && err == nil && !run.lost && d.loop.Err() == nil {
			more, err = run.step()
		}
		if err == nil {
			err = run.flush()
		}
		if err == nil && !run.lost {
			_, err = run.renew(d.now()) // a lease kept through many idle waits stays ours
		}
		if err != nil || run.lost || sub.State.NextAttempt.After(d.now()) || !run.wait(kick) {
			break
		}
	}
	if err != nil && d.work.Err() == nil {
		d.log.Warn("webhooks: delivery failed", "subscription", id, "err", err)
	}
}

// wait waits up to linger for news of the subscription; false when none came, or when stopping.
func (r *delivery) wait(kick chan struct{}) bool {
	t := time.NewTimer(linger)
	defer t.Stop()
	select {
	case <-kick:
		return true
	case <-t.C:
	case <-r.d.loop.Done():
	}
	return false
}

// jitter spreads a wait over [w/2, w], so that targets failing together are not retried together.
func jitter(w time.Duration) time.Duration {
	if w <= 0 {
		return 0
	}
	return w/2 + time.Duration(rand.Int64N(int64(w/2)+1))
}
