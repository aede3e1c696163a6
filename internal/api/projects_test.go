package api

import (
	"strings"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

func TestProjectCreateAndList(t *testing.T) {
	e := newEnv(t)
	a := e.signup("Ann")
	r := e.do("POST", "/projects", `{"name":"Sample Project"}`, a.jwt())
	matchesOriginal(t, r, "08-project-create")
	golden(t, "project-create", r)
	p := r.json(t)
	pid := p["_id"].(string)
	if p["name"] != "Sample Project" || p["createdBy"] != a.id || p["id"] != pid || p["trialDaysLeft"] != -14.0 {
		t.Fatalf("project = %v", p)
	}
	if ev := strings.Join(e.events(pid), " "); ev != tiledesk.EventProjectCreate+" "+tiledesk.EventProjectUserCreate+" "+tiledesk.EventDepartmentCreate {
		t.Fatalf("events = %v", ev)
	}

	list := e.do("GET", "/projects", nil, a.jwt())
	matchesOriginal(t, list, "09-projects-list")
	golden(t, "projects-list", list)
	items := list.list(t)
	if len(items) != 1 {
		t.Fatalf("projects = %d, want 1", len(items))
	}
	pu := items[0].(map[string]any)
	if pu["role"] != "owner" || pu["id_user"] != a.id || pu["id_project"].(map[string]any)["_id"] != pid {
		t.Fatalf("membership = %v", pu)
	}

	get := e.do("GET", "/projects/"+pid, nil, a.jwt())
	matchesOriginal(t, get, "10-project-get")

	depts := e.do("GET", "/"+pid+"/departments", nil, a.jwt())
	matchesOriginal(t, depts, "11-departments-list")
	d := depts.list(t)
	if len(d) != 1 || d[0].(map[string]any)["name"] != "Default Department" ||
		d[0].(map[string]any)["routing"] != "assigned" || d[0].(map[string]any)["default"] != true {
		t.Fatalf("departments = %s", depts.body)
	}

	// Another user sees none of it.
	b := e.signup("Bob")
	if got := e.do("GET", "/projects", nil, b.jwt()).want(t, 200).list(t); len(got) != 0 {
		t.Fatalf("Bob sees %d projects", len(got))
	}
}

func TestProjectCreateValidation(t *testing.T) {
	e := newEnv(t)
	a := e.signup("Ann")
	for _, body := range []string{`{}`, `{"name":""}`, `{"name":"   "}`, `{"name":12}`} {
		if p := paramsOf(t, e.do("POST", "/projects", body, a.jwt()).want(t, 422)); len(p) != 1 || p[0] != "name" {
			t.Fatalf("%s: params = %v", body, p)
		}
	}
	if got := e.do("GET", "/projects", nil, a.jwt()).list(t); len(got) != 0 {
		t.Fatalf("a rejected create left %d projects", len(got))
	}
	e.do("POST", "/projects", `{"name":"x"}`).want(t, 401)
}

func TestProjectRoles(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Roles")
	accounts := map[string]account{tiledesk.RoleOwner: owner}
	for _, role := range []string{tiledesk.RoleAdmin, tiledesk.RoleAgent, tiledesk.RoleTeammate} {
		a := e.signup(role)
		e.join(owner, a, pid, role)
		accounts[role] = a
	}
	outsider := e.signup("Outsider")

	type call struct {
		method, path, body string
		min                string
	}
	calls := []call{
		{"GET", "/projects/" + pid, "", tiledesk.RoleAgent},
		{"PUT", "/projects/" + pid, `{"name":"Renamed"}`, tiledesk.RoleAdmin},
	}
	for _, c := range calls {
		for role, a := range accounts {
			r := e.do(c.method, c.path, c.body, a.jwt())
			if tiledesk.HasRole(role, c.min) {
				r.want(t, 200)
			} else {
				r.wantBody(t, 403, `{"success":false,"msg":"you dont have the required role."}`)
			}
		}
		e.do(c.method, c.path, c.body, outsider.jwt()).wantBody(t, 403, `{"success":false,"msg":"you dont belong to the project."}`)
		e.do(c.method, c.path, c.body).want(t, 401)
	}
	// Only the owner deletes, and a deleted project is gone for everyone.
	e.do("DELETE", "/projects/"+pid, "", accounts[tiledesk.RoleAdmin].jwt()).want(t, 403)
	del := e.do("DELETE", "/projects/"+pid, "", owner.jwt()).want(t, 200)
	if del.json(t)["status"] != 0.0 {
		t.Fatalf("deleted project status = %v", del.json(t)["status"])
	}
	e.do("GET", "/projects/"+pid, "", owner.jwt()).wantBody(t, 400, `{"error":"Project not found with id: `+pid+`"}`)
	if got := e.do("GET", "/projects", nil, owner.jwt()).list(t); len(got) != 0 {
		t.Fatalf("deleted project still listed: %d", len(got))
	}
}

func TestProjectUpdate(t *testing.T) {
	e := newEnv(t)
	a := e.signup("Ann")
	pid := e.createProject(a, "Before")
	r := e.do("PUT", "/projects/"+pid, `{"name":"After","activeOperatingHours":true,
		"operatingHours":"{\"tzname\":\"Europe/Rome\"}","settings":{"chat_limit_on":true},
		"settings.max_agent_assigned_chat":2,"channels":[{"name":"chat21"},{"name":"email"}],"ipFilter":["10.0.0.0/8"]}`, a.jwt()).want(t, 200)
	golden(t, "project-update", r)
	p := r.json(t)
	settings := p["settings"].(map[string]any)
	if p["name"] != "After" || p["activeOperatingHours"] != true || settings["chat_limit_on"] != true ||
		settings["max_agent_assigned_chat"] != 2.0 || len(p["channels"].([]any)) != 2 {
		t.Fatalf("updated project = %s", r.body)
	}
	again := e.do("GET", "/projects/"+pid, nil, a.jwt()).json(t)
	if again["name"] != "After" || again["operatingHours"] != `{"tzname":"Europe/Rome"}` {
		t.Fatalf("update not stored: %v", again)
	}
	for body, param := range map[string]string{`{"name":""}`: "name", `{"activeOperatingHours":"yes"}`: "activeOperatingHours",
		`{"settings":[1]}`: "settings", `{"channels":[{"nome":"x"}]}`: "channels", `{"ipFilter":"10.0.0.1"}`: "ipFilter"} {
		if p := paramsOf(t, e.do("PUT", "/projects/"+pid, body, a.jwt()).want(t, 422)); len(p) != 1 || p[0] != param {
			t.Fatalf("%s: params = %v, want [%s]", body, p, param)
		}
	}
}

func TestProjectResolution(t *testing.T) {
	e := newEnv(t)
	a := e.signup("Ann")
	r := e.do("GET", "/notaproject/departments", nil, a.jwt())
	matchesOriginal(t, r, "43-unknown-project-garbage")
	r.wantBody(t, 400, `{"error":"Invalid project id: notaproject"}`)
	ghost := "6b06287de0e96f42d84f0000"
	r = e.do("GET", "/"+ghost+"/project_users", nil, a.jwt())
	matchesOriginal(t, r, "42-unknown-project-objectid")
	r.wantBody(t, 400, `{"error":"Project not found with id: `+ghost+`"}`)
	e.do("GET", "/projects/garbage", nil, a.jwt()).wantBody(t, 400, `{"error":"Invalid project id: garbage"}`)
}
