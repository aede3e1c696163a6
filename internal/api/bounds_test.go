package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk/internal/storecache"
)

// boundsEnv is a project with one of everything a client can write free-form JSON into: a lead, a
// conversation with a message, the owner's membership and a department.
type boundsEnv struct {
	*testEnv
	owner                          account
	pid, lead, rid, req, msg, puID string
	dept, guestToken, engineName   string
}

func newBoundsEnv(t *testing.T, engine string) *boundsEnv {
	t.Helper()
	e := &boundsEnv{testEnv: newEnvOn(t, engine, func(c *Config) { c.MaxBodyBytes = 1 << 20 }), engineName: engine}
	e.owner = e.signup("Owner")
	e.pid = e.createProject(e.owner, "Bounds")
	e.lead = e.do("POST", "/"+e.pid+"/leads", `{"fullname":"Lead","email":"lead@example.com"}`, e.owner.jwt()).want(t, 200).json(t)["_id"].(string)
	e.rid = "support-group-" + e.pid + "-bounds"
	m := e.do("POST", "/"+e.pid+"/requests/"+e.rid+"/messages", `{"text":"hello"}`, e.owner.jwt()).want(t, 200).json(t)
	e.msg = m["_id"].(string)
	e.req = m["request"].(map[string]any)["_id"].(string)
	e.puID = e.do("GET", "/"+e.pid+"/project_users/me", nil, e.owner.jwt()).want(t, 200).list(t)[0].(map[string]any)["_id"].(string)
	e.dept = e.do("POST", "/"+e.pid+"/departments", `{"name":"Sales"}`, e.owner.jwt()).want(t, 200).json(t)["_id"].(string)
	e.guestToken, _ = e.guest(e.pid)
	return e
}

// readPaths is every list and object a stored value shows in, read as the owner.
func (e *boundsEnv) readPaths() []string {
	p := "/" + e.pid
	return []string{"/projects", "/projects/" + e.pid, "/users", p + "/project_users", p + "/project_users/me",
		p + "/project_users/" + e.puID, p + "/leads", p + "/leads/" + e.lead, p + "/leads?full_text=lead",
		p + "/leads?email=lead@example.com", p + "/leads?page=1&limit=1", p + "/leads/csv", p + "/requests",
		p + "/requests?status=all", p + "/requests/" + e.rid, p + "/requests/csv", p + "/requests/" + e.rid + "/messages",
		p + "/requests/" + e.rid + "/messages/" + e.msg, p + "/requests/" + e.rid + "/messages/csv",
		p + "/departments", p + "/departments/allstatus", p + "/departments/" + e.dept}
}

// readAll fails unless every list and object answers 200.
func (e *boundsEnv) readAll(t *testing.T) {
	t.Helper()
	for _, path := range e.readPaths() {
		if r := e.do("GET", path, nil, e.owner.jwt()); r.status != 200 {
			t.Fatalf("GET %s = %d %.300s", path, r.status, r.body)
		}
	}
}

// wantInvalid asserts a 422 whose one error names param and says msg.
func wantInvalid(t *testing.T, r *resp, what, param, msg string) {
	t.Helper()
	if r.status != 422 {
		t.Fatalf("%s: status %d, want 422: %.300s", what, r.status, r.body)
	}
	errs, _ := r.json(t)["errors"].([]any)
	if len(errs) != 1 {
		t.Fatalf("%s: errors %s, want one", what, r.body)
	}
	fe := errs[0].(map[string]any)
	if fe["param"] != param || !strings.Contains(fe["msg"].(string), msg) || fe["location"] != "body" {
		t.Fatalf("%s: error %v, want param %q saying %q", what, fe, param, msg)
	}
}

// nestedJSON is {"a":{"a":...leaf}} with n keys down to leaf.
func nestedJSON(n int, leaf string) string {
	return strings.Repeat(`{"a":`, n) + leaf + strings.Repeat("}", n)
}

// objectOfKeys is an object of n keys k<from>..k<from+n-1>, each holding value.
func objectOfKeys(from, n int, value string) string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf(`"k%d":%s`, from+i, value)
	}
	return "{" + strings.Join(keys, ",") + "}"
}

