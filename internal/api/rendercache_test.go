package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// TestLeadListNeverStale changes leads through the API and, as another server process would,
// directly in the store: every list shows them as they are now, although the list renders from
// the cache.
func TestLeadListNeverStale(t *testing.T) {
	e := newLeadsEnv(t)
	id := e.lead(`{"fullname":"Before","email":"x@example.com"}`)["_id"].(string)
	list := func() map[string]any {
		leads := e.do("GET", "/"+e.pid+"/leads", nil, e.agent.jwt()).want(t, 200).json(t)["leads"].([]any)
		return leads[0].(map[string]any)
	}
	if got := list()["fullname"]; got != "Before" {
		t.Fatalf("first list: %v", got)
	}
	e.do("PUT", "/"+e.pid+"/leads/"+id, `{"fullname":"Through the API"}`, e.agent.jwt()).want(t, 200)
	if got := list()["fullname"]; got != "Through the API" {
		t.Fatalf("after a PUT the list shows %v", got)
	}
	for i := range 3 { // changes within one millisecond still get distinct versions
		name := fmt.Sprint("Elsewhere ", i)
		if _, err := e.store.UpdateLead(context.Background(), e.pid, id, tiledesk.LeadUpdate{Fullname: &name}, nil); err != nil {
			t.Fatal(err)
		}
		if got := list()["fullname"]; got != name {
			t.Fatalf("after a change in the store the list shows %v, want %s", got, name)
		}
		if got := e.do("GET", "/"+e.pid+"/leads/"+id, nil, e.agent.jwt()).want(t, 200).json(t)["fullname"]; got != name {
			t.Fatalf("after a change in the store the lead reads %v, want %s", got, name)
		}
	}
	e.do("DELETE", "/"+e.pid+"/leads/"+id, nil, e.owner.jwt()).want(t, 200)
	if n := len(e.do("GET", "/"+e.pid+"/leads", nil, e.agent.jwt()).want(t, 200).json(t)["leads"].([]any)); n != 0 {
		t.Fatalf("a deleted lead is still listed (%d leads)", n)
	}
}

