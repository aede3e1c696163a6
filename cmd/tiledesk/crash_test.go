package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/pgtest"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

// The crash durability torture test runs the real server as a child process (this test binary,
// re-executed: TestMain turns it into main when TILEDESK_TEST_SERVE=1), drives concurrent
// writes at it, SIGKILLs it mid-stream, restarts it on the same data and checks, through the store,
// that every write answered 2xx is there with its outbox event, and that every write whose answer
// never came is either wholly there or wholly absent.

// child is the server running in another process.
type child struct {
	cmd  *exec.Cmd
	url  string
	done chan error
}

var childURL = regexp.MustCompile(`url=(http://[0-9.:]+)`)

func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--addr", "127.0.0.1:0",
		"--jwt-secret", "crash test secret, long enough", "--rate-limit", "0", "--signin-rate-limit", "0"}, args...)...)
	cmd.Env = append(os.Environ(), "TILEDESK_TEST_SERVE=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan error, 1)}
	lines := bufio.NewScanner(stderr)
	var logs strings.Builder
	for lines.Scan() {
		logs.WriteString(lines.Text() + "\n")
		if m := childURL.FindStringSubmatch(lines.Text()); m != nil {
			c.url = m[1]
			break
		}
	}
	if c.url == "" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the server did not start:\n%s", logs.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stderr); c.done <- cmd.Wait() }()
	t.Cleanup(func() { c.cmd.Process.Kill(); <-c.done })
	return c
}

func (c *child) kill(t *testing.T) {
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.done
	c.done <- nil // for the cleanup
}

// outcome is what the client learnt of one write.
type outcome int

const (
	acked   outcome = iota // 2xx
	unknown                // no answer: the connection died with the server
)

// write is one write the load sent, with what identifies it afterwards.
type write struct {
	kind    string // signup, project, lead, lead-idem, update
	outcome outcome
	key     string // email, project name, lead_id, or lead id for updates
	value   string // updates: the company written; lead-idem: the Idempotency-Key
	id      string // the id the answer carried
	owner   int    // project index for leads
}

type crashLoad struct {
	url     string
	client  *http.Client
	token   string
	pids    []string
	mu      sync.Mutex
	writes  []write
	acks    atomic.Int64
	failure atomic.Value // a 4xx/5xx answer: a bug, not a crash
}

