package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// leadsEnv is a project with an owner and an agent.
type leadsEnv struct {
	*testEnv
	owner, agent account
	pid          string
}

func newLeadsEnv(t *testing.T) *leadsEnv { return newLeadsEnvWith(t, nil) }

func newLeadsEnvWith(t *testing.T, adjust func(*Config)) *leadsEnv {
	return newLeadsEnvOn(t, "sqlite", adjust)
}

// newLeadsEnvOn is newLeadsEnvWith on the named engine.
func newLeadsEnvOn(t *testing.T, engine string, adjust func(*Config)) *leadsEnv {
	e := newEnvOn(t, engine, adjust)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Leads")
	agent := e.signup("Agent")
	e.join(owner, agent, pid, tiledesk.RoleAgent)
	return &leadsEnv{testEnv: e, owner: owner, agent: agent, pid: pid}
}

func (e *leadsEnv) lead(body string) map[string]any {
	e.t.Helper()
	return e.do("POST", "/"+e.pid+"/leads", body, e.agent.jwt()).want(e.t, 200).json(e.t)
}

func TestLeadCreate(t *testing.T) {
	e := newLeadsEnv(t)
	r := e.do("POST", "/"+e.pid+"/leads", `{"fullname":"Lead One","email":"lead1@example.com","lead_id":"ext-lead-1","attributes":{"plan":"gold","age":42}}`, e.owner.jwt())
	matchesOriginal(t, r, "12-lead-create")
	golden(t, "lead-create", r)
	minimal := e.do("POST", "/"+e.pid+"/leads", `{"fullname":"Lead Two"}`, e.owner.jwt())
	matchesOriginal(t, minimal, "13-lead-create-minimal")
	if id := minimal.json(t)["lead_id"].(string); len(id) != 36 {
		t.Fatalf("default lead_id = %q, want a uuid", id)
	}
	// The public document's own example, typo included, over Basic auth.
	doc := e.do("POST", "/v1/"+e.pid+"/leads", `{"fullanem":"andrea", "lead_id":"123456"}`, e.owner.basic()).want(t, 200).json(t)
	if doc["lead_id"] != "123456" || doc["fullname"] != nil {
		t.Fatalf("document example = %v", doc)
	}
	e.do("POST", "/"+e.pid+"/leads", `{}`, e.owner.jwt()).want(t, 200)
	created := 0
	for _, name := range e.events(e.pid) {
		if name == tiledesk.EventLeadCreate {
			created++
		}
	}
	if created != 4 {
		t.Fatalf("lead.create events = %d, want 4", created)
	}
	for body, param := range map[string]string{`{"fullname":5}`: "fullname", `{"email":"not-an-email"}`: "email",
		`{"attributes":"x"}`: "attributes", `{"tags":"vip"}`: "tags", `{"tags":[""]}`: "tags", `{"lead_id":[1]}`: "lead_id"} {
		if p := paramsOf(t, e.do("POST", "/"+e.pid+"/leads", body, e.owner.jwt()).want(t, 422)); len(p) != 1 || p[0] != param {
			t.Errorf("%s: params = %v, want [%s]", body, p, param)
		}
	}
	big := `{"attributes":{"blob":"` + strings.Repeat("x", 70<<10) + `"}}`
	e.srv.maxBody = 1 << 20
	r = e.do("POST", "/"+e.pid+"/leads", big, e.owner.jwt())
	if p := paramsOf(t, r.want(t, 422)); len(p) != 1 || p[0] != "attributes" {
		t.Fatalf("422 body = %s", r.body)
	}
	if n := e.do("GET", "/"+e.pid+"/leads", nil, e.owner.jwt()).json(t)["count"]; n != 4.0 {
		t.Fatalf("count after rejected creates = %v, want 4", n)
	}
}

