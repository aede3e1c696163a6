// Package live serves the original server's websocket: a client subscribes to topics of a project
// (its open conversations, one conversation, a conversation's messages, its own membership) and
// receives a snapshot of each, then every change as it is committed. It follows the event log:
// one hub per process reads the new events of the projects that have subscribers, once, and hands
// each subscriber the frames it may see. Every live frame carries its event's sequence number, and
// a subscribe that gives the last one a client saw resumes from the log with no gap. The hub never
// waits on a client: each has a bounded queue, and a client that lets it fill is dropped.
package live

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/eventbus"
)

// Identity is who a connection authenticated as.
type Identity struct {
	UserID  string // a registered user's id, or a visitor's uuid
	Guest   bool   // a guest or custom-token visitor, whose membership is found by its uuid
	Address string // the client's address, for the per-address connection cap
	Scope   string // the one project a custom-token visitor may act in; "" for any
	// Generation is the registered user's token generation the token carries; Expires the token's
	// expiry (zero: none). See sessions.go.
	Generation int64
	Expires    time.Time
}

// Grant is what a connection may see of one project: its membership there and the visibility
// that follows (tiledesk.VisibilityOf, the rule of the REST routes).
type Grant struct {
	Member     *tiledesk.ProjectUser
	Visibility *tiledesk.Visibility
}

// Item is an event decoded for delivery: the object it is about, one of them set.
type Item struct {
	Request      *tiledesk.Request
	Message      *tiledesk.Message
	ProjectUser  *tiledesk.ProjectUser
	DepartmentID string // a department's event
	// Render is the frame's message for agents (visitor false) or for the conversation's
	// visitor; nil when that audience sees nothing of the event. It is called under the hub's lock
	// and must not block.
	Render func(visitor bool) json.RawMessage
	// Prepare, when set, reads what Render then answers for an audience (a conversation
	// populated, as the original publishes it); called outside the lock before Render. Render
	// falls back to the event's own payload when it was not called or failed.
	Prepare func(ctx context.Context, visitor bool)
	// Conversation is, for a new message, the conversation it was written in as Prepare read it
	// (nil when Prepare was not called or could not read it); RenderConversation its frame for an
	// audience, nil when that audience sees nothing of the message. The project's list topic
	// announces every new message with it, so that a list keeps last messages and unread counts.
	Conversation       *tiledesk.Request
	RenderConversation func(visitor bool) json.RawMessage
}

// conversation is the conversation an event is about or was written in; nil when unknown.
func (it *Item) conversation() *tiledesk.Request {
	if it.Request != nil {
		return it.Request
	}
	return it.Conversation
}

// Source is what the hub reads through the API: memberships, conversations and the original's
// shapes.
type Source interface {
	// Member is the membership id acts with in the project, whatever its status; ENOTFOUND when
	// there is none.
	Member(ctx context.Context, projectID string, id Identity) (*tiledesk.ProjectUser, error)
	// Request reads a conversation if v sees it; ENOTFOUND otherwise.
	Request(ctx context.Context, projectID, requestID string, v *tiledesk.Visibility) (*tiledesk.Request, error)
	// Restricted says whether a department restricts its conversations to a group.
	Restricted(ctx context.Context, projectID, departmentID string) (bool, error)
	// Snapshot renders a topic's initial message for a grant.
	Snapshot(ctx context.Context, t Topic, g *Grant) (json.RawMessage, error)
	// Decode reads an event for delivery; nil for an event no topic follows.
	Decode(ev *tiledesk.Event) (*Item, error)
}

// Options configure a Hub; zero values take the defaults in brackets.
type Options struct {
	Bus    *eventbus.Bus
	Events tiledesk.EventStore
	Source Source
	Log    *slog.Logger

	Ping          time.Duration // heartbeat interval [30s]; a client silent for a whole interval is closed
	WriteTimeout  time.Duration // one frame's write [10s]
	MaxQueue      int           // frames waiting for one client [1024]
	MaxQueueBytes int           // bytes waiting for one client [16 MiB]
	MaxTopics     int           // subscriptions of one connection [256]
	MaxPerUser    int           // connections of one user or visitor [64]
	MaxPerAddress int           // connections from one client address [1024]
	ReadLimit     int64         // one client frame [64 KiB]
	MaxResume     int64         // events a resume may read before a snapshot is cheaper [10000]
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxQueue, 1024)
	def(&o.MaxQueueBytes, 16<<20)
	def(&o.MaxTopics, 256)
	def(&o.MaxPerUser, 64)
	def(&o.MaxPerAddress, 1024)
	if o.Ping <= 0 {
		o.Ping = 30 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = 64 << 10
	}
	if o.MaxResume <= 0 {
		o.MaxResume = 10000
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
}

