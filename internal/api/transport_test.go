package api

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

func TestV1PrefixAndBarePaths(t *testing.T) {
	e := newEnv(t)
	a := e.signup("Ann")
	pid := e.createProject(a, "P")
	for _, path := range []string{"/" + pid + "/departments", "/v1/" + pid + "/departments", "/projects/" + pid, "/v1/projects/" + pid} {
		e.do("GET", path, nil, a.basic()).want(t, 200)
	}
	e.do("POST", "/v1/projects", `{"name":"Q"}`, a.jwt()).want(t, 200)
	e.do("GET", "/v1/users", nil, a.jwt()).want(t, 200)
	root := e.do("GET", "/", nil)
	if root.status != 200 || !strings.HasPrefix(string(root.body), "Hello from Tiledesk server") {
		t.Fatalf("GET / = %d %s", root.status, root.body)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	a := e.signup("Ann")
	pid := e.createProject(a, "P")

	// Malformed JSON is the client's mistake: 400 in JSON, where the original answers 500.
	r := e.do("POST", "/auth/signin", `{"email": "x",`)
	r.want(t, 400)
	if m := r.json(t); m["success"] != false || !strings.Contains(m["msg"].(string), "Malformed JSON") {
		t.Fatalf("malformed JSON answer = %s", r.body)
	}
	e.do("POST", "/"+pid+"/departments", `{bad json`, a.jwt()).want(t, 400)
	e.do("POST", "/projects", `{"name":"x"} trailing`, a.jwt()).want(t, 400)
	e.do("POST", "/projects", `["not","an","object"]`, a.jwt()).want(t, 422)
	e.do("POST", "/projects", `{"name":"nul\u0000byte"}`, a.jwt()).want(t, 422)
	e.do("POST", "/projects", []byte("{\"name\":\"bad \xff utf8\"}"), a.jwt()).want(t, 400)
	deep := strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100)
	e.do("PUT", "/users", `{"attributes":`+deep+`}`, a.jwt()).want(t, 422)

	big := `{"name":"` + strings.Repeat("x", 70<<10) + `"}`
	r = e.do("POST", "/projects", big, a.jwt())
	r.want(t, 413)
	if m := r.json(t); m["err"] != "Request entity too large" || m["limit"] == nil {
		t.Fatalf("413 body = %s", r.body)
	}

	r = e.do("POST", "/projects", nil, a.jwt(), header("Content-Type", "text/plain"))
	r.want(t, http.StatusUnsupportedMediaType)
	req := e.do("POST", "/projects", nil, a.jwt(), header("Content-Type", "multipart/form-data; boundary=x"))
	req.want(t, http.StatusUnsupportedMediaType)

	r = e.do("GET", "/"+pid+"/nosuchthing", nil, a.jwt())
	r.wantBody(t, 404, `{"success":false,"msg":"Cannot GET /`+pid+`/nosuchthing"}`)
	e.do("GET", "/nosuchthing", nil).want(t, 404)
	r = e.do("PATCH", "/auth/signin", nil)
	r.want(t, 405)
	if r.header.Get("Allow") != "POST" {
		t.Fatalf("Allow = %q", r.header.Get("Allow"))
	}
	// Nothing above wrote anything.
	if got := e.do("GET", "/projects", nil, a.jwt()).list(t); len(got) != 1 {
		t.Fatalf("bad requests created projects: %d", len(got))
	}
}

func TestFormBodies(t *testing.T) {
	e := newEnv(t)
	a := e.signup("Ann")
	pid := e.createProject(a, "P")
	r := e.do("POST", "/"+pid+"/departments", "name=Form+Dept&routing=assigned&default=false&status=1", a.jwt(),
		header("Content-Type", "application/x-www-form-urlencoded")).want(t, 200)
	if d := r.json(t); d["name"] != "Form Dept" || d["routing"] != "assigned" || d["status"] != 1.0 {
		t.Fatalf("department from a form = %v", d)
	}
	e.do("POST", "/"+pid+"/departments", "name=x&status=high", a.jwt(),
		header("Content-Type", "application/x-www-form-urlencoded")).want(t, 422)
}

// TestJSONSentAsForm: curl -d without -H sends JSON as a form; it answers 415 saying so instead of
// acting on a record with every field unset, while real forms (the public document signs in with
// one), values holding braces included, keep working.
func TestJSONSentAsForm(t *testing.T) {
	e := newEnv(t)
	a := e.signup("Ann")
	pid := e.createProject(a, "P")
	form := header("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range []struct{ path, body string }{{"/projects", `{"name":"x"}`}, {"/" + pid + "/departments", "\n  {\"name\":\"D\"}"},
		{"/" + pid + "/leads", `[{"fullname":"x"}]`}, {"/auth/signin", `{"email":"` + a.email + `","password":"` + a.password + `"}`}} {
		r := e.do("POST", c.path, c.body, a.jwt(), form)
		r.want(t, http.StatusUnsupportedMediaType)
		if msg, _ := r.json(t)["msg"].(string); !strings.Contains(msg, "Content-Type: application/json") {
			t.Fatalf("POST %s: 415 = %s", c.path, r.body)
		}
	}
	if got := e.do("GET", "/projects", nil, a.jwt()).list(t); len(got) != 1 {
		t.Fatalf("JSON sent as a form created projects: %d", len(got))
	}
	e.do("POST", "/auth/signin", "email="+url.QueryEscape(a.email)+"&password="+url.QueryEscape(a.password), form).want(t, 200)
	r := e.do("POST", "/"+pid+"/departments", "name=%7Bbraces%7D", a.jwt(), form).want(t, 200)
	if r.json(t)["name"] != "{braces}" {
		t.Fatalf("a form value with braces = %s", r.body)
	}
}