func TestLeadIdempotencyKey(t *testing.T) {
	e := newLeadsEnv(t)
	key := header("Idempotency-Key", "create-lead-7")
	first := e.do("POST", "/"+e.pid+"/leads", `{"fullname":"Once"}`, e.agent.jwt(), key).want(t, 200)
	again := e.do("POST", "/"+e.pid+"/leads", `{"fullname":"Once"}`, e.agent.jwt(), key).want(t, 200)
	if first.json(t)["_id"] != again.json(t)["_id"] || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry = %s (replayed %q), first %s", again.body, again.header.Get("Idempotent-Replayed"), first.body)
	}
	e.do("POST", "/"+e.pid+"/leads", `{"fullname":"Different"}`, e.agent.jwt(), key).want(t, 409)
	e.do("POST", "/"+e.pid+"/leads", `{}`, e.agent.jwt(), header("Idempotency-Key", strings.Repeat("k", 300))).want(t, 400)
	if n := e.do("GET", "/"+e.pid+"/leads", nil, e.agent.jwt()).json(t)["count"]; n != 1.0 {
		t.Fatalf("leads = %v, want 1", n)
	}
}

func TestLeadList(t *testing.T) {
	e := newLeadsEnv(t)
	e.lead(`{"fullname":"Lead One","email":"lead1@example.com","lead_id":"ext-lead-1","attributes":{"plan":"gold","age":42}}`)
	time.Sleep(2 * time.Millisecond)
	e.lead(`{"fullname":"Lead Two"}`)
	base := "/" + e.pid + "/leads"
	extra := []string{"next_cursor"}
	list := e.do("GET", base, nil, e.owner.jwt())
	matchesOriginal(t, list, "14-leads-list", extra...)
	golden(t, "leads-list", list)
	m := list.json(t)
	if m["perPage"] != 40.0 || m["count"] != 2.0 || m["next_cursor"] != nil {
		t.Fatalf("list envelope = %v", m)
	}
	if first := m["leads"].([]any)[0].(map[string]any); first["fullname"] != "Lead Two" {
		t.Fatalf("newest lead is not first: %v", first["fullname"])
	}
	paged := e.do("GET", base+"?page=0&limit=1&sortField=createdAt&direction=1", nil, e.owner.jwt())
	matchesOriginal(t, paged, "18-leads-list-paged", extra...)
	pm := paged.json(t)
	if pm["perPage"] != 1.0 || pm["count"] != 2.0 || pm["leads"].([]any)[0].(map[string]any)["fullname"] != "Lead One" {
		t.Fatalf("paged = %s", paged.body)
	}
	next := e.do("GET", base+"?limit=1&sortField=createdAt&direction=1&cursor="+pm["next_cursor"].(string), nil, e.owner.jwt()).want(t, 200).json(t)
	if leads := next["leads"].([]any); len(leads) != 1 || leads[0].(map[string]any)["fullname"] != "Lead Two" || next["next_cursor"] != nil {
		t.Fatalf("cursor page = %v", next)
	}
	page1 := e.do("GET", base+"?page=1&limit=1&sort=createdAt&direction=asc", nil, e.owner.jwt()).want(t, 200).json(t)
	if page1["leads"].([]any)[0].(map[string]any)["fullname"] != "Lead Two" {
		t.Fatalf("page 1 = %v", page1)
	}
	matchesOriginal(t, e.do("GET", base+"?text=Lead", nil, e.owner.jwt()), "19-leads-list-text", extra...)
	visitor := e.lead(`{"fullname":"Visitor","email":"visitor@example.com"}`)
	matchesOriginal(t, e.do("GET", base, nil, e.owner.basic()), "36-basic-auth-leads", extra...)
	e.do("DELETE", base+"/"+visitor["_id"].(string)+"/physical", nil, e.owner.jwt()).want(t, 200)
	if got := e.do("GET", base+"?full_text=two", nil, e.owner.jwt()).json(t); got["count"] != 1.0 {
		t.Fatalf("full_text=two count = %v", got["count"])
	}
	if got := e.do("GET", base+"?email=LEAD1@example.com&with_fullname=true", nil, e.owner.jwt()).json(t); got["count"] != 1.0 {
		t.Fatalf("email filter count = %v", got["count"])
	}
	if got := e.do("GET", base+"?no_count=true", nil, e.owner.jwt()).json(t); got["count"] != 0.0 || len(got["leads"].([]any)) != 2 {
		t.Fatalf("no_count = %v", got)
	}
	if got := e.do("GET", base+"?limit=5000", nil, e.owner.jwt()).json(t); got["perPage"] != 1000.0 {
		t.Fatalf("perPage for limit=5000 = %v, want the 1000 cap", got["perPage"])
	}

	for query, param := range map[string]string{
		"page=-1": "page", "page=x": "page", "limit=0": "limit", "limit=ten": "limit", "sort=password": "sort",
		"sortField=secret": "sortField", "direction=up": "direction", "status=7": "status", "with_email=maybe": "with_email",
		"updated_since=yesterday": "updated_since", "cursor=garbage": "cursor", "cursor=" + pm["next_cursor"].(string) + "&sort=fullname": "cursor",
		"cursor=" + pm["next_cursor"].(string) + "&page=2": "page", "no_count=perhaps": "no_count",
	} {
		r := e.do("GET", base+"?"+query, nil, e.owner.jwt())
		r.want(t, 400)
		errs := r.json(t)["errors"].([]any)
		if errs[0].(map[string]any)["param"] != param || errs[0].(map[string]any)["location"] != "query" {
			t.Errorf("%s: 400 body %s does not name %s", query, r.body, param)
		}
	}
}