// TestJSONBoundsOnEveryWrite: every route that stores free-form JSON refuses what breaks a bound,
// with a 422 naming the offending path, and stores nothing.
func TestJSONBoundsOnEveryWrite(t *testing.T) {
	e := newBoundsEnv(t, "sqlite")
	p := "/" + e.pid
	big := `"` + strings.Repeat("x", 70<<10) + `"`
	type field struct{ method, path, wrap, param string } // wrap: %s is where the free-form value goes
	fields := []field{
		{"PUT", "/projects/" + e.pid, `{"widget":%s}`, "widget"},
		{"PUT", "/projects/" + e.pid, `{"timeSlots":%s}`, "timeSlots"},
		{"PUT", "/projects/" + e.pid, `{"settings":%s}`, "settings"},
		{"PUT", "/projects/" + e.pid, `{"operatingHours":%s}`, "operatingHours"},
		{"PUT", "/users", `{"attributes":%s}`, "attributes"},
		{"POST", "/auth/signinAnonymously", `{"id_project":"` + e.pid + `","attributes":%s}`, "attributes"},
		{"POST", p + "/leads", `{"attributes":%s}`, "attributes"},
		{"POST", p + "/leads", `{"properties":%s}`, "properties"},
		{"PUT", p + "/leads/" + e.lead, `{"attributes":%s}`, "attributes"},
		{"PATCH", p + "/leads/" + e.lead + "/attributes", `%s`, "attributes"},
		{"POST", p + "/leads/" + e.lead + "/properties", `%s`, "properties"},
		{"PATCH", p + "/leads/" + e.lead + "/properties", `%s`, "properties"},
		{"POST", p + "/requests", `{"first_text":"x","attributes":%s}`, "attributes"},
		{"POST", p + "/requests", `{"first_text":"x","location":%s}`, "location"},
		{"PATCH", p + "/requests/" + e.rid, `{"location":%s}`, "location"},
		{"PATCH", p + "/requests/" + e.rid + "/attributes", `%s`, "attributes"},
		{"POST", p + "/requests/" + e.rid + "/notes", `{"text":"n","attributes":%s}`, "attributes"},
		{"POST", p + "/requests/" + e.rid + "/messages", `{"text":"m","attributes":%s}`, "attributes"},
		{"POST", p + "/requests/" + e.rid + "/messages", `{"text":"m","metadata":%s}`, "metadata"},
		{"POST", p + "/requests/" + e.rid + "-new/messages", `{"text":"m","location":%s}`, "location"},
		{"POST", p + "/requests/" + e.rid + "/messages/multi", `[{"text":"m","attributes":%s}]`, "[0].attributes"},
		{"PUT", p + "/project_users", `{"attributes":%s}`, "attributes"},
		{"PUT", p + "/project_users/" + e.puID, `{"attributes":%s}`, "attributes"},
	}
	for _, bad := range []struct{ value, sub, msg string }{
		{`{"__proto__":{"admin":true}}`, "", `"__proto__"`},
		{`{"x":{"constructor":{"prototype":1}}}`, ".x", `"constructor"`},
		{`{"":1}`, "", "empty key"},
		{`{"a.b":1}`, "", `keys must not contain "." or "$"`},
		{`{"q":[{"$gt":""}]}`, ".q[0]", `"$gt"`},
		{`{"` + strings.Repeat("k", 129) + `":1}`, "", "key longer than 128 bytes"},
		{nestedJSON(9, "1"), ".a.a.a.a.a.a.a.a", "deeper than 8 levels"},
		{objectOfKeys(0, 257, "1"), "", "257 keys, more than 256"},
		{`{"l":[` + strings.TrimSuffix(strings.Repeat("0,", 300), ",") + `]}`, ".l", "300 items, more than 256"},
		{`{"n":1e400}`, ".n", "number out of range"},
	} {
		for _, f := range fields {
			body := fmt.Sprintf(f.wrap, bad.value)
			what := fmt.Sprintf("%s %s %.60s", f.method, f.path, body)
			wantInvalid(t, e.do(f.method, f.path, body, e.owner.jwt()), what, f.param+bad.sub, bad.msg)
		}
	}
	// Size: 64 KiB per field, 4 KiB for a guest's attributes (its token carries them), 512 KiB for
	// a project's settings, widget and time slots.
	for _, f := range fields {
		body := fmt.Sprintf(f.wrap, `{"blob":`+big+`}`)
		r := e.do(f.method, f.path, body, e.owner.jwt())
		if strings.HasPrefix(f.path, "/projects/") && f.wrap != `{"operatingHours":%s}` {
			r.want(t, 200) // within the project's bound
			wantInvalid(t, e.do(f.method, f.path, fmt.Sprintf(f.wrap, `{"blob":"`+strings.Repeat("x", 520<<10)+`"}`), e.owner.jwt()),
				f.path, f.param, "more than 512 KiB")
			continue
		}
		bound := "more than 64 KiB"
		if f.path == "/auth/signinAnonymously" {
			bound = "more than 4 KiB"
		}
		wantInvalid(t, r, f.method+" "+f.path+" (size)", f.param, bound)
	}
	guest := `{"id_project":"` + e.pid + `","attributes":{"blob":"` + strings.Repeat("x", 4<<10) + `"}}`
	wantInvalid(t, e.do("POST", "/auth/signinAnonymously", guest, noCred), "guest attributes", "attributes", "more than 4 KiB")

	// Dotted settings: each segment is a key; the path counts towards the depth.
	for body, want := range map[string][2]string{
		`{"settings.a..b":1}`:                      {"settings.a", "empty key"},
		`{"settings.":1}`:                          {"settings", "empty key"},
		`{"settings.__proto__.x":1}`:               {"settings", `"__proto__"`},
		`{"settings.a.$where":1}`:                  {"settings.a", `"$where"`},
		`{"settings.a.b.c.d.e.f.g.h.i":1}`:         {"settings.a.b.c.d.e.f.g.h.i", "deeper than 8 levels"},
		`{"settings.a.b.c.d.e.f.g":{"h":{"i":1}}}`: {"settings.a.b.c.d.e.f.g.h", "deeper than 8 levels"},
		`{"settings.a":{"b.c":1}}`:                 {"settings.a", `keys must not contain "." or "$"`},
	} {
		wantInvalid(t, e.do("PUT", "/projects/"+e.pid, body, e.owner.jwt()), body, want[0], want[1])
	}
	// Arrays a client makes as long as it likes.
	many := `[` + strings.TrimSuffix(strings.Repeat(`"1.2.3.4",`, 300), ",") + `]`
	wantInvalid(t, e.do("PUT", "/projects/"+e.pid, `{"ipFilter":`+many+`}`, e.owner.jwt()), "ipFilter", "ipFilter", "300 items")
	wantInvalid(t, e.do("PUT", p+"/project_users", `{"tags":`+many+`}`, e.owner.jwt()), "member tags", "tags", "300 items")
	groups := `[` + strings.TrimSuffix(strings.Repeat(`{"group_id":"g","percentage":1},`, 300), ",") + `]`
	wantInvalid(t, e.do("PATCH", p+"/departments/"+e.dept, `{"groups":`+groups+`}`, e.owner.jwt()), "groups", "groups", "300 items")

	// What real clients store passes: the dashboard's notification settings by dotted path, its
	// email templates, the widget's pre-chat form.
	e.do("PUT", "/projects/"+e.pid, `{"settings.email.notification.conversation.assigned.toyou":false,
		"settings.email.templates.assignedRequest":"<html>`+strings.Repeat("<p>x</p>", 4000)+`</html>",
		"widget":{"preChatForm":true,"preChatFormJson":[{"name":"userFullname","type":"text","mandatory":true,
		"label":{"en":"Your name","it":"Il tuo nome"}}],"themeColor":"#2a6ac1"}}`, e.owner.jwt()).want(t, 200)
	settings := e.do("GET", "/projects/"+e.pid, nil, e.owner.jwt()).want(t, 200).json(t)["settings"].(map[string]any)
	if settings["email"].(map[string]any)["notification"].(map[string]any)["conversation"].(map[string]any)["assigned"].(map[string]any)["toyou"] != false {
		t.Fatalf("settings = %v", settings)
	}
	// Nothing refused was stored.
	l := e.do("GET", p+"/leads/"+e.lead, nil, e.owner.jwt()).want(t, 200).json(t)
	if l["attributes"] != nil || l["properties"] != nil {
		t.Fatalf("a refused write was stored: %v", l)
	}
	e.readAll(t)
}

