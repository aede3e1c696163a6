package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

// A visitor sends custom events as the widget does; agents list them newest first with the
// original's {perPage, count, events}, filter them by name and sender, and read one; each is an
// event.emit of the project's log.
func TestCustomEvents(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner, agent := e.signup("Owner"), e.signup("Agent")
		pid := e.createProject(owner, "Custom events")
		e.join(owner, agent, pid, tiledesk.RoleAgent)
		guest, uuid := e.guest(pid)
		r := e.do("POST", "/"+pid+"/events", map[string]any{"name": "pricing.viewed", "attributes": map[string]any{"plan": "pro"}}, jwtCred(guest)).want(t, 200)
		first := r.json(t)
		if first["name"] != "pricing.viewed" || first["id_project"] != pid || first["createdBy"] != uuid ||
			first["project_user"] == "" || first["attributes"].(map[string]any)["plan"] != "pro" || first["createdAt"] != "2026-03-01T12:00:00.000Z" {
			t.Fatalf("custom event = %v", first)
		}
		for i := range 3 {
			e.clock.Add(1000)
			e.do("POST", "/"+pid+"/events", map[string]any{"name": fmt.Sprintf("step.%d", i)}, agent.jwt()).want(t, 200)
		}
		list := e.do("GET", "/"+pid+"/events", nil, agent.jwt()).want(t, 200).json(t)
		evs := list["events"].([]any)
		if list["perPage"] != 40.0 || list["count"] != 4.0 || len(evs) != 4 || evs[0].(map[string]any)["name"] != "step.2" || evs[3].(map[string]any)["_id"] != first["_id"] {
			t.Fatalf("list = %v", list)
		}
		byName := e.do("GET", "/"+pid+"/events?name=pricing.viewed", nil, agent.jwt()).want(t, 200).json(t)
		bySender := e.do("GET", "/"+pid+"/events?project_user="+first["project_user"].(string), nil, owner.jwt()).want(t, 200).json(t)
		if byName["count"] != 1.0 || bySender["count"] != 1.0 {
			t.Fatalf("filtered: by name %v, by sender %v", byName, bySender)
		}
		page := e.do("GET", "/"+pid+"/events?limit=3&page=1", nil, agent.jwt()).want(t, 200).json(t)
		if page["count"] != 4.0 || len(page["events"].([]any)) != 1 || page["perPage"] != 3.0 {
			t.Fatalf("second page = %v", page)
		}
		one := e.do("GET", "/"+pid+"/events/"+first["_id"].(string), nil, agent.jwt()).want(t, 200).json(t)
		if one["_id"] != first["_id"] || one["name"] != "pricing.viewed" {
			t.Fatalf("one = %v", one)
		}
		storetest.WaitNumbered(t, e.store, pid, int64(len(e.events(pid))))
		p := e.feed(pid, "after=0&limit=1000", owner.jwt())
		custom := 0
		for _, ev := range p.Events {
			if ev.Name == tiledesk.EventCustom {
				custom++
			}
		}
		if custom != 4 {
			t.Fatalf("the feed has %d event.emit, want 4", custom)
		}
		// A visitor reads none of them; another project's owner neither; an id of another kind is not found.
		e.do("GET", "/"+pid+"/events", nil, jwtCred(guest)).want(t, http.StatusForbidden)
		other := e.signup("Other")
		pidB := e.createProject(other, "B")
		e.do("GET", "/"+pid+"/events", nil, other.jwt()).want(t, http.StatusForbidden)
		e.do("GET", "/"+pidB+"/events/"+first["_id"].(string), nil, other.jwt()).want(t, http.StatusNotFound)
		if b := e.do("GET", "/"+pidB+"/events", nil, other.jwt()).want(t, 200).json(t); b["count"] != 0.0 {
			t.Fatalf("B lists A's custom events: %v", b)
		}
		e.do("GET", "/"+pid+"/events/"+tiledesk.NewID(), nil, agent.jwt()).want(t, http.StatusNotFound)
	})
}

func TestCustomEventRefusesBadBodies(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Bad events")
	guest, _ := e.guest(pid)
	deep := map[string]any{}
	for d, i := deep, 0; i < 12; i++ {
		next := map[string]any{}
		d["x"] = next
		d = next
	}
	for _, c := range []struct {
		body  any
		param string
	}{
		{map[string]any{}, "name"},
		{map[string]any{"name": ""}, "name"},
		{map[string]any{"name": 7}, "name"},
		{map[string]any{"name": "has space"}, "name"},
		{map[string]any{"name": strings.Repeat("a", 129)}, "name"},
		{map[string]any{"name": "ok", "attributes": "not an object"}, "attributes"},
		{map[string]any{"name": "ok", "attributes": deep}, "attributes"},
	} {
		r := e.do("POST", "/"+pid+"/events", c.body, jwtCred(guest))
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), `"param":"`+c.param) {
			t.Errorf("%v: %d %s, want 422 naming %s", c.body, r.status, r.body, c.param)
		}
	}
	for _, q := range []string{"limit=0", "limit=101", "page=-1", "page=x"} {
		if r := e.do("GET", "/"+pid+"/events?"+q, nil, owner.jwt()); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", q, r.status, r.body)
		}
	}
	if n := len(e.events(pid)); strings.Contains(strings.Join(e.events(pid), " "), tiledesk.EventCustom) {
		t.Fatalf("a refused custom event is in the log (%d events)", n)
	}
}

// Custom events are writes like any other: a visitor's draw on its token's budget and on its
// address's guest budget, and the one over it is refused before anything is stored.
func TestCustomEventsAreRateLimited(t *testing.T) {
	e, _ := limitedEnv(t, RateLimits{Default: rate(100, time.Minute), GuestWrites: rate(3, time.Minute)})
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Limited")
	ip := from("198.51.100.9")
	r := e.do("POST", "/auth/signinAnonymously", map[string]string{"id_project": pid}, ip).want(t, 200)
	guest := jwtCred(r.json(t)["token"].(string))
	for range 3 {
		e.do("POST", "/"+pid+"/events", map[string]string{"name": "click"}, guest, ip).want(t, 200)
	}
	want429(t, e.do("POST", "/"+pid+"/events", map[string]string{"name": "click"}, guest, ip), "guest-writes", scopeAddress)
	if n := e.do("GET", "/"+pid+"/events", nil, owner.jwt()).want(t, 200).json(t)["count"]; n != 3.0 {
		t.Fatalf("%v custom events stored, want 3", n)
	}
}
