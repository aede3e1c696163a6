package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tiledesk-go/tiledesk/internal/pgtest"
)

// The websocket across processes: two servers on one PostgreSQL, a client of one, messages
// posted through the other (see crash_test.go for the children).

// liveDial connects to a server's websocket and subscribes to topic, resuming after since when
// it is not negative.
func liveDial(t *testing.T, base, token, topic string, since int64) (*websocket.Conn, func() map[string]any) {
	t.Helper()
	ctx := context.Background()
	u := "ws" + strings.TrimPrefix(base, "http") + "/?token=" + url.QueryEscape(token)
	conn, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(-1)
	t.Cleanup(func() { conn.CloseNow() })
	payload := map[string]any{"topic": topic}
	if since >= 0 {
		payload["since"] = since
	}
	b, _ := json.Marshal(map[string]any{"action": "subscribe", "payload": payload})
	if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	next := func() map[string]any {
		t.Helper()
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			_, data, err := conn.Read(ctx)
			cancel()
			if err != nil {
				t.Fatalf("reading the websocket: %v", err)
			}
			var f map[string]any
			if err := json.Unmarshal(data, &f); err != nil {
				t.Fatal(err)
			}
			if f["action"] == "publish" {
				return f["payload"].(map[string]any)
			}
		}
	}
	return conn, next
}

func liveText(p map[string]any) string {
	m, _ := p["message"].(map[string]any)
	s, _ := m["text"].(string)
	return s
}

func postText(t *testing.T, base, token, pid, rid, text string) {
	t.Helper()
	status, m, _ := call(t, "POST", base+"/v1/"+pid+"/requests/"+rid+"/messages", fmt.Sprintf(`{"text":%q}`, text),
		map[string]string{"Content-Type": "application/json", "Authorization": token})
	if status != 200 {
		t.Fatalf("posting %q: %d %v", text, status, m)
	}
}

// A websocket client of process A sees a message posted through process B; a client that
// disconnects resumes on B with no gap; a server that stops closes its sockets, going away.
func TestLiveAcrossProcesses(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	a := startChild(t, "--db", dsn)
	b := startChild(t, "--db", dsn)
	call(t, "POST", a.url+"/v1/auth/signup", `{"email":"live@example.com","password":"Passw0rd!","firstname":"L","lastname":"O"}`,
		map[string]string{"Content-Type": "application/json"})
	_, m, _ := call(t, "POST", a.url+"/v1/auth/signin", `{"email":"live@example.com","password":"Passw0rd!"}`,
		map[string]string{"Content-Type": "application/json"})
	token, _ := m["token"].(string)
	_, m, _ = call(t, "POST", a.url+"/v1/projects", `{"name":"Live"}`,
		map[string]string{"Content-Type": "application/json", "Authorization": token})
	pid, _ := m["_id"].(string)
	rid := "support-group-" + pid + "-live"
	postText(t, a.url, token, pid, rid, "first")
	topic := "/" + pid + "/requests/" + rid + "/messages"

	conn, next := liveDial(t, a.url, token, topic, -1)
	if snap := next(); snap["method"] != "CREATE" || len(snap["message"].([]any)) != 1 {
		t.Fatalf("snapshot = %v", snap)
	}
	postText(t, b.url, token, pid, rid, "through B")
	p := next()
	if p["method"] != "CREATE" || liveText(p) != "through B" {
		t.Fatalf("frame on A = %v", p)
	}
	seen := int64(p["seq"].(float64))
	conn.Close(websocket.StatusNormalClosure, "")

	for i := range 3 {
		postText(t, a.url, token, pid, rid, fmt.Sprintf("missed %d", i))
	}
	_, next = liveDial(t, b.url, token, topic, seen)
	for i := range 3 {
		p := next()
		if liveText(p) != fmt.Sprintf("missed %d", i) || int64(p["seq"].(float64)) <= seen {
			t.Fatalf("resumed frame %d on B = %v", i, p)
		}
		seen = int64(p["seq"].(float64))
	}

	conn, _ = liveDial(t, a.url, token, topic, seen)
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			if websocket.CloseStatus(err) != websocket.StatusGoingAway {
				t.Fatalf("the socket ended with %v, want going away", err)
			}
			break
		}
	}
	if err := <-a.done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("A exited with %v", err)
	}
	a.done <- nil
}
