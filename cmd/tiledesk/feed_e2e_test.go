package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk/internal/pgtest"
)

// The sync feed across processes: a long poll waiting on process A answers with a lead created
// through process B (PostgreSQL numbers it, and its NOTIFY wakes A's poll).
func TestFeedLongPollAcrossProcesses(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	a := startChild(t, "--db", dsn)
	b := startChild(t, "--db", dsn)
	plain := map[string]string{"Content-Type": "application/json"}
	call(t, "POST", a.url+"/v1/auth/signup", `{"email":"feed@example.com","password":"Passw0rd!","firstname":"F","lastname":"E"}`, plain)
	_, m, _ := call(t, "POST", a.url+"/v1/auth/signin", `{"email":"feed@example.com","password":"Passw0rd!"}`, plain)
	token, _ := m["token"].(string)
	auth := map[string]string{"Content-Type": "application/json", "Authorization": token}
	_, m, _ = call(t, "POST", a.url+"/v1/projects", `{"name":"Feed"}`, auth)
	pid, _ := m["_id"].(string)
	// The project's own events (3), numbered once the relay has seen them.
	var next float64
	for next < 3 {
		_, m, _ = call(t, "GET", fmt.Sprintf("%s/v1/%s/events/feed?after=%v&wait=10s", a.url, pid, next), "", auth)
		if m["events"] == nil || len(m["events"].([]any)) == 0 {
			t.Fatalf("the feed stops after %v of the project's 3 events: %v", next, m)
		}
		next = m["next"].(float64)
	}
	type answer struct {
		status int
		body   map[string]any
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/%s/events/feed?after=%v&wait=20s", a.url, pid, next), nil)
		req.Header.Set("Authorization", token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		var body map[string]any
		err = json.Unmarshal(raw, &body)
		done <- answer{status: res.StatusCode, body: body, err: err}
	}()
	time.Sleep(200 * time.Millisecond) // let the poll start waiting; it passes either way if it has not
	if status, m, _ := call(t, "POST", b.url+"/v1/"+pid+"/leads", `{"fullname":"Through B"}`, auth); status != 200 {
		t.Fatalf("lead through B: %d %v", status, m)
	}
	ans := <-done
	if ans.err != nil || ans.status != 200 {
		t.Fatalf("poll on A: %d %v %v", ans.status, ans.body, ans.err)
	}
	evs, _ := ans.body["events"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["name"] != "lead.create" || ans.body["next"].(float64) != next+1 {
		t.Fatalf("poll on A = %v, want the lead.create made through B", ans.body)
	}
}