func TestLeadUpdatedSince(t *testing.T) {
	e := newLeadsEnv(t)
	a := e.lead(`{"fullname":"A"}`)
	b := e.lead(`{"fullname":"B"}`)
	since := a["updatedAt"].(string)
	base := "/" + e.pid + "/leads"
	r := e.do("GET", base+"?updated_since="+url.QueryEscape(since), nil, e.agent.jwt()).want(t, 200).json(t)
	if leads := r["leads"].([]any); len(leads) != 1 || leads[0].(map[string]any)["_id"] != b["_id"] {
		t.Fatalf("changed after A = %v", r["leads"])
	}
	e.do("DELETE", base+"/"+a["_id"].(string), nil, e.agent.jwt()).want(t, 200)
	e.do("PATCH", base+"/"+b["_id"].(string)+"/attributes", `{"x":1}`, e.agent.jwt()).want(t, 200)
	r = e.do("GET", base+"?updated_since="+url.QueryEscape(since)+"&limit=1", nil, e.agent.jwt()).want(t, 200).json(t)
	first := r["leads"].([]any)[0].(map[string]any)
	if first["_id"] != a["_id"] || first["status"] != 1000.0 {
		t.Fatalf("the oldest change first, deletions included: %v", first)
	}
	r = e.do("GET", base+"?updated_since="+url.QueryEscape(since)+"&limit=1&cursor="+r["next_cursor"].(string), nil, e.agent.jwt()).want(t, 200).json(t)
	if second := r["leads"].([]any)[0].(map[string]any); second["_id"] != b["_id"] || r["next_cursor"] != nil {
		t.Fatalf("second change = %v", r)
	}
	e.do("GET", base+"?updated_since="+url.QueryEscape(since)+"&sort=fullname", nil, e.agent.jwt()).want(t, 400)
}

func TestLeadGet(t *testing.T) {
	e := newLeadsEnv(t)
	l := e.lead(`{"fullname":"Lead One","email":"lead1@example.com","lead_id":"ext-lead-1","attributes":{"plan":"gold","age":42}}`)
	base := "/" + e.pid + "/leads/"
	matchesOriginal(t, e.do("GET", base+l["_id"].(string), nil, e.agent.jwt()), "15-lead-get")
	unknown := e.do("GET", base+"6b06287de0e96f42d84f0000", nil, e.agent.jwt())
	matchesOriginal(t, unknown, "16-lead-get-unknown")
	unknown.wantBody(t, 404, `{"success":false,"msg":"Object not found."}`)
	// The original answers 500 to a malformed id; it names nothing, so 404.
	e.do("GET", base+"notanobjectid", nil, e.agent.jwt()).wantBody(t, 404, `{"success":false,"msg":"Object not found."}`)
}