// heartbeatSlots is how many groups of clients the heartbeat visits in turn.
const heartbeatSlots = 30

// ErrTooMany refuses a connection over the per-user or per-address cap.
var ErrTooMany = errors.New("too many websocket connections")

// Hub follows the event log and serves every connection of the process.
type Hub struct {
	opt     Options
	ctx     context.Context
	cancel  context.CancelFunc
	watcher *eventbus.Watcher
	stop    chan struct{}  // closed by Close: the hub's goroutine ends
	wg      sync.WaitGroup // the hub's goroutine, every connection's and every recheck's

	kickMu sync.Mutex
	kicked map[string]struct{} // projects to read again though the bus did not move
	kickc  chan struct{}

	mu       sync.Mutex
	closed   bool
	projects map[string]*project // projects with subscribers
	clients  map[*Client]struct{}
	perUser  map[string]int
	perAddr  map[string]int
	serial   int // numbers the clients, which the heartbeat visits by their number

	depts map[string]map[string]bool // project -> department -> restricted; the hub's goroutine only
	// usersLast is the last event of the log of no project (users' events) the hub has read; the
	// hub's goroutine only.
	usersLast int64
}

// project is the hub's state of a project with subscribers.
type project struct {
	last   int64 // every event up to last has been handed to the subscribers
	topics map[string]map[*sub]struct{}
	subs   int
}

// New starts a hub; Close stops it.
func New(opt Options) *Hub {
	opt.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{opt: opt, ctx: ctx, cancel: cancel, watcher: opt.Bus.Watch(), kicked: map[string]struct{}{},
		kickc: make(chan struct{}, 1), stop: make(chan struct{}), projects: map[string]*project{}, clients: map[*Client]struct{}{},
		perUser: map[string]int{}, perAddr: map[string]int{}, depts: map[string]map[string]bool{}}
	// Users' events from now on: sockets connect with tokens valid now.
	if last, err := opt.Events.LastEventSeq(ctx, ""); err == nil {
		h.usersLast = last
	} else {
		opt.Log.Warn("websocket: reading the users' log failed", "err", err)
	}
	h.wg.Add(1)
	go h.run()
	return h
}

// Close closes every connection (going away) and waits for the hub's goroutines to end.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	for c := range h.clients {
		c.close(statusGoingAway, "server shutting down")
	}
	h.mu.Unlock()
	close(h.stop)
	h.watcher.Close()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeWait):
		h.cancel() // clients that did not answer the close: their connections are cut
		<-done
	}
	h.cancel()
}

// closeWait is how long Close lets clients answer the closing handshake.
const closeWait = 2 * time.Second

// Stats counts the connections and subscriptions, for metrics and benchmarks.
func (h *Hub) Stats() (connections, subscriptions int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.projects {
		subscriptions += p.subs
	}
	return len(h.clients), subscriptions
}

// Admit counts a connection against its caps before its upgrade; release gives it back.
func (h *Hub) Admit(id Identity) (release func(), err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrTooMany
	}
	if h.perUser[id.UserID] >= h.opt.MaxPerUser || h.perAddr[id.Address] >= h.opt.MaxPerAddress {
		return nil, ErrTooMany
	}
	h.perUser[id.UserID]++
	h.perAddr[id.Address]++
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.perUser[id.UserID]--; h.perUser[id.UserID] <= 0 {
				delete(h.perUser, id.UserID)
			}
			if h.perAddr[id.Address]--; h.perAddr[id.Address] <= 0 {
				delete(h.perAddr, id.Address)
			}
		})
	}, nil
}

// poke has the hub read a project's log again.
func (h *Hub) poke(projectID string) {
	h.kickMu.Lock()
	h.kicked[projectID] = struct{}{}
	h.kickMu.Unlock()
	select {
	case h.kickc <- struct{}{}:
	default:
	}
}

func (h *Hub) takeKicked() []string {
	h.kickMu.Lock()
	defer h.kickMu.Unlock()
	out := make([]string, 0, len(h.kicked))
	for p := range h.kicked {
		out = append(out, p)
	}
	clear(h.kicked)
	return out
}

