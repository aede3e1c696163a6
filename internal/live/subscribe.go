package live

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// Why a subscribe that asked to resume got a snapshot instead (the snapshot frame's "resume").
const (
	resumePruned  = "pruned"  // retention removed events the client missed
	resumeTooFar  = "too_far" // more events to read than a snapshot costs
	resumeUnknown = "unknown" // since is past the project's last event
)

// subscribe subscribes c to t, if its membership lets it, and sends the topic's snapshot, or with
// since the frames of every event after since that concerns the topic, then its live frames. A
// refused subscribe is silently not subscribed, as the original.
func (h *Hub) subscribe(c *Client, t Topic, since *int64) {
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	h.mu.Lock()
	_, dup := c.subs[t.Name]
	full := len(c.subs) >= h.opt.MaxTopics
	h.mu.Unlock()
	if dup || full {
		return
	}
	g, err := h.authorize(ctx, c, t)
	if err != nil {
		h.opt.Log.Debug("websocket: subscribe refused", "topic", t.Name, "user", c.id.UserID, "err", err)
		return
	}
	last, err := h.opt.Events.LastEventSeq(ctx, t.ProjectID)
	if err != nil {
		return
	}
	resume := ""
	if since != nil {
		resume, err = h.resumable(ctx, t.ProjectID, *since, last)
		if err != nil {
			return
		}
	}
	var from *int64 // where a resume reads the log from; nil: a snapshot
	if since != nil && resume == "" {
		from = since
	}
	s := &sub{c: c, topic: t, grant: g}
	at, ok := h.register(s, last, from)
	if !ok {
		return
	}
	var frames []json.RawMessage
	var snapshot json.RawMessage
	if from != nil {
		frames, ok = h.catchUp(ctx, s, g, *from, at)
	} else {
		snapshot, err = h.opt.Source.Snapshot(ctx, t, g)
		ok = err == nil
		frames = []json.RawMessage{publishFrame(t.Name, methodCreate, snapshot, at, resume)}
	}
	if !ok {
		h.unsubscribe(c, t.Name)
		return
	}
	h.activate(s, frames, knownMessages(t, snapshot))
}

// knownMessages are the ids of the messages a snapshot of a messages topic shows.
func knownMessages(t Topic, snapshot json.RawMessage) map[string]struct{} {
	if t.Kind != TopicMessages || snapshot == nil {
		return nil
	}
	var msgs []struct {
		ID string `json:"_id"`
	}
	if json.Unmarshal(snapshot, &msgs) != nil || len(msgs) == 0 {
		return nil
	}
	known := make(map[string]struct{}, len(msgs))
	for _, m := range msgs {
		known[m.ID] = struct{}{}
	}
	return known
}

// authorize decides whether c may follow t, by its membership of t's project and the visibility
// of the REST routes, and remembers the grant for the connection.
func (h *Hub) authorize(ctx context.Context, c *Client, t Topic) (*Grant, error) {
	pu, err := h.opt.Source.Member(ctx, t.ProjectID, c.id)
	if err != nil {
		return nil, err
	}
	if !pu.IsActive() {
		return nil, tiledesk.Errorf(tiledesk.ENOTFOUND, "not a member")
	}
	g := &Grant{Member: pu, Visibility: tiledesk.VisibilityOf(pu, c.id.UserID)}
	switch t.Kind {
	case TopicRequest, TopicMessages:
		if _, err := h.opt.Source.Request(ctx, t.ProjectID, t.ID, g.Visibility); err != nil {
			return nil, err
		}
	case TopicProjectUser:
		if t.ID != pu.ID {
			return nil, tiledesk.Errorf(tiledesk.ENOTFOUND, "not the caller's membership")
		}
	}
	h.mu.Lock()
	if old := c.grants[t.ProjectID]; old == nil || old.Member.Role != pu.Role || old.Member.ID != pu.ID {
		c.grants[t.ProjectID] = g
		for _, s := range c.subsIn(t.ProjectID) {
			s.grant = g
		}
	} else {
		g = old
	}
	h.mu.Unlock()
	return g, nil
}

