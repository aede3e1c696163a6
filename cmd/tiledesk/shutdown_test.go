package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestShutdownLeavesNoGoroutine runs the server with everything that works in the background
// (the profiler's listener, the SIGUSR1 switch, the mail queue, SQLite's checkpointer and text
// merger, the group commit writer, lead-order readings started by deep pages, the websocket hub, the webhook
// dispatcher), stops it, and checks that every
// goroutine it started has ended by the time run returns.
func TestShutdownLeavesNoGoroutine(t *testing.T) {
	before := goleak.IgnoreCurrent()
	url, logs, stop := start(t, []string{"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "leak.db"),
		"--debug-addr", "127.0.0.1:0", "--smtp-url", "smtp://127.0.0.1:1", "--mail-from", "server@example.com",
		"--shutdown-grace", "1s", "--webhook-allow", "127.0.0.1"}, nil) // the mail to the unreachable server is given up after 1 s
	waitFor(t, logs, "/v1/auth/signup")
	js := map[string]string{"Content-Type": "application/json"}
	if status, _, _ := call(t, "POST", url+"/auth/signup", `{"email":"a@example.com","password":"123456","firstname":"A","lastname":"B"}`, js); status != 200 {
		t.Fatalf("signup = %d", status)
	}
	_, signin, _ := call(t, "POST", url+"/auth/signin", `{"email":"a@example.com","password":"123456"}`, js)
	authed := map[string]string{"Content-Type": "application/json", "Authorization": signin["token"].(string)}
	_, project, _ := call(t, "POST", url+"/projects", `{"name":"P"}`, authed)
	pid := project["_id"].(string)
	// A webhook receiving the leads: the dispatcher, its workers and connections end with the server.
	var hooks atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hooks.Add(1) }))
	if status, _, _ := call(t, "POST", url+"/"+pid+"/subscriptions", `{"event":"lead.create","target":"`+receiver.URL+`"}`, authed); status != 200 {
		t.Fatalf("subscribe = %d", status)
	}
	for i := 0; i < 30; i++ {
		if status, _, _ := call(t, "POST", url+"/"+pid+"/leads", fmt.Sprintf(`{"fullname":"Lead %d"}`, i), authed); status != 200 {
			t.Fatalf("lead = %d", status)
		}
	}
	// Deep pages start lead-order readings in the background; stop right after.
	for page := 1; page < 3; page++ {
		if status, _, _ := call(t, "GET", fmt.Sprintf("%s/%s/leads?page=%d&limit=5", url, pid, page), "", authed); status != 200 {
			t.Fatalf("page %d = %d", page, status)
		}
	}
	for deadline := time.Now().Add(20 * time.Second); hooks.Load() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no webhook delivered")
		}
	}
	// A websocket following the project: the hub and the socket end with the server.
	ws, next := liveDial(t, url, signin["token"].(string), "/"+pid+"/requests", -1)
	next() // the snapshot
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	ws.CloseNow()
	receiver.Close()
	http.DefaultClient.CloseIdleConnections() // the test's own client side
	goleak.VerifyNone(t, before)
}
