package live

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/eventbus"
)

// fakeLog is an event log in memory whose messages a snapshot reads.
type fakeLog struct {
	tiledesk.EventStore // only the methods below are called
	bus                 *eventbus.Bus
	mu                  sync.Mutex
	events              []*tiledesk.Event
	// snapshotting is told when a snapshot starts; release lets it read and answer (with
	// readFirst: answer what it read before it waited).
	snapshotting chan struct{}
	release      chan struct{}
	readFirst    bool
}

func (l *fakeLog) post(rid, text string) {
	l.mu.Lock()
	seq := int64(len(l.events) + 1)
	m := &tiledesk.Message{ID: fmt.Sprintf("m%03d", seq), ProjectID: pid, Recipient: rid, Text: text}
	payload, _ := json.Marshal(m)
	l.events = append(l.events, &tiledesk.Event{ProjectID: pid, Seq: seq, Name: tiledesk.EventMessageCreate, Payload: payload})
	l.mu.Unlock()
	l.bus.Advance(pid, seq)
}

func (l *fakeLog) EventsAfter(_ context.Context, _ string, after int64, limit int) ([]*tiledesk.Event, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	end := min(int64(len(l.events)), after+int64(limit))
	if after >= end {
		return nil, nil
	}
	return append([]*tiledesk.Event(nil), l.events[after:end]...), nil
}

func (l *fakeLog) LastEventSeq(context.Context, string) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.events)), nil
}

func (l *fakeLog) OldestEventSeq(context.Context, string) (int64, error) { return 1, nil }

func (l *fakeLog) Member(_ context.Context, projectID string, id Identity) (*tiledesk.ProjectUser, error) {
	pu := tiledesk.NewProjectUser(projectID, tiledesk.RoleAdmin, id.UserID, time.Now())
	pu.ID, pu.UserID = "6650f1a2b3c4d5e6f7a8b9c1", id.UserID
	return pu, nil
}

func (l *fakeLog) Request(_ context.Context, projectID, rid string, _ *tiledesk.Visibility) (*tiledesk.Request, error) {
	return &tiledesk.Request{ProjectID: projectID, RequestID: rid}, nil
}

func (l *fakeLog) Restricted(context.Context, string, string) (bool, error) { return false, nil }

// Snapshot lists the messages posted when it is released.
func (l *fakeLog) Snapshot(_ context.Context, t Topic, _ *Grant) (json.RawMessage, error) {
	var read []byte
	if l.readFirst {
		read = l.messagesOf(t.ID)
	}
	if l.snapshotting != nil {
		l.snapshotting <- struct{}{}
		<-l.release
	}
	if read == nil {
		read = l.messagesOf(t.ID)
	}
	return read, nil
}

func (l *fakeLog) messagesOf(rid string) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	var msgs []*tiledesk.Message
	for _, ev := range l.events {
		var m tiledesk.Message
		_ = json.Unmarshal(ev.Payload, &m)
		if m.Recipient == rid {
			msgs = append(msgs, &tiledesk.Message{ID: m.ID, Text: m.Text})
		}
	}
	b, _ := json.Marshal(toWire(msgs))
	return b
}

func toWire(msgs []*tiledesk.Message) []map[string]string {
	out := []map[string]string{}
	for _, m := range msgs {
		out = append(out, map[string]string{"_id": m.ID, "text": m.Text})
	}
	return out
}

func (l *fakeLog) Decode(ev *tiledesk.Event) (*Item, error) {
	var m tiledesk.Message
	if err := json.Unmarshal(ev.Payload, &m); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(map[string]string{"_id": m.ID, "text": m.Text})
	return &Item{Message: &m, Render: func(bool) json.RawMessage { return b }}, nil
}

// liveServer serves a hub over the fake log.
func liveServer(t *testing.T, l *fakeLog) (*Hub, string) {
	h := New(Options{Bus: l.bus, Events: l, Source: l})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := Identity{UserID: "u1", Address: "127.0.0.1"}
		release, err := h.Admit(id)
		if err != nil {
			http.Error(w, err.Error(), http.StatusTooManyRequests)
			return
		}
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			release()
			return
		}
		h.Serve(conn, id, release)
	}))
	t.Cleanup(func() { h.Close(); srv.Close() })
	return h, "ws" + strings.TrimPrefix(srv.URL, "http")
}

