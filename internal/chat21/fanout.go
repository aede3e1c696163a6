package chat21

import (
	"context"
	"log/slog"
	"sync"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/eventbus"
)

// Delivery is what one inbox gets of an event: a copy of a new message, a receipt of one the
// user sent, or a conversation that leaves the user's list for the archived ones.
type Delivery struct {
	To       string // the inbox's owner
	With     string // the conversation (group, or the other user of a direct chat) it belongs to
	Message  *Message
	Receipt  *Receipt
	Group    any // a group changed: the group, as its members read it
	Archived any // the conversation, archived, when none of the others is set
}

// Receipt tells a message's sender that its recipient's app received it.
type Receipt struct {
	TimelineOf string `json:"timelineOf"`
	MessageID  string `json:"message_id"`
	Status     int    `json:"status"`
}

// Message is a message as the chat21 clients read it in their inboxes.
type Message struct {
	MessageID         string         `json:"message_id"`
	Sender            string         `json:"sender"`
	SenderFullname    string         `json:"sender_fullname"`
	Recipient         string         `json:"recipient"`
	RecipientFullname string         `json:"recipient_fullname"`
	Text              string         `json:"text"`
	Type              string         `json:"type"`
	ChannelType       string         `json:"channel_type"`
	Attributes        map[string]any `json:"attributes,omitempty"`
	Metadata          any            `json:"metadata,omitempty"`
	AppID             string         `json:"app_id"`
	Timestamp         int64          `json:"timestamp"`
	Status            int            `json:"status"`
	TimelineOf        string         `json:"timelineOf"`
	ConversWith       string         `json:"conversWith"`
	// History marks a copy of an earlier message given to a member who joined ("true").
	History string `json:"__history,omitempty"`
}

// Message statuses of the protocol.
const (
	StatusSent      = 100 // the copy on the sender's or the group's own timeline
	StatusDelivered = 150 // the copy in a member's inbox
	StatusReceived  = 200 // the member's client acknowledged it
	StatusReturned  = 250 // the sender's copy, once the recipient's client acknowledged it
)

// Source is what the fan-out reads through the API.
type Source interface {
	// Projects are the projects whose conversations the user may be a member of.
	Projects(ctx context.Context, id *Identity) ([]string, error)
	// Deliveries reads an event of the log: the copies of a new message for its conversation's
	// members, or a conversation archived for those it leaves (none for other events).
	Deliveries(ctx context.Context, ev *tiledesk.Event) ([]Delivery, error)
}

// fanout follows the event logs of the projects whose members are connected to this process and
// delivers each new message to its members' inboxes, whatever process or route wrote it.
type fanout struct {
	broker *Broker
	source Source
	events tiledesk.EventStore
	bus    *eventbus.Bus
	log    *slog.Logger

	watcher  *eventbus.Watcher
	mu       sync.Mutex
	projects map[string]*followed
	users    map[string][]string // a connected user's projects
	kick     chan string
	done     chan struct{}
	wg       sync.WaitGroup
}

type followed struct {
	users int   // connected users who are members
	last  int64 // the last event handed out
}

func newFanout(b *Broker, source Source, events tiledesk.EventStore, bus *eventbus.Bus, log *slog.Logger) *fanout {
	// The watcher is made here, not in run: an event announced before run starts is not missed.
	f := &fanout{broker: b, source: source, events: events, bus: bus, log: log, watcher: bus.Watch(),
		projects: map[string]*followed{}, users: map[string][]string{}, kick: make(chan string, 64), done: make(chan struct{})}
	f.wg.Add(1)
	go f.run()
	return f
}

// close stops the fan-out. A nil fanout (a broker without an event log) does nothing, here and in
// join and leave.
func (f *fanout) close() {
	if f == nil {
		return
	}
	close(f.done)
	f.wg.Wait()
}

// join follows the projects of a user's first connection to this process.
func (f *fanout) join(ctx context.Context, id *Identity) {
	if f == nil {
		return
	}
	pids, err := f.source.Projects(ctx, id)
	if err != nil {
		f.log.Warn("chat21: the projects of a user could not be read", "user", id.UserID, "err", err)
		return
	}
	for _, pid := range pids {
		last, err := f.events.LastEventSeq(ctx, pid)
		if err != nil {
			f.log.Warn("chat21: a project's event log could not be read", "project", pid, "err", err)
			continue
		}
		f.mu.Lock()
		p := f.projects[pid]
		if p == nil {
			p = &followed{last: last}
			f.projects[pid] = p
		}
		p.users++
		f.mu.Unlock()
		// An event committed after last but announced before the project was followed here was
		// not read for it: read the project once more.
		f.follow(pid)
	}
	f.mu.Lock()
	f.users[id.UserID] = pids
	f.mu.Unlock()
}

// leave stops following the projects no connected user is a member of any more.
func (f *fanout) leave(id *Identity) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, pid := range f.users[id.UserID] {
		if p := f.projects[pid]; p != nil {
			if p.users--; p.users <= 0 {
				delete(f.projects, pid)
			}
		}
	}
	delete(f.users, id.UserID)
}

// follow has run read a project's events again.
func (f *fanout) follow(pid string) {
	select {
	case f.kick <- pid:
	case <-f.done:
	}
}

func (f *fanout) run() {
	defer f.wg.Done()
	w := f.watcher
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for {
		var pids []string
		select {
		case <-f.done:
			return
		case <-w.Ready():
			pids = w.Take()
		case pid := <-f.kick:
			pids = []string{pid}
		}
		for _, pid := range pids {
			f.deliver(ctx, pid)
		}
	}
}

// deliver hands out a followed project's events after the last one handed out.
func (f *fanout) deliver(ctx context.Context, pid string) {
	for {
		f.mu.Lock()
		p := f.projects[pid]
		if p == nil {
			f.mu.Unlock()
			return
		}
		from := p.last
		f.mu.Unlock()
		evs, err := f.events.EventsAfter(ctx, pid, from, tiledesk.MaxEventPage)
		if err != nil {
			f.log.Warn("chat21: a project's events could not be read", "project", pid, "err", err)
			return
		}
		for _, ev := range evs {
			ds, err := f.source.Deliveries(ctx, ev)
			if err != nil {
				f.log.Warn("chat21: an event could not be delivered", "project", pid, "seq", ev.Seq, "err", err)
			}
			for _, d := range ds {
				if err := f.broker.deliver(d); err != nil {
					f.log.Warn("chat21: a delivery failed", "user", d.To, "err", err)
				}
			}
			f.mu.Lock()
			if p := f.projects[pid]; p != nil && ev.Seq > p.last {
				p.last = ev.Seq
			}
			f.mu.Unlock()
		}
		if len(evs) < tiledesk.MaxEventPage {
			return
		}
	}
}
