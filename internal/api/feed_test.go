package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// feedPage is a decoded answer of the feed.
type feedPage struct {
	Events []struct {
		Seq       int64           `json:"seq"`
		ID        string          `json:"id"`
		Name      string          `json:"name"`
		CreatedAt string          `json:"createdAt"`
		Payload   json.RawMessage `json:"payload"`
	} `json:"events"`
	Next   int64 `json:"next"`
	Gap    bool  `json:"gap"`
	Oldest int64 `json:"oldest"`
}

func (e *testEnv) feed(pid string, query string, who cred) feedPage {
	e.t.Helper()
	r := e.do("GET", "/"+pid+"/events/feed?"+query, nil, who).want(e.t, 200)
	var p feedPage
	if err := json.Unmarshal(r.body, &p); err != nil {
		e.t.Fatalf("feed answer: %v\n%s", err, r.body)
	}
	return p
}

// feedUntil reads the feed from after, waiting for new events, until it has n events; it fails
// when the feed stops giving before that. It checks that the events follow each other without a
// gap, and returns them with the next after.
func (e *testEnv) feedUntil(pid string, after int64, n int, who cred) ([]string, int64) {
	e.t.Helper()
	var names []string
	for len(names) < n {
		p := e.feed(pid, fmt.Sprintf("after=%d&limit=3&wait=10s", after), who)
		if len(p.Events) == 0 {
			e.t.Fatalf("the feed after %d has %d of %d events, then nothing for 10 s: %v", after, len(names), n, names)
		}
		for _, ev := range p.Events {
			if ev.Seq != after+1 {
				e.t.Fatalf("event %s has seq %d after %d: the feed skipped or repeated one", ev.Name, ev.Seq, after)
			}
			after = ev.Seq
			names = append(names, ev.Name)
		}
		if p.Next != after {
			e.t.Fatalf("next = %d, want the last seq %d", p.Next, after)
		}
	}
	return names, after
}

// A client reads the whole log in small pages, goes away while the project changes, and resumes
// with the next it kept: it gets exactly what it missed, in order, on both engines.
func TestEventFeedResumesWhereItStopped(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner := e.signup("Owner")
		pid := e.createProject(owner, "Feed")
		// project.create, projectuser.create, department.create (the default department)
		start, next := e.feedUntil(pid, 0, 3, owner.jwt())
		if !strings.Contains(strings.Join(start, " "), tiledesk.EventProjectCreate) {
			t.Fatalf("first events %v, want project.create among them", start)
		}
		// Offline: the project changes.
		var leads []string
		for i := range 4 {
			r := e.do("POST", "/"+pid+"/leads", map[string]string{"fullname": fmt.Sprintf("Lead %d", i)}, owner.jwt()).want(t, 200)
			leads = append(leads, r.json(t)["_id"].(string))
		}
		e.do("DELETE", "/"+pid+"/leads/"+leads[0]+"/physical", nil, owner.jwt()).want(t, 200)
		names, next := e.feedUntil(pid, next, 5, owner.jwt())
		want := []string{"lead.create", "lead.create", "lead.create", "lead.create", "lead.delete"}
		if strings.Join(names, " ") != strings.Join(want, " ") {
			t.Fatalf("resumed feed = %v, want %v", names, want)
		}
		// Up to date: nothing more, the same next.
		if p := e.feed(pid, fmt.Sprintf("after=%d", next), owner.jwt()); len(p.Events) != 0 || p.Next != next || p.Gap {
			t.Fatalf("feed after the last event = %+v, want no event and next %d", p, next)
		}
	})
}

func TestEventFeedPayloadShape(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Shapes")
	r := e.do("POST", "/"+pid+"/leads", map[string]string{"fullname": "Shape", "email": "shape@example.com"}, owner.jwt()).want(t, 200)
	lead := r.json(t)
	p := e.feed(pid, "after=0", owner.jwt())
	last := p.Events[len(p.Events)-1]
	if last.Name != tiledesk.EventLeadCreate || last.ID == "" || last.CreatedAt != "2026-03-01T12:00:00.000Z" {
		t.Fatalf("last event = %+v", last)
	}
	var payload map[string]any
	if err := json.Unmarshal(last.Payload, &payload); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"_id", "fullname", "email", "id_project", "createdAt"} {
		if fmt.Sprint(payload[k]) != fmt.Sprint(lead[k]) {
			t.Errorf("payload %s = %v, the REST answer has %v", k, payload[k], lead[k])
		}
	}
}

