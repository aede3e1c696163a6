package chat21

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/tiledesk-go/tiledesk"
)

// fakeHandler records what the broker asks of the API.
type fakeHandler struct {
	mu       sync.Mutex
	sent     []string // "uid>recipient:text"
	presence []string // "uid:online" / "uid:offline"
	refuse   string   // a user id Admit refuses

	heartbeats int
}

func (f *fakeHandler) Admit(ctx context.Context, id *Identity) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id.UserID == f.refuse {
		return tiledesk.Errorf(tiledesk.EUNAUTHORIZED, "refused")
	}
	return nil
}

func (f *fakeHandler) setRefuse(uid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuse = uid
}

func (f *fakeHandler) Send(ctx context.Context, id *Identity, address, recipient string, m *Outgoing) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, id.UserID+">"+recipient+":"+m.Text+":"+m.Attributes["tempUID"].(string))
	return nil
}

func (f *fakeHandler) Presence(ctx context.Context, id *Identity, online bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	state := "offline"
	if online {
		state = "online"
	}
	f.presence = append(f.presence, id.UserID+":"+state)
}

func (f *fakeHandler) Heartbeat(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.heartbeats++
}

func (f *fakeHandler) Projects(ctx context.Context, id *Identity) ([]string, error) { return nil, nil }

func (f *fakeHandler) Read(ctx context.Context, id *Identity, with string) error { return nil }

func (f *fakeHandler) Receive(ctx context.Context, id *Identity, with, messageID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, id.UserID+"<"+with+":"+messageID)
	return nil
}

func (f *fakeHandler) Archive(ctx context.Context, id *Identity, with string) (any, error) {
	return map[string]any{"conversWith": with, "archived": true}, nil
}

func (f *fakeHandler) Deliveries(ctx context.Context, ev *tiledesk.Event) ([]Delivery, error) {
	return nil, nil
}

func (f *fakeHandler) snapshot() (sent, presence []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...), append([]string(nil), f.presence...)
}

type testBroker struct {
	t       *testing.T
	url     string
	tokens  *Tokens
	handler *fakeHandler
	broker  *Broker
}

func newTestBroker(t *testing.T) *testBroker { return newTestBrokerWith(t, Options{}) }

func newTestBrokerWith(t *testing.T, opt Options) *testBroker {
	tokens := NewTokens([]byte("test key of sufficient length"), time.Hour, nil)
	h := &fakeHandler{refuse: "revoked"}
	opt.Tokens, opt.Handler = tokens, h
	b, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(b)
	t.Cleanup(func() { b.Close(); hs.Close() })
	return &testBroker{t: t, url: "ws" + strings.TrimPrefix(hs.URL, "http") + Path, tokens: tokens, handler: h, broker: b}
}

// connect connects as uid with token (a valid one when ""), as the official clients do.
func (tb *testBroker) connect(uid, token string) (paho.Client, error) {
	if token == "" {
		var err error
		if token, err = tb.tokens.Issue(Identity{UserID: uid, Subject: "guest"}); err != nil {
			tb.t.Fatal(err)
		}
	}
	opts := paho.NewClientOptions().AddBroker(tb.url).SetUsername("JWT").SetPassword(token).
		SetClientID("c-"+uid+"-"+time.Now().Format("150405.000000000")).SetAutoReconnect(false).
		SetConnectRetry(false).SetWill(inboxPrefix+uid+"/presence/x", `{"disconnected":true}`, 1, true)
	c := paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(5 * time.Second) {
		return nil, context.DeadlineExceeded
	}
	return c, tok.Error()
}

func (tb *testBroker) must(uid string) paho.Client {
	c, err := tb.connect(uid, "")
	if err != nil {
		tb.t.Fatalf("%s connects: %v", uid, err)
	}
	tb.t.Cleanup(func() { c.Disconnect(0) })
	return c
}

