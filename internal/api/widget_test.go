package api

import (
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// The widget's public routes: the bootstrap, whether the project is open, who is available. The
// test clock stands at Sunday 2026-03-01 12:00 UTC, 13:00 in Rome.
func TestWidgetRoutes(t *testing.T) {
	e := newEnv(t)
	owner, agent, admin := e.signup("Owner"), e.signup("Alex"), e.signup("Ada")
	pid := e.createProject(owner, "Shop")
	agentPU := e.join(owner, agent, pid, tiledesk.RoleAgent)
	e.join(owner, admin, pid, tiledesk.RoleAdmin)
	e.do("PUT", "/"+pid+"/project_users", map[string]any{"user_available": false}, admin.jwt()).want(t, 200)
	e.do("PUT", "/"+pid+"/project_users", map[string]any{"user_available": false}, owner.jwt()).want(t, 200)
	// What a visitor must not read: the project's settings, its IP filters and banned visitors.
	e.do("PUT", "/projects/"+pid, map[string]any{"settings": map[string]any{"private_note": "s3cret"},
		"ipFilterDenyEnabled": true, "ipFilterDeny": []string{"203.0.113.9"}, "widget": map[string]any{"themeColor": "#2a6ac1"}},
		owner.jwt()).want(t, 200)

	w := e.do("GET", "/"+pid+"/widgets", nil).want(t, 200)
	golden(t, "widget", w)
	for _, secret := range []string{"s3cret", "203.0.113.9", "settings", "ipFilter", "bannedUsers"} {
		if strings.Contains(string(w.body), secret) {
			t.Fatalf("the widget's bootstrap shows %q: %s", secret, w.body)
		}
	}
	m := w.json(t)
	if got := m["user_available"].([]any); len(got) != 1 || got[0].(map[string]any)["id"] != agent.id ||
		got[0].(map[string]any)["firstname"] != "Alex" {
		t.Fatalf("user_available = %v", got)
	}
	if m["ip"] != "127.0.0.1" || len(m["departments"].([]any)) != 1 {
		t.Fatalf("ip %v, departments %v", m["ip"], m["departments"])
	}

	golden(t, "project-isopen", e.do("GET", "/projects/"+pid+"/isopen", nil).want(t, 200))
	// The agents' addresses and loads are for the project's agents; anyone else sees who, not how
	// to reach them.
	r := e.do("GET", "/projects/"+pid+"/users/availables", nil, admin.jwt()).want(t, 200)
	golden(t, "project-users-availables", r)
	if got := r.list(t); len(got) != 1 || got[0].(map[string]any)["pu_id"] != agentPU ||
		got[0].(map[string]any)["fullname"] != "Alex Test" || got[0].(map[string]any)["email"] != agent.email {
		t.Fatalf("availables = %s", r.body)
	}
	visitor, _ := e.guest(pid)
	stranger := e.signup("Stranger")
	e.createProject(stranger, "Elsewhere")
	for name, creds := range map[string][]cred{"nobody": nil, "a visitor": {jwtCred(visitor)}, "another project's owner": {stranger.jwt()},
		"wrong credentials": {basicCred(agent.email, "wrong")}} {
		r := e.do("GET", "/projects/"+pid+"/users/availables", nil, creds...).want(t, 200)
		if strings.Contains(string(r.body), agent.email) || strings.Contains(string(r.body), "assigned_request") ||
			!strings.Contains(string(r.body), "Alex Test") {
			t.Fatalf("%s reads availables as %s", name, r.body)
		}
	}

	// Closed by the hours, in the project's zone: open from 14:00 in Rome on Sundays.
	e.do("PUT", "/projects/"+pid, map[string]any{"activeOperatingHours": true,
		"operatingHours": `{"0":[{"start":"14:00","end":"18:00"}],"tzname":"Europe/Rome"}`,
		"timeSlots":      map[string]any{"weekend": map[string]any{"active": true, "hours": `{"7":[{"start":"10:00","end":"13:30"}],"tzname":"Europe/Rome"}`}}},
		owner.jwt()).want(t, 200)
	e.do("GET", "/projects/"+pid+"/isopen", nil).wantBody(t, 200, `{"isopen":false}`)
	e.do("GET", "/projects/"+pid+"/isopen?timeSlot=weekend", nil).wantBody(t, 200, `{"isopen":true}`)
	e.do("GET", "/projects/"+pid+"/users/availables", nil).wantBody(t, 200, `[]`)
	if got := e.do("GET", "/projects/"+pid+"/users/availables?raw=true", nil).want(t, 200).list(t); len(got) != 1 {
		t.Fatalf("raw availables while closed = %v", got)
	}
	if got := e.do("GET", "/"+pid+"/widgets", nil).want(t, 200).json(t)["user_available"].([]any); len(got) != 0 {
		t.Fatalf("user_available while closed = %v", got)
	}
	e.clock.Add(time.Hour) // 14:00 in Rome
	e.do("GET", "/projects/"+pid+"/isopen", nil).wantBody(t, 200, `{"isopen":true}`)
	e.do("GET", "/projects/"+pid+"/isopen?timeSlot=weekend", nil).wantBody(t, 200, `{"isopen":false}`)
	golden(t, "project-isopen-unknown-slot", e.do("GET", "/projects/"+pid+"/isopen?timeSlot=nope", nil).want(t, 404))

	// Hours that could never be evaluated are refused when written, naming the field.
	for field, body := range map[string]map[string]any{
		"operatingHours":        {"operatingHours": `{"0":[{"start":"2pm","end":"18:00"}],"tzname":"Europe/Rome"}`},
		"timeSlots.night.hours": {"timeSlots": map[string]any{"night": map[string]any{"hours": `{"tzname":"Mars/Base"}`}}},
	} {
		r := e.do("PUT", "/projects/"+pid, body, owner.jwt()).want(t, 422)
		if !strings.Contains(string(r.body), `"param":"`+field+`"`) {
			t.Fatalf("PUT %v: %s", body, r.body)
		}
	}
	// Hours stored without a time zone (accepted, as the original does) fail when read: 409.
	e.do("PUT", "/projects/"+pid, map[string]any{"operatingHours": `{"0":[]}`}, owner.jwt()).want(t, 200)
	e.do("GET", "/projects/"+pid+"/isopen", nil).wantBody(t, 409, `{"msg":{"errorCode":2000,"msg":"Timezone undefined."},"success":false}`)
	e.do("PUT", "/projects/"+pid, map[string]any{"activeOperatingHours": false}, owner.jwt()).want(t, 200)

	// A department filter names a department of this project; agents at their chat limit are not
	// available.
	other := e.createProject(owner, "Other")
	otherDept := e.do("GET", "/"+other+"/departments/default", nil).want(t, 200).json(t)["_id"].(string)
	e.do("GET", "/projects/"+pid+"/users/availables?department="+otherDept, nil).want(t, 404)
	dept := e.do("GET", "/"+pid+"/departments/default", nil).want(t, 200).json(t)["_id"].(string)
	if got := e.do("GET", "/projects/"+pid+"/users/availables?department="+dept, nil).want(t, 200).list(t); len(got) != 1 {
		t.Fatalf("availables of the default department = %v", got)
	}
	e.do("PUT", "/projects/"+pid, map[string]any{"settings": map[string]any{"chat_limit_on": true, "max_agent_assigned_chat": 0}},
		owner.jwt()).want(t, 200)
	e.do("GET", "/projects/"+pid+"/users/availables", nil).wantBody(t, 200, `[]`)

	// An unknown project is answered as everywhere else (400, as the original's project resolution).
	for _, path := range []string{"/6650a1e9c2b7e2a1d4f00001/widgets", "/projects/6650a1e9c2b7e2a1d4f00001/isopen",
		"/projects/6650a1e9c2b7e2a1d4f00001/users/availables"} {
		e.do("GET", path, nil).want(t, 400)
	}
}

// The recent average waiting time: the conversations of the last four hours, kept for 30 s.
func TestPublicWaitingTime(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner := e.signup("Owner")
		pid := e.createProject(owner, "Shop")
		path := "/" + pid + "/publicanalytics/waiting/current"
		e.do("GET", path, nil).wantBody(t, 200, `[]`)
		e.clock.Add(time.Minute) // past the empty answer's 30 s

		visitor, _ := e.guest(pid)
		ask := func(name string, wait time.Duration) {
			rid := "support-group-" + pid + "-" + name
			e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]string{"text": "hello"}, jwtCred(visitor)).want(t, 200)
			e.clock.Add(wait)
			e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]string{"text": "hi, how can I help?"}, owner.jwt()).want(t, 200)
		}
		ask("a", 90*time.Second)
		golden(t, "publicanalytics-waiting-current", e.do("GET", path, nil).want(t, 200))
		ask("b", 20*time.Second)
		e.do("GET", path, nil).wantBody(t, 200, `[{"_id":"`+pid+`","waiting_time_avg":90000}]`) // kept
		e.clock.Add(31 * time.Second)
		e.do("GET", path, nil).wantBody(t, 200, `[{"_id":"`+pid+`","waiting_time_avg":55000}]`)
		e.clock.Add(5 * time.Hour)
		e.do("GET", path, nil).wantBody(t, 200, `[]`)
	})
}

