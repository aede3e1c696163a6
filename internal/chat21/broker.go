package chat21

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/eventbus"
	"golang.org/x/time/rate"
)

// Path is where the MQTT websocket is served, as the official deployments proxy it.
const Path = "/mqws/ws"

// Handler is what the broker asks of the API.
type Handler interface {
	// Admit checks, at connection, that the token's identity may still act (its account exists,
	// its password did not change since); an error refuses the connection.
	Admit(ctx context.Context, id *Identity) error
	// Send posts a message id published, from address, on its outgoing topic to recipient (a
	// group's id, the request_id of a conversation; or a user's, for a direct chat).
	Send(ctx context.Context, id *Identity, address, recipient string, m *Outgoing) error
	// Presence says that a user's first connection to this process came (online) or its last one
	// went.
	Presence(ctx context.Context, id *Identity, online bool)
	// Heartbeat is called every Options.Heartbeat while the broker runs: the users connected here
	// are still so.
	Heartbeat(ctx context.Context)
	// Read records that the user read a conversation (its read mark, {"is_new":false}).
	Read(ctx context.Context, id *Identity, with string) error
	// Receive records that the user's app received a message of the conversation with (a
	// receipt, {"status":200}).
	Receive(ctx context.Context, id *Identity, with, messageID string) error
	// Archive records that the user archived a conversation in its own list, and answers the
	// conversation as it now is in the user's archived list.
	Archive(ctx context.Context, id *Identity, with string) (any, error)
	Source
}

// Outgoing is a message as a client publishes it.
type Outgoing struct {
	Text              string         `json:"text"`
	Type              string         `json:"type"`
	SenderFullname    string         `json:"sender_fullname"`
	RecipientFullname string         `json:"recipient_fullname"`
	ChannelType       string         `json:"channel_type"`
	Attributes        map[string]any `json:"attributes"`
	Metadata          map[string]any `json:"metadata"`
}

// Options configure a Broker; zero values take the defaults in brackets.
type Options struct {
	Tokens  *Tokens
	Handler Handler
	Events  tiledesk.EventStore // the log the inboxes' messages are read from
	Bus     *eventbus.Bus       // announces the projects' new events
	Log     *slog.Logger
	// MaxPacket bounds a packet a client sends, in bytes [256 KiB].
	MaxPacket int
	// MaxPerUser and MaxPerAddress bound the connections of one user and from one client address
	// [64, 1024]: more are refused.
	MaxPerUser, MaxPerAddress int
	// PublishRate bounds what one connection publishes, per second, with bursts of three seconds'
	// worth [20]; what exceeds it is dropped.
	PublishRate float64
	// SendTimeout bounds the posting of one message [10s].
	SendTimeout time.Duration
	// Recheck is how often open connections are checked again [1m]: one whose token expired, or
	// whose identity the API no longer admits (a password changed, an account deleted), is closed.
	Recheck time.Duration
	// Heartbeat is how often Handler.Heartbeat is called [30s].
	Heartbeat time.Duration
}

// Broker is the MQTT broker of the chat21 clients, in the server's process.
type Broker struct {
	opt    Options
	server *mqtt.Server
	fanout *fanout
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	closeOnce sync.Once // Close may be called more than once
	closeErr  error

	mu      sync.Mutex
	clients map[*mqtt.Client]*connection
	online  map[string]int // connections by user id
	perAddr map[string]int // connections by client address
}

// connection is an authenticated client connection.
type connection struct {
	id      *Identity
	addr    string
	publish *rate.Limiter
}

