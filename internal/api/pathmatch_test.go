package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The official SDK and dashboard call some routes with a trailing slash, and the original's router
// ignores the letter case of a path's fixed words; ids keep theirs, and nothing is redirected.
func TestRoutesTolerateATrailingSlashAndCase(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Tolerant")
	rid := "support-group-" + pid + "-AbCd"
	e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]string{"text": "hi"}, owner.jwt()).want(t, 200)

	// The SDK's calls with a trailing slash.
	r := e.do("PUT", "/"+pid+"/project_users/", map[string]any{"user_available": false}, owner.jwt()).want(t, 200)
	if r.json(t)["user_available"] != false {
		t.Fatalf("PUT project_users/ did not update: %s", r.body)
	}
	r = e.do("PATCH", "/"+pid+"/requests/"+rid+"/", map[string]any{"priority": "high"}, owner.jwt()).want(t, 200)
	if r.json(t)["priority"] != "high" {
		t.Fatalf("PATCH requests/:rid/ did not update: %s", r.body)
	}
	if list := e.do("GET", "/projects/", nil, owner.jwt()).want(t, 200).list(t); len(list) != 1 {
		t.Fatalf("GET /projects/ listed %d projects", len(list))
	}

	// Fixed words in any case, with or without /v1, in either case too.
	e.do("GET", "/V1/"+pid+"/LEADS", nil, owner.jwt()).want(t, 200)
	e.do("GET", "/v1/"+pid+"/Requests/"+rid+"/Messages/", nil, owner.jwt()).want(t, 200)
	e.do("GET", "/Projects/"+pid, nil, owner.jwt()).want(t, 200)
	e.do("POST", "/AUTH/SIGNIN", map[string]string{"email": owner.email, "password": owner.password}).want(t, 200)

	// An id keeps its case: the conversation is not found under another spelling of its id.
	e.do("GET", "/"+pid+"/requests/"+strings.ToUpper(rid), nil, owner.jwt()).want(t, 404)
	e.do("GET", "/"+pid+"/requests/"+rid, nil, owner.jwt()).want(t, 200)

	// One trailing slash only; an unknown path stays unknown; a method the route lacks is a 405 that
	// names the route's methods, in whatever case the path came.
	e.do("GET", "/"+pid+"/leads//", nil, owner.jwt()).want(t, 404)
	e.do("GET", "/"+pid+"/leadz/", nil, owner.jwt()).want(t, 404)
	r = e.do("PATCH", "/PROJECTS/", nil, owner.jwt()).want(t, 405)
	if allow := r.header.Get("Allow"); allow != "GET, POST" {
		t.Fatalf("Allow = %q", allow)
	}

	// Nothing answers with a redirect, to this host or any other.
	for _, path := range []string{"/" + pid + "/leads/", "//evil.example/projects/", "/projects/./", "/Projects//"} {
		req := httptest.NewRequest("GET", "http://x"+path, nil)
		owner.jwt()(req)
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		if rec.Code >= 300 && rec.Code < 400 || rec.Header().Get("Location") != "" {
			t.Fatalf("GET %s answered %d Location %q", path, rec.Code, rec.Header().Get("Location"))
		}
		if want := map[bool]int{true: http.StatusOK, false: http.StatusNotFound}[path == "/"+pid+"/leads/"]; rec.Code != want {
			t.Fatalf("GET %s = %d %s", path, rec.Code, rec.Body)
		}
	}
}

func TestTolerantPath(t *testing.T) {
	f := fixedWords{}
	for _, p := range []string{"GET /{pid}/requests/{rid}/messages", "POST /auth/signinAnonymously", "GET /{pid}/leads/csv"} {
		f.addPattern(p)
	}
	for _, c := range []struct {
		in, want string
		changed  bool
	}{
		{"/abc/requests/XyZ/messages", "/abc/requests/XyZ/messages", false},
		{"/abc/REQUESTS/XyZ/Messages/", "/abc/requests/XyZ/messages", true},
		{"/auth/SIGNINANONYMOUSLY", "/auth/signinAnonymously", true},
		{"/abc/leads/CSV", "/abc/leads/csv", true},
		{"/abc/leads//", "/abc/leads//", false},
		{"/", "/", false},
		{"/Csv/", "/csv", true}, // a fixed word anywhere: the route lookup that follows decides
	} {
		got, changed := f.tolerant(c.in)
		if got != c.want || changed != c.changed {
			t.Errorf("tolerant(%q) = %q, %v; want %q, %v", c.in, got, changed, c.want, c.changed)
		}
	}
}