// resumable says why a resume after since cannot be served from the log ("" when it can).
func (h *Hub) resumable(ctx context.Context, pid string, since, last int64) (string, error) {
	switch {
	case since > last:
		return resumeUnknown, nil
	case since == last:
		return "", nil
	case last-since > h.opt.MaxResume:
		return resumeTooFar, nil
	}
	oldest, err := h.opt.Events.OldestEventSeq(ctx, pid)
	if err != nil {
		return "", err
	}
	if oldest == 0 || oldest > since+1 {
		return resumePruned, nil
	}
	return "", nil
}

// register adds a pending subscription and returns the seq up to which the hub has handed out the
// project's events: the subscription's snapshot or resume covers those, the hub the rest. last is
// the project's last event, where the hub starts following a project it did not follow; from is
// where a resume reads the log from (nil for a snapshot). s.after is set here, under h.mu, since
// the hub reads it as soon as s is registered.
func (h *Hub) register(s *sub, last int64, from *int64) (int64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := s.c
	if h.closed || c.isClosed() {
		return 0, false
	}
	pid := s.topic.ProjectID
	p := h.projects[pid]
	if p == nil {
		p = &project{last: last, topics: map[string]map[*sub]struct{}{}}
		h.projects[pid] = p
		defer h.poke(pid) // an event announced before now was not read for it
	}
	subs := p.topics[s.topic.Name]
	if subs == nil {
		subs = map[*sub]struct{}{}
		p.topics[s.topic.Name] = subs
	}
	s.after = p.last
	if from != nil {
		s.after = *from
	}
	subs[s] = struct{}{}
	p.subs++
	c.subs[s.topic.Name] = s
	return p.last, true
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// catchUp renders the frames of the events in (after, upto] that concern s's topic; false when
// s may no longer follow it.
func (h *Hub) catchUp(ctx context.Context, s *sub, g *Grant, after, upto int64) ([]json.RawMessage, bool) {
	var frames []json.RawMessage
	depts := map[string]bool{}
	for after < upto {
		evs, err := h.opt.Events.EventsAfter(ctx, s.topic.ProjectID, after, int(min(upto-after, tiledesk.MaxEventPage)))
		if err != nil || len(evs) == 0 {
			return nil, err == nil
		}
		for _, ev := range evs {
			after = ev.Seq
			it, err := h.opt.Source.Decode(ev)
			if err != nil || it == nil || ev.Seq > upto {
				continue
			}
			if it.Message != nil && s.topic.Kind == TopicRequests && it.Prepare != nil {
				it.Prepare(ctx, g.Visibility.IsVisitor()) // reads the conversation deciding needs
			}
			e := prepared{ev: ev, it: it, restricted: h.restrictedFresh(ctx, depts, s.topic.ProjectID, it)}
			d := decide(s.topic, g, &e)
			if d.drop {
				return nil, false
			}
			if d.method == "" {
				continue
			}
			if it.Prepare != nil {
				it.Prepare(ctx, g.Visibility.IsVisitor())
			}
			render := it.Render
			if d.conversation {
				render = it.RenderConversation
			}
			if msg := render(g.Visibility.IsVisitor()); msg != nil {
				frames = append(frames, publishFrame(s.topic.Name, d.method, msg, ev.Seq, ""))
			}
		}
	}
	return frames, true
}

// restrictedFresh is restricted for a reader other than the hub's goroutine, with its own cache.
func (h *Hub) restrictedFresh(ctx context.Context, cache map[string]bool, pid string, it *Item) bool {
	conv := it.conversation()
	if conv == nil || conv.DepartmentID == "" {
		return false
	}
	if r, ok := cache[conv.DepartmentID]; ok {
		return r
	}
	r, err := h.opt.Source.Restricted(ctx, pid, conv.DepartmentID)
	r = r || err != nil
	cache[conv.DepartmentID] = r
	return r
}

// activate sends a subscription's first frames, then what the hub kept aside meanwhile, and lets
// the hub send to it directly from then on. A message the snapshot already shows is not sent again.
func (h *Hub) activate(s *sub, frames []json.RawMessage, known map[string]struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.gone {
		return
	}
	for _, p := range s.pending {
		if _, dup := known[p.messageID]; !dup || p.messageID == "" {
			frames = append(frames, p.frame)
		}
	}
	for _, f := range frames {
		if !s.c.send(f) {
			h.dropLocked(s.c)
			return
		}
	}
	s.pending, s.active, s.known = nil, true, known
}

// sendLocked hands a frame to a subscriber, or keeps it aside while the subscription is pending.
// A client whose queue is full is dropped. Called with h.mu held.
func (h *Hub) sendLocked(s *sub, frame json.RawMessage, it *Item) {
	if !s.active {
		if len(s.pending) >= h.opt.MaxQueue {
			h.dropLocked(s.c)
			return
		}
		p := pendingFrame{frame: frame}
		if it.Message != nil {
			p.messageID = it.Message.ID
		}
		s.pending = append(s.pending, p)
		return
	}
	if it.Message != nil && s.known != nil {
		if _, dup := s.known[it.Message.ID]; dup {
			return
		}
	}
	if !s.c.send(frame) {
		h.dropLocked(s.c)
	}
}

// dropLocked closes a client that does not keep up, and forgets it. Called with h.mu held.
func (h *Hub) dropLocked(c *Client) {
	h.opt.Log.Info("websocket: dropping a client that does not read its frames", "user", c.id.UserID, "address", c.id.Address)
	c.close(statusTryAgainLater, "too slow: reconnect and resume")
	h.forgetLocked(c)
}

// removeClient forgets a closed connection.
func (h *Hub) removeClient(c *Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.forgetLocked(c)
}

func (h *Hub) forgetLocked(c *Client) {
	for _, s := range c.subs {
		h.unsubscribeLocked(s)
	}
	delete(h.clients, c)
}

// unsubscribe ends c's subscription to a topic, if any.
func (h *Hub) unsubscribe(c *Client, name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := c.subs[name]; s != nil {
		h.unsubscribeLocked(s)
	}
}

// unsubscribeLocked ends a subscription. Called with h.mu held.
func (h *Hub) unsubscribeLocked(s *sub) {
	if s.gone {
		return
	}
	s.gone = true
	delete(s.c.subs, s.topic.Name)
	pid := s.topic.ProjectID
	p := h.projects[pid]
	if p == nil {
		return
	}
	if subs := p.topics[s.topic.Name]; subs != nil {
		delete(subs, s)
		if len(subs) == 0 {
			delete(p.topics, s.topic.Name)
		}
	}
	if p.subs--; p.subs <= 0 {
		delete(h.projects, pid)
	}
	if len(s.c.subsIn(pid)) == 0 {
		delete(s.c.grants, pid)
	}
}

// recheck authorizes again, with a member's new grant, its connection's subscriptions to
// conversations of the project, and ends those it no longer sees. Called with h.mu held; the
// reading runs on a goroutine of its own.
func (h *Hub) recheck(c *Client, pid string, g *Grant) {
	var topics []Topic
	for _, s := range c.subsIn(pid) {
		if s.topic.Kind == TopicRequest || s.topic.Kind == TopicMessages {
			topics = append(topics, s.topic)
		}
	}
	if len(topics) == 0 || h.closed {
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for _, t := range topics {
			_, err := h.opt.Source.Request(c.ctx, pid, t.ID, g.Visibility)
			if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
				h.unsubscribe(c, t.Name)
			}
		}
	}()
}

// heartbeat pings the clients of a slot, and closes those that sent nothing since their
// previous ping.
func (h *Hub) heartbeat(slot int) {
	now := time.Now().UnixNano()
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		if c.slot != slot {
			continue
		}
		if c.heard.Load() < c.pinged.Load() {
			c.close(statusPolicy, "no heartbeat")
			h.forgetLocked(c)
			continue
		}
		c.pinged.Store(now)
		for _, s := range c.subs {
			if s.known != nil {
				if s.knownTicks++; s.knownTicks >= 2 {
					s.known = nil
				}
			}
		}
		if !c.send(pingFrame) {
			h.dropLocked(c)
		}
	}
}