// TestWidgetBotsRules: the bootstrap's botsRules gathers the rules of the project's bots that are
// not trashed, kept for a while since every page view reads it.
func TestWidgetBotsRules(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Shop")
	rules := func() []any {
		return e.do("GET", "/"+pid+"/widgets", nil).want(t, 200).json(t)["botsRules"].([]any)
	}
	if got := rules(); len(got) != 0 {
		t.Fatalf("without bots: %v", got)
	}
	rule := map[string]any{"when": map[string]any{"urlRegex": "/pricing"}, "do": []any{map[string]any{"wait": 5}}}
	e.do("POST", "/"+pid+"/faq_kb", map[string]any{"name": "Pricing", "attributes": map[string]any{"rules": []any{rule}, "secret": "kept"}},
		owner.jwt()).want(t, 200)
	trashed := e.do("POST", "/"+pid+"/faq_kb", map[string]any{"name": "Old", "attributes": map[string]any{"rules": []any{rule, rule}}},
		owner.jwt()).want(t, 200).json(t)["_id"].(string)
	e.do("PUT", "/"+pid+"/faq_kb/"+trashed, map[string]any{"trashed": true}, owner.jwt()).want(t, 200)
	if got := rules(); len(got) != 0 {
		t.Fatalf("the answer kept for %v changed at once: %v", botsRulesTTL, got)
	}
	e.clock.Add(botsRulesTTL)
	got := rules()
	if len(got) != 1 || got[0].(map[string]any)["when"].(map[string]any)["urlRegex"] != "/pricing" {
		t.Fatalf("botsRules %v", got)
	}
	if body := e.do("GET", "/"+pid+"/widgets", nil).want(t, 200).body; strings.Contains(string(body), "kept") {
		t.Fatalf("the bootstrap shows a bot's other attributes: %s", body)
	}
}