// The events of objects other than conversations and contacts carry them in their REST shapes
// too: the widget's texts as GET /:pid/labels answers them, a pending invitation as
// GET /:pid/pendinginvitations/:id.
func TestEventFeedPayloadsOfTextsAndInvitations(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Shapes")
	e.do("POST", "/"+pid+"/labels", map[string]any{"lang": "FR", "data": map[string]string{"WELCOME_TITLE": "Bonjour"}}, owner.jwt()).want(t, 200)
	labels := e.do("GET", "/"+pid+"/labels", nil).want(t, 200).json(t)
	inv := e.do("POST", "/"+pid+"/project_users/invite", map[string]string{"email": "later@example.com", "role": "agent"}, owner.jwt()).
		want(t, 200).json(t)["pendingInvitation"].(map[string]any)
	pending := e.do("GET", "/"+pid+"/pendinginvitations/"+inv["_id"].(string), nil, owner.jwt()).want(t, 200).json(t)
	want := map[string]map[string]any{tiledesk.EventLabelsUpdate: labels, tiledesk.EventInvitePending: pending}
	for _, ev := range e.feed(pid, "after=0", owner.jwt()).Events {
		rest, ok := want[ev.Name]
		if !ok {
			continue
		}
		delete(want, ev.Name)
		var payload map[string]any
		if err := json.Unmarshal(ev.Payload, &payload); err != nil {
			t.Fatal(err)
		}
		if got, exp := keys(payload), keys(rest); got != exp {
			t.Errorf("%s carries %s, the REST answer %s", ev.Name, got, exp)
		}
		if payload["_id"] != rest["_id"] {
			t.Errorf("%s carries _id %v, the REST answer %v", ev.Name, payload["_id"], rest["_id"])
		}
	}
	if len(want) > 0 {
		t.Errorf("no event for %v", want)
	}
}

