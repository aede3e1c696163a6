package live

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
)

// Close codes.
const (
	statusGoingAway     = websocket.StatusGoingAway     // the server stops
	statusTryAgainLater = websocket.StatusTryAgainLater // the client did not keep up with its frames
	statusPolicy        = websocket.StatusPolicyViolation
)

// Client is one websocket connection. Its reading runs on one goroutine for the connection's life;
// its writing on a goroutine that runs only while frames wait.
type Client struct {
	h      *Hub
	conn   *websocket.Conn
	id     Identity
	uuid   string
	slot   int // the heartbeat's group (see heartbeatSlots)
	ctx    context.Context
	cancel context.CancelFunc
	// heard is when the client last sent anything (Unix ns); pinged when the hub last pinged it.
	heard, pinged atomic.Int64

	// Guarded by h.mu.
	subs   map[string]*sub
	grants map[string]*Grant // project id -> what the connection may see there

	mu      sync.Mutex // guards what follows
	queue   []json.RawMessage
	queued  int
	writing bool
	closed  bool
	writers sync.WaitGroup
}

// sub is one subscription. While pending (its snapshot or resume is being read), the hub keeps its
// frames aside, to be sent after it.
type sub struct {
	c       *Client
	topic   Topic
	grant   *Grant
	after   int64 // events up to after are not for it (its snapshot or resume covers them)
	pending []pendingFrame
	active  bool
	gone    bool
	// known are the ids of the messages its snapshot showed, whose frames are not sent again:
	// on PostgreSQL an event committed before the snapshot was read may be numbered, and so
	// handed out, after it. Forgotten after two heartbeats.
	known      map[string]struct{}
	knownTicks int
}

type pendingFrame struct {
	frame     json.RawMessage
	messageID string // a message's frame, which its snapshot may already show
}

// Serve runs a connection until it closes; release (from Admit) is called then. It returns at
// once: the connection runs on a goroutine of its own, which Close waits for.
func (h *Hub) Serve(conn *websocket.Conn, id Identity, release func()) {
	ctx, cancel := context.WithCancel(h.ctx)
	c := &Client{h: h, conn: conn, id: id, uuid: uuid.NewString(), ctx: ctx, cancel: cancel,
		subs: map[string]*sub{}, grants: map[string]*Grant{}}
	now := time.Now().UnixNano()
	c.heard.Store(now)
	c.pinged.Store(now)
	conn.SetReadLimit(h.opt.ReadLimit)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		cancel()
		release()
		conn.Close(statusGoingAway, "server shutting down")
		return
	}
	h.clients[c] = struct{}{}
	h.serial++
	c.slot = h.serial % heartbeatSlots
	h.wg.Add(1)
	h.mu.Unlock()
	c.expireAt(id.Expires)
	go func() {
		defer h.wg.Done()
		defer release()
		c.readLoop()
	}()
}

// readLoop reads the client's frames until the connection ends, then forgets the client.
func (c *Client) readLoop() {
	defer func() {
		c.h.removeClient(c)
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		c.cancel()
		c.conn.CloseNow() // ends a closing handshake the client did not answer, and any write
		c.writers.Wait()
	}()
	for {
		typ, data, err := c.conn.Read(c.ctx)
		if err != nil {
			return
		}
		c.heard.Store(time.Now().UnixNano())
		if typ == websocket.MessageText {
			c.handle(data)
		}
	}
}

// clientFrame is what a client sends.
type clientFrame struct {
	Action  string `json:"action"`
	Payload struct {
		Topic   string          `json:"topic"`
		Since   json.RawMessage `json:"since"`
		Message struct {
			Text string `json:"text"`
		} `json:"message"`
	} `json:"payload"`
}

var (
	pongFrame = json.RawMessage(`{"action":"heartbeat","payload":{"message":{"text":"pong"}}}`)
	pingFrame = json.RawMessage(`{"action":"heartbeat","payload":{"message":{"text":"ping"}}}`)
)

// handle answers one client frame. Unknown actions, and the original's publish and broadcast
// (which relayed anything to other subscribers), are ignored.
func (c *Client) handle(data []byte) {
	var f clientFrame
	if json.Unmarshal(data, &f) != nil {
		return
	}
	switch f.Action {
	case "subscribe":
		since, ok := parseSince(f.Payload.Since)
		if t, valid := ParseTopic(f.Payload.Topic); valid && ok {
			c.h.subscribe(c, t, since)
		}
	case "unsubscribe":
		if t, valid := ParseTopic(f.Payload.Topic); valid {
			c.h.unsubscribe(c, t.Name)
		}
	case "heartbeat":
		if f.Payload.Message.Text == "ping" {
			c.send(pongFrame)
		}
	case "me":
		me, _ := json.Marshal(map[string]any{"action": "me", "payload": map[string]any{"id": c.uuid, "userId": nil}})
		c.send(me)
	}
}

// parseSince reads a subscribe's since: absent (nil), or a sequence number as a number or a
// string of digits; false for anything else.
func parseSince(raw json.RawMessage) (*int64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	if raw[0] == '"' {
		raw = bytes.Trim(raw, `"`)
	}
	var n int64
	if json.Unmarshal(raw, &n) != nil || n < 0 {
		return nil, false
	}
	return &n, true
}

// send queues a frame; false when the queue is full (the caller drops the client).
func (c *Client) send(frame json.RawMessage) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return true
	}
	if len(c.queue) >= c.h.opt.MaxQueue || (len(c.queue) > 0 && c.queued+len(frame) > c.h.opt.MaxQueueBytes) {
		return false
	}
	c.queue = append(c.queue, frame)
	c.queued += len(frame)
	if !c.writing {
		c.writing = true
		c.writers.Add(1)
		go c.write()
	}
	return true
}

// write sends the queued frames, each under the write timeout, until the queue is empty.
func (c *Client) write() {
	defer c.writers.Done()
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.closed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		batch := c.queue
		c.queue, c.queued = nil, 0
		c.mu.Unlock()
		for _, f := range batch {
			ctx, cancel := context.WithTimeout(c.ctx, c.h.opt.WriteTimeout)
			err := c.conn.Write(ctx, websocket.MessageText, f)
			cancel()
			if err != nil {
				c.mu.Lock()
				c.writing = false
				c.closed = true
				c.mu.Unlock()
				c.conn.CloseNow()
				return
			}
		}
	}
}

// close closes the connection with a code; its reading then ends and forgets it. It never waits.
func (c *Client) close(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.queue = nil
	c.writers.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.writers.Done()
		c.conn.Close(code, reason)
	}()
}

// subsIn lists the client's subscriptions in a project. Called with h.mu held.
func (c *Client) subsIn(projectID string) []*sub {
	var out []*sub
	for _, s := range c.subs {
		if s.topic.ProjectID == projectID {
			out = append(out, s)
		}
	}
	return out
}
