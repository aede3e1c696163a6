package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tiledesk-go/tiledesk/internal/pgtest"
	"github.com/tiledesk-go/tiledesk/internal/redistest"
)

// TestDeployBehindNginx runs the deployment of deploy/ (docs/deploy.md) on this machine: three
// server processes started together on one fresh PostgreSQL schema and one Redis, behind nginx
// running deploy/nginx.conf, and a client that talks to nginx only. nginx spreads the requests
// round robin, so that each write is read back at once by another process.
func TestDeployBehindNginx(t *testing.T) {
	bin := nginxBinary(t)
	dsn := pgtest.FreshSchema(t)
	redisURL := redistest.URL(t)
	args := []string{"--addr", "127.0.0.1:0", "--db", dsn, "--redis-url", redisURL, "--redis-prefix", redistest.Prefix(t, redisURL),
		"--trusted-proxy", "127.0.0.1", "--cache-ttl", "2s", "--max-body", "1048576",
		"--rate-limit", "100000/1h", "--signin-rate-limit", deploySigninLimit}
	var servers []*serverProc
	for range 3 { // no --jwt-secret: the first to start generates it and keeps it in the database
		servers = append(servers, launchServer(t, args...))
	}
	var upstreams []string
	generated := 0
	for _, s := range servers {
		s.waitServing(t)
		upstreams = append(upstreams, s.addr)
		waitFor(t, s.logs, "token_secret=")
		if strings.Contains(s.logs.String(), "token_secret=generated") {
			generated++
		}
	}
	if generated != 1 {
		t.Fatalf("%d of the 3 processes generated a token secret, want 1 (the others load it)", generated)
	}
	ng := startNginx(t, bin, upstreams)
	c := &deployClient{t: t, base: ng.url, http: &http.Client{Timeout: 30 * time.Second}}
	c.signUp("deploy@example.com")
	c.pid = c.object("POST", "/v1/projects", `{"name":"Deploy"}`)["_id"].(string)

	var acked ackedWrites
	writeAndReadBack(c, &acked, "first")
	checkSpread(t, ng, upstreams)
	checkWebsocketAcrossProcesses(t, c, ng)
	checkSharedSigninLimit(t, ng)
	checkBodyLimits(t, c)

	checkWritesThroughKill(t, c, &acked, func() { servers[1].kill(t) })
	acked.readAll(c)
}

// deploySigninLimit is the sign-in budget of one client address; every process draws on it.
const deploySigninLimit = "6/1h"

// deployClient calls the API through nginx with one credential.
type deployClient struct {
	t     *testing.T
	base  string
	http  *http.Client
	token string
	pid   string
}

// send makes one call; err is a transport error, not an answer.
func (c *deployClient) send(method, path, body string, header map[string]string) (int, []byte, error) {
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", c.token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, err
}

// object makes a call that must answer 200 with a JSON object.
func (c *deployClient) object(method, path, body string) map[string]any {
	c.t.Helper()
	status, raw, err := c.send(method, path, body, nil)
	var m map[string]any
	if err == nil && status == 200 {
		err = json.Unmarshal(raw, &m)
	}
	if err != nil || status != 200 {
		c.t.Fatalf("%s %s: %d %s %v", method, path, status, raw, err)
	}
	return m
}

func (c *deployClient) signUp(email string) {
	c.t.Helper()
	c.object("POST", "/v1/auth/signup", fmt.Sprintf(`{"email":%q,"password":"Passw0rd!","firstname":"D","lastname":"E"}`, email))
	c.token = c.object("POST", "/v1/auth/signin", fmt.Sprintf(`{"email":%q,"password":"Passw0rd!"}`, email))["token"].(string)
}

// ackedWrites are the writes the servers answered 200, to be found again at the end.
type ackedWrites struct {
	mu            sync.Mutex
	leads         map[string]string   // id: fullname
	conversations map[string][]string // request_id: its messages' texts
	tickets       map[float64]string  // ticket_id: request_id
}

