package api

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestHostileRequests sends what an attacker or a broken client sends: each request must get its
// 4xx (or, for injection strings in a filter, an empty 200), never a 5xx and never a dropped
// connection, and the server must go on serving the data it had.
func TestHostileRequests(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Hostile")
	pid := e.createProject(owner, "Hostile")
	lead := e.do("POST", "/"+pid+"/leads", map[string]string{"fullname": "Kept Lead", "email": "kept@example.com"},
		owner.jwt()).want(t, 200).json(t)["_id"].(string)
	leads := "/" + pid + "/leads"
	deep := strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)
	huge := `{"fullname":"` + strings.Repeat("x", 10<<20) + `"}`
	jwt := owner.jwt()
	type hostile struct {
		name   string
		method string
		path   string
		body   any // string bodies are sent as JSON
		creds  []cred
		want   int // exact status; 0 means any 4xx
	}
	for _, h := range []hostile{
		{"truncated JSON", "POST", leads, `{"fullname":"Mar`, []cred{jwt}, 400},
		{"trailing data", "POST", leads, `{"fullname":"a"}{"x":1}`, []cred{jwt}, 400},
		{"array instead of object", "POST", leads, `[1,2,3]`, []cred{jwt}, 422},
		{"wrong type: number for string", "POST", leads, `{"fullname":123}`, []cred{jwt}, 422},
		{"wrong type: string for tags", "POST", leads, `{"tags":"vip"}`, []cred{jwt}, 422},
		{"wrong type: array for attributes", "POST", leads, `{"attributes":[1]}`, []cred{jwt}, 422},
		{"huge number", "PUT", leads + "/" + lead, `{"status":1e400}`, []cred{jwt}, 0},
		{"huge integer", "PUT", leads + "/" + lead, `{"status":123456789012345678901234567890}`, []cred{jwt}, 422},
		{"negative zero and exponent", "PUT", leads + "/" + lead, `{"status":-0e-0}`, []cred{jwt}, 422},
		{"deep nesting", "POST", leads, `{"attributes":` + deep + `}`, []cred{jwt}, 0},
		{"nesting past the depth limit", "PATCH", leads + "/" + lead + "/attributes", strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40), []cred{jwt}, 422},
		{"10 MB string", "POST", leads, huge, []cred{jwt}, 413},
		{"invalid UTF-8", "POST", leads, "{\"fullname\":\"\xff\xfe\"}", []cred{jwt}, 400},
		{"NUL escape", "POST", leads, `{"fullname":"a\u0000b"}`, []cred{jwt}, 422},
		{"raw NUL byte", "POST", leads, "{\"fullname\":\"a\x00b\"}", []cred{jwt}, 400},
		{"NoSQL operator in sign-in", "POST", "/auth/signin", `{"email":{"$gt":""},"password":{"$gt":""}}`, nil, 422},
		{"NoSQL operator in a form", "POST", "/auth/signin", url.Values{"email[$gt]": {""}, "password[$ne]": {"x"}}, nil, 422},
		{"SQL injection in a path id", "GET", leads + "/1'%20OR%20'1'='1", nil, []cred{jwt}, 404},
		{"SQL injection in sort", "GET", leads + "?sort=fullname%3BDROP%20TABLE%20leads", nil, []cred{jwt}, 400},
		{"semicolon in the query", "GET", leads + "?email=kept@example.com;x", nil, []cred{jwt}, 400},
		{"bad cursor", "GET", leads + "?cursor=eyJzIjoiZnVsbG5hbWUiLCJ2IjpbMV0sImkiOiIwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAifQ", nil, []cred{jwt}, 400},
		{"cursor of garbage", "GET", leads + "?cursor=%27%3B--", nil, []cred{jwt}, 400},
		{"limit overflow", "GET", leads + "?limit=99999999999999999999", nil, []cred{jwt}, 400},
		{"negative page", "GET", leads + "?page=-1", nil, []cred{jwt}, 400},
		{"bad date", "GET", leads + "?updated_since=1%27%20OR%201=1", nil, []cred{jwt}, 400},
		{"path traversal", "GET", "/" + pid + "/leads/..%2F..%2F..%2Fetc%2Fpasswd", nil, []cred{jwt}, 404},
		{"path traversal in the project", "GET", "/..%2F..%2Fetc%2Fpasswd/leads", nil, []cred{jwt}, 400},
		{"dot segments", "GET", "/v1/../../etc/passwd", nil, nil, 0},
		{"NUL tag in the path (removes nothing)", "DELETE", leads + "/" + lead + "/tag/%00", nil, []cred{jwt}, 200},
		{"garbage Basic", "GET", "/users", nil, []cred{header("Authorization", "Basic !!!")}, 401},
		{"Basic without a colon", "GET", "/users", nil, []cred{header("Authorization", "Basic bm9jb2xvbg==")}, 401},
		{"alg none token", "GET", "/users", nil, []cred{header("Authorization", "JWT eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJfaWQiOiJ4Iiwic3ViIjoidXNlciIsImV4cCI6OTk5OTk5OTk5OX0.")}, 401},
		{"100 KB token", "GET", "/users", nil, []cred{header("Authorization", "JWT "+strings.Repeat("a", 100<<10))}, 401},
		{"unknown scheme", "GET", "/users", nil, []cred{header("Authorization", "Negotiate abc")}, 401},
		{"bad content type", "POST", leads, `{}`, []cred{jwt, header("Content-Type", "application/json; charset=\"")}, 415},
		{"foreign content type", "POST", leads, `{}`, []cred{jwt, header("Content-Type", "application/xml")}, 415},
		{"control characters in Idempotency-Key", "POST", leads, `{}`, []cred{jwt, header("Idempotency-Key", "a\tb")}, 400},
		{"overlong Idempotency-Key", "POST", leads, `{}`, []cred{jwt, header("Idempotency-Key", strings.Repeat("k", 300))}, 400},
	} {
		t.Run(h.name, func(t *testing.T) {
			r := e.do(h.method, h.path, h.body, h.creds...)
			if h.want != 0 && r.status != h.want || h.want == 0 && (r.status < 400 || r.status > 499) {
				want := "a 4xx"
				if h.want != 0 {
					want = fmt.Sprint(h.want)
				}
				body := string(r.body)
				if len(body) > 300 {
					body = body[:300] + "..."
				}
				t.Fatalf("%s %s: %d, want %s; body %s", h.method, h.path[:min(len(h.path), 120)], r.status, want, body)
			}
		})
	}

	// Injection strings in a filter are values like any other: they match nothing and leak nothing.
	// (email[$gt]= is no operator here, only an unknown parameter, ignored like any other.)
	for _, q := range []string{"email=%27%20OR%20%271%27=%271", "full_text=%22*%20OR%20*", "full_text=NEAR(a%20b)",
		"full_text=%27%3B%20DROP%20TABLE%20leads%3B--", "tags=%27%20OR%201=1--", "email=%25"} {
		r := e.do("GET", leads+"?"+q, nil, jwt).want(t, 200).json(t)
		if n := len(r["leads"].([]any)); n != 0 {
			t.Errorf("GET leads?%s: %d leads, want none", q, n)
		}
	}

	// Header abuse at the transport: a header block over the limit is refused, not served.
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.http.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /users HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 2<<20))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("a 2 MB header got %d, want 431", res.StatusCode)
		}
	}
	conn.Close()

	// Still serving, with the data intact.
	r := e.do("GET", leads+"/"+lead, nil, jwt).want(t, 200).json(t)
	if r["fullname"] != "Kept Lead" {
		t.Fatalf("the lead changed under hostile input: %v", r)
	}
	if n := e.do("GET", leads, nil, jwt).want(t, 200).json(t)["count"]; n != float64(1) {
		t.Fatalf("hostile input created leads: count %v, want 1", n)
	}
}