// TestJSONBoundsOnMergeResults: the bounds hold for what a merge leaves stored, checked in the
// store's transaction on both engines: many small merges do not grow a lead, a conversation or a
// project's settings past what one write may store.
func TestJSONBoundsOnMergeResults(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newBoundsEnv(t, engine)
		p := "/" + e.pid
		for _, route := range []struct{ method, path, param string }{
			{"PATCH", p + "/leads/" + e.lead + "/attributes", "attributes"},
			{"POST", p + "/leads/" + e.lead + "/properties", "properties"},
			{"PATCH", p + "/requests/" + e.rid + "/attributes", "attributes"},
		} {
			e.do(route.method, route.path, objectOfKeys(0, 200, "1"), e.owner.jwt()).want(t, 200)
			for i := 1; i < 100; i++ {
				wantInvalid(t, e.do(route.method, route.path, objectOfKeys(i*200, 200, "1"), e.owner.jwt()),
					route.path, route.param, "keys, more than 256")
			}
			// Keys already there are replaced, not added: the same 200 keys merge again.
			e.do(route.method, route.path, objectOfKeys(0, 200, `"`+strings.Repeat("y", 200)+`"`), e.owner.jwt()).want(t, 200)
			wantInvalid(t, e.do(route.method, route.path, objectOfKeys(0, 50, `"`+strings.Repeat("z", 1000)+`"`), e.owner.jwt()),
				route.path+" (size)", route.param, "more than 64 KiB")
		}
		l := e.do("GET", p+"/leads/"+e.lead, nil, e.owner.jwt()).want(t, 200).json(t)
		if n := len(l["attributes"].(map[string]any)); n != 200 {
			t.Fatalf("lead attributes hold %d keys after refused merges, want 200", n)
		}
		// The conversation's last message is the server's: a long one does not count against the
		// client's attributes.
		e.do("POST", p+"/requests/"+e.rid+"/messages", `{"text":"`+strings.Repeat("w", 60<<10)+`"}`, e.owner.jwt()).want(t, 200)
		e.do("PATCH", p+"/requests/"+e.rid+"/attributes", `{"k0":"short"}`, e.owner.jwt()).want(t, 200)

		// Dotted settings: each path alone is fine, together they would hold too many keys.
		paths := func(from int) string {
			kv := make([]string, 200)
			for i := range kv {
				kv[i] = fmt.Sprintf(`"settings.custom.k%d":true`, from+i)
			}
			return "{" + strings.Join(kv, ",") + "}"
		}
		e.do("PUT", "/projects/"+e.pid, paths(0), e.owner.jwt()).want(t, 200)
		wantInvalid(t, e.do("PUT", "/projects/"+e.pid, paths(200), e.owner.jwt()), "settings paths", "settings.custom", "400 keys, more than 256")

		// Tags added one request at a time stop at the bound too.
		for i := range 100 {
			e.do("PUT", p+"/leads/"+e.lead+"/tag", fmt.Sprintf(`["t%d"]`, i), e.owner.jwt()).want(t, 200)
		}
		wantInvalid(t, e.do("PUT", p+"/leads/"+e.lead+"/tag", `["one too many"]`, e.owner.jwt()), "101st tag", "tags", "at most 100 tags")
		e.readAll(t)
	})
}