// run follows the bus until Close, and keeps the heartbeat.
func (h *Hub) run() {
	defer h.wg.Done()
	// The heartbeat visits a thirtieth of the clients at each tick, so that each is pinged once per
	// interval and ten thousand pings are not written in one burst.
	ticker := time.NewTicker(h.opt.Ping / heartbeatSlots)
	defer ticker.Stop()
	tick := 0
	for {
		select {
		case <-h.stop:
			return
		case <-ticker.C:
			tick++
			h.heartbeat(tick % heartbeatSlots)
			continue
		case <-h.watcher.Ready():
		case <-h.kickc:
		}
		if h.isClosed() {
			return
		}
		for _, pid := range append(h.watcher.Take(), h.takeKicked()...) {
			if pid == "" {
				h.followUsers()
				continue
			}
			h.follow(pid)
		}
	}
}

func (h *Hub) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// follow reads the project's events after the last one handed out and hands them out, a page at
// a time; a project without subscribers is not read.
func (h *Hub) follow(pid string) {
	for {
		h.mu.Lock()
		p := h.projects[pid]
		if p == nil {
			h.mu.Unlock()
			delete(h.depts, pid)
			return
		}
		from := p.last
		h.mu.Unlock()
		evs, err := h.opt.Events.EventsAfter(h.ctx, pid, from, tiledesk.MaxEventPage)
		if err != nil {
			if h.ctx.Err() == nil {
				h.opt.Log.Warn("websocket: reading the event log failed; retrying", "project", pid, "err", err)
				time.AfterFunc(time.Second, func() { h.poke(pid) })
			}
			return
		}
		if len(evs) == 0 {
			return
		}
		batch := h.prepare(pid, evs)
		h.mu.Lock()
		if h.projects[pid] != p { // every subscriber left meanwhile (and some came back, from elsewhere)
			h.mu.Unlock()
			return
		}
		for _, e := range batch {
			if e.ev.Seq > p.last {
				h.deliver(p, e)
				p.last = e.ev.Seq
			}
		}
		h.mu.Unlock()
		if len(evs) < tiledesk.MaxEventPage {
			return
		}
	}
}

// prepared is an event decoded, with whether its conversation's department is restricted.
type prepared struct {
	ev         *tiledesk.Event
	it         *Item
	restricted bool
}

// prepare decodes a page of events and looks up, outside the lock, what deciding who sees them
// needs.
func (h *Hub) prepare(pid string, evs []*tiledesk.Event) []prepared {
	cache := h.depts[pid]
	if cache == nil {
		cache = map[string]bool{}
		h.depts[pid] = cache
	}
	out := make([]prepared, 0, len(evs))
	for _, ev := range evs {
		it, err := h.opt.Source.Decode(ev)
		if err != nil {
			h.opt.Log.Warn("websocket: an event could not be read", "project", pid, "seq", ev.Seq, "err", err)
		}
		if it == nil {
			continue
		}
		if it.DepartmentID != "" {
			delete(cache, it.DepartmentID)
		}
		if it.Prepare != nil {
			agents, visitors := h.audiences(pid, it)
			if agents {
				it.Prepare(h.ctx, false)
			}
			if visitors {
				it.Prepare(h.ctx, true)
			}
		}
		out = append(out, prepared{ev: ev, it: it, restricted: h.restricted(cache, pid, it)})
	}
	return out
}

// audiences says whether agents and visitors subscribe to the topics an event concerns.
func (h *Hub) audiences(pid string, it *Item) (agents, visitors bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.projects[pid]
	if p == nil {
		return false, false
	}
	for _, name := range topicsOf(pid, it) {
		for s := range p.topics[name] {
			if s.grant.Visibility.IsVisitor() {
				visitors = true
			} else {
				agents = true
			}
		}
	}
	return agents, visitors
}

// restricted says whether the department of an event's conversation restricts it, from cache
// (which department events clear) or the store.
func (h *Hub) restricted(cache map[string]bool, pid string, it *Item) bool {
	conv := it.conversation()
	if conv == nil || conv.DepartmentID == "" {
		return false
	}
	dep := conv.DepartmentID
	if r, ok := cache[dep]; ok {
		return r
	}
	r, err := h.opt.Source.Restricted(h.ctx, pid, dep)
	if err != nil {
		return true // unknown: the agents it restricts from may not be shown the conversation
	}
	cache[dep] = r
	return r
}

// Following is the seq up to which the hub has handed out a project's events (0 when it follows
// none of them), for tests that must know a frame was queued.
func (h *Hub) Following(projectID string) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p := h.projects[projectID]; p != nil {
		return p.last
	}
	return 0
}
