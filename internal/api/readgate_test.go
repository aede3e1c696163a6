package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// heldLeads holds every lead lookup by id (whole or its version), while hold is set, until release lets it go, and reports
// the ids in the order the lookups reach the store.
type heldLeads struct {
	tiledesk.ViewStore
	hold    atomic.Bool
	arrived chan string
	release chan struct{}
}

func (h *heldLeads) FindLeadUnlessKept(ctx context.Context, projectID, id string, kept func(time.Time) bool) (*tiledesk.Lead, time.Time, error) {
	h.wait(id)
	return h.ViewStore.FindLeadUnlessKept(ctx, projectID, id, kept)
}

func (h *heldLeads) LeadVersion(ctx context.Context, projectID, id string) (time.Time, error) {
	h.wait(id)
	return h.ViewStore.LeadVersion(ctx, projectID, id)
}

func (h *heldLeads) wait(id string) {
	if h.hold.Load() {
		h.arrived <- id
		<-h.release
	}
}

func TestReadGate(t *testing.T) {
	held := &heldLeads{arrived: make(chan string, 16), release: make(chan struct{})}
	e := newEnvWith(t, func(c *Config) {
		held.ViewStore = c.ViewStore
		c.ViewStore = held
		c.MaxActiveReads = 1
	})
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Gate")
	var ids []string
	for range 4 {
		ids = append(ids, e.do("POST", "/"+pid+"/leads", `{"fullname":"Waiting Lead"}`, owner.jwt()).want(t, 200).json(t)["_id"].(string))
	}
	held.hold.Store(true)
	t.Cleanup(func() { held.hold.Store(false); close(held.release) }) // before the server closes: nothing stays held
	done := make(chan int, 16)
	get := func(id string) {
		go func() { done <- e.do("GET", "/"+pid+"/leads/"+id, nil, owner.jwt()).status }()
	}
	waiting := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); e.srv.reads.waitingNow() != float64(n); {
			if time.Now().After(deadline) {
				t.Fatalf("%v reads waiting, want %d", e.srv.reads.waitingNow(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	arrives := func(want string) {
		t.Helper()
		select {
		case id := <-held.arrived:
			if id != want {
				t.Fatalf("lead %s reached the store, want %s (arrival order)", id, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("lead %s never reached the store", want)
		}
	}

	get(ids[0])
	arrives(ids[0]) // the one place is taken
	for i := 1; i < 4; i++ {
		get(ids[i])
		waiting(i) // queued in this order
	}
	// A read whose client gives up while it waits leaves the line and never runs.
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", e.http.URL+"/"+pid+"/leads/"+ids[0], nil)
		req.Header.Set("Authorization", owner.token)
		_, err := http.DefaultClient.Do(req)
		gaveUp <- err
	}()
	waiting(4)
	cancel()
	if err := <-gaveUp; err == nil {
		t.Fatal("the cancelled read answered")
	}
	waiting(3)
	// Writes do not wait behind reads.
	e.do("POST", "/"+pid+"/leads", `{"fullname":"Not Waiting"}`, owner.jwt()).want(t, 200)

	for i := 1; i < 4; i++ {
		held.release <- struct{}{}
		arrives(ids[i])
	}
	held.release <- struct{}{}
	for range 4 {
		if status := <-done; status != 200 {
			t.Fatalf("a gated read answered %d", status)
		}
	}
	select {
	case id := <-held.arrived:
		t.Fatalf("lead %s reached the store after its client gave up", id)
	default:
	}
}

func TestReadGateAdmits(t *testing.T) {
	g := newReadGate(2)
	upgrade := httptest.NewRequest("GET", "/ws", nil)
	upgrade.Header.Set("Upgrade", "websocket")
	for _, c := range []struct {
		gate     *readGate
		r        *http.Request
		streamed bool
		want     bool
	}{
		{g, httptest.NewRequest("GET", "/x", nil), false, true},
		{g, httptest.NewRequest("HEAD", "/x", nil), false, true},
		{g, httptest.NewRequest("POST", "/x", nil), false, false},
		{g, httptest.NewRequest("DELETE", "/x", nil), false, false},
		{g, httptest.NewRequest("GET", "/x/csv", nil), true, false},
		{g, upgrade, false, false},
		{newReadGate(0), httptest.NewRequest("GET", "/x", nil), false, false},
	} {
		if got := c.gate.gated(c.r, c.streamed); got != c.want {
			t.Errorf("%s %s (streamed %v, upgrade %q, gate %v): gated = %v, want %v", c.r.Method, c.r.URL.Path,
				c.streamed, c.r.Header.Get("Upgrade"), c.gate != nil, got, c.want)
		}
	}
}