// inbox subscribes to a user's inbox and returns the messages it receives.
func inbox(t *testing.T, c paho.Client, filter string) (<-chan paho.Message, error) {
	ch := make(chan paho.Message, 16)
	tok := c.Subscribe(filter, 0, func(_ paho.Client, m paho.Message) { ch <- m })
	if !tok.WaitTimeout(5 * time.Second) {
		t.Fatal("no SUBACK")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	if codes := tok.(*paho.SubscribeToken).Result(); codes[filter] >= 0x80 {
		return nil, context.Canceled
	}
	return ch, nil
}

func TestBrokerAuthenticatesWithTheToken(t *testing.T) {
	tb := newTestBroker(t)
	if _, err := tb.connect("alice", "not a token"); err == nil {
		t.Fatal("a bad token connected")
	}
	other := NewTokens([]byte("another server's secret, long enough"), time.Hour, nil)
	forged, _ := other.Issue(Identity{UserID: "alice", Subject: "guest"})
	if _, err := tb.connect("alice", forged); err == nil {
		t.Fatal("a token of another key connected")
	}
	if _, err := tb.connect("revoked", ""); err == nil {
		t.Fatal("an identity the API refuses connected")
	}
	tb.must("alice")
}

func TestBrokerHoldsUsersToTheirInbox(t *testing.T) {
	tb := newTestBroker(t)
	alice, bob := tb.must("alice"), tb.must("bob")
	for _, filter := range []string{"apps/tilechat/users/bob/#", "apps/tilechat/users/+/#", "#", "apps/tilechat/outgoing/users/bob/#",
		"apps/tilechat/users/alice2/#"} {
		if _, err := inbox(t, alice, filter); err == nil {
			t.Errorf("alice subscribed to %s", filter)
		}
	}
	own, err := inbox(t, alice, "apps/tilechat/users/alice/#")
	if err != nil {
		t.Fatalf("alice's own inbox: %v", err)
	}
	bobs, _ := inbox(t, bob, "apps/tilechat/users/bob/#")
	// A publish into another's inbox goes nowhere; into one's own it is echoed back.
	alice.Publish("apps/tilechat/users/bob/messages/x/clientadded", 0, false, `{"text":"spoof"}`).Wait()
	alice.Publish("apps/tilechat/users/alice/conversations/g1/update", 0, false, `{"is_new":false}`).Wait()
	// The read mark is echoed, and answered as the original does: clientupdated with whose
	// timeline and which conversation.
	got := map[string]string{}
	for len(got) < 2 {
		select {
		case m := <-own:
			got[m.Topic()] = string(m.Payload())
		case <-time.After(5 * time.Second):
			t.Fatalf("alice's read mark: %v", got)
		}
	}
	var updated map[string]any
	json.Unmarshal([]byte(got["apps/tilechat/users/alice/conversations/g1/clientupdated"]), &updated)
	if _, echoed := got["apps/tilechat/users/alice/conversations/g1/update"]; !echoed || updated["is_new"] != false ||
		updated["timelineOf"] != "alice" || updated["conversWith"] != "g1" {
		t.Fatalf("alice's read mark: %v", got)
	}
	select {
	case m := <-bobs:
		t.Fatalf("bob got %s: %s", m.Topic(), m.Payload())
	case <-time.After(200 * time.Millisecond):
	}
	// The server's deliveries reach the inbox's connections.
	if err := tb.broker.Deliver("bob", "g1", map[string]string{"text": "for bob"}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-bobs:
		var got map[string]string
		if json.Unmarshal(m.Payload(), &got); m.Topic() != "apps/tilechat/users/bob/messages/g1/clientadded" || got["text"] != "for bob" {
			t.Fatalf("bob got %s %s", m.Topic(), m.Payload())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("bob did not get the delivery")
	}
}

func TestBrokerPostsOutgoingMessagesAndFollowsPresence(t *testing.T) {
	tb := newTestBroker(t)
	alice := tb.must("alice")
	second := tb.must("alice")
	msg := `{"text":"hello","type":"text","channel_type":"group","attributes":{"tempUID":"t-1"}}`
	alice.Publish("apps/tilechat/outgoing/users/alice/messages/support-group-p-1/outgoing", 0, false, msg).Wait()
	// Someone else's outgoing topic is refused.
	alice.Publish("apps/tilechat/outgoing/users/bob/messages/support-group-p-1/outgoing", 0, false, msg).Wait()
	// A receipt is recorded; another status, or another's receipt, is not.
	alice.Publish("apps/tilechat/users/alice/messages/bob/m-2/update", 0, false, `{"status":300}`).Wait()
	alice.Publish("apps/tilechat/users/bob/messages/alice/m-1/update", 0, false, `{"status":200}`).Wait()
	alice.Publish("apps/tilechat/users/alice/messages/bob/m-1/update", 0, false, `{"status":200}`).Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		sent, _ := tb.handler.snapshot()
		if strings.Join(sent, ",") == "alice>support-group-p-1:hello:t-1,alice<bob:m-1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sent = %v", sent)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Online with the first connection, offline with the last, whatever the will says.
	alice.Disconnect(0)
	time.Sleep(100 * time.Millisecond)
	if _, presence := tb.handler.snapshot(); strings.Join(presence, ",") != "alice:online" {
		t.Fatalf("presence after one of two connections left: %v", presence)
	}
	second.Disconnect(0)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, presence := tb.handler.snapshot(); strings.Join(presence, ",") == "alice:online,alice:offline" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("presence = %v", presence)
		}
	}
	if sent, _ := tb.handler.snapshot(); len(sent) != 2 {
		t.Fatalf("a message on another's outgoing topic was posted: %v", sent)
	}
}