func TestLeadUpdate(t *testing.T) {
	e := newLeadsEnv(t)
	l := e.lead(`{"fullname":"Lead One","email":"lead1@example.com","lead_id":"ext-lead-1","attributes":{"plan":"gold","age":42}}`)
	path := "/" + e.pid + "/leads/" + l["_id"].(string)
	r := e.do("PUT", path, `{"fullname":"Lead One Renamed","attributes":{"plan":"platinum"}}`, e.agent.jwt())
	matchesOriginal(t, r, "50-lead-update")
	golden(t, "lead-update", r)
	m := e.do("PUT", path, `{"phone":" +39 06 1 "}`, e.agent.jwt()).want(t, 200).json(t)
	if m["fullname"] != "Lead One Renamed" || m["email"] != "lead1@example.com" || m["phone"] != "+39 06 1" ||
		fmt.Sprint(m["attributes"]) != "map[plan:platinum]" || m["updatedAt"] == l["updatedAt"] {
		t.Fatalf("updated lead = %v", m)
	}
	e.do("PUT", "/"+e.pid+"/leads/"+tiledesk.NewID(), `{"fullname":"ghost"}`, e.agent.jwt()).want(t, 404)
	e.do("PUT", path, `{"status":7}`, e.agent.jwt()).want(t, 422)
	e.do("PUT", path, `{"email":"nope"}`, e.agent.jwt()).want(t, 422)

	m = e.do("PATCH", path+"/attributes", `{"age":43,"new":true}`, e.agent.jwt()).want(t, 200).json(t)
	if a := m["attributes"].(map[string]any); a["plan"] != "platinum" || a["age"] != 43.0 || a["new"] != true {
		t.Fatalf("merged attributes = %v", a)
	}
	e.do("PATCH", path+"/attributes", `[1,2]`, e.agent.jwt()).want(t, 422)
	m = e.do("POST", path+"/properties", `{"score":5}`, e.agent.jwt()).want(t, 200).json(t)
	m = e.do("PATCH", path+"/properties", `{"tier":"a"}`, e.agent.jwt()).want(t, 200).json(t)
	if p := m["properties"].(map[string]any); p["score"] != 5.0 || p["tier"] != "a" {
		t.Fatalf("properties = %v", p)
	}

	m = e.do("PUT", path+"/tag", `["vip","eu","vip"]`, e.agent.jwt()).want(t, 200).json(t)
	m = e.do("PUT", path+"/tag", `["eu","new"]`, e.agent.jwt()).want(t, 200).json(t)
	if fmt.Sprint(m["tags"]) != "[vip eu new]" {
		t.Fatalf("tags = %v", m["tags"])
	}
	for _, bad := range []string{`[]`, `{}`, ``} {
		e.do("PUT", path+"/tag", bad, e.agent.jwt()).wantBody(t, 400, `{"success":false,"message":"No tag specified"}`)
	}
	m = e.do("DELETE", path+"/tag/eu", nil, e.agent.jwt()).want(t, 200).json(t)
	if fmt.Sprint(m["tags"]) != "[vip new]" {
		t.Fatalf("tags after removing eu = %v", m["tags"])
	}
	if got := e.do("GET", "/"+e.pid+"/leads?tags=vip&tags=new", nil, e.agent.jwt()).json(t); got["count"] != 1.0 {
		t.Fatalf("tags filter count = %v", got["count"])
	}
	if ev := e.events(e.pid); !containsName(ev, tiledesk.EventLeadUpdate) {
		t.Fatalf("events = %v", ev)
	}
}

func TestLeadIfMatch(t *testing.T) {
	e := newLeadsEnv(t)
	l := e.lead(`{"fullname":"Shared"}`)
	path := "/" + e.pid + "/leads/" + l["_id"].(string)
	read := e.do("GET", path, nil, e.agent.jwt()).want(t, 200)
	tag := etagOf(read.body)
	// Another agent changes the lead meanwhile.
	e.do("PUT", path, `{"note":"first writer"}`, e.owner.jwt()).want(t, 200)
	r := e.do("PUT", path, `{"note":"second writer"}`, e.agent.jwt(), header("If-Match", tag))
	r.want(t, 412)
	if got := e.do("GET", path, nil, e.agent.jwt()).json(t); got["note"] != "first writer" {
		t.Fatalf("the refused write landed: %v", got["note"])
	}
	fresh := etagOf(e.do("GET", path, nil, e.agent.jwt()).body)
	e.do("PUT", path, `{"note":"second writer"}`, e.agent.jwt(), header("If-Match", fresh)).want(t, 200)
	e.do("PATCH", path+"/attributes", `{"a":1}`, e.agent.jwt(), header("If-Match", fresh)).want(t, 412)
	e.do("PATCH", path+"/attributes", `{"a":1}`, e.agent.jwt(), header("If-Match", "*")).want(t, 200)
}

