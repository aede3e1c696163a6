package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

func TestRenderCacheVersionAndBudget(t *testing.T) {
	c := newRenderCache(renderShards * 1000)
	at := time.UnixMilli(1_700_000_000_000)
	c.put(testKey("a"), versionOf(at), []byte(`{"v":1}`))
	if b, ok := c.get(testKey("a"), versionOf(at)); !ok || string(b) != `{"v":1}` {
		t.Fatalf("get at the version put = %q, %v", b, ok)
	}
	if _, ok := c.get(testKey("a"), versionOf(at.Add(time.Millisecond))); ok {
		t.Fatal("an entry served at another version")
	}
	if _, ok := c.get(testKey("a"), version{at.UnixMilli(), 1}); ok {
		t.Fatal("an entry served at another version of what it embeds")
	}
	c.put(testKey("a"), versionOf(at.Add(time.Millisecond)), []byte(`{"v":2}`))
	if b, _ := c.get(testKey("a"), versionOf(at.Add(time.Millisecond))); string(b) != `{"v":2}` {
		t.Fatalf("replaced entry = %q", b)
	}
	for i := range 5000 {
		c.put(testKey(fmt.Sprint("key-", i)), versionOf(at), []byte(strings.Repeat("x", 100)))
	}
	for i := range c.shards {
		s := &c.shards[i]
		total := 0
		for k, r := range s.m {
			total += k.keyBytes() + len(r.body)
		}
		if s.bytes != total || s.bytes > c.limit {
			t.Fatalf("shard %d accounts %d bytes, holds %d, budget %d", i, s.bytes, total, c.limit)
		}
	}
	off := newRenderCache(-1)
	off.put(testKey("a"), versionOf(at), []byte("{}"))
	if _, ok := off.get(testKey("a"), versionOf(at)); ok {
		t.Fatal("a disabled cache kept an entry")
	}
}

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
type noPopulationClock struct{ tiledesk.Store }

func (noPopulationClock) PopulationClock(context.Context, string) (tiledesk.ListClock, bool, error) {
	return tiledesk.ListClock{}, false, nil
}

