package api

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
)

func TestSSLOnly(t *testing.T) {
	e := newEnvWith(t, func(c *Config) {
		c.SSLOnly = true
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	r := e.do("GET", "/v1/users", nil)
	r.want(t, 403)
	if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" || !strings.Contains(string(r.body), "SSL-only") {
		t.Fatalf("plain HTTP answer: %q %s", ct, r.body)
	}
	e.do("POST", "/auth/signup", `{}`).want(t, 403)
	e.do("GET", "/v1/users", nil, header("X-Forwarded-Proto", "http")).want(t, 403)
	e.do("GET", "/", nil, header("X-Forwarded-Proto", "https")).want(t, 200)
	e.do("GET", "/v1/users", nil, header("X-Forwarded-Proto", "https")).want(t, 401) // through to authentication
	e.do("GET", "/healthz", nil).want(t, 200)                                        // probes are not API calls

	// An untrusted peer's X-Forwarded-Proto is only the client's word.
	untrusted := newEnvWith(t, func(c *Config) { c.SSLOnly = true })
	untrusted.do("GET", "/", nil, header("X-Forwarded-Proto", "https")).want(t, 403)

	// Real TLS passes.
	tlsSrv := httptest.NewTLSServer(untrusted.srv)
	defer tlsSrv.Close()
	res, err := tlsSrv.Client().Get(tlsSrv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET / over TLS = %d", res.StatusCode)
	}
}

func TestClientAddr(t *testing.T) {
	s := &Server{trustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	for _, tc := range []struct {
		remote, xff, xfp string
		ip               string
		https            bool
	}{
		{"203.0.113.5:1234", "198.51.100.1", "https", "203.0.113.5", false}, // untrusted peer: headers ignored
		{"10.1.2.3:80", "198.51.100.1", "https", "198.51.100.1", true},
		{"10.1.2.3:80", "6.6.6.6, 198.51.100.1, 10.9.9.9", "http, https", "198.51.100.1", true}, // spoofed left hop ignored
		{"10.1.2.3:80", "10.4.4.4", "", "10.4.4.4", false},                                      // all trusted: the leftmost
		{"10.1.2.3:80", "garbage, 198.51.100.1", "", "198.51.100.1", false},
		{"10.1.2.3:80", "198.51.100.1, garbage", "", "10.1.2.3", false}, // a bad hop ends the walk
		{"[::1]:80", "::ffff:198.51.100.9", "HTTPS", "198.51.100.9", true},
		{"[::ffff:10.0.0.1]:80", "198.51.100.2", "", "198.51.100.2", false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if tc.xfp != "" {
			r.Header.Set("X-Forwarded-Proto", tc.xfp)
		}
		ip, https := s.clientAddr(r)
		if ip.String() != tc.ip || https != tc.https {
			t.Errorf("%s + XFF %q XFP %q = %s %v, want %s %v", tc.remote, tc.xff, tc.xfp, ip, https, tc.ip, tc.https)
		}
	}
}

func TestAcceptRules(t *testing.T) {
	e := newEnv(t)
	a := e.signup("Ann")
	for accept, status := range map[string]int{
		"": 200, "*/*": 200, "application/json": 200, "application/*": 200, "application/json; charset=utf-8": 200,
		"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8": 200, // a browser
		"text/plain, *; q=.2": 200, "application/json;q=0.1, text/plain": 200, ";;;": 200,
		"text/plain": 406, "text/html, application/xml": 406, "application/json;q=0": 406,
		"*/*, application/json;q=0": 406, "application/*;q=0, */*": 406, "image/png": 406,
	} {
		r := e.do("GET", "/users", nil, a.jwt(), header("Accept", accept))
		if r.status != status {
			t.Errorf("Accept %q = %d, want %d", accept, r.status, status)
		}
		if status == 406 && !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Errorf("406 for %q is %q, want text/plain", accept, r.header.Get("Content-Type"))
		}
	}
	e.do("GET", "/", nil, header("Accept", "text/plain")).want(t, 200) // the greeting is text
	pid := e.createProject(a, "P")
	if r := e.do("GET", "/"+pid+"/leads/csv", nil, a.jwt(), header("Accept", "text/csv")); r.status != 200 ||
		!strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV export with Accept: text/csv = %d %q", r.status, r.header.Get("Content-Type"))
	}
}

// TestBodyRules: 415 and 413 answer before any authentication work, so a request without credentials
// gets them rather than 401.
func TestBodyRules(t *testing.T) {
	e := newEnv(t)
	a := e.signup("Ann")
	pid := e.createProject(a, "P")
	for m, path := range map[string]string{"POST": "/" + pid + "/departments", "PUT": "/" + pid + "/departments/" + pid,
		"PATCH": "/" + pid + "/departments/" + pid} {
		r := e.do(m, path, "<x/>", header("Content-Type", "application/xml"))
		r.want(t, 415)
		if !strings.Contains(r.json(t)["msg"].(string), "application/xml") {
			t.Errorf("%s 415 body: %s", m, r.body)
		}
	}
	e.do("POST", "/projects", "x", header("Content-Type", "no/such; ===")).want(t, 415)
	e.do("POST", "/projects", `{"name":"x"}`, header("Content-Type", "application/json; charset=utf-8")).want(t, 401)
	e.do("POST", "/projects", "name=x", header("Content-Type", "application/x-www-form-urlencoded")).want(t, 401)
	e.do("POST", "/projects", `{"name":"x"}`, header("Content-Type", "application/vnd.api+json"), a.jwt()).want(t, 200)
	e.do("DELETE", "/projects/"+pid, nil, header("Content-Type", "text/plain")).want(t, 401) // no body rule on DELETE
	e.do("GET", "/users", nil, header("Content-Type", "text/plain"), a.jwt()).want(t, 200)

	big := strings.Repeat("x", 65<<10)
	r := e.do("POST", "/projects", `{"name":"`+big+`"}`)
	r.want(t, 413)
	if m := r.json(t); m["limit"] != float64(64<<10) || m["err"] != "Request entity too large" {
		t.Fatalf("413 body = %s", r.body)
	}
	e.do("POST", "/projects", `{"name":"small"}`, a.jwt()).want(t, 200)
}

func TestCORS(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/", nil, header("Origin", "https://example.com"))
	if r.header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "RateLimit-Remaining") {
		t.Fatalf("simple request CORS headers: %v", r.header)
	}
	pre := e.do("OPTIONS", "/v1/5b55e806c93dde00143163dd/leads", nil, header("Origin", "https://example.com"),
		header("Access-Control-Request-Method", "POST"), header("Access-Control-Request-Headers", "authorization,content-type"))
	if pre.status != 204 || pre.header.Get("Access-Control-Allow-Origin") != "*" ||
		pre.header.Get("Access-Control-Allow-Headers") != "authorization,content-type" ||
		!strings.Contains(pre.header.Get("Access-Control-Allow-Methods"), "PATCH") {
		t.Fatalf("preflight = %d %v", pre.status, pre.header)
	}
	e.do("OPTIONS", "/users", nil).want(t, 405) // not a preflight
	// The chat clients' routes, called from the widget's page with the chat token.
	for _, path := range []string{"/chatapi/api/tilechat/someone/conversations", "/chatapi/api/tilechat/groups"} {
		pre := e.do("OPTIONS", path, nil, header("Origin", "https://shop.example"),
			header("Access-Control-Request-Method", "POST"), header("Access-Control-Request-Headers", "authorization,content-type"))
		if pre.status != 204 || pre.header.Get("Access-Control-Allow-Origin") != "*" || pre.header.Get("Access-Control-Allow-Headers") != "authorization,content-type" {
			t.Fatalf("preflight of %s = %d %v", path, pre.status, pre.header)
		}
	}

	listed := newEnvWith(t, func(c *Config) { c.CORSOrigins = []string{"https://app.example.com"} })
	r = listed.do("GET", "/", nil, header("Origin", "https://app.example.com"))
	if r.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || r.header.Get("Vary") != "Origin" {
		t.Fatalf("listed origin: %v", r.header)
	}
	r = listed.do("OPTIONS", "/users", nil, header("Origin", "https://evil.example"), header("Access-Control-Request-Method", "GET"))
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "" || r.header.Get("Access-Control-Allow-Methods") != "" {
		t.Fatalf("unlisted origin preflight: %d %v", r.status, r.header)
	}
}