func TestLeadDelete(t *testing.T) {
	e := newLeadsEnv(t)
	a, b := e.lead(`{"fullname":"A"}`), e.lead(`{"fullname":"B"}`)
	base := "/" + e.pid + "/leads/"
	del := e.do("DELETE", base+a["_id"].(string), nil, e.agent.jwt()).want(t, 200).json(t)
	if del["status"] != 1000.0 {
		t.Fatalf("soft-deleted lead = %v", del)
	}
	list := e.do("GET", "/"+e.pid+"/leads", nil, e.agent.jwt()).json(t)
	if list["count"] != 1.0 || list["leads"].([]any)[0].(map[string]any)["_id"] != b["_id"] {
		t.Fatalf("list after delete = %v", list)
	}
	if got := e.do("GET", "/"+e.pid+"/leads?status=1000", nil, e.agent.jwt()).json(t); got["count"] != 1.0 {
		t.Fatalf("deleted leads = %v", got["count"])
	}
	e.do("GET", base+a["_id"].(string), nil, e.agent.jwt()).want(t, 200) // still readable by id
	e.do("DELETE", base+b["_id"].(string)+"/physical", nil, e.agent.jwt()).
		wantBody(t, 403, `{"success":false,"msg":"Unauthorized."}`)
	e.do("DELETE", base+b["_id"].(string)+"/physical", nil, e.owner.jwt()).want(t, 200)
	e.do("GET", base+b["_id"].(string), nil, e.agent.jwt()).want(t, 404)
	e.do("DELETE", base+tiledesk.NewID(), nil, e.agent.jwt()).want(t, 404)
}

func TestLeadAccess(t *testing.T) {
	e := newLeadsEnv(t)
	l := e.lead(`{"fullname":"Secret lead","email":"secret@a.com"}`)
	token, _ := e.guest(e.pid)
	r := e.do("GET", "/"+e.pid+"/leads", nil, jwtCred(token))
	matchesOriginal(t, r, "51-guest-reads-leads-forbidden")
	r.wantBody(t, 403, `{"success":false,"msg":"you dont have the required role."}`)
	e.do("GET", "/"+e.pid+"/leads", nil).want(t, 401)

	other := e.signup("Other")
	pb := e.createProject(other, "B")
	e.do("GET", "/"+pb+"/leads/"+l["_id"].(string), nil, other.jwt()).want(t, 404)
	e.do("PUT", "/"+pb+"/leads/"+l["_id"].(string), `{"fullname":"pwned"}`, other.jwt()).want(t, 404)
	e.do("DELETE", "/"+pb+"/leads/"+l["_id"].(string)+"/physical", nil, other.jwt()).want(t, 404)
	for _, q := range []string{"", "?text=secret", "?email=secret@a.com", "?status=all"} {
		got := e.do("GET", "/"+pb+"/leads"+q, nil, other.jwt()).want(t, 200)
		if strings.Contains(string(got.body), "Secret") || got.json(t)["count"] != 0.0 {
			t.Fatalf("B's list %q shows A's lead: %s", q, got.body)
		}
	}
	e.do("GET", "/"+e.pid+"/leads", nil, other.jwt()).wantBody(t, 403, `{"success":false,"msg":"you dont belong to the project."}`)
	// The Leads routes resolve the project first, as every project route.
	e.do("GET", "/notaproject/leads", nil, e.agent.jwt()).wantBody(t, 400, `{"error":"Invalid project id: notaproject"}`)
}

// flushCounter records a response and counts flushes.
type flushCounter struct {
	*httptest.ResponseRecorder
	flushes int
}