// TestRequestListNeverStale changes a listed conversation, its lead, its department and its
// requester, through the API and behind its back: every list shows them as they are now.
func TestRequestListNeverStale(t *testing.T) {
	e := newChatEnv(t)
	ctx := context.Background()
	rid := e.rid("stale")
	e.post(rid, `{"text":"Hello","senderFullname":"First Name"}`, e.owner.jwt()).want(t, 200)
	first := func() map[string]any {
		list := e.do("GET", "/"+e.pid+"/requests", nil, e.owner.jwt()).want(t, 200).json(t)["requests"].([]any)
		if len(list) != 1 {
			t.Fatalf("%d conversations listed", len(list))
		}
		return list[0].(map[string]any)
	}
	r := first()
	leadID := r["lead"].(map[string]any)["_id"].(string)
	deptID := r["department"].(map[string]any)["_id"].(string)

	e.do("PATCH", "/"+e.pid+"/requests/"+rid, `{"subject":"Through the API"}`, e.owner.jwt()).want(t, 200)
	if got := first()["subject"]; got != "Through the API" {
		t.Fatalf("after a PATCH the list shows subject %v", got)
	}
	if _, err := e.store.ChangeRequest(ctx, e.pid, rid, nil, func(r *tiledesk.Request, _ tiledesk.RequestEnv) ([]string, error) {
		r.Subject = "Elsewhere"
		return nil, nil
	}, nil); err != nil {
		t.Fatal(err)
	}
	if got := first()["subject"]; got != "Elsewhere" {
		t.Fatalf("after a change in the store the list shows subject %v", got)
	}
	name := "Lead Renamed"
	if _, err := e.store.UpdateLead(ctx, e.pid, leadID, tiledesk.LeadUpdate{Fullname: &name}, nil); err != nil {
		t.Fatal(err)
	}
	if got := first()["lead"].(map[string]any)["fullname"]; got != name {
		t.Fatalf("after a change of its lead the list shows %v", got)
	}
	e.do("PUT", "/"+e.pid+"/departments/"+deptID, `{"name":"Renamed Department"}`, e.owner.jwt()).want(t, 200)
	if got := first()["department"].(map[string]any)["name"]; got != "Renamed Department" {
		t.Fatalf("after a change of its department the list shows %v", got)
	}
	e.do("PUT", "/"+e.pid+"/project_users", `{"user_available":false}`, e.owner.jwt()).want(t, 200)
	if got := first()["requester"].(map[string]any)["user_available"]; got != false {
		t.Fatalf("after a change of its requester the list shows user_available %v", got)
	}
	e.do("PUT", "/users", `{"firstname":"Renamed"}`, e.owner.jwt()).want(t, 200)
	r = first()
	if got := r["participatingAgents"].([]any)[0].(map[string]any)["firstname"]; got != "Renamed" {
		t.Fatalf("after a change of its agent the list shows %v", got)
	}
	if got := r["requester"].(map[string]any)["id_user"].(map[string]any)["firstname"]; got != "Renamed" {
		t.Fatalf("after a change of its requester's user the list shows %v", got)
	}
	puID := r["requester"].(map[string]any)["_id"].(string)
	for i := range 3 { // within one millisecond, behind the API's back
		n := 10 + i
		if _, err := e.store.UpdateProjectUser(ctx, e.pid, puID, tiledesk.ProjectUserUpdate{NumberAssignedRequests: &n}); err != nil {
			t.Fatal(err)
		}
		if got := first()["requester"].(map[string]any)["number_assigned_requests"]; got != float64(n) {
			t.Fatalf("after a change of its requester in the store the list shows %v, want %d", got, n)
		}
	}
	// Behind the store's back, in SQL as another process could: the schema's triggers move the
	// clocks the kept page is checked against.
	if _, err := e.db().Exec(`UPDATE departments SET name = 'Renamed In SQL' WHERE id = ?`, deptID); err != nil {
		t.Fatal(err)
	}
	if got := first()["department"].(map[string]any)["name"]; got != "Renamed In SQL" {
		t.Fatalf("after a change of its department in SQL the list shows %v", got)
	}
	if _, err := e.db().Exec(`UPDATE users SET firstname = 'Sql' WHERE id = ?`, e.owner.id); err != nil {
		t.Fatal(err)
	}
	if got := first()["participatingAgents"].([]any)[0].(map[string]any)["firstname"]; got != "Sql" {
		t.Fatalf("after a change of its agent in SQL the list shows %v", got)
	}
	if _, err := e.store.DeleteLeadPermanently(ctx, e.pid, leadID); err != nil {
		t.Fatal(err)
	}
	if got := first()["lead"]; got != leadID {
		t.Fatalf("with its lead gone the list shows lead %v, want its id", got)
	}
}