func TestMaintenance(t *testing.T) {
	e := newEnvWith(t, func(c *Config) { c.Maintenance = true; c.MaintenanceRetryAfter = 90 })
	r := e.do("GET", "/v1/users", nil)
	r.wantBody(t, 503, `{"success":false,"code":"maintenance","msg":"The server is under maintenance; please retry later."}`)
	if r.header.Get("Retry-After") != "1" { // 90ns rounds up to a second
		t.Fatalf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	e.do("POST", "/auth/signin", `{}`).want(t, 503)
	e.do("GET", "/healthz", nil).want(t, 200)
	if m := e.do("GET", "/readyz", nil).want(t, 200).json(t); m["maintenance"] != true {
		t.Fatalf("readyz in maintenance = %v", m)
	}
	e.srv.SetMaintenance(false)
	e.do("GET", "/v1/users", nil).want(t, 401)
	e.srv.SetMaintenance(true)
	if r := e.do("GET", "/", nil); r.status != 503 || r.header.Get("Retry-After") != "1" {
		t.Fatalf("maintenance back on: %d", r.status)
	}
	def := newEnvWith(t, func(c *Config) { c.Maintenance = true })
	if r := def.do("GET", "/", nil); r.header.Get("Retry-After") != "300" {
		t.Fatalf("default Retry-After = %q", r.header.Get("Retry-After"))
	}
}

// logSink collects log lines.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logSink) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

func TestRequestIDsAndLogs(t *testing.T) {
	logs := &logSink{}
	e := newEnvWith(t, func(c *Config) { c.Logger = slog.New(slog.NewJSONHandler(logs, nil)) })
	a := e.signup("Ann")
	pid := e.createProject(a, "P")

	if r := e.do("GET", "/", nil, header("X-Request-Id", "abc-123.x")); r.header.Get("X-Request-Id") != "abc-123.x" {
		t.Fatalf("given id not echoed: %q", r.header.Get("X-Request-Id"))
	}
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, bad := range []string{"", "has space", strings.Repeat("x", 129), "quote\"s"} {
		if id := e.do("GET", "/", nil, header("X-Request-Id", bad)).header.Get("X-Request-Id"); !hex32.MatchString(id) {
			t.Fatalf("X-Request-Id %q answered with %q, want a generated one", bad, id)
		}
	}
	before := len(strings.Split(logs.String(), "\n"))
	e.do("GET", "/v1/"+pid+"/departments?secret_token="+url.QueryEscape(a.token)+"&sort=name", nil, header("X-Request-Id", "req-42"))
	e.do("GET", "/users", nil, a.basic())
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")[before-1:]
	if len(lines) != 2 {
		t.Fatalf("want one line per request, got %d:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, want := range []string{`"msg":"request"`, `"request_id":"req-42"`, `"method":"GET"`, `"route":"GET /{pid}/departments"`,
		`"project":"` + pid + `"`, `"status":200`, `"bytes":`, `"duration":`, `"path":"/v1/` + pid + `/departments?secret_token=REDACTED&sort=name"`} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line lacks %s:\n%s", want, lines[0])
		}
	}
	all := logs.String()
	for _, secret := range []string{a.token[4:], a.password, "Basic ", "Authorization"} {
		if strings.Contains(all, secret) {
			t.Fatalf("logs contain a secret (%q):\n%s", secret, all)
		}
	}
}

func TestPanicIsA500(t *testing.T) {
	logs := &logSink{}
	e := newEnvWith(t, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	e.srv.handle(e.srv.root, "GET /auth/panic", public, func(http.ResponseWriter, *http.Request, *call) error { panic("boom") })
	e.testRoutes = map[string]bool{"GET /auth/panic": true}
	e.do("GET", "/auth/panic", nil).wantBody(t, 500, `{"success":false,"msg":"Internal error."}`)
	if !strings.Contains(logs.String(), "boom") {
		t.Fatalf("panic not logged:\n%s", logs)
	}
}