func (f *flushCounter) Flush() { f.flushes++; f.ResponseRecorder.Flush() }

func TestLeadCSV(t *testing.T) {
	e := newLeadsEnv(t)
	for i := 0; i < 1203; i++ {
		l := &tiledesk.Lead{ID: tiledesk.NewID(), ProjectID: e.pid, LeadID: fmt.Sprintf("l%d", i), Fullname: fmt.Sprintf("Lead %d", i),
			Email: fmt.Sprintf("l%d@example.com", i), Tags: []string{"a", "b"}, Status: tiledesk.LeadActive, CreatedBy: e.owner.id}
		if i == 0 {
			l.Fullname, l.Phone = "=HYPERLINK(\"x\")", "+39 06 1234"
		}
		if _, _, err := e.store.CreateLead(t.Context(), l, nil); err != nil {
			t.Fatal(err)
		}
	}
	req := httptest.NewRequest("GET", "/"+e.pid+"/leads/csv?with_email=true", nil)
	req.Header.Set("Authorization", e.agent.token)
	rec := &flushCounter{ResponseRecorder: httptest.NewRecorder()}
	e.srv.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("csv = %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec.flushes < 3 {
		t.Fatalf("the export was flushed %d times: it is not streamed page by page", rec.flushes)
	}
	cr := csv.NewReader(bytes.NewReader(rec.Body.Bytes()))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1204 || strings.Join(rows[0], ";") != strings.Join(leadCSVHeader, ";") {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
	ids := map[string]bool{}
	for _, row := range rows[1:] {
		ids[row[0]] = true
		if row[12] != "a,b" {
			t.Fatalf("tags cell = %q", row[12])
		}
		if strings.HasPrefix(row[2], "=") {
			t.Fatalf("a formula cell was not defused: %q", row[2])
		}
		if row[1] == "l0" && row[4] != "+39 06 1234" {
			t.Fatalf("a phone number was mangled: %q", row[4])
		}
	}
	if len(ids) != 1203 {
		t.Fatalf("%d distinct leads exported, want 1203", len(ids))
	}
	r := e.do("GET", "/"+e.pid+"/leads/csv?sort=nope", nil, e.agent.jwt())
	r.want(t, 400)
	e.do("GET", "/"+e.pid+"/leads/csv", nil).want(t, http.StatusUnauthorized)
}

// TestLeadPagesConcurrently reads every page of two lists from many clients at once: each answer
// must be byte for byte the page read alone. List answers are assembled in reused buffers; one
// given back before it was sent shows here as a page holding another page's bytes or, under the
// race detector (as CI runs), as a race between the next page's assembly and this one's sending.
func TestLeadPagesConcurrently(t *testing.T) {
	e := newLeadsEnv(t)
	for i := range 30 {
		e.lead(fmt.Sprintf(`{"fullname":"Lead %02d","email":"lead%02d@example.com"}`, i, i))
	}
	want := map[string][]byte{}
	var paths []string
	for _, limit := range []int{3, 7} { // pages of different lengths
		path := fmt.Sprintf("/%s/leads?limit=%d", e.pid, limit)
		for path != "" {
			r := e.do("GET", path, nil, e.agent.jwt()).want(t, 200)
			want[path] = r.body
			paths = append(paths, path)
			next, _ := r.json(t)["next_cursor"].(string)
			path = ""
			if next != "" {
				path = fmt.Sprintf("/%s/leads?limit=%d&cursor=%s", e.pid, limit, next)
			}
		}
	}
	if len(paths) != 10+5 {
		t.Fatalf("%d pages, want 15", len(paths))
	}
	jwt := e.agent.jwt()
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 60 {
				path := paths[(w*7+i)%len(paths)]
				req, err := http.NewRequest("GET", e.http.URL+path, nil)
				if err != nil {
					errs <- err
					return
				}
				jwt(req)
				res, err := e.http.Client().Do(req)
				if err != nil {
					errs <- err
					return
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != 200 || !bytes.Equal(body, want[path]) {
					errs <- fmt.Errorf("GET %s: %d %v\n%s\nwant\n%s", path, res.StatusCode, err, body, want[path])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