// A user, and a client address, hold a bounded number of connections; a connection publishes at a
// bounded rate, the excess dropped.
func TestBrokerBoundsConnectionsAndPublishes(t *testing.T) {
	tb := newTestBrokerWith(t, Options{MaxPerUser: 2, MaxPerAddress: 3, PublishRate: 5})
	alice := tb.must("alice")
	tb.must("alice")
	if _, err := tb.connect("alice", ""); err == nil {
		t.Fatal("a third connection of alice was accepted")
	}
	tb.must("bob")
	if _, err := tb.connect("carol", ""); err == nil {
		t.Fatal("a fourth connection from one address was accepted")
	}
	own, err := inbox(t, alice, "apps/tilechat/users/alice/#")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		alice.Publish("apps/tilechat/users/alice/notes", 0, false, fmt.Sprintf(`{"n":%d}`, i))
	}
	got := 0
	for done := false; !done; {
		select {
		case <-own:
			got++
		case <-time.After(500 * time.Millisecond):
			done = true
		}
	}
	// A burst of three seconds' worth (15), and what the rate refills meanwhile.
	if got < 10 || got > 25 {
		t.Fatalf("%d of 60 publishes went through at 5 a second", got)
	}
}

// An open connection is closed once its identity is no longer admitted (a password changed) or
// its token expires.
func TestBrokerClosesRevokedAndExpiredConnections(t *testing.T) {
	tb := newTestBrokerWith(t, Options{Recheck: 50 * time.Millisecond})
	closed := func(c paho.Client) bool {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if !c.IsConnectionOpen() {
				return true
			}
		}
		return false
	}
	alice, bob := tb.must("alice"), tb.must("bob")
	tb.handler.setRefuse("alice")
	if !closed(alice) {
		t.Fatal("a connection the API no longer admits stayed open")
	}
	if !bob.IsConnectionOpen() {
		t.Fatal("another user's connection was closed")
	}
	short := NewTokens([]byte("test key of sufficient length"), 300*time.Millisecond, nil)
	token, _ := short.Issue(Identity{UserID: "carol", Subject: "guest"})
	carol, err := tb.connect("carol", token)
	if err != nil {
		t.Fatal(err)
	}
	if !closed(carol) {
		t.Fatal("a connection whose token expired stayed open")
	}
}

// The handler hears the broker's heartbeat while it runs, and no more once it closed.
func TestBrokerHeartbeat(t *testing.T) {
	tb := newTestBrokerWith(t, Options{Heartbeat: 10 * time.Millisecond})
	beats := func() int {
		tb.handler.mu.Lock()
		defer tb.handler.mu.Unlock()
		return tb.handler.heartbeats
	}
	for deadline := time.Now().Add(5 * time.Second); beats() < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d heartbeats", beats())
		}
	}
	tb.broker.Close()
	closed := beats()
	time.Sleep(50 * time.Millisecond)
	if beats() != closed {
		t.Fatalf("heartbeats after closing: %d, then %d", closed, beats())
	}
}