// New starts a broker. Close stops it and ends its connections (once: a second Close does nothing).
func New(opt Options) (*Broker, error) {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.MaxPacket <= 0 {
		opt.MaxPacket = 256 << 10
	}
	if opt.SendTimeout <= 0 {
		opt.SendTimeout = 10 * time.Second
	}
	if opt.MaxPerUser <= 0 {
		opt.MaxPerUser = 64
	}
	if opt.MaxPerAddress <= 0 {
		opt.MaxPerAddress = 1024
	}
	if opt.PublishRate <= 0 {
		opt.PublishRate = 20
	}
	if opt.Recheck <= 0 {
		opt.Recheck = time.Minute
	}
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = 30 * time.Second
	}
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = uint32(opt.MaxPacket)
	caps.MaximumClientWritesPending = 1024 // a client that reads nothing is dropped, not buffered
	caps.MaximumSessionExpiryInterval = 60 // a session a client asked to keep: a minute at most
	caps.MaximumInflight = 64              // clients publish at QoS 0; their wills are QoS 1
	caps.Compatibilities.ObscureNotAuthorized = true
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Capabilities: caps,
		Logger: slog.New(warnings{opt.Log.Handler()}).With("component", "mqtt"), SysTopicResendInterval: 3600})
	ctx, cancel := context.WithCancel(context.Background())
	b := &Broker{opt: opt, server: srv, ctx: ctx, cancel: cancel,
		clients: map[*mqtt.Client]*connection{}, online: map[string]int{}, perAddr: map[string]int{}}
	if err := srv.AddHook(&hook{b: b}, nil); err != nil {
		cancel()
		return nil, err
	}
	if err := srv.Serve(); err != nil {
		cancel()
		return nil, err
	}
	if opt.Events != nil && opt.Bus != nil {
		b.fanout = newFanout(b, opt.Handler, opt.Events, opt.Bus, opt.Log)
	}
	b.wg.Add(2)
	go b.every(b.opt.Recheck, b.recheckAll)
	go b.every(b.opt.Heartbeat, b.heartbeat)
	return b, nil
}

// every runs do every d until the broker closes.
func (b *Broker) every(d time.Duration, do func()) {
	defer b.wg.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
			do()
		}
	}
}

// recheckAll closes the connections whose token expired or whose identity the API no longer
// admits. A failure to read (the database away) closes none.
func (b *Broker) recheckAll() {
	b.mu.Lock()
	conns := make(map[*mqtt.Client]*Identity, len(b.clients))
	for cl, c := range b.clients {
		conns[cl] = c.id
	}
	b.mu.Unlock()
	refused := map[*Identity]error{}
	for cl, id := range conns {
		err, checked := refused[id]
		if !checked {
			err = b.recheck(id)
			refused[id] = err
		}
		if err != nil {
			b.opt.Log.Info("chat21: closing a connection", "user", id.UserID, "err", err)
			cl.Stop(err)
		}
	}
}

// heartbeat tells the handler the broker still runs.
func (b *Broker) heartbeat() {
	ctx, cancel := context.WithTimeout(b.ctx, b.opt.SendTimeout)
	defer cancel()
	b.opt.Handler.Heartbeat(ctx)
}

// errTokenExpired closes a connection whose token expired.
var errTokenExpired = errors.New("chat21: the token expired")

// recheck says why a connection's identity may no longer be connected (nil: it may).
func (b *Broker) recheck(id *Identity) error {
	if !id.Expires.IsZero() && time.Now().After(id.Expires) {
		return errTokenExpired
	}
	ctx, cancel := context.WithTimeout(b.ctx, b.opt.SendTimeout)
	defer cancel()
	err := b.opt.Handler.Admit(ctx, id)
	switch tiledesk.ErrorCode(err) {
	case tiledesk.EUNAUTHORIZED, tiledesk.ENOTFOUND, tiledesk.EFORBIDDEN:
		return err
	}
	return nil
}

// Close ends every connection, and the reading of the event logs.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		b.cancel()
		b.closeErr = b.server.Close()
		b.fanout.close()
		b.wg.Wait()
	})
	return b.closeErr
}