// TestPopulationPartsReadWithoutClock: without a population clock, a conversation's department is
// read every time, so that even a change that moves no clock is seen at once.
func TestPopulationPartsReadWithoutClock(t *testing.T) {
	e := newChatEnvWith(t, func(c *Config) { c.Store = noPopulationClock{c.Store} })
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

func testKey(id string) renderKey { return renderKeyOf(kindLead, "project", id) }

func TestRenderKeys(t *testing.T) {
	const pid, id = "6650a1b2c3d4e5f601234567", "6650a1b2c3d4e5f60123abcd"
	k := renderKeyOf(kindLead, pid, id)
	if k.text != "" || k != renderKeyOf(kindLead, pid, id) {
		t.Fatalf("an ObjectId key is %+v", k)
	}
	for _, other := range []renderKey{
		renderKeyOf(kindRequest, pid, id),
		renderKeyOf(kindLead, id, pid),
		renderKeyOf(kindLead, pid, "6650A1B2C3D4E5F60123ABCD"), // not the stored form: its own key
		renderKeyOf(kindLead, pid, "not-an-id"),
	} {
		if other == k {
			t.Fatalf("%+v and %+v collide", other, k)
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
	whole, versions, pages, byIDs atomic.Int32
}

func (c *readCounter) FindLeadsByIDs(ctx context.Context, projectID string, ids []string) (map[string]*tiledesk.Lead, error) {
	c.byIDs.Add(1)
	return c.Store.FindLeadsByIDs(ctx, projectID, ids)
}

func (c *readCounter) FindLeadUnlessKept(ctx context.Context, projectID, id string, kept func(time.Time) bool) (*tiledesk.Lead, time.Time, error) {
	c.whole.Add(1)
	return c.Store.FindLeadUnlessKept(ctx, projectID, id, kept)
}

func (c *readCounter) LeadVersion(ctx context.Context, projectID, id string) (time.Time, error) {
	c.versions.Add(1)
	return c.Store.LeadVersion(ctx, projectID, id)
}

func (c *readCounter) FindLeadVersions(ctx context.Context, projectID string, f tiledesk.LeadFilter) (*tiledesk.VersionPage, error) {
	c.pages.Add(1)
	return c.Store.FindLeadVersions(ctx, projectID, f)
}

// clocksNotKept is a store that cannot keep the lead clock, as PostgreSQL's.
type clocksNotKept struct{ tiledesk.Store }

func (clocksNotKept) KeptLeadListClock(context.Context, string) (int64, bool, error) {
	return 0, false, nil
}

// TestLeadReadsOnlyItsVersionWhenKept: a kept lead costs one read of its version, and none at all
// while the store keeps the project's lead clock and no lead of the project has changed; any
// change of one of them, or of the lead itself, is seen at once.
func TestLeadReadsOnlyItsVersionWhenKept(t *testing.T) {
	for _, keepsClock := range []bool{true, false} {
		t.Run(fmt.Sprintf("clock kept %v", keepsClock), func(t *testing.T) {
			counter := &readCounter{}
			e := newEnvWith(t, func(c *Config) {
				counter.Store = c.Store
				if !keepsClock {
					counter.Store = clocksNotKept{c.Store}
				}
				c.Store = counter
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

// TestOrderPagesReadTheirWrites: while readers page through a deep page of the default list and
// look a lead up by email, with the project's lead order read again after every change (the wait
// between readings taken away), a lead changed on that page shows its change on the next read of
// the page, and of the lookup, every time.
func TestOrderPagesReadTheirWrites(t *testing.T) { forEachEngine(t, testOrderPagesReadTheirWrites) }

func testOrderPagesReadTheirWrites(t *testing.T, engine string) {
	e := newEnvOn(t, engine, nil)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Ordered writes")
	jwt := owner.jwt()
	for i := range 60 {
		e.do("POST", "/"+pid+"/leads", fmt.Sprintf(`{"fullname":"Lead %d","email":"lead%d@example.com"}`, i, i), jwt).want(t, 200)
	}
	// A reading may start right after the last, however long that took.
	e.srv.leadOrders.wait = func(time.Duration) time.Duration { return 0 }
	next := e.do("GET", "/"+pid+"/leads", nil, jwt).want(t, 200).json(t)["next_cursor"].(string)
	deep := "/" + pid + "/leads?cursor=" + next
	var first struct {
		Leads []struct {
			ID    string `json:"_id"`
			Email string
		}
	}
	if err := json.Unmarshal(e.do("GET", deep, nil, jwt).want(t, 200).body, &first); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range first.Leads {
		ids = append(ids, l.ID)
	}
	target, lookup := ids[5], "/"+pid+"/leads?email="+url.QueryEscape(first.Leads[5].Email)
	// onPage is the target's name on a page, which must hold the leads it held at first (the deep
	// page) or the target alone (the lookup), in that order.
	onPage := func(path string, body []byte) (string, error) {
		var page struct {
			Leads []struct {
				ID       string `json:"_id"`
				Fullname string
			}
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return "", err
		}
		var got []string
		name := ""
		for _, l := range page.Leads {
			got = append(got, l.ID)
			if l.ID == target {
				name = l.Fullname
			}
		}
		want := ids
		if path == lookup {
			want = []string{target}
		}
		if !slices.Equal(got, want) {
			return "", fmt.Errorf("GET %s lists %v, want %v", path, got, want)
		}
		return name, nil
	}

	errs := make(chan error, 4)
	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				path := deep
				if rand.IntN(2) == 0 {
					path = lookup
				}
				code, body, err := e.send("GET", path, "", jwt)
				if err == nil && code == 200 {
					_, err = onPage(path, body)
				}
				if err != nil || code != 200 {
					errs <- fmt.Errorf("reader: %d %v", code, err)
					return
				}
			}
		}()
	}
	for i := 1; i <= 50; i++ {
		want := fmt.Sprintf("v%d", i)
		if code, body, err := e.send("PUT", "/"+pid+"/leads/"+target, `{"fullname":"`+want+`"}`, jwt); err != nil || code != 200 {
			t.Fatalf("PUT %s: %d %v %s", want, code, err, body)
		}
		check := func(path string) {
			t.Helper()
			code, body, err := e.send("GET", path, "", jwt)
			got, nerr := onPage(path, body)
			if err != nil || code != 200 || nerr != nil || got != want {
				t.Fatalf("after the PUT of %s, GET %s shows %q (%d %v %v)", want, path, got, code, err, nerr)
			}
		}
		check(lookup) // read, then kept
		check(lookup)
		// The page from the store until the order read after the change answers it and keeps its
		// renderings, then from those.
		clock, err := e.store.LeadListClock(context.Background(), pid)
		if err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			check(deep)
			if order := e.srv.leadOrders.orderAt(pid, clock); order != nil && order.keptBytes() > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after the PUT of %s no order kept the page's renderings within 10 s", want)
			}
		}
		check(deep)
	}
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
func newKeptListEnv(t *testing.T, engine string) (e *testEnv, owner account, pid, other string, reads func(path string, want int32) *resp) {
	counter := &readCounter{}
	e = newEnvOn(t, engine, func(c *Config) { counter.Store = c.Store; c.Store = counter })
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
	return e, owner, pid, other, reads
}

// TestLeadPageKept proves that the head of a lead list is served again whole while no lead of the
// project changes, that any change (through the API or behind the server's back) is shown at
// once, and that pages of one-off filters are always read.
func TestLeadPageKept(t *testing.T) { forEachEngine(t, testLeadPageKept) }

func testLeadPageKept(t *testing.T, engine string) {
	e, owner, pid, other, reads := newKeptListEnv(t, engine)
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
	// has been read (here at once, in the request that finds none), then from the order.
	e.srv.leadOrders.readInline()
	reads(list+"&cursor="+next, 1)
	reads(list+"&cursor="+next, 0)
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
	e, owner, pid, other, reads := newKeptListEnv(t, engine)
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

// TestSelectionEncoding: a selection comes back as it was packed; one holding an id that is not
// 24 characters long is not packed.
func TestSelectionEncoding(t *testing.T) {
	at := time.UnixMilli(1_790_000_000_123).UTC()
	p := &tiledesk.VersionPage{Count: 70000, Versions: []tiledesk.Version{
		{ID: "6650a1b2c3d4e5f601234567", UpdatedAt: at}, {ID: "6650a1b2c3d4e5f601234568", UpdatedAt: at.Add(time.Hour)}}}
	if got := decodeSelection(encodeSelection(p)); fmt.Sprint(got) != fmt.Sprint(p) {
		t.Fatalf("decoded %v, want %v", got, p)
	}
	if got := decodeSelection(encodeSelection(&tiledesk.VersionPage{Versions: []tiledesk.Version{}})); got == nil || got.Count != 0 || len(got.Versions) != 0 {
		t.Fatalf("an empty selection decoded as %v", got)
	}
	if b := encodeSelection(&tiledesk.VersionPage{Versions: []tiledesk.Version{{ID: "imported-7", UpdatedAt: at}}}); b != nil {
		t.Fatalf("a selection of another id was packed: %q", b)
	}
	if decodeSelection([]byte{1, 2, 3}) != nil {
		t.Fatal("a torn selection decoded")
	}
}

// TestLeadOrderKeepsRenderings: a page from a current lead order is answered with the renderings
// the order keeps, without the render cache (emptied here) and without reading a lead; a change
// of any lead is shown at once, and the order that no longer serves gives its bytes back.
func TestLeadOrderKeepsRenderings(t *testing.T) { forEachEngine(t, testLeadOrderKeepsRenderings) }

func testLeadOrderKeepsRenderings(t *testing.T, engine string) {
	counter := &readCounter{}
	e := newEnvOn(t, engine, func(c *Config) { counter.Store = c.Store; c.Store = counter })
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Ordered")
	for i := range 5 {
		e.do("POST", "/"+pid+"/leads", fmt.Sprintf(`{"fullname":"Lead %d"}`, i), owner.jwt()).want(t, 200)
	}
	e.srv.leadOrders.readInline()
	list := "/" + pid + "/leads?limit=2"
	next := e.do("GET", list, nil, owner.jwt()).want(t, 200).json(t)["next_cursor"].(string)
	deep := list + "&cursor=" + next
	e.do("GET", deep, nil, owner.jwt()).want(t, 200) // reads the order, the page from the store
	first := e.do("GET", deep, nil, owner.jwt()).want(t, 200)
	if e.srv.leadOrders.bodyBytes.Load() == 0 {
		t.Fatal("a page from the order kept none of its renderings")
	}

	e.srv.renders = newRenderCache(64 << 20)
	counter.pages.Store(0)
	counter.byIDs.Store(0)
	for _, path := range []string{deep, list + "&page=1"} {
		r := e.do("GET", path, nil, owner.jwt()).want(t, 200)
		if !bytes.Equal(r.body, first.body) {
			t.Fatalf("GET %s from the order's renderings:\n%s\nwant\n%s", path, r.body, first.body)
		}
	}
	if p, b := counter.pages.Load(), counter.byIDs.Load(); p != 0 || b != 0 {
		t.Fatalf("pages from the order read %d pages and %d sets of leads, want none", p, b)
	}

	shown := first.json(t)["leads"].([]any)[0].(map[string]any)["_id"].(string)
	renamed := "Renamed elsewhere"
	if _, err := e.store.UpdateLead(context.Background(), pid, shown, tiledesk.LeadUpdate{Fullname: &renamed}, nil); err != nil {
		t.Fatal(err)
	}
	e.srv.leadOrders.now = func() time.Time { return time.Now().Add(time.Hour) } // past the wait between readings
	if r := e.do("GET", deep, nil, owner.jwt()).want(t, 200); !bytes.Contains(r.body, []byte(renamed)) {
		t.Fatalf("after a change behind the server's back the page shows %s", r.body)
	}
	if n := e.srv.leadOrders.bodyBytes.Load(); n != 0 {
		t.Fatalf("the stale order, read again, still holds %d bytes of renderings", n)
	}
	if r := e.do("GET", deep, nil, owner.jwt()).want(t, 200); !bytes.Contains(r.body, []byte(renamed)) {
		t.Fatalf("the order read after the change shows %s", r.body)
	}
}

// TestHeadKey: filters that show different heads never share a key; the same filter always does.
func TestHeadKey(t *testing.T) {
	active, deleted := tiledesk.LeadActive, tiledesk.LeadDeleted
	filters := []tiledesk.LeadFilter{{Limit: 40}, {Limit: 41}, {Limit: 40, Sort: tiledesk.LeadSortFullname},
		{Limit: 40, Desc: true}, {Limit: 40, NoCount: true}, {Limit: 40, WithEmail: true}, {Limit: 40, WithFullname: true},
		{Limit: 40, AllStatuses: true}, {Limit: 40, Status: &active}, {Limit: 40, Status: &deleted},
		{Limit: 40, Tags: []string{"a b"}}, {Limit: 40, Tags: []string{"a", "b"}}, {Limit: 40, Tags: []string{`a" "b`}},
		{Limit: 40, Tags: []string{"b", "a"}}}
	seen := map[string]int{}
	for i, f := range filters {
		k := headKey(f)
		if j, dup := seen[k]; dup {
			t.Fatalf("filters %d and %d share the key %q", j, i, k)
		}
		seen[k] = i
		if headKey(f) != k {
			t.Fatalf("filter %d has two keys", i)
		}
	}
}
