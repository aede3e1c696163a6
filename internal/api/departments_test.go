package api

import (
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

func TestDepartments(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Depts")
	agent := e.signup("Agent")
	e.join(owner, agent, pid, tiledesk.RoleAgent)
	base := "/" + pid + "/departments"

	// The widget reads departments without credentials.
	list := e.do("GET", base, nil).want(t, 200).list(t)
	if len(list) != 1 {
		t.Fatalf("departments = %d", len(list))
	}
	def := list[0].(map[string]any)
	byDefault := e.do("GET", base+"/default", nil).want(t, 200).json(t)
	if byDefault["_id"] != def["_id"] {
		t.Fatalf("GET /default = %v", byDefault)
	}

	r := e.do("POST", base, `{"name":"Billing","routing":"pooled","description":"money","id_bot":"bot1","status":0,
		"groups":[{"group_id":"g1","percentage":50}]}`, owner.jwt()).want(t, 200)
	golden(t, "department-create", r)
	billing := r.json(t)
	bid := billing["_id"].(string)
	if billing["hasBot"] != true || billing["id_bot"] != "bot1" || billing["status"] != 0.0 || billing["default"] != false {
		t.Fatalf("created department = %v", billing)
	}
	if got := e.do("GET", base, nil).list(t); len(got) != 1 {
		t.Fatalf("a status-0 department is visible to the widget: %d", len(got))
	}
	all := e.do("GET", base+"/allstatus", nil, agent.jwt()).want(t, 200).list(t)
	if len(all) != 2 {
		t.Fatalf("allstatus = %d, want 2", len(all))
	}
	e.do("GET", base+"/allstatus", nil).want(t, 401)
	e.do("GET", base+"/"+bid, nil).want(t, 200)

	// PATCH changes only what it names; PUT, like the original, drops an omitted bot.
	r = e.do("PATCH", base+"/"+bid, `{"name":"Billing EU"}`, owner.jwt()).want(t, 200)
	if d := r.json(t); d["name"] != "Billing EU" || d["id_bot"] != "bot1" {
		t.Fatalf("patched = %v", d)
	}
	r = e.do("PUT", base+"/"+bid, `{"routing":"assigned","status":1}`, owner.jwt()).want(t, 200)
	if d := r.json(t); d["hasBot"] != false || d["routing"] != "assigned" || d["name"] != "Billing EU" {
		t.Fatalf("put = %v", d)
	}
	if ev := e.events(pid); !containsName(ev, tiledesk.EventDepartmentCreate) || !containsName(ev, tiledesk.EventDepartmentUpdate) {
		t.Fatalf("events = %v", ev)
	}

	// Making a department default moves the flag.
	e.do("PATCH", base+"/"+bid, `{"default":true}`, owner.jwt()).want(t, 200)
	if got := e.do("GET", base+"/default", nil).json(t); got["_id"] != bid {
		t.Fatalf("default after PATCH = %v", got["_id"])
	}
	e.do("DELETE", base+"/"+bid, nil, owner.jwt()).want(t, 409)
	e.do("PATCH", base+"/"+def["_id"].(string), `{"default":true}`, owner.jwt()).want(t, 200)
	e.do("DELETE", base+"/"+bid, nil, agent.jwt()).wantBody(t, 403, `{"success":false,"msg":"you dont have the required role."}`)
	e.do("DELETE", base+"/"+bid, nil, owner.jwt()).want(t, 200)
	e.do("GET", base+"/"+bid, nil).wantBody(t, 404, `{"success":false,"msg":"Object not found."}`)
	e.do("DELETE", base+"/"+bid, nil, owner.jwt()).want(t, 404)
	e.do("PUT", base+"/"+bid, `{"name":"x"}`, owner.jwt()).want(t, 404)
	e.do("GET", base+"/not-an-id", nil).want(t, 404)
}

func TestDepartmentValidation(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Depts")
	agent := e.signup("Agent")
	e.join(owner, agent, pid, tiledesk.RoleAgent)
	base := "/" + pid + "/departments"
	for body, param := range map[string]string{
		`{}`:                              "name",
		`{"name":""}`:                     "name",
		`{"name":"x","routing":"random"}`: "routing",
		`{"name":"x","status":5}`:         "status",
		`{"name":"x","default":"yes"}`:    "default",
		`{"name":"x","groups":[{"group_id":"g"}]}`: "groups",
		`{"name":"x","id_bot":{}}`:                 "id_bot",
	} {
		if p := paramsOf(t, e.do("POST", base, body, owner.jwt()).want(t, 422)); len(p) == 0 || p[0] != param {
			t.Fatalf("%s: params = %v, want %s first", body, p, param)
		}
	}
	e.do("POST", base, `{"name":"x"}`, agent.jwt()).want(t, 403)
	e.do("POST", base, `{"name":"x"}`).want(t, 401)
	if got := e.do("GET", base+"/allstatus", nil, owner.jwt()).list(t); len(got) != 1 {
		t.Fatalf("rejected creates left %d departments", len(got))
	}
	// The default department stays default until another one takes over.
	def := e.do("GET", base+"/default", nil).json(t)["_id"].(string)
	e.do("PATCH", base+"/"+def, `{"default":false}`, owner.jwt()).want(t, 422)
}

func TestDepartmentsSortedByName(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Depts")
	base := "/" + pid + "/departments"
	e.do("POST", base, `{"name":"Zeta"}`, owner.jwt()).want(t, 200)
	e.do("POST", base, `{"name":"Alpha"}`, owner.jwt()).want(t, 200)
	unsorted := e.do("GET", base, nil).list(t)
	if unsorted[0].(map[string]any)["name"] != "Default Department" || unsorted[2].(map[string]any)["name"] != "Alpha" {
		t.Fatalf("default order is not creation order")
	}
	sorted := e.do("GET", base+"?sort=name", nil).list(t)
	if sorted[0].(map[string]any)["name"] != "Alpha" || sorted[2].(map[string]any)["name"] != "Zeta" {
		t.Fatalf("?sort did not sort by name")
	}
}