// ServeHTTP upgrades a request to an MQTT connection over a websocket (subprotocol mqtt).
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Any origin: the widget runs in other sites' pages, and the token in CONNECT is the credential.
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"mqtt"}, InsecureSkipVerify: true})
	if err != nil {
		return // Accept answered the client
	}
	if c.Subprotocol() != "mqtt" {
		c.Close(websocket.StatusPolicyViolation, "the subprotocol must be mqtt")
		return
	}
	c.SetReadLimit(int64(b.opt.MaxPacket) + 16)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(b.ctx, cancel)
	defer stop()
	conn := remoteConn{websocket.NetConn(ctx, c, websocket.MessageBinary), r.RemoteAddr}
	err = b.server.EstablishConnection("ws", conn)
	if err != nil && !errors.Is(err, context.Canceled) {
		b.opt.Log.Debug("chat21: connection ended", "address", r.RemoteAddr, "err", err)
	}
}

// warnings passes on the MQTT server's warnings and errors only: its information (starting,
// stopping, each hook) is not the server's log's business.
type warnings struct{ slog.Handler }

func (w warnings) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}

func (w warnings) WithAttrs(as []slog.Attr) slog.Handler { return warnings{w.Handler.WithAttrs(as)} }
func (w warnings) WithGroup(g string) slog.Handler       { return warnings{w.Handler.WithGroup(g)} }

// remoteConn is a websocket's connection, with the address of its HTTP request (the API resolves
// it behind trusted proxies), which the MQTT server records as the client's.
type remoteConn struct {
	net.Conn
	addr string
}

func (c remoteConn) RemoteAddr() net.Addr { return remoteAddr(c.addr) }

type remoteAddr string

func (a remoteAddr) Network() string { return "websocket" }
func (a remoteAddr) String() string  { return string(a) }

// Deliver publishes a message to a user's inbox, to the connections of this process that follow it.
func (b *Broker) Deliver(uid, with string, msg any) error {
	return b.publish(messageAdded(uid, with), msg)
}

// deliver publishes a delivery: a message added, or a conversation that leaves the user's list
// (clientdeleted) for the archived ones (clientadded), as the original archives.
func (b *Broker) deliver(d Delivery) error {
	if d.Message != nil {
		return b.Deliver(d.To, d.With, d.Message)
	}
	if d.Receipt != nil {
		return b.publish(messageUpdated(d.To, d.With, d.Receipt.MessageID), d.Receipt)
	}
	if d.Group != nil {
		return b.publish(groupUpdated(d.To, d.With), d.Group)
	}
	if err := b.publish(conversationDeleted(d.To, d.With), d.Archived); err != nil {
		return err
	}
	return b.publish(archivedAdded(d.To, d.With), d.Archived)
}

func (b *Broker) publish(topic string, v any) error {
	payload, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.server.Publish(topic, payload, false, 0)
}

// connectionOf is what a connection authenticated as; nil before it did.
func (b *Broker) connectionOf(cl *mqtt.Client) *connection {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.clients[cl]
}

// identity is who a connection authenticated as; nil before it did.
func (b *Broker) identity(cl *mqtt.Client) *Identity {
	if c := b.connectionOf(cl); c != nil {
		return c.id
	}
	return nil
}

// errTooManyConnections refuses a connection over the caps of its user or address.
var errTooManyConnections = errors.New("chat21: too many connections of this user or address")

// attach records an authenticated connection; first says whether it is the user's first.
func (b *Broker) attach(cl *mqtt.Client, id *Identity) (first bool, err error) {
	addr := cl.Net.Remote
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.online[id.UserID] >= b.opt.MaxPerUser || b.perAddr[addr] >= b.opt.MaxPerAddress {
		return false, errTooManyConnections
	}
	b.clients[cl] = &connection{id: id, addr: addr,
		publish: rate.NewLimiter(rate.Limit(b.opt.PublishRate), int(3*b.opt.PublishRate))}
	b.online[id.UserID]++
	b.perAddr[addr]++
	return b.online[id.UserID] == 1, nil
}