// outOfBounds is what an older version could store and this one refuses: too many keys, too
// large, too deep, keys JavaScript and MongoDB treat specially, and a number beyond float64.
func outOfBounds() string {
	return `{"__proto__":{"polluted":true},"constructor":"x","":1,"a.b":2,"$set":{"role":"owner"},"huge":1e400,` +
		`"deep":` + nestedJSON(20, "1") + "," + strings.TrimPrefix(objectOfKeys(0, 300, `"`+strings.Repeat("v", 300)+`"`), "{")
}

// sql runs a statement behind the store's back, with $N placeholders on both engines.
func (e *boundsEnv) sql(t *testing.T, query string, args ...any) {
	t.Helper()
	if e.engineName == "sqlite" {
		query = strings.ReplaceAll(query, "$", "?")
	}
	if _, err := e.db().Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// TestOutOfBoundsRowsStillAnswer: rows an older version stored out of bounds are read back by
// every list and object that shows them, and updating them answers a 422 for a result out of
// bounds or accepts the change, never a 500.
func TestOutOfBoundsRowsStillAnswer(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newBoundsEnv(t, engine)
		p := "/" + e.pid
		bad := outOfBounds()
		e.sql(t, `UPDATE leads SET attributes = $1, properties = $1, updated_at = updated_at + 1 WHERE id_project = $2 AND id = $3`, bad, e.pid, e.lead)
		e.sql(t, `UPDATE requests SET attributes = $1, location = $1, updated_at = updated_at + 1 WHERE id_project = $2 AND id = $3`, bad, e.pid, e.req)
		e.sql(t, `UPDATE messages SET attributes = $1, metadata = $1 WHERE id_project = $2 AND id = $3`, bad, e.pid, e.msg)
		e.sql(t, `UPDATE projects SET settings = $1, widget = $1, time_slots = $1, attributes = $1 WHERE id = $2`, bad, e.pid)
		e.sql(t, `UPDATE users SET attributes = $1, updated_at = updated_at + 1 WHERE id = $2`, bad, e.owner.id)
		e.sql(t, `UPDATE project_users SET attributes = $1, settings = $1, updated_at = updated_at + 1 WHERE id_project = $2 AND id = $3`, bad, e.pid, e.puID)
		e.sql(t, `UPDATE project_counters SET leads_clock = leads_clock + 1000, requests_clock = requests_clock + 1000 WHERE id_project = $1`, e.pid)
		// The identity cache would answer the project and the membership as they were.
		e.store.(*storecache.Store).SetClock(func() time.Time { return time.Now().Add(time.Hour) })

		e.readAll(t)
		for path, field := range map[string]string{p + "/leads/" + e.lead: "attributes", "/projects/" + e.pid: "settings",
			p + "/requests/" + e.rid + "/messages/" + e.msg: "metadata"} {
			r := e.do("GET", path, nil, e.owner.jwt()).want(t, 200)
			var whole map[string]json.RawMessage
			var got map[string]json.RawMessage
			if err := json.Unmarshal(r.body, &whole); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if err := json.Unmarshal(whole[field], &got); err != nil {
				t.Fatalf("%s: %s: %v", path, field, err)
			}
			if len(got) < 300 || string(got["$set"]) != `{"role":"owner"}` || !strings.HasPrefix(string(got["huge"]), "1") {
				t.Fatalf("%s: %s read back as %d keys, $set %s, huge %.20s", path, field, len(got), got["$set"], got["huge"])
			}
		}
		for _, w := range []struct {
			method, path, body string
			want               int
		}{
			{"PUT", p + "/leads/" + e.lead, `{"fullname":"Renamed"}`, 200},
			{"PATCH", p + "/leads/" + e.lead + "/attributes", `{"x":1}`, 422}, // the result is out of bounds
			{"POST", p + "/leads/" + e.lead + "/properties", `{"x":1}`, 422},
			{"PUT", p + "/leads/" + e.lead, `{"attributes":{"fresh":true}}`, 200}, // replaced whole
			{"PATCH", p + "/leads/" + e.lead + "/attributes", `{"x":1}`, 200},
			{"PATCH", p + "/requests/" + e.rid + "/attributes", `{"x":1}`, 422},
			{"PATCH", p + "/requests/" + e.rid, `{"subject":"s"}`, 200},
			{"POST", p + "/requests/" + e.rid + "/messages", `{"text":"again"}`, 200},
			{"PUT", "/projects/" + e.pid, `{"settings.x":1}`, 422},
			{"PUT", "/projects/" + e.pid, `{"name":"Renamed"}`, 200},
			{"PUT", "/projects/" + e.pid, `{"settings":{"chat_limit_on":false}}`, 200},
			{"PUT", "/users", `{"firstname":"F"}`, 200},
			{"PUT", p + "/project_users", `{"user_available":false}`, 200},
			{"PUT", p + "/project_users/" + e.puID, `{"max_assigned_chat":3}`, 200},
		} {
			if r := e.do(w.method, w.path, w.body, e.owner.jwt()); r.status != w.want {
				t.Errorf("%s %s %s = %d, want %d: %.300s", w.method, w.path, w.body, r.status, w.want, r.body)
			}
		}
		e.readAll(t)
	})
}