// TestTenancy calls every project route of project A with the owner of project B: nothing is read or
// changed, and no answer carries A's data.
func TestTenancy(t *testing.T) {
	e := newEnv(t)
	ownerA, ownerB := e.signup("Alice"), e.signup("Bob")
	pa, pb := e.createProject(ownerA, "A"), e.createProject(ownerB, "B")
	agentA := e.signup("AgentA")
	puA := e.join(ownerA, agentA, pa, tiledesk.RoleAgent)
	deptA := e.do("POST", "/"+pa+"/departments", `{"name":"Secret A"}`, ownerA.jwt()).want(t, 200).json(t)["_id"].(string)
	guestB, _ := e.guest(pb)

	routes := []struct{ method, path, body string }{
		{"GET", "/projects/" + pa, ""},
		{"PUT", "/projects/" + pa, `{"name":"pwned"}`},
		{"DELETE", "/projects/" + pa, ""},
		{"GET", "/" + pa + "/project_users", ""},
		{"GET", "/" + pa + "/project_users/me", ""},
		{"GET", "/" + pa + "/project_users/" + puA, ""},
		{"GET", "/" + pa + "/project_users/users/" + agentA.id, ""},
		{"POST", "/" + pa + "/project_users/invite", `{"email":"x@y.co","role":"admin"}`},
		{"PUT", "/" + pa + "/project_users", `{"user_available":false}`},
		{"PUT", "/" + pa + "/project_users/" + puA, `{"role":"admin"}`},
		{"DELETE", "/" + pa + "/project_users/" + puA, ""},
		{"GET", "/" + pa + "/departments/allstatus", ""},
		{"POST", "/" + pa + "/departments", `{"name":"x"}`},
		{"PUT", "/" + pa + "/departments/" + deptA, `{"name":"pwned"}`},
		{"PATCH", "/" + pa + "/departments/" + deptA, `{"name":"pwned"}`},
		{"DELETE", "/" + pa + "/departments/" + deptA, ""},
	}
	for _, rt := range routes {
		for name, c := range map[string]cred{"owner of B": ownerB.jwt(), "guest of B": jwtCred(guestB)} {
			r := e.do(rt.method, rt.path, rt.body, c)
			if r.status != 403 {
				t.Errorf("%s %s as %s = %d, want 403", rt.method, rt.path, name, r.status)
			}
			if strings.Contains(string(r.body), "Secret A") || strings.Contains(string(r.body), agentA.email) {
				t.Errorf("%s %s as %s leaked A's data: %s", rt.method, rt.path, name, r.body)
			}
		}
	}
	// A's objects through B's project id are simply not found.
	e.do("GET", "/"+pb+"/project_users/"+puA, nil, ownerB.jwt()).want(t, 404)
	e.do("GET", "/"+pb+"/departments/"+deptA, nil).want(t, 404)
	e.do("PUT", "/"+pb+"/departments/"+deptA, `{"name":"pwned"}`, ownerB.jwt()).want(t, 404)
	e.do("DELETE", "/"+pb+"/project_users/"+puA, nil, ownerB.jwt()).want(t, 404)
	// And A is intact.
	if p := e.do("GET", "/projects/"+pa, nil, ownerA.jwt()).want(t, 200).json(t); p["name"] != "A" {
		t.Fatalf("project A = %v", p)
	}
	if d := e.do("GET", "/"+pa+"/departments/"+deptA, nil).want(t, 200).json(t); d["name"] != "Secret A" {
		t.Fatalf("department of A = %v", d)
	}
	e.do("GET", "/"+pa+"/project_users", nil, agentA.jwt()).want(t, 200)
}

// TestOversizedBodySeesThe413: a client that writes its whole body before reading, as curl and most
// SDKs do, reads the 413 instead of a connection reset, whether the size was announced
// (Content-Length, refused before reading) or found while reading (chunked).
func TestOversizedBodySeesThe413(t *testing.T) {
	e := newEnv(t) // --max-body 64 KiB
	a := e.signup("Ann")
	body := `{"name":"` + strings.Repeat("x", 3<<20) + `"}` // far over the limit, within what is drained
	for _, chunked := range []bool{false, true} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.http.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.(*net.TCPConn).SetWriteBuffer(32 << 10) // no large send buffer to hide the body in
		_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
		var req bytes.Buffer
		fmt.Fprintf(&req, "POST /projects HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nAuthorization: %s\r\n", a.token)
		if chunked {
			req.WriteString("Transfer-Encoding: chunked\r\n\r\n")
			for rest := body; rest != ""; {
				n := min(len(rest), 64<<10)
				fmt.Fprintf(&req, "%x\r\n%s\r\n", n, rest[:n])
				rest = rest[n:]
			}
			req.WriteString("0\r\n\r\n")
		} else {
			fmt.Fprintf(&req, "Content-Length: %d\r\n\r\n%s", len(body), body)
		}
		if _, err := conn.Write(req.Bytes()); err != nil {
			t.Fatalf("chunked %v: writing the body: %v", chunked, err)
		}
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("chunked %v: reading the answer: %v", chunked, err)
		}
		msg, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(msg), "Request entity too large") {
			t.Fatalf("chunked %v: %d %s", chunked, res.StatusCode, msg)
		}
	}
	if got := e.do("GET", "/projects", nil, a.jwt()).list(t); len(got) != 0 {
		t.Fatalf("an oversized body created %d projects", len(got))
	}
}