// detach forgets a connection; last says whether it was the user's last.
func (b *Broker) detach(cl *mqtt.Client) (id *Identity, last bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.clients[cl]
	if c == nil {
		return nil, false
	}
	delete(b.clients, cl)
	if b.perAddr[c.addr]--; b.perAddr[c.addr] <= 0 {
		delete(b.perAddr, c.addr)
	}
	if b.online[c.id.UserID]--; b.online[c.id.UserID] > 0 {
		return c.id, false
	}
	delete(b.online, c.id.UserID)
	return c.id, true
}

// hook is the broker's part in the MQTT server: authentication, the inboxes' access rule, and
// what clients publish.
type hook struct {
	mqtt.HookBase
	b *Broker
}

func (h *hook) ID() string { return "chat21" }

func (h *hook) Provides(b byte) bool {
	switch b {
	case mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPublish, mqtt.OnWill, mqtt.OnDisconnect:
		return true
	}
	return false
}

// OnConnectAuthenticate takes the password as the chat21 token; the username is not read (the
// clients send "JWT").
func (h *hook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	id, err := h.b.opt.Tokens.Verify(string(pk.Connect.Password))
	if err != nil {
		h.b.opt.Log.Debug("chat21: connection refused", "address", cl.Net.Remote, "err", err)
		return false
	}
	ctx, cancel := context.WithTimeout(h.b.ctx, h.b.opt.SendTimeout)
	defer cancel()
	if err := h.b.opt.Handler.Admit(ctx, id); err != nil {
		h.b.opt.Log.Debug("chat21: connection refused", "user", id.UserID, "err", err)
		return false
	}
	first, err := h.b.attach(cl, id)
	if err != nil {
		h.b.opt.Log.Info("chat21: connection refused", "user", id.UserID, "address", cl.Net.Remote, "err", err)
		return false
	}
	if first {
		// What the user's inbox gets is followed from now on, before the client learns it is
		// connected.
		h.b.fanout.join(ctx, id)
		h.b.opt.Handler.Presence(ctx, id, true)
	}
	return true
}

// OnDisconnect reports the user offline when its last connection goes.
func (h *hook) OnDisconnect(cl *mqtt.Client, err error, expire bool) {
	if id, last := h.b.detach(cl); last {
		h.b.fanout.leave(id)
		// Not the broker's context: a broker closing still says its users left.
		ctx, cancel := context.WithTimeout(context.Background(), h.b.opt.SendTimeout)
		defer cancel()
		h.b.opt.Handler.Presence(ctx, id, false)
	}
}

// OnACLCheck holds a user to its inbox: it subscribes under apps/tilechat/users/<uid>, and
// publishes there and under apps/tilechat/outgoing/users/<uid>. The server's own publishes pass.
func (h *hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if cl.Net.Inline {
		return true
	}
	id := h.b.identity(cl)
	if id == nil {
		return false
	}
	if inboxFilter(topic, id.UserID) {
		return !write || !hasWildcard(topic)
	}
	if write {
		rest, ok := strings.CutPrefix(topic, outgoingPrefix+id.UserID+"/")
		return ok && rest != "" && !hasWildcard(topic)
	}
	return false
}

// OnWill keeps a client's will from being retained: the presence the ionic and Node clients
// leave retained would be replayed to every later subscriber.
func (h *hook) OnWill(cl *mqtt.Client, will mqtt.Will) (mqtt.Will, error) {
	will.Retain = false
	return will, nil
}

