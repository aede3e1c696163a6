package api

import (
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

func TestDepartmentOperators(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) { testDepartmentOperators(t, newEnvOn(t, engine, nil)) })
}

func testDepartmentOperators(t *testing.T, e *testEnv) {
	owner, alex, bob := e.signup("Owner"), e.signup("Alex"), e.signup("Bob")
	pid := e.createProject(owner, "Shop")
	e.join(owner, alex, pid, tiledesk.RoleAgent)
	e.join(owner, bob, pid, tiledesk.RoleAgent)
	e.do("PUT", "/"+pid+"/project_users", map[string]any{"user_available": false}, owner.jwt()).want(t, 200)
	path := "/" + pid + "/departments/default/operators"
	operator := func(r *resp) string {
		t.Helper()
		ops := r.json(t)["operators"].([]any)
		if len(ops) == 0 {
			return ""
		}
		return ops[0].(map[string]any)["id_user"].(string)
	}

	r := e.do("GET", path, nil, alex.jwt()).want(t, 200)
	golden(t, "department-operators", r)
	m := r.json(t)
	if len(m["agents"].([]any)) != 3 || len(m["available_agents"].([]any)) != 2 {
		t.Fatalf("agents %d, available %d", len(m["agents"].([]any)), len(m["available_agents"].([]any)))
	}
	first := operator(r)
	if first != alex.id && first != bob.id {
		t.Fatalf("operator %q is not an available agent", first)
	}
	// A dry run: asking again, nothing moved; a real conversation goes where it said, and the
	// rotation goes on.
	if again := operator(e.do("GET", path, nil, alex.jwt()).want(t, 200)); again != first {
		t.Fatalf("the dry run moved the rotation: %s then %s", first, again)
	}
	visitor, _ := e.guest(pid)
	created := e.do("POST", "/"+pid+"/requests/support-group-"+pid+"-op1/messages", map[string]string{"text": "hi"}, jwtCred(visitor)).want(t, 200).json(t)
	if got := created["request"].(map[string]any)["participants"].([]any); len(got) != 1 || got[0] != first {
		t.Fatalf("the conversation went to %v, the dry run said %s", got, first)
	}
	if next := operator(e.do("GET", path, nil, alex.jwt()).want(t, 200)); next == first || next == "" {
		t.Fatalf("after %s the rotation gives %q", first, next)
	}

	// A department with a bot gives it to the bot, unless nobot; pooled routing names nobody.
	bot := e.do("POST", "/"+pid+"/departments", map[string]any{"name": "Bots", "routing": "assigned", "id_bot": "6650a1e9c2b7e2a1d4f0b0b1"}, owner.jwt()).want(t, 200).json(t)["_id"].(string)
	r = e.do("GET", "/"+pid+"/departments/"+bot+"/operators", nil, alex.jwt()).want(t, 200)
	if operator(r) != "bot_6650a1e9c2b7e2a1d4f0b0b1" || r.json(t)["id_bot"] != "6650a1e9c2b7e2a1d4f0b0b1" {
		t.Fatalf("bot department: %s", r.body)
	}
	if op := operator(e.do("GET", "/"+pid+"/departments/"+bot+"/operators?nobot=true", nil, alex.jwt()).want(t, 200)); op != alex.id && op != bob.id {
		t.Fatalf("nobot: operator %q", op)
	}
	pooled := e.do("POST", "/"+pid+"/departments", map[string]any{"name": "Pool", "routing": "pooled"}, owner.jwt()).want(t, 200).json(t)["_id"].(string)
	if op := operator(e.do("GET", "/"+pid+"/departments/"+pooled+"/operators", nil, alex.jwt()).want(t, 200)); op != "" {
		t.Fatalf("pooled: operator %q", op)
	}
	// Closed by its hours, the project has nobody available.
	e.do("PUT", "/projects/"+pid, map[string]any{"activeOperatingHours": true, "operatingHours": `{"1":[{"start":"09:00","end":"18:00"}],"tzname":"UTC"}`},
		owner.jwt()).want(t, 200) // the test clock stands on a Sunday
	r = e.do("GET", path, nil, alex.jwt()).want(t, 200)
	if operator(r) != "" || len(r.json(t)["available_agents"].([]any)) != 0 {
		t.Fatalf("closed: %s", r.body)
	}
	// ... and a conversation that starts then waits, unassigned, as the dry run says.
	closed := e.do("POST", "/"+pid+"/requests/support-group-"+pid+"-op2/messages", map[string]string{"text": "anyone?"}, jwtCred(visitor)).want(t, 200).json(t)
	if req := closed["request"].(map[string]any); len(req["participants"].([]any)) != 0 || req["status"] != float64(tiledesk.RequestUnassigned) {
		t.Fatalf("a conversation started while closed: participants %v, status %v", req["participants"], req["status"])
	}

	other := e.createProject(owner, "Other")
	otherDept := e.do("GET", "/"+other+"/departments/default", nil).want(t, 200).json(t)["_id"].(string)
	e.do("GET", "/"+pid+"/departments/"+otherDept+"/operators", nil, owner.jwt()).want(t, 404)
	e.do("GET", path, nil, jwtCred(visitor)).want(t, 403)
}