func (a *ackedWrites) lead(id, name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.leads == nil {
		a.leads = map[string]string{}
	}
	a.leads[id] = name
}

// writeAndReadBack creates leads and conversations from several goroutines at once, each read
// back by the very next call, which nginx sends to another process: no sleep, no retry.
func writeAndReadBack(c *deployClient, acked *ackedWrites, round string) {
	c.t.Helper()
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 8 {
				name := fmt.Sprintf("Lead %s %d-%d", round, w, i)
				status, raw, err := c.send("POST", "/v1/"+c.pid+"/leads", fmt.Sprintf(`{"fullname":%q}`, name), nil)
				if err != nil || status != 200 {
					c.t.Errorf("creating %s: %d %s %v", name, status, raw, err)
					return
				}
				id := jsonString(raw, "_id")
				acked.lead(id, name)
				if status, raw, _ := c.send("GET", "/v1/"+c.pid+"/leads/"+id, "", nil); status != 200 || jsonString(raw, "fullname") != name {
					c.t.Errorf("lead %s read back at once: %d %s", id, status, raw)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := range 4 {
				rid := fmt.Sprintf("support-group-%s-%s-%d-%d", c.pid, round, w, i)
				if !conversationAndReadBack(c, acked, rid) {
					return
				}
			}
		}()
	}
	wg.Wait()
	if c.t.Failed() {
		c.t.FailNow()
	}
}

// conversationAndReadBack starts a conversation with a message, adds another, and reads both back.
func conversationAndReadBack(c *deployClient, acked *ackedWrites, rid string) bool {
	path := "/v1/" + c.pid + "/requests/" + rid
	texts := []string{"hello from " + rid, "again from " + rid}
	for _, text := range texts {
		if status, raw, err := c.send("POST", path+"/messages", fmt.Sprintf(`{"text":%q}`, text), nil); err != nil || status != 200 {
			c.t.Errorf("posting to %s: %d %s %v", rid, status, raw, err)
			return false
		}
	}
	status, raw, _ := c.send("GET", path, "", nil)
	var req struct {
		RequestID string  `json:"request_id"`
		TicketID  float64 `json:"ticket_id"`
	}
	if status != 200 || json.Unmarshal(raw, &req) != nil || req.RequestID != rid || req.TicketID < 1 {
		c.t.Errorf("conversation %s read back at once: %d %s", rid, status, raw)
		return false
	}
	acked.mu.Lock()
	defer acked.mu.Unlock()
	if acked.tickets == nil {
		acked.tickets, acked.conversations = map[float64]string{}, map[string][]string{}
	}
	if other, taken := acked.tickets[req.TicketID]; taken {
		c.t.Errorf("ticket %v numbers both %s and %s", req.TicketID, other, rid)
		return false
	}
	acked.tickets[req.TicketID], acked.conversations[rid] = rid, texts
	return messagesAre(c, path, texts)
}

// messagesAre checks a conversation's messages, in order.
func messagesAre(c *deployClient, path string, texts []string) bool {
	status, raw, _ := c.send("GET", path+"/messages", "", nil)
	var msgs []struct {
		Text string `json:"text"`
	}
	if status != 200 || json.Unmarshal(raw, &msgs) != nil {
		c.t.Errorf("messages of %s: %d %s", path, status, raw)
		return false
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.Text)
	}
	if strings.Join(got, "\n") != strings.Join(texts, "\n") {
		c.t.Errorf("messages of %s = %q, want %q", path, got, texts)
		return false
	}
	return true
}