// OnPublish handles what a client publishes on the protocol's topics. Nothing is retained. A
// message sent on an outgoing topic is posted to its conversation, and reaches the inboxes from
// there; the publish itself goes no further.
func (h *hook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil
	}
	pk.FixedHeader.Retain = false
	conn := h.b.connectionOf(cl)
	if conn == nil || !conn.publish.Allow() {
		return pk, packets.CodeSuccessIgnore // over its rate: dropped, as QoS 0 allows
	}
	id := conn.id
	p, ok := parsePublish(pk.TopicName)
	if !ok || p.user != id.UserID {
		return pk, packets.CodeSuccessIgnore
	}
	switch p.kind {
	case pubOutgoing:
		h.send(id, cl.Net.Remote, p.with, pk.Payload)
		return pk, packets.CodeSuccessIgnore
	case pubPresence:
		return pk, packets.CodeSuccessIgnore // presence follows the connections, not what they say
	case pubConversation:
		h.conversationUpdated(id, p.with, pk.Payload)
	case pubArchive:
		h.archive(id, p.with)
	case pubMessageUpdate:
		h.received(id, p.with, p.messageID, pk.Payload)
	}
	return pk, nil // the user's own inbox: echoed to its connections, as the clients expect
}

// conversationUpdated answers a client's change of its conversation ({"is_new":false}, a read
// mark) as the original: the change, with timelineOf and conversWith, to the user's connections.
// Read marks are not kept yet.
func (h *hook) conversationUpdated(id *Identity, with string, payload []byte) {
	var patch map[string]any
	if json.Unmarshal(payload, &patch) != nil || patch == nil {
		return
	}
	if isNew, ok := patch["is_new"].(bool); ok && !isNew {
		ctx, cancel := context.WithTimeout(h.b.ctx, h.b.opt.SendTimeout)
		defer cancel()
		if err := h.b.opt.Handler.Read(ctx, id, with); err != nil {
			h.b.opt.Log.Info("chat21: a read mark was not recorded", "user", id.UserID, "conversation", with, "err", err)
		}
	}
	patch["timelineOf"], patch["conversWith"] = id.UserID, with
	if err := h.b.publish(conversationUpdated(id.UserID, with), patch); err != nil {
		h.b.opt.Log.Warn("chat21: a conversation update was not echoed", "user", id.UserID, "err", err)
	}
}

// received records a client's receipt of a message ({"status":200}), which the message's sender
// is told of.
func (h *hook) received(id *Identity, with, messageID string, payload []byte) {
	var patch struct {
		Status int `json:"status"`
	}
	if json.Unmarshal(payload, &patch) != nil || patch.Status != StatusReceived {
		return
	}
	ctx, cancel := context.WithTimeout(h.b.ctx, h.b.opt.SendTimeout)
	defer cancel()
	if err := h.b.opt.Handler.Receive(ctx, id, with, messageID); err != nil {
		h.b.opt.Log.Info("chat21: a receipt was not recorded", "user", id.UserID, "message", messageID, "err", err)
	}
}

// archive records a user's archiving of a conversation, and moves it to the archived list of the
// user's connections, as the original: clientdeleted, then archived_conversations clientadded.
func (h *hook) archive(id *Identity, with string) {
	ctx, cancel := context.WithTimeout(h.b.ctx, h.b.opt.SendTimeout)
	defer cancel()
	conv, err := h.b.opt.Handler.Archive(ctx, id, with)
	if err != nil {
		h.b.opt.Log.Info("chat21: an archiving was not recorded", "user", id.UserID, "conversation", with, "err", err)
		return
	}
	if err := h.b.deliver(Delivery{To: id.UserID, With: with, Archived: conv}); err != nil {
		h.b.opt.Log.Warn("chat21: an archiving was not delivered", "user", id.UserID, "err", err)
	}
}

func (h *hook) send(id *Identity, address, recipient string, payload []byte) {
	var m Outgoing
	if err := json.Unmarshal(payload, &m); err != nil {
		h.b.opt.Log.Debug("chat21: an outgoing message is not JSON", "user", id.UserID, "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(h.b.ctx, h.b.opt.SendTimeout)
	defer cancel()
	if err := h.b.opt.Handler.Send(ctx, id, address, recipient, &m); err != nil {
		h.b.opt.Log.Info("chat21: a message was not posted", "user", id.UserID, "recipient", recipient, "err", err)
	}
}