// TestRequestPageKept shows that an unchanged page is served whole from the render cache: with the
// trigger that moves the clock on a department's change dropped, such a change stays unseen.
func TestRequestPageKept(t *testing.T) {
	e := newChatEnv(t)
	rid := e.rid("kept")
	e.post(rid, `{"text":"Hello"}`, e.owner.jwt()).want(t, 200)
	name := func() any {
		list := e.do("GET", "/"+e.pid+"/requests", nil, e.owner.jwt()).want(t, 200).json(t)["requests"].([]any)
		return list[0].(map[string]any)["department"].(map[string]any)["name"]
	}
	before := name()
	if _, err := e.db().Exec(`DROP TRIGGER departments_clock_update`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db().Exec(`UPDATE departments SET name = 'Unseen' WHERE id_project = ?`, e.pid); err != nil {
		t.Fatal(err)
	}
	if got := name(); got != before {
		t.Fatalf("the kept page was not served: department %v, want %v", got, before)
	}
	// Any other change of the project moves a clock, and the page is read again; the department's
	// own rendering is kept under the members' clock, which nothing has moved.
	e.do("PATCH", "/"+e.pid+"/requests/"+rid, `{"subject":"moved"}`, e.owner.jwt()).want(t, 200)
	first := e.do("GET", "/"+e.pid+"/requests", nil, e.owner.jwt()).want(t, 200).json(t)["requests"].([]any)[0].(map[string]any)
	if first["subject"] != "moved" || first["department"].(map[string]any)["name"] != before {
		t.Fatalf("after a change of the conversation the list shows subject %v, department %v; want moved, %v",
			first["subject"], first["department"].(map[string]any)["name"], before)
	}
	// The members' clock moved (as the dropped trigger would have moved it): the department is read.
	if _, err := e.db().Exec(`UPDATE project_counters SET members_clock = members_clock + 1 WHERE id_project = ?`, e.pid); err != nil {
		t.Fatal(err)
	}
	if got := name(); got != "Unseen" {
		t.Fatalf("after the members' clock moved the list still shows department %v", got)
	}
}

// TestPopulationPartsKept: a conversation read again shows its department and agents as rendered
// under the members' and users' clocks (a change that moves neither is not seen: here one made
// behind the server's back with the department trigger dropped), and any change that moves one of
// them, through the API or not, is shown at once.
func TestPopulationPartsKept(t *testing.T) {
	e := newChatEnv(t)
	rid := e.rid("parts")
	e.post(rid, `{"text":"Hello"}`, e.owner.jwt()).want(t, 200)
	read := func() (department, agent any) {
		t.Helper()
		r := e.do("GET", "/"+e.pid+"/requests/"+rid, nil, e.owner.jwt()).want(t, 200).json(t)
		agents := r["participatingAgents"].([]any)
		if len(agents) != 1 {
			t.Fatalf("participatingAgents = %v", agents)
		}
		return r["department"].(map[string]any)["name"], agents[0].(map[string]any)["firstname"]
	}
	dept, _ := read()
	if _, err := e.db().Exec(`DROP TRIGGER departments_clock_update`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db().Exec(`UPDATE departments SET name = 'Unseen' WHERE id_project = ?`, e.pid); err != nil {
		t.Fatal(err)
	}
	if got, _ := read(); got != dept {
		t.Fatalf("the kept department was not served: %v, want %v", got, dept)
	}
	// A user's change moves the users' clock: the agent shows it, and the department is read too.
	e.do("PUT", "/users", `{"firstname":"Renamed"}`, e.owner.jwt()).want(t, 200)
	if gotDept, gotAgent := read(); gotAgent != "Renamed" || gotDept != "Unseen" {
		t.Fatalf("after a user's change: department %v, agent %v; want Unseen, Renamed", gotDept, gotAgent)
	}
	// A department's change through the API (whose insert trigger still moves the members' clock).
	e.do("POST", "/"+e.pid+"/departments", `{"name":"Another"}`, e.owner.jwt()).want(t, 200)
	if got, _ := read(); got != "Unseen" {
		t.Fatalf("after the members' clock moved the department reads %v, want Unseen", got)
	}
	if _, err := e.db().Exec(`UPDATE departments SET name = 'Seen' WHERE id_project = ? AND name = 'Unseen'`, e.pid); err != nil {
		t.Fatal(err)
	}
	if got, _ := read(); got != "Unseen" {
		t.Fatalf("with no clock moved since, the department reads %v, want the kept Unseen", got)
	}
	e.do("POST", "/"+e.pid+"/departments", `{"name":"Third"}`, e.owner.jwt()).want(t, 200)
	if got, _ := read(); got != "Seen" {
		t.Fatalf("after the members' clock moved the department reads %v, want Seen", got)
	}
}

// noPopulationClock is a store without population clocks, as PostgreSQL's.
type noPopulationClock struct{ tiledesk.ViewStore }

func (s noPopulationClock) Clocks(ctx context.Context, projectID string) (tiledesk.Clocks, error) {
	c, err := s.ViewStore.Clocks(ctx, projectID)
	c.Population = tiledesk.PopulationClock{}
	return c, err
}

// TestPopulationPartsReadWithoutClock: without a population clock, a conversation's department is
// read every time, so that even a change that moves no clock is seen at once.
func TestPopulationPartsReadWithoutClock(t *testing.T) {
	e := newChatEnvWith(t, func(c *Config) { c.ViewStore = noPopulationClock{c.ViewStore} })
	rid := e.rid("unkept")
	e.post(rid, `{"text":"Hello"}`, e.owner.jwt()).want(t, 200)
	path := "/" + e.pid + "/requests/" + rid
	e.do("GET", path, nil, e.owner.jwt()).want(t, 200)
	if _, err := e.db().Exec(`DROP TRIGGER departments_clock_update`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db().Exec(`UPDATE departments SET name = 'Seen at once' WHERE id_project = ?`, e.pid); err != nil {
		t.Fatal(err)
	}
	got := e.do("GET", path, nil, e.owner.jwt()).want(t, 200).json(t)["department"].(map[string]any)["name"]
	if got != "Seen at once" {
		t.Fatalf("without a population clock the department reads %v", got)
	}
}

// TestKeptPagesCarryTheirTag: a page served again from the cache carries the ETag of the bytes it
// sends (kept with them, not hashed again), answers 304 to it, and a change gives a new one.
func TestKeptPagesCarryTheirTag(t *testing.T) {
	e := newChatEnv(t)
	rid := e.rid("tagged")
	e.post(rid, `{"text":"Hello"}`, e.owner.jwt()).want(t, 200)
	e.do("POST", "/"+e.pid+"/leads", `{"fullname":"Tagged"}`, e.owner.jwt()).want(t, 200)
	for _, list := range []string{"/" + e.pid + "/requests", "/" + e.pid + "/leads"} {
		var tag string
		for i := range 3 { // rendered, then kept
			r := e.do("GET", list, nil, e.owner.jwt()).want(t, 200)
			if got := r.header.Get("ETag"); got != etagOf(r.body) || i > 0 && got != tag {
				t.Fatalf("%s, answer %d: ETag %q, the body's %q, the first answer's %q", list, i, got, etagOf(r.body), tag)
			}
			tag = r.header.Get("ETag")
		}
		if r := e.do("GET", list, nil, e.owner.jwt(), header("If-None-Match", tag)); r.status != 304 || len(r.body) != 0 {
			t.Fatalf("%s with its kept tag: %d %q, want an empty 304", list, r.status, r.body)
		}
	}
	e.do("PATCH", "/"+e.pid+"/requests/"+rid, `{"subject":"moved"}`, e.owner.jwt()).want(t, 200)
	e.do("POST", "/"+e.pid+"/leads", `{"fullname":"Another"}`, e.owner.jwt()).want(t, 200)
	for _, list := range []string{"/" + e.pid + "/requests", "/" + e.pid + "/leads"} {
		r := e.do("GET", list, nil, e.owner.jwt()).want(t, 200)
		again := e.do("GET", list, nil, e.owner.jwt()).want(t, 200)
		if tag := again.header.Get("ETag"); tag != etagOf(r.body) || tag != etagOf(again.body) || tag != r.header.Get("ETag") {
			t.Fatalf("%s after a change: ETags %q, %q for bodies tagged %q, %q", list, r.header.Get("ETag"), tag, etagOf(r.body), etagOf(again.body))
		}
	}
}

// TestLeadKept proves that a lead read again at the same version is served from its kept
// rendering (a change made behind the server's back that keeps the version is not seen), and that
// any new version is read and rendered again.
func TestLeadKept(t *testing.T) {
	e := newLeadsEnv(t)
	id := e.lead(`{"fullname":"Kept","attributes":{"plan":"gold"}}`)["_id"].(string)
	get := func() map[string]any {
		return e.do("GET", "/"+e.pid+"/leads/"+id, nil, e.agent.jwt()).want(t, 200).json(t)
	}
	if got := get()["fullname"]; got != "Kept" {
		t.Fatalf("first read: %v", got)
	}
	if _, err := e.db().Exec(`UPDATE leads SET fullname = 'Unseen' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	if got := get()["fullname"]; got != "Kept" {
		t.Fatalf("the kept rendering was not served: %v", got)
	}
	if _, err := e.db().Exec(`UPDATE leads SET updated_at = updated_at + 1 WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	got := get()
	if got["fullname"] != "Unseen" || got["attributes"].(map[string]any)["plan"] != "gold" {
		t.Fatalf("after a new version the lead reads %v", got)
	}
}

// readCounter counts how leads are read from the store: a lead whole or only its version, and
// pages of lead versions.
type readCounter struct {
	tiledesk.Store
	tiledesk.ViewStore
	whole, versions, pages, byIDs atomic.Int32
}

func (c *readCounter) FindLeadsByIDs(ctx context.Context, projectID string, ids []string) (map[string]*tiledesk.Lead, error) {
	c.byIDs.Add(1)
	return c.Store.FindLeadsByIDs(ctx, projectID, ids)
}

func (c *readCounter) FindLeadUnlessKept(ctx context.Context, projectID, id string, kept func(time.Time) bool) (*tiledesk.Lead, time.Time, error) {
	c.whole.Add(1)
	return c.ViewStore.FindLeadUnlessKept(ctx, projectID, id, kept)
}

func (c *readCounter) LeadVersion(ctx context.Context, projectID, id string) (time.Time, error) {
	c.versions.Add(1)
	return c.ViewStore.LeadVersion(ctx, projectID, id)
}

func (c *readCounter) FindLeadVersions(ctx context.Context, projectID string, f tiledesk.LeadFilter) (*tiledesk.VersionPage, error) {
	c.pages.Add(1)
	return c.ViewStore.FindLeadVersions(ctx, projectID, f)
}

// clocksNotKept is a store that cannot keep the lead clock, as PostgreSQL's.
type clocksNotKept struct{ tiledesk.ViewStore }

func (s clocksNotKept) KeptLeadClock(context.Context, string) (int64, error) { return 0, nil }

func (s clocksNotKept) Clocks(ctx context.Context, projectID string) (tiledesk.Clocks, error) {
	c, err := s.ViewStore.Clocks(ctx, projectID)
	c.KeptLeads = 0
	return c, err
}

// TestLeadReadsOnlyItsVersionWhenKept: a kept lead costs one read of its version, and none at all
// while the store keeps the project's lead clock and no lead of the project has changed; any
// change of one of them, or of the lead itself, is seen at once.
func TestLeadReadsOnlyItsVersionWhenKept(t *testing.T) {
	for _, keepsClock := range []bool{true, false} {
		t.Run(fmt.Sprintf("clock kept %v", keepsClock), func(t *testing.T) {
			counter := &readCounter{}
			e := newEnvWith(t, func(c *Config) {
				counter.Store, counter.ViewStore = c.Store, c.ViewStore
				if !keepsClock {
					counter.ViewStore = clocksNotKept{c.ViewStore}
				}
				c.Store, c.ViewStore = counter, counter
			})
			owner := e.signup("Owner")
			pid := e.createProject(owner, "Versions")
			otherPid := e.createProject(owner, "Elsewhere")
			id := e.do("POST", "/"+pid+"/leads", `{"fullname":"Counted"}`, owner.jwt()).want(t, 200).json(t)["_id"].(string)
			reads := func(wantWhole, wantVersions int32) {
				t.Helper()
				if w, v := counter.whole.Swap(0), counter.versions.Swap(0); w != wantWhole || v != wantVersions {
					t.Fatalf("read whole %d times and by version %d times, want %d and %d", w, v, wantWhole, wantVersions)
				}
			}
			// unchanged is what a read of an unchanged kept lead costs: nothing while the clock
			// is kept.
			unchanged := int32(1)
			if keepsClock {
				unchanged = 0
			}
			get := func(status int, fullname string) {
				t.Helper()
				got := e.do("GET", "/"+pid+"/leads/"+id, nil, owner.jwt()).want(t, status).json(t)
				if status == 200 && got["fullname"] != fullname {
					t.Fatalf("the lead reads %v, want %q", got["fullname"], fullname)
				}
			}
			get(200, "Counted") // rendered now or at the create, and confirmed under the clock
			counter.whole.Store(0)
			counter.versions.Store(0)
			get(200, "Counted")
			reads(0, unchanged)

			e.do("PUT", "/"+pid+"/leads/"+id, `{"fullname":"Changed"}`, owner.jwt()).want(t, 200)
			get(200, "Changed")
			if w, v := counter.whole.Swap(0), counter.versions.Swap(0); v != 1 || w > 1 {
				t.Fatalf("a changed lead: read whole %d times and by version %d times", w, v)
			}
			get(200, "Changed")
			reads(0, unchanged)

			// Another lead of the project moves the clock: the version is read again, once.
			e.do("POST", "/"+pid+"/leads", `{"fullname":"Neighbour"}`, owner.jwt()).want(t, 200)
			get(200, "Changed")
			reads(0, 1)
			get(200, "Changed")
			reads(0, unchanged)
			// A lead of another project does not.
			e.do("POST", "/"+otherPid+"/leads", `{"fullname":"Stranger"}`, owner.jwt()).want(t, 200)
			get(200, "Changed")
			reads(0, unchanged)

			e.do("DELETE", "/"+pid+"/leads/"+id+"/physical", nil, owner.jwt()).want(t, 200)
			get(404, "") // its rendering is still kept, its row is gone
			reads(0, 1)
		})
	}
}

// TestKeptLeadReadsItsWrites: with the project's lead clock kept (SQLite), a lead served without a
// statement is never older than a change whose answer came back before the read began, while other
// clients change other leads of the project and readers keep every lead's rendering confirmed. Each
// writer owns a lead, and after each PUT of it reads it back.
func TestKeptLeadReadsItsWrites(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Writes")
	jwt := owner.jwt()
	const writers, rounds = 4, 40
	ids := make([]string, writers)
	for i := range ids {
		ids[i] = e.do("POST", "/"+pid+"/leads", `{"fullname":"v0"}`, jwt).want(t, 200).json(t)["_id"].(string)
	}
	call := func(method, path, body string) (int, []byte, error) { return e.send(method, path, body, jwt) }
	errs := make(chan error, writers+2)
	done := make(chan struct{})
	var wg, readers sync.WaitGroup
	for r := range 2 { // keep every lead's rendering read and confirmed under the current clock
		readers.Add(1)
		go func() {
			defer readers.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				if code, body, err := call("GET", "/"+pid+"/leads/"+ids[(i+r)%writers], ""); err != nil || code != 200 {
					errs <- fmt.Errorf("reader: %d %v %s", code, err, body)
					return
				}
			}
		}()
	}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := "/" + pid + "/leads/" + ids[w]
			for i := 1; i <= rounds; i++ {
				want := fmt.Sprintf("v%d", i)
				if code, body, err := call("PUT", path, `{"fullname":"`+want+`"}`); err != nil || code != 200 {
					errs <- fmt.Errorf("PUT %s: %d %v %s", want, code, err, body)
					return
				}
				code, body, err := call("GET", path, "")
				var got struct{ Fullname string }
				if err == nil {
					err = json.Unmarshal(body, &got)
				}
				if err != nil || code != 200 || got.Fullname != want {
					errs <- fmt.Errorf("lead %d after its PUT of %s reads %d %q (%v)", w, want, code, got.Fullname, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// newKeptListEnv is a server on engine whose store counts its reads of lead pages, with two projects of one
// owner and three leads with emails (lead0@example.com...) in the first. reads GETs a path as the
// owner and fails unless the answer read want pages from the store.
func newKeptListEnv(t *testing.T, engine string) (e *testEnv, counter *readCounter, owner account, pid, other string,
	reads func(path string, want int32) *resp) {
	counter = &readCounter{}
	e = newEnvOn(t, engine, func(c *Config) {
		counter.Store, counter.ViewStore = c.Store, c.ViewStore
		c.Store, c.ViewStore = counter, counter
	})
	owner = e.signup("Owner")
	pid = e.createProject(owner, "Kept lists")
	other = e.createProject(owner, "Other")
	for i := range 3 {
		e.do("POST", "/"+pid+"/leads", fmt.Sprintf(`{"fullname":"Lead %d","email":"lead%d@example.com"}`, i, i), owner.jwt()).want(t, 200)
	}
	reads = func(path string, want int32) *resp {
		t.Helper()
		counter.pages.Store(0)
		r := e.do("GET", path, nil, owner.jwt()).want(t, 200)
		if got := counter.pages.Load(); got != want {
			t.Fatalf("GET %s read %d pages from the store, want %d", path, got, want)
		}
		return r
	}
	return e, counter, owner, pid, other, reads
}

// TestLeadPageKept proves that the head of a lead list is served again whole while no lead of the
// project changes, that any change (through the API or behind the server's back) is shown at
// once, and that pages of one-off filters are always read.
func TestLeadPageKept(t *testing.T) { forEachEngine(t, testLeadPageKept) }

func testLeadPageKept(t *testing.T, engine string) {
	e, counter, owner, pid, other, reads := newKeptListEnv(t, engine)
	list := "/" + pid + "/leads?limit=2"
	first := reads(list, 1)
	if again := reads(list, 0); !bytes.Equal(again.body, first.body) || again.header.Get("ETag") != first.header.Get("ETag") {
		t.Fatalf("the kept page differs:\n%s\n%s", again.body, first.body)
	}
	if again := reads(list+"&_=1700000000000", 0); !bytes.Equal(again.body, first.body) {
		t.Fatalf("a cache-busting parameter changed the kept page:\n%s", again.body)
	}
	reads(list+"&tags=vip", 1) // another filter is another page
	reads("/"+pid+"/leads?limit=3", 1)
	if r := reads("/"+other+"/leads?limit=2", 1); r.json(t)["count"].(float64) != 0 {
		t.Fatalf("another project's head shows %s", r.body)
	}
	e.do("POST", "/"+pid+"/leads", `{"fullname":"Newest"}`, owner.jwt()).want(t, 200)
	if r := reads(list, 1); r.json(t)["leads"].([]any)[0].(map[string]any)["fullname"] != "Newest" || r.json(t)["count"].(float64) != 4 {
		t.Fatalf("after a create the head shows %s", r.body)
	}
	reads(list, 0)
	newest := first.json(t)["leads"].([]any)[0].(map[string]any)["_id"].(string)
	renamed := "Renamed elsewhere"
	if _, err := e.store.UpdateLead(context.Background(), pid, newest, tiledesk.LeadUpdate{Fullname: &renamed}, nil); err != nil {
		t.Fatal(err)
	}
	if r := reads(list, 1); !bytes.Contains(r.body, []byte(renamed)) {
		t.Fatalf("after a change behind the server's back the head shows %s", r.body)
	}
	next := reads(list, 0).json(t)["next_cursor"].(string)
	// A page at a depth of the default list is read from the store until the project's lead order
	// has been read (in the background, started by the request that finds none), then from the
	// order.
	deep := list + "&cursor=" + next
	reads(deep, 1)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		counter.pages.Store(0)
		e.do("GET", deep, nil, owner.jwt()).want(t, 200)
		if counter.pages.Load() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no lead order answered the deep page within 10 s")
		}
	}
	reads(deep, 0)
	reads(list+"&page=1", 0)
	for _, path := range []string{list + "&full_text=lead", list + "&page=1&tags=vip"} {
		reads(path, 1)
		reads(path, 1)
	}
}

// TestLeadSelectionKept: the first page of a lookup by email or of a sync feed is read once while
// no lead of the project changes, whatever the email's case; a change anywhere is shown at once;
// a selection with a next page, another limit or another project is read on its own.
func TestLeadSelectionKept(t *testing.T) { forEachEngine(t, testLeadSelectionKept) }

func testLeadSelectionKept(t *testing.T, engine string) {
	e, _, owner, pid, other, reads := newKeptListEnv(t, engine)
	e.do("POST", "/"+other+"/leads", `{"fullname":"Elsewhere","email":"lead1@example.com"}`, owner.jwt()).want(t, 200)
	names := func(r *resp) (out []string) {
		for _, l := range r.json(t)["leads"].([]any) {
			out = append(out, l.(map[string]any)["fullname"].(string))
		}
		return out
	}
	byEmail := "/" + pid + "/leads?email=lead1@example.com"
	sync := "/" + pid + "/leads?updated_since=2020-01-01T00:00:00Z"
	first := reads(byEmail, 1)
	if again := reads(byEmail, 0); !bytes.Equal(again.body, first.body) {
		t.Fatalf("the kept selection answers\n%s\nwant\n%s", again.body, first.body)
	}
	if r := reads("/"+pid+"/leads?email=LEAD1@Example.com", 0); !bytes.Equal(r.body, first.body) {
		t.Fatalf("another case of the email answers %s", r.body)
	}
	if r := reads("/"+other+"/leads?email=lead1@example.com", 1); fmt.Sprint(names(r)) != "[Elsewhere]" {
		t.Fatalf("the other project's lookup shows %v", names(r))
	}
	reads(byEmail+"&limit=5", 1)
	none := "/" + pid + "/leads?email=nobody@example.com"
	reads(none, 1)
	if r := reads(none, 0); r.json(t)["count"].(float64) != 0 || len(names(r)) != 0 {
		t.Fatalf("a kept empty lookup shows %s", r.body)
	}
	reads(sync, 1)
	if r := reads(sync, 0); fmt.Sprint(names(r)) != "[Lead 0 Lead 1 Lead 2]" {
		t.Fatalf("the kept sync page shows %v", names(r))
	}
	reads(sync+"&limit=1", 1) // it has a next page: not kept
	reads(sync+"&limit=1", 1)

	id := first.json(t)["leads"].([]any)[0].(map[string]any)["_id"].(string)
	renamed := "Renamed elsewhere"
	if _, err := e.store.UpdateLead(context.Background(), pid, id, tiledesk.LeadUpdate{Fullname: &renamed}, nil); err != nil {
		t.Fatal(err)
	}
	if r := reads(byEmail, 1); fmt.Sprint(names(r)) != "["+renamed+"]" {
		t.Fatalf("after a change behind the server's back the lookup shows %v", names(r))
	}
	if r := reads(sync, 1); fmt.Sprint(names(r)) != "[Lead 0 Lead 2 "+renamed+"]" {
		t.Fatalf("after a change behind the server's back the sync page shows %v", names(r))
	}
	e.do("POST", "/"+pid+"/leads", `{"fullname":"Late","email":"nobody@example.com"}`, owner.jwt()).want(t, 200)
	if r := reads(none, 1); fmt.Sprint(names(r)) != "[Late]" {
		t.Fatalf("after a create the lookup shows %v", names(r))
	}
}