// readAll reads every acknowledged write back through nginx.
func (a *ackedWrites) readAll(c *deployClient) {
	c.t.Helper()
	for id, name := range a.leads {
		if status, raw, err := c.send("GET", "/v1/"+c.pid+"/leads/"+id, "", nil); err != nil || status != 200 || jsonString(raw, "fullname") != name {
			c.t.Errorf("acknowledged lead %s (%s) lost: %d %s %v", id, name, status, raw, err)
		}
	}
	for rid, texts := range a.conversations {
		messagesAre(c, "/v1/"+c.pid+"/requests/"+rid, texts)
	}
	c.t.Logf("%d acknowledged leads and %d conversations (unique tickets) all read back", len(a.leads), len(a.conversations))
}

func jsonString(raw []byte, field string) string {
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	s, _ := m[field].(string)
	return s
}

// checkSpread: nginx sent the API calls to every process.
func checkSpread(t *testing.T, ng *nginxProc, upstreams []string) {
	t.Helper()
	counts := map[string]int{}
	for _, l := range ng.accessLines(t) {
		counts[l.upstream]++
	}
	for _, u := range upstreams {
		if counts[u] == 0 {
			t.Fatalf("nginx sent nothing to %s: %v", u, counts)
		}
	}
	t.Logf("calls per process: %v", counts)
}

// checkWebsocketAcrossProcesses: a websocket through nginx hears messages posted through nginx,
// some of which land on processes other than the socket's.
func checkWebsocketAcrossProcesses(t *testing.T, c *deployClient, ng *nginxProc) {
	t.Helper()
	rid := "support-group-" + c.pid + "-live"
	path := "/v1/" + c.pid + "/requests/" + rid + "/messages"
	postText(t, ng.url, c.token, c.pid, rid, "before the socket")
	conn, next := liveDial(t, ng.url, c.token, "/"+c.pid+"/requests/"+rid+"/messages", -1)
	if snap := next(); snap["method"] != "CREATE" {
		t.Fatalf("snapshot through nginx = %v", snap)
	}
	want := []string{"live 1", "live 2", "live 3"}
	for _, text := range want {
		postText(t, ng.url, c.token, c.pid, rid, text)
	}
	for _, text := range want {
		if p := next(); liveText(p) != text {
			t.Fatalf("frame through nginx = %v, want %q", p, text)
		}
	}
	conn.Close(websocket.StatusNormalClosure, "")
	var socket string
	var posts []string
	waitUntil(t, "nginx logs the closed websocket", func() bool {
		socket, posts = "", nil
		for _, l := range ng.accessLines(t) {
			switch {
			case l.method == "GET" && l.path == "/" && l.status == 101:
				socket = l.upstream
			case l.method == "POST" && l.path == path:
				posts = append(posts, l.upstream)
			}
		}
		return socket != "" && len(posts) == 4
	})
	elsewhere := 0
	for _, p := range posts[1:] {
		if p != socket {
			elsewhere++
		}
	}
	if elsewhere == 0 {
		t.Fatalf("every message landed on the websocket's process %s (%v): nothing crossed processes", socket, posts[1:])
	}
	t.Logf("websocket on %s heard %d messages posted through other processes", socket, elsewhere)
}

// fromAddress is a client whose connections to nginx come from the loopback address ip.
func fromAddress(base, ip string) *deployClient {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &deployClient{base: base, http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: dialer.DialContext}}}
}