// keys are an object's keys, sorted and joined.
func keys(m map[string]any) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestEventFeedRefusesBadParameters(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Bad")
	for query, param := range map[string]string{"after=-1": "after", "after=x": "after", "limit=0": "limit",
		"limit=1001": "limit", "wait=26s": "wait", "wait=forever": "wait", "wait=-1s": "wait", "wait=NaN": "wait",
		"wait=1e300": "wait", "wait=26": "wait"} {
		r := e.do("GET", "/"+pid+"/events/feed?"+query, nil, owner.jwt())
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"param":"`+param+`"`) {
			t.Errorf("%s: %d %s, want 400 naming %s", query, r.status, r.body, param)
		}
	}
}

// Who sees what: an agent who may not see a conversation (restricted department, neither
// participant nor follower) gets none of its events, its participant does, admins get every event;
// every caller's next is the same, so hidden events never hold a client back. Visitors and other
// projects' tokens are refused.
func TestEventFeedVisibility(t *testing.T) {
	e := newEnv(t)
	w := newWorld(e)
	// A webhook subscription (its secret is in its payload): for admins only.
	e.do("POST", "/"+w.pidA+"/subscriptions", map[string]string{"event": "lead.create", "target": "https://hooks.example.com/x"},
		w.ownerA.jwt()).want(t, 200)
	all := e.feed(w.pidA, "after=0&limit=1000", w.adminA.jwt())
	if len(all.Events) == 0 {
		t.Fatal("admin feed is empty")
	}
	hidden := e.feed(w.pidA, "after=0&limit=1000", jwtCred(w.hiddenAgent.token))
	agent := e.feed(w.pidA, "after=0&limit=1000", w.agentA.jwt())
	if hidden.Next != all.Next || agent.Next != all.Next {
		t.Fatalf("next: admin %d, hidden agent %d, agent %d: want the same", all.Next, hidden.Next, agent.Next)
	}
	mentions := func(p feedPage, s string) int {
		n := 0
		for _, ev := range p.Events {
			if strings.Contains(string(ev.Payload), s) {
				n++
			}
		}
		return n
	}
	if n := mentions(all, w.rid); n == 0 {
		t.Fatalf("admin feed has no event of the conversation %s", w.rid)
	}
	if n := mentions(hidden, w.rid); n != 0 {
		t.Errorf("an agent who may not see the conversation gets %d of its events", n)
	}
	if mentions(agent, w.rid) != mentions(all, w.rid) {
		t.Errorf("the conversation's participant gets %d of its %d events", mentions(agent, w.rid), mentions(all, w.rid))
	}
	names := func(p feedPage) string {
		var out []string
		for _, ev := range p.Events {
			out = append(out, ev.Name)
		}
		return strings.Join(out, " ")
	}
	if !strings.Contains(names(hidden), "lead.create") || !strings.Contains(names(hidden), "department.create") {
		t.Errorf("agents see leads and departments; hidden agent got %s", names(hidden))
	}
	if strings.Contains(names(agent), tiledesk.EventInvitePending) || !strings.Contains(names(all), tiledesk.EventInvitePending) {
		t.Errorf("pending invitations are for admins: agent got %s; admin %s", names(agent), names(all))
	}
	if strings.Contains(names(agent), tiledesk.EventSubscriptionCreate) || !strings.Contains(names(all), tiledesk.EventSubscriptionCreate) {
		t.Errorf("subscriptions are for admins: agent got %s; admin %s", names(agent), names(all))
	}
	for _, c := range []struct {
		name string
		cred cred
		want int
	}{{"guest", jwtCred(w.guestToken), 403}, {"other project's owner", w.ownerB.jwt(), 403}, {"nobody", nil, 401}} {
		var creds []cred
		if c.cred != nil {
			creds = append(creds, c.cred)
		}
		r := e.do("GET", "/"+w.pidA+"/events/feed", nil, creds...)
		if r.status != c.want || w.leaks(r) != "" {
			t.Errorf("feed of A as %s: %d %s, want %d", c.name, r.status, r.body, c.want)
		}
	}
	// B's owner reads B's feed: nothing of A.
	if p := e.feed(w.pidB, "after=0&limit=1000", w.ownerB.jwt()); mentions(p, w.pidA) != 0 {
		t.Errorf("B's feed carries A's events")
	}
}

// startPoll calls the feed in the background; the answer arrives on the channel.
func (e *testEnv) startPoll(pid, query string, who cred) <-chan *resp {
	ch := make(chan *resp, 1)
	go func() {
		status, body, err := e.send("GET", "/"+pid+"/events/feed?"+query, "", who)
		if err != nil {
			body = []byte(err.Error())
		}
		ch <- &resp{status: status, body: body}
	}()
	return ch
}

// waitWaiting waits until n polls wait in the server.
func (e *testEnv) waitWaiting(n int) {
	e.t.Helper()
	for range 5000 {
		e.srv.feedWaiters.mu.Lock()
		total := 0
		for _, c := range e.srv.feedWaiters.n {
			total += c
		}
		e.srv.feedWaiters.mu.Unlock()
		if total >= n {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	e.t.Fatalf("%d polls never waited", n)
}

func decodePoll(t *testing.T, r *resp) feedPage {
	t.Helper()
	var p feedPage
	if r.status != 200 || json.Unmarshal(r.body, &p) != nil {
		t.Fatalf("poll: %d %s", r.status, r.body)
	}
	return p
}

// A waiting poll answers with the write that woke it; one that nothing wakes answers an empty page
// with the same next at its timeout. While it waits it holds no place of the read gate.
func TestEventFeedLongPoll(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, func(c *Config) { c.MaxActiveReads = 1 })
		owner := e.signup("Owner")
		pid := e.createProject(owner, "Poll")
		_, next := e.feedUntil(pid, 0, 3, owner.jwt())
		poll := e.startPoll(pid, fmt.Sprintf("after=%d&wait=20s", next), owner.jwt())
		e.waitWaiting(1)
		// The only read place is free: a read answers while the poll waits.
		e.do("GET", "/projects/"+pid, nil, owner.jwt()).want(t, 200)
		select {
		case r := <-poll:
			t.Fatalf("the poll answered before any write: %d %s", r.status, r.body)
		default:
		}
		e.do("POST", "/"+pid+"/leads", map[string]string{"fullname": "Wake up"}, owner.jwt()).want(t, 200)
		p := decodePoll(t, <-poll)
		if len(p.Events) != 1 || p.Events[0].Name != tiledesk.EventLeadCreate || p.Next != next+1 {
			t.Fatalf("woken poll = %+v, want the lead.create after %d", p, next)
		}
		p = e.feed(pid, fmt.Sprintf("after=%d&wait=100ms", p.Next), owner.jwt())
		if len(p.Events) != 0 || p.Next != next+1 || p.Gap {
			t.Fatalf("timed out poll = %+v, want an empty page with next %d", p, next+1)
		}
	})
}

// Shutdown answers waiting polls at once, so that draining does not wait for them.
func TestEventFeedPollEndsAtShutdown(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Drain")
	began := time.Now()
	poll := e.startPoll(pid, "after=1000&wait=25s", owner.jwt())
	e.waitWaiting(1)
	e.srv.BeginShutdown()
	p := decodePoll(t, <-poll)
	if len(p.Events) != 0 || p.Next != 1000 {
		t.Fatalf("poll at shutdown = %+v", p)
	}
	// A poll that comes during the shutdown does not wait, and its connection closes.
	req, _ := http.NewRequest("GET", e.http.URL+"/"+pid+"/events/feed?after=1000&wait=25s", nil)
	req.Header.Set("Authorization", owner.token)
	res, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !res.Close {
		t.Fatalf("poll during the shutdown: %d, connection closed %v, want 200 and closed", res.StatusCode, res.Close)
	}
	if time.Since(began) >= 20*time.Second {
		t.Fatal("the poll waited out its wait despite the shutdown")
	}
}

// One credential keeps at most feedWaitersPerCaller polls waiting: more answer at once.
func TestEventFeedBoundsWaitingPolls(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Bound")
	var polls []<-chan *resp
	for range feedWaitersPerCaller {
		polls = append(polls, e.startPoll(pid, "after=1000&wait=25s", owner.jwt()))
	}
	e.waitWaiting(feedWaitersPerCaller)
	if p := e.feed(pid, "after=1000&wait=25s", owner.jwt()); len(p.Events) != 0 || p.Next != 1000 {
		t.Fatalf("poll over the bound = %+v", p)
	}
	e.srv.BeginShutdown()
	for _, p := range polls {
		decodePoll(t, <-p)
	}
}

// Retention removed events a client had not read: the feed says so rather than skip them quietly.
func TestEventFeedReportsGap(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Gap")
	ctx := context.Background()
	for {
		n, err := e.engine.PruneEvents(ctx, testEpoch.Add(time.Hour), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	// Pruning keeps each project's newest event (3).
	p := e.feed(pid, "after=0", owner.jwt())
	if !p.Gap || p.Oldest != 3 || len(p.Events) != 1 || p.Next != 3 {
		t.Fatalf("feed of a pruned log = %+v, want gap, oldest 3 and next 3", p)
	}
	e.do("POST", "/"+pid+"/leads", map[string]string{"fullname": "After"}, owner.jwt()).want(t, 200)
	p = e.feed(pid, "after=1", owner.jwt())
	if !p.Gap || p.Oldest != 3 || len(p.Events) != 2 || p.Events[1].Seq != 4 {
		t.Fatalf("feed after a pruned part = %+v, want gap, oldest 3 and events 3, 4", p)
	}
	if p = e.feed(pid, "after=2", owner.jwt()); p.Gap || len(p.Events) != 2 {
		t.Fatalf("feed after what it read = %+v, want no gap", p)
	}
}

// Once a conversation is deleted, an agent's view of its events is decided on its last state: its
// participant still sees its request events (request.delete included), an agent who could not see
// it still sees none; the messages, gone from the REST routes, are no longer shown to agents.
func TestEventFeedDeletedConversation(t *testing.T) {
	e := newEnv(t)
	w := newWorld(e)
	e.do("DELETE", "/"+w.pidA+"/requests/"+w.rid, nil, w.ownerA.jwt()).want(t, 200)
	count := func(who cred) (deletes, messages, others int) {
		for _, ev := range e.feed(w.pidA, "after=0&limit=1000", who).Events {
			if !strings.Contains(string(ev.Payload), w.rid) {
				continue
			}
			switch {
			case ev.Name == tiledesk.EventRequestDelete:
				deletes++
			case ev.Name == tiledesk.EventMessageCreate:
				messages++
			default:
				others++
			}
		}
		return
	}
	if d, m, o := count(w.adminA.jwt()); d != 1 || m == 0 || o == 0 {
		t.Fatalf("admin: %d deletes, %d messages, %d other events of the deleted conversation", d, m, o)
	}
	if d, m, o := count(w.agentA.jwt()); d != 1 || m != 0 || o == 0 {
		t.Errorf("its participant: %d deletes, %d messages, %d other events; want the delete and the request events, no message", d, m, o)
	}
	if d, m, o := count(jwtCred(w.hiddenAgent.token)); d+m+o != 0 {
		t.Errorf("an agent who could not see it: %d deletes, %d messages, %d other events", d, m, o)
	}
}
