package api

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/ratelimit"
)

func rate(count int, period time.Duration) tiledesk.RateLimit {
	return tiledesk.RateLimit{Count: count, Period: period}
}

// limitedEnv serves with an in-memory limiter on the server's frozen clock (which the test moves),
// and trusts 127.0.0.1 as a proxy so that tests can play several clients with X-Forwarded-For.
func limitedEnv(t *testing.T, limits RateLimits) (*testEnv, *testClock) {
	e := newEnvWith(t, func(c *Config) {
		limits.Limiter = ratelimit.NewMemory(ratelimit.MemoryOptions{Now: c.Now})
		c.RateLimits = limits
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	return e, e.clock
}

func from(ip string) cred { return header("X-Forwarded-For", ip) }

// TestRateLimitPerClient: the 201st request inside a minute from one client is refused while a
// second client is not, for credentials and for addresses alike.
func TestRateLimitPerClient(t *testing.T) {
	e, _ := limitedEnv(t, RateLimits{Default: rate(200, time.Minute)})
	a, b := e.signup("Ann"), e.signup("Bob") // signing up spends the test address's budget, not theirs
	for i := 1; i <= 200; i++ {
		r := e.do("GET", "/users", nil, a.jwt())
		if r.status != 200 || r.header.Get("RateLimit-Remaining") != strconv.Itoa(200-i) {
			t.Fatalf("request %d: %d, RateLimit-Remaining %q", i, r.status, r.header.Get("RateLimit-Remaining"))
		}
	}
	r := e.do("GET", "/users", nil, a.jwt())
	r.wantBody(t, 429, `{"success":false,"code":"rate_limited",
		"msg":"Too many requests: the \"default\" limit allows 200 requests per minute per credential and project. Retry in 1 seconds.",
		"limit":{"name":"default","scope":"credential","requests":200,"window":"1m0s","window_seconds":60,"burst":200,
			"remaining":0,"reset_at":"2026-03-01T12:01:00.000Z"},"retry_after":1}`)
	for k, want := range map[string]string{"Retry-After": "1", "RateLimit-Limit": "200", "RateLimit-Remaining": "0",
		"RateLimit-Reset": "1", "X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0",
		"X-RateLimit-Reset": strconv.FormatInt(time.Date(2026, 3, 1, 12, 0, 1, 0, time.UTC).Unix(), 10),
		"RateLimit-Policy":  "200;w=60;burst=200"} {
		if got := r.header.Get(k); got != want {
			t.Errorf("429 %s = %q, want %q", k, got, want)
		}
	}
	e.do("GET", "/users", nil, b.jwt()).want(t, 200)
	e.do("GET", "/users", nil, a.basic()).want(t, 429) // the same user by another credential kind

	// Addresses: the same on a public route, client by client.
	for i := 0; i < 200; i++ {
		e.do("GET", "/", nil, from("203.0.113.7")).want(t, 200)
	}
	e.do("GET", "/", nil, from("203.0.113.7")).want(t, 429)
	e.do("GET", "/", nil, from("203.0.113.8")).want(t, 200)
	// IPv6 clients count per /64: another address of the same network shares the budget.
	for i := 0; i < 200; i++ {
		e.do("GET", "/", nil, from("2001:db8:1:2::1")).want(t, 200)
	}
	e.do("GET", "/", nil, from("2001:db8:1:2::ffff")).want(t, 429)
	e.do("GET", "/", nil, from("2001:db8:1:3::1")).want(t, 200)
}

func TestRateLimitBudgetsAndHeaders(t *testing.T) {
	e, clk := limitedEnv(t, RateLimits{Default: rate(5, time.Minute),
		Routes: map[string]tiledesk.RateLimit{"GET /testauth": rate(2, time.Minute)}})
	a := e.signup("Ann")
	pid := e.createProject(a, "P")

	// A route with its own limit has its own budget, named after the route.
	e.do("GET", "/testauth", nil, a.jwt()).want(t, 200)
	r := e.do("GET", "/testauth", nil, a.jwt()).want(t, 200)
	if r.header.Get("RateLimit-Limit") != "2" || r.header.Get("RateLimit-Remaining") != "0" {
		t.Fatalf("override headers: %v", r.header)
	}
	if m := e.do("GET", "/testauth", nil, a.jwt()).want(t, 429).json(t); m["limit"].(map[string]any)["name"] != "GET /testauth" {
		t.Fatalf("override 429 = %v", m)
	}
	e.do("GET", "/users", nil, a.jwt()).want(t, 200)
	// A credential's budget is per project.
	for range 5 {
		e.do("GET", "/projects/"+pid, nil, a.jwt()).want(t, 200)
	}
	e.do("GET", "/projects/"+pid, nil, a.jwt()).want(t, 429)
	e.do("GET", "/users", nil, a.jwt()).want(t, 200)

	// Failed authentication is limited per address; so are unknown routes; every answer has headers.
	for i := 4; i >= 0; i-- {
		r := e.do("GET", "/users", nil, jwtCred("JWT not-a-token"), from("198.51.100.1"))
		r.want(t, 401)
		if r.header.Get("RateLimit-Remaining") != strconv.Itoa(i) {
			t.Fatalf("401 RateLimit-Remaining = %q, want %d", r.header.Get("RateLimit-Remaining"), i)
		}
	}
	e.do("GET", "/users", nil, jwtCred("JWT not-a-token"), from("198.51.100.1")).want(t, 429)
	e.do("GET", "/nosuch", nil, from("198.51.100.1")).want(t, 429)
	r = e.do("GET", "/nosuch", nil, from("198.51.100.2")).want(t, 404)
	if r.header.Get("RateLimit-Remaining") != "4" {
		t.Fatalf("404 RateLimit-Remaining = %q", r.header.Get("RateLimit-Remaining"))
	}
	// The budget refills: one request per interval.
	clk.Add(12 * time.Second)
	e.do("GET", "/users", nil, jwtCred("JWT not-a-token"), from("198.51.100.1")).want(t, 401)
	e.do("GET", "/users", nil, jwtCred("JWT not-a-token"), from("198.51.100.1")).want(t, 429)
}

func TestNoLimiterNoHeaders(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/", nil)
	if r.header.Get("RateLimit-Limit") != "" || r.header.Get("X-RateLimit-Limit") != "" {
		t.Fatalf("limit headers without a limiter: %v", r.header)
	}
}

// TestSignInBruteForce: password guessing is slowed per email and per address, before bcrypt.
func TestSignInBruteForce(t *testing.T) {
	e, clk := limitedEnv(t, RateLimits{Default: rate(1000, time.Minute), SignIn: rate(100, time.Minute),
		LoginFailures: rate(3, 15*time.Minute), LoginFailuresIP: rate(10, 15*time.Minute)})
	victim, other := e.signup("Victim"), e.signup("Other")
	pid := e.createProject(victim, "P")
	e.do("GET", "/projects/"+pid, nil, victim.basic()).want(t, 200) // a Basic pair verified before the attack

	wrong := func(email, ip string) *resp {
		return e.do("POST", "/auth/signin", map[string]string{"email": email, "password": "guess"}, from(ip))
	}
	for range 3 {
		wrong(victim.email, "192.0.2.1").want(t, 401)
	}
	// The email's failure budget is spent: even the right password waits, from any address.
	right := map[string]string{"email": victim.email, "password": victim.password}
	r := e.do("POST", "/auth/signin", right, from("192.0.2.99"))
	r.want(t, 429)
	if l := r.json(t)["limit"].(map[string]any); l["name"] != "login-email" || l["scope"] != "email" ||
		r.header.Get("Retry-After") != "300" {
		t.Fatalf("429 = %s, Retry-After %q", r.body, r.header.Get("Retry-After"))
	}
	// Basic authentication shares the budget on its bcrypt path ...
	e.do("GET", "/users", nil, basicCred(victim.email, "guess"), from("192.0.2.2")).want(t, 429)
	e.do("GET", "/users", nil, basicCred(strings.ToUpper(victim.email), victim.password+"x"), from("192.0.2.2")).want(t, 429)
	// ... while the pair verified before the attack keeps working, and other accounts are untouched.
	e.do("GET", "/projects/"+pid, nil, victim.basic()).want(t, 200)
	e.do("POST", "/auth/signin", map[string]string{"email": other.email, "password": other.password}, from("192.0.2.1")).want(t, 200)
	// Slowed, not locked: one attempt per refill interval (15m / 3).
	clk.Add(5 * time.Minute)
	e.do("POST", "/auth/signin", right, from("192.0.2.1")).want(t, 200)

	// Per address: spraying many emails from one address.
	for i := range 10 {
		wrong("nobody"+strconv.Itoa(i)+"@example.org", "192.0.2.50").want(t, 401)
	}
	r = wrong("nobody-else@example.org", "192.0.2.50")
	r.want(t, 429)
	if r.json(t)["limit"].(map[string]any)["name"] != "login-ip" {
		t.Fatalf("429 = %s", r.body)
	}
	e.do("GET", "/users", nil, basicCred("ghost@example.org", "x"), from("192.0.2.50")).want(t, 429)
	wrong("nobody-else@example.org", "192.0.2.51").want(t, 401)

	// Sign-up of a taken email counts as a failure for that email.
	for range 3 {
		e.do("POST", "/auth/signup", map[string]string{"email": other.email, "password": "x1234567",
			"firstname": "A", "lastname": "B"}, from("192.0.2.60")).want(t, 403)
	}
	e.do("POST", "/auth/signin", map[string]string{"email": other.email, "password": other.password}, from("192.0.2.61")).want(t, 429)
}

func TestSignInAttemptsPerAddress(t *testing.T) {
	e, _ := limitedEnv(t, RateLimits{Default: rate(1000, time.Minute), SignIn: rate(3, time.Minute)})
	body := map[string]string{"email": "x@example.org", "password": "whatever"}
	for range 3 {
		e.do("POST", "/auth/signin", body, from("192.0.2.1")).want(t, 401)
	}
	r := e.do("POST", "/auth/signin", body, from("192.0.2.1"))
	r.want(t, 429)
	if r.json(t)["limit"].(map[string]any)["name"] != "signin" {
		t.Fatalf("429 = %s", r.body)
	}
	e.do("POST", "/auth/signup", body, from("192.0.2.1")).want(t, 429)
	e.do("POST", "/auth/signin", body, from("192.0.2.2")).want(t, 401)
	e.do("GET", "/", nil, from("192.0.2.1")).want(t, 200) // other routes are not sign-in routes
}

func TestPer(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Minute: "minute", 10 * time.Minute: "10 minutes", time.Hour: "hour",
		30 * time.Second: "30 seconds", 1500 * time.Millisecond: "1.5s"} {
		if got := per(d); got != want {
			t.Errorf("per(%v) = %q, want %q", d, got, want)
		}
	}
}