// checkSharedSigninLimit: the sign-in budget of one client address holds across the processes
// (Redis), the address being the one nginx reports, whatever X-Forwarded-For the client sends.
func checkSharedSigninLimit(t *testing.T, ng *nginxProc) {
	t.Helper()
	a, b := fromAddress(ng.url, "127.0.0.2"), fromAddress(ng.url, "127.0.0.3")
	a.t, b.t = t, t
	body := `{"email":"deploy@example.com","password":"Passw0rd!"}`
	allowed, refused := 0, 0
	for i := range 12 {
		// A client's own X-Forwarded-For is its word, left of nginx's: a new one each time must
		// not buy a new budget.
		status, raw, err := a.send("POST", "/v1/auth/signin", body, map[string]string{"X-Forwarded-For": fmt.Sprintf("10.9.9.%d", i)})
		switch {
		case err != nil:
			t.Fatalf("sign-in %d from 127.0.0.2: %v", i, err)
		case status == 200:
			allowed++
		case status == 429:
			refused++
		default:
			t.Fatalf("sign-in %d from 127.0.0.2: %d %s", i, status, raw)
		}
	}
	if allowed != 6 || refused != 6 {
		t.Fatalf("127.0.0.2 signed in %d times and was refused %d times; want %s across the processes: 6 and 6", allowed, refused, deploySigninLimit)
	}
	served := map[string]bool{}
	for _, l := range ng.accessLines(t) {
		if l.remote == "127.0.0.2" && l.status == 200 {
			served[l.upstream] = true
		}
	}
	if len(served) < 2 {
		t.Fatalf("the allowed sign-ins of 127.0.0.2 were all served by %v: the budget was not shared", served)
	}
	if status, raw, err := b.send("POST", "/v1/auth/signin", body, nil); err != nil || status != 200 {
		t.Fatalf("another address, 127.0.0.3, shares the budget of 127.0.0.2: %d %s %v", status, raw, err)
	}
}

// checkBodyLimits: a body over --max-body gets the server's JSON 413 through nginx, and nginx
// refuses one over its own client_max_body_size.
func checkBodyLimits(t *testing.T, c *deployClient) {
	t.Helper()
	for _, tc := range []struct {
		size   int
		server bool
	}{{1536 << 10, true}, {3 << 20, false}} {
		body := `{"fullname":"` + strings.Repeat("x", tc.size) + `"}`
		status, raw, err := c.send("POST", "/v1/"+c.pid+"/leads", body, nil)
		if err != nil || status != 413 {
			t.Fatalf("a %d-byte body: %d %v", len(body), status, err)
		}
		if fromServer := json.Valid(raw); fromServer != tc.server {
			t.Fatalf("a %d-byte body: 413 from the server %v, want %v: %.200s", len(body), fromServer, tc.server, raw)
		}
	}
	if status, _, _ := c.send("GET", "/metrics", "", nil); status != 404 {
		t.Fatalf("GET /metrics through nginx = %d, want 404", status)
	}
}

// checkWritesThroughKill writes leads from two goroutines and SIGKILLs one process (kill) while
// they run: nginx skips the dead process, so apart from the calls it had sent there every write
// is answered; the caller then reads back every acknowledged write.
func checkWritesThroughKill(t *testing.T, c *deployClient, acked *ackedWrites, kill func()) {
	t.Helper()
	var mu sync.Mutex
	var failures []string
	answered := make(chan struct{}, 100)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				name := fmt.Sprintf("Lead through the kill %d-%d", w, i)
				status, raw, err := c.send("POST", "/v1/"+c.pid+"/leads", fmt.Sprintf(`{"fullname":%q}`, name), nil)
				answered <- struct{}{}
				if err == nil && status == 200 {
					acked.lead(jsonString(raw, "_id"), name)
					continue
				}
				mu.Lock()
				failures = append(failures, fmt.Sprintf("%d %.100s %v", status, raw, err))
				mu.Unlock()
			}
		}()
	}
	for range 10 {
		<-answered
	}
	kill()
	wg.Wait()
	// A write nginx had already sent to the killed process, on a new connection or on one it kept
	// open, is answered 502 (never resent there: it is not idempotent); nothing else may fail.
	if len(failures) > 4 {
		t.Fatalf("%d writes failed after one process of three was killed: %v", len(failures), failures)
	}
	for _, f := range failures {
		if !strings.HasPrefix(f, "502 ") {
			t.Fatalf("a write failed across the kill with %s, want only nginx's 502 for a call in flight", f)
		}
	}
	t.Logf("%d of 60 writes across the kill failed (502: in flight at the kill)", len(failures))
	writeAndReadBack(c, acked, "survivors")
}