func (l *crashLoad) do(method, path, body string, hdr map[string]string) (int, map[string]any, error) {
	req, err := http.NewRequest(method, l.url+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if l.token != "" {
		req.Header.Set("Authorization", l.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := l.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, err // the status came but not the body: the outcome is still unknown to a client
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if res.StatusCode/100 != 2 {
		l.failure.CompareAndSwap(nil, fmt.Sprintf("%s %s: %d %s", method, path, res.StatusCode, raw))
	}
	return res.StatusCode, m, nil
}

// record notes a write's outcome; a transport error means the server died under it.
func (l *crashLoad) record(w write, status int, err error) bool {
	if err != nil {
		w.outcome = unknown
	} else if status/100 != 2 {
		return false
	} else {
		w.outcome = acked
		l.acks.Add(1)
	}
	l.mu.Lock()
	l.writes = append(l.writes, w)
	l.mu.Unlock()
	return err == nil
}

// worker writes until the server dies: sign-ups, projects, leads with and without an
// Idempotency-Key, and updates of its own leads (one writer per lead, so the last acknowledged value
// is the one that must be stored).
func (l *crashLoad) worker(n int) {
	var mine []string
	for i := 0; ; i++ {
		tag := fmt.Sprintf("w%d-%d", n, i)
		var w write
		var status int
		var m map[string]any
		var err error
		switch {
		case i%10 == 3:
			w = write{kind: "signup", key: "crash-" + tag + "@example.com"}
			status, m, err = l.do("POST", "/v1/auth/signup", fmt.Sprintf(`{"email":%q,"password":"Passw0rd!","firstname":"C","lastname":"T"}`, w.key), nil)
		case i%10 == 7:
			w = write{kind: "project", key: "Crash " + tag}
			status, m, err = l.do("POST", "/v1/projects", fmt.Sprintf(`{"name":%q}`, w.key), nil)
		case i%3 == 2 && len(mine) > 0:
			w = write{kind: "update", key: mine[i%len(mine)], value: "Company " + tag, owner: n % len(l.pids)}
			status, m, err = l.do("PUT", "/v1/"+l.pids[w.owner]+"/leads/"+w.key, fmt.Sprintf(`{"company":%q}`, w.value), nil)
		default:
			w = write{kind: "lead", key: "crash-lead-" + tag, owner: n % len(l.pids)}
			var hdr map[string]string
			if i%2 == 0 {
				w.kind, w.value = "lead-idem", "idem-"+tag
				hdr = map[string]string{"Idempotency-Key": w.value}
			}
			status, m, err = l.do("POST", "/v1/"+l.pids[w.owner]+"/leads", fmt.Sprintf(`{"lead_id":%q,"fullname":"Crash Lead"}`, w.key), hdr)
		}
		if id, ok := m["_id"].(string); ok {
			w.id = id
		} else if u, ok := m["user"].(map[string]any); ok {
			w.id, _ = u["_id"].(string)
		}
		if !l.record(w, status, err) {
			return
		}
		if (w.kind == "lead" || w.kind == "lead-idem") && w.outcome == acked && n%len(l.pids) == w.owner {
			mine = append(mine, w.id)
		}
	}
}

func TestCrashDurabilitySQLite(t *testing.T) {
	db := filepath.Join(t.TempDir(), "crash.db")
	crashTest(t, []string{"--db", db}, func(t *testing.T) tiledesk.Store { return reopen(t, db) })
}

func TestCrashDurabilityPostgres(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	crashTest(t, []string{"--db", dsn}, func(t *testing.T) tiledesk.Store { return reopen(t, dsn) })
}

func reopen(t *testing.T, db string) tiledesk.Store {
	s, err := openStore(context.Background(), db, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// crashRounds is how many times the server is killed; writes of earlier rounds are checked again
// after every later crash.
const crashRounds = 3

func crashTest(t *testing.T, args []string, open func(*testing.T) tiledesk.Store) {
	srv := startChild(t, args...)
	l := &crashLoad{client: &http.Client{Timeout: 20 * time.Second}, url: srv.url}
	// The owner and two projects exist before the chaos starts.
	if status, _, err := l.do("POST", "/v1/auth/signup", `{"email":"crash.owner@example.com","password":"Passw0rd!","firstname":"C","lastname":"O"}`, nil); err != nil || status != 200 {
		t.Fatalf("signup: %d %v", status, err)
	}
	_, m, err := l.do("POST", "/v1/auth/signin", `{"email":"crash.owner@example.com","password":"Passw0rd!"}`, nil)
	if err != nil || m["token"] == nil {
		t.Fatalf("signin: %v %v", m, err)
	}
	l.token = m["token"].(string)
	for i := 0; i < 2; i++ {
		_, m, err := l.do("POST", "/v1/projects", fmt.Sprintf(`{"name":"Crash base %d"}`, i), nil)
		if err != nil || m["_id"] == nil {
			t.Fatalf("project: %v %v", m, err)
		}
		l.pids = append(l.pids, m["_id"].(string))
	}
	for round := 0; round < crashRounds; round++ {
		var wg sync.WaitGroup
		for n := 0; n < 8; n++ {
			wg.Add(1)
			go func(n int) { defer wg.Done(); l.worker(round*8 + n) }(n)
		}
		// Kill once a batch of writes has been acknowledged in this round, while the rest are in flight.
		target := l.acks.Load() + 60
		for deadline := time.Now().Add(60 * time.Second); l.acks.Load() < target && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		srv.kill(t)
		wg.Wait()
		if f := l.failure.Load(); f != nil {
			t.Fatalf("a write was refused before the crash (a bug in the load, not durability): %v", f)
		}
		if l.acks.Load() < target {
			t.Fatalf("only %d writes were acknowledged before the deadline", l.acks.Load())
		}
		srv = startChild(t, args...) // recovery: the server starts on the data a crash left
		l.url = srv.url
		l.client.CloseIdleConnections()
		checkWrites(t, l, srv)
	}
	srv.kill(t)
	s := open(t)
	checkStore(t, s, l)
	checkEventNumbers(t, s, l.pids)
}

// checkEventNumbers checks that every event the crashes left is numbered, 1 to N without a gap:
// on PostgreSQL the numbering after a commit was cut short by the kills, and is done by the relay
// of whichever process opens the database next.
func checkEventNumbers(t *testing.T, s tiledesk.Store, pids []string) {
	t.Helper()
	ctx := context.Background()
	for _, pid := range pids {
		total := 0
		for after := ""; ; {
			evs, err := s.FindEvents(ctx, pid, tiledesk.EventFilter{AfterID: after})
			if err != nil {
				t.Fatal(err)
			}
			total += len(evs)
			if len(evs) < tiledesk.MaxEventPage {
				break
			}
			after = evs[len(evs)-1].ID
		}
		last := storetest.WaitNumbered(t, s, pid, int64(total))
		var seen int64
		for seen < last {
			evs, err := s.EventsAfter(ctx, pid, seen, tiledesk.MaxEventPage)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				if ev.Seq != seen+1 {
					t.Fatalf("project %s: after event %d comes %d", pid, seen, ev.Seq)
				}
				seen = ev.Seq
			}
			if len(evs) == 0 {
				t.Fatalf("project %s: numbered up to %d, but nothing after %d", pid, last, seen)
			}
		}
		if last != int64(total) {
			t.Fatalf("project %s: %d events, numbered up to %d", pid, total, last)
		}
	}
}

// checkWrites checks through the API, on the restarted server, what needs a live server: retrying an
// acknowledged idempotent create returns the lead it created.
func checkWrites(t *testing.T, l *crashLoad, srv *child) {
	t.Helper()
	for _, w := range l.writes {
		if w.kind != "lead-idem" || w.outcome != acked {
			continue
		}
		status, m, err := l.do("POST", "/v1/"+l.pids[w.owner]+"/leads", fmt.Sprintf(`{"lead_id":%q,"fullname":"Crash Lead"}`, w.key),
			map[string]string{"Idempotency-Key": w.value})
		if err != nil || status != 200 || m["_id"] != w.id {
			t.Fatalf("retry of acknowledged create %s after the crash: %d %v %v, want the first lead %s", w.value, status, m["_id"], err, w.id)
		}
	}
	l.failure = atomic.Value{}
}

// checkStore reads the data the crashes left.
func checkStore(t *testing.T, s tiledesk.Store, l *crashLoad) {
	t.Helper()
	ctx := context.Background()
	events := map[string][]*tiledesk.Event{} // object id -> events
	for _, pid := range l.pids {
		after := ""
		for {
			evs, err := s.FindEvents(ctx, pid, tiledesk.EventFilter{AfterID: after, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				events[ev.ObjectID] = append(events[ev.ObjectID], ev)
			}
			if len(evs) < 1000 {
				break
			}
			after = evs[len(evs)-1].ID
		}
	}
	count := func(id, name string) int {
		n := 0
		for _, ev := range events[id] {
			if ev.Name == name {
				n++
			}
		}
		return n
	}
	lastUpdate := map[string]write{} // lead id -> last acknowledged update
	var stats [2]int
	for _, w := range l.writes {
		stats[w.outcome]++
		switch w.kind {
		case "signup":
			u, err := s.FindUserByEmail(ctx, w.key)
			if w.outcome == acked && (err != nil || u.ID != w.id) {
				t.Errorf("acknowledged sign-up %s: %v %v", w.key, u, err)
			}
		case "project":
			ms, err := s.FindMemberships(ctx, mustUser(t, s, "crash.owner@example.com"))
			if err != nil {
				t.Fatal(err)
			}
			var found *tiledesk.Project
			for _, m := range ms {
				if m.Project.Name == w.key {
					found = m.Project
				}
			}
			if w.outcome == acked && (found == nil || found.ID != w.id) {
				t.Errorf("acknowledged project %q is missing or not whole (owner membership)", w.key)
			}
			if found != nil {
				if _, err := s.FindDefaultDepartment(ctx, found.ID); err != nil {
					t.Errorf("project %q is half there: no default department: %v", w.key, err)
				}
			}
		case "lead", "lead-idem":
			lead, err := s.FindLeadByLeadID(ctx, l.pids[w.owner], w.key)
			switch {
			case w.outcome == acked && (err != nil || lead.ID != w.id):
				t.Errorf("acknowledged lead %s: %v %v", w.key, lead, err)
			case err == nil && count(lead.ID, tiledesk.EventLeadCreate) != 1:
				t.Errorf("lead %s is there with %d lead.create events, want 1", w.key, count(lead.ID, tiledesk.EventLeadCreate))
			case err != nil && tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND:
				t.Fatal(err)
			}
		case "update":
			if w.outcome == acked {
				lastUpdate[w.key] = w
				found := false
				for _, ev := range events[w.key] {
					found = found || ev.Name == tiledesk.EventLeadUpdate && strings.Contains(string(ev.Payload), w.value)
				}
				if !found {
					t.Errorf("acknowledged update of lead %s to %q has no lead.update event", w.key, w.value)
				}
			}
		}
	}
	// A lead's stored company is its last acknowledged update, or one that came after it unanswered.
	for id, w := range lastUpdate {
		lead, err := s.FindLeadByID(ctx, l.pids[w.owner], id)
		if err != nil {
			t.Errorf("updated lead %s: %v", id, err)
			continue
		}
		ok := lead.Company == w.value
		for i := len(l.writes) - 1; !ok && i >= 0 && l.writes[i] != w; i-- {
			later := l.writes[i]
			ok = later.kind == "update" && later.key == id && later.outcome == unknown && lead.Company == later.value
		}
		if !ok {
			t.Errorf("lead %s has company %q, but %q was acknowledged last", id, lead.Company, w.value)
		}
	}
	// Every lead.create event names a lead that is there, and the count of active leads agrees.
	for _, pid := range l.pids {
		page, err := s.FindLeads(ctx, pid, tiledesk.LeadFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		exact, err := s.FindLeads(ctx, pid, tiledesk.LeadFilter{Limit: 1, WithFullname: true})
		if err != nil {
			t.Fatal(err)
		}
		if page.Count != exact.Count || page.Count != len(page.Leads) {
			t.Errorf("project %s: the kept count of leads is %d, a COUNT finds %d, the list %d", pid, page.Count, exact.Count, len(page.Leads))
		}
		for _, lead := range page.Leads {
			if count(lead.ID, tiledesk.EventLeadCreate) != 1 {
				t.Errorf("lead %s has %d lead.create events", lead.ID, count(lead.ID, tiledesk.EventLeadCreate))
			}
		}
	}
	for id, evs := range events {
		for _, ev := range evs {
			if ev.Name != tiledesk.EventLeadCreate && ev.Name != tiledesk.EventLeadUpdate {
				continue
			}
			if _, err := s.FindLeadByID(ctx, ev.ProjectID, id); err != nil {
				t.Errorf("the outbox holds %s of lead %s, which is not there: %v", ev.Name, id, err)
			}
		}
	}
	t.Logf("%d crashes: %d writes acknowledged, %d without an answer, all consistent", crashRounds, stats[acked], stats[unknown])
}

func mustUser(t *testing.T, s tiledesk.Store, email string) string {
	u, err := s.FindUserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