type frame struct {
	Action  string
	Payload struct {
		Topic, Method, Resume string
		Seq                   int64
		Message               json.RawMessage
	}
}

func dialHub(t *testing.T, url, topic string, since int64) func() frame {
	conn, _, err := websocket.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	p := map[string]any{"topic": topic}
	if since >= 0 {
		p["since"] = since
	}
	b, _ := json.Marshal(map[string]any{"action": "subscribe", "payload": p})
	if err := conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	return func() frame {
		t.Helper()
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			_, data, err := conn.Read(ctx)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			var f frame
			if err := json.Unmarshal(data, &f); err != nil {
				t.Fatal(err)
			}
			if f.Action != "heartbeat" {
				return f
			}
		}
	}
}

func texts(t *testing.T, f frame) string {
	var one struct{ Text string }
	if json.Unmarshal(f.Payload.Message, &one) == nil && one.Text != "" {
		return one.Text
	}
	var many []struct{ Text string }
	if err := json.Unmarshal(f.Payload.Message, &many); err != nil {
		t.Fatalf("frame %+v", f)
	}
	var out []string
	for _, m := range many {
		out = append(out, m.Text)
	}
	return strings.Join(out, ",")
}

// Events handed out while a snapshot is read are sent after it, except the messages it already
// shows: nothing is lost or repeated between a snapshot and the live frames.
func TestSnapshotThenLiveFramesWithoutGapOrRepeat(t *testing.T) {
	for _, readFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("read before b: %v", readFirst), func(t *testing.T) {
			l := &fakeLog{bus: eventbus.New(), snapshotting: make(chan struct{}), release: make(chan struct{}), readFirst: readFirst}
			h, url := liveServer(t, l)
			topic := "/" + pid + "/requests/r1/messages"
			l.post("r1", "a")
			next := dialHub(t, url, topic, -1)
			<-l.snapshotting // registered at seq 1; the snapshot waits
			l.post("r1", "b")
			l.post("r2", "elsewhere")
			for h.Following(pid) < 3 {
				time.Sleep(time.Millisecond) // b is handed out, and kept aside, before the snapshot is answered
			}
			l.snapshotting = nil
			l.release <- struct{}{}
			f := next()
			want := "a,b" // read after b: b's kept frame is dropped
			if readFirst {
				want = "a" // read before b: b's kept frame follows
			}
			if f.Payload.Method != "CREATE" || texts(t, f) != want || f.Payload.Seq != 1 {
				t.Fatalf("snapshot = %+v %s", f, texts(t, f))
			}
			if readFirst {
				if f := next(); texts(t, f) != "b" || f.Payload.Seq != 2 {
					t.Fatalf("kept frame: %+v %s", f, texts(t, f))
				}
			}
			l.post("r1", "c")
			if f := next(); texts(t, f) != "c" || f.Payload.Seq != 4 {
				t.Fatalf("after the snapshot: %+v %s", f, texts(t, f))
			}
		})
	}
}

// A resume sends the topic's events after since from the log, then those the hub hands out
// meanwhile and after, in order, each once.
func TestResumeFromTheLogThenLive(t *testing.T) {
	l := &fakeLog{bus: eventbus.New()}
	_, url := liveServer(t, l)
	topic := "/" + pid + "/requests/r1/messages"
	for _, s := range []string{"a", "b", "x", "c"} {
		rid := "r1"
		if s == "x" {
			rid = "r2"
		}
		l.post(rid, s)
	}
	next := dialHub(t, url, topic, 1)
	for _, want := range []string{"b", "c"} {
		if f := next(); texts(t, f) != want {
			t.Fatalf("resumed %+v, want %s", f, want)
		}
	}
	l.post("r1", "d")
	if f := next(); texts(t, f) != "d" || f.Payload.Seq != 5 {
		t.Fatalf("live after resume: %+v", f)
	}
}
