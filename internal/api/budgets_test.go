package api

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/ratelimit"
	"github.com/tiledesk-go/tiledesk/internal/redistest"
)

// want429 asserts a 429 of the named limit and scope that says when to retry, in its Retry-After
// header and its body.
func want429(t *testing.T, r *resp, name, scope string) {
	t.Helper()
	r.want(t, http.StatusTooManyRequests)
	m := r.json(t)
	l, _ := m["limit"].(map[string]any)
	retry, err := strconv.Atoi(r.header.Get("Retry-After"))
	if l["name"] != name || l["scope"] != scope || err != nil || retry < 1 || m["retry_after"] != float64(retry) {
		t.Fatalf("429 = %s, Retry-After %q; want limit %q, scope %q and when to retry", r.body, r.header.Get("Retry-After"), name, scope)
	}
}

// TestGuestTokensShareTheirAddressBudget: anyone can mint guest tokens, each with a budget of its
// own; their writes also draw on their address's budget, so that a thousand tokens do not buy a
// thousand budgets.
func TestGuestTokensShareTheirAddressBudget(t *testing.T) {
	e, clk := limitedEnv(t, RateLimits{Default: rate(100, time.Minute), GuestWrites: rate(5, time.Minute)})
	owner := e.signup("Owner")
	pid := e.createProject(owner, "P")
	attacker, neighbour := from("198.51.100.7"), from("198.51.100.8")
	mint := func(ip cred) cred {
		r := e.do("POST", "/auth/signinAnonymously", map[string]string{"id_project": pid}, ip).want(t, 200)
		return jwtCred(r.json(t)["token"].(string))
	}
	post := func(token, ip cred, n int) *resp {
		return e.do("POST", "/"+pid+"/requests/support-group-"+pid+"-"+strconv.Itoa(n)+"/messages", `{"text":"hi"}`, token, ip)
	}
	var last cred
	for i := range 5 {
		last = mint(attacker)
		post(last, attacker, i).want(t, 200)
	}
	fresh := mint(attacker)
	want429(t, post(fresh, attacker, 99), "guest-writes", scopeAddress)
	want429(t, post(last, attacker, 4), "guest-writes", scopeAddress)
	// Reads stay on each token's budget; another address, and registered users at this one, write.
	e.do("GET", "/"+pid+"/requests/me", nil, fresh, attacker).want(t, 200)
	post(mint(neighbour), neighbour, 100).want(t, 200)
	post(owner.jwt(), attacker, 101).want(t, 200)
	// Tokens carried to another address write there, on that address's budget.
	post(fresh, neighbour, 102).want(t, 200)
	clk.Add(12 * time.Second) // one write's worth refills
	post(fresh, attacker, 103).want(t, 200)
	want429(t, post(fresh, attacker, 104), "guest-writes", scopeAddress)
}

// TestAnonymousSignInsPerAddressAndProject: each anonymous sign-in creates a membership and a token;
// they are limited per client address and per project.
func TestAnonymousSignInsPerAddressAndProject(t *testing.T) {
	e, _ := limitedEnv(t, RateLimits{Default: rate(1000, time.Minute), AnonymousSignIns: rate(3, time.Hour),
		AnonymousSignInsProject: rate(5, time.Hour)})
	owner := e.signup("Owner")
	pid, other := e.createProject(owner, "P"), e.createProject(owner, "Q")
	anon := func(project, ip string) *resp {
		return e.do("POST", "/auth/signinAnonymously", map[string]string{"id_project": project}, from(ip))
	}
	for range 3 {
		anon(pid, "192.0.2.1").want(t, 200)
	}
	want429(t, anon(pid, "192.0.2.1"), "signin-anonymous", scopeAddress)
	want429(t, anon(other, "192.0.2.1"), "signin-anonymous", scopeAddress)
	anon(pid, "192.0.2.2").want(t, 200)
	anon(pid, "192.0.2.2").want(t, 200)
	r := anon(pid, "192.0.2.3")
	want429(t, r, "signin-anonymous-project", scopeProject)
	if !strings.Contains(r.json(t)["msg"].(string), "anonymous sign-ins per hour per project") {
		t.Fatalf("429 message = %s", r.body)
	}
	anon(other, "192.0.2.3").want(t, 200)
}

// loginLimits are the failure budgets of the lockout tests: three failures per fifteen minutes.
func loginLimits() RateLimits {
	return RateLimits{Default: rate(1000, time.Minute), SignIn: rate(1000, time.Minute),
		LoginFailures: rate(3, 15*time.Minute), LoginFailuresIP: rate(10, 15*time.Minute),
		LoginFailuresKnown: rate(3, 15*time.Minute), KnownFor: 30 * 24 * time.Hour}
}

// device returns the device cookie a sign-in set.
func device(t *testing.T, r *resp) cred {
	t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == deviceCookie {
			if !c.HttpOnly || c.Path != "/" || c.MaxAge != 30*24*3600 || c.SameSite != http.SameSiteLaxMode || len(c.Value) != 32 {
				t.Fatalf("device cookie = %+v", c)
			}
			return header("Cookie", deviceCookie+"="+c.Value)
		}
	}
	t.Fatalf("no device cookie in %v", r.header)
	return nil
}

// TestFailingOnPurposeDoesNotLockTheOwnerOut: a stranger failing passwords on the victim's email
// spends the strangers' budget only; the victim signs in from an address or a device that signed in
// before, each with a failure budget of its own.
func TestFailingOnPurposeDoesNotLockTheOwnerOut(t *testing.T) {
	e, clk := limitedEnv(t, loginLimits())
	victim := e.signup("Victim")
	home, phone := from("203.0.113.10"), from("198.51.100.20")
	signin := func(password string, c ...cred) *resp {
		return e.do("POST", "/auth/signin", map[string]string{"email": victim.email, "password": password}, c...)
	}
	signin(victim.password, home).want(t, 200) // the SDK or curl: no cookies, known by its address
	cookie := device(t, signin(victim.password, from("192.0.2.200")).want(t, 200))
	clk.Add(time.Hour)

	attacker := from("192.0.2.66")
	for range 3 {
		signin("guess", attacker).want(t, 401)
	}
	want429(t, signin("guess", attacker), "login-email", scopeEmail)
	// Strangers share the spent budget, even with the right password or a made-up device cookie ...
	want429(t, signin(victim.password, from("192.0.2.99")), "login-email", scopeEmail)
	want429(t, signin(victim.password, attacker, header("Cookie", deviceCookie+"="+strings.Repeat("ab", 16))), "login-email", scopeEmail)
	e.do("GET", "/users", nil, basicCred(victim.email, victim.password), attacker).want(t, 429)
	// ... while the victim signs in from its known address, and with its device from anywhere.
	signin(victim.password, home).want(t, 200)
	signin(victim.password, phone, cookie).want(t, 200)
	e.do("GET", "/users", nil, basicCred(victim.email, victim.password), home).want(t, 200)

	// A known client's own mistakes spend its own budget, not another known client's.
	for range 3 {
		signin("typo", home).want(t, 401)
	}
	want429(t, signin(victim.password, home), "login-known", scopeKnown)
	signin(victim.password, phone, cookie).want(t, 200)
	// Slowed, not locked: one attempt per refill interval (15m / 3).
	clk.Add(5 * time.Minute)
	signin(victim.password, home).want(t, 200)
	signin(victim.password, from("192.0.2.99")).want(t, 200)
}

// TestPasswordResetMakesTheClientKnown: an owner whose strangers' budget an attacker spent takes the
// account back by mail from a new address, and that address, having proved the mailbox, signs in at
// once.
func TestPasswordResetMakesTheClientKnown(t *testing.T) {
	e, _ := limitedEnv(t, loginLimits())
	victim := e.signup("Victim")
	signin := func(password string, c ...cred) *resp {
		return e.do("POST", "/auth/signin", map[string]string{"email": victim.email, "password": password}, c...)
	}
	for range 3 {
		signin("guess", from("192.0.2.66")).want(t, 401)
	}
	cafe := from("198.51.100.77")
	want429(t, signin(victim.password, cafe), "login-email", scopeEmail)
	e.do("PUT", "/auth/requestresetpsw", map[string]string{"email": victim.email}, cafe).want(t, 200)
	tok := token(t, e.mails.last(t, victim.email, "/#/resetpassword/").Link, "resetpassword/")
	device(t, e.do("PUT", "/auth/resetpsw/"+tok, map[string]string{"password": "n3w-password"}, cafe).want(t, 200))
	victim.password = "n3w-password"
	signin(victim.password, cafe).want(t, 200)
	want429(t, signin(victim.password, from("192.0.2.99")), "login-email", scopeEmail)
}

// TestKnownClientsBySpelling: every spelling of an account's address (case, a domain in Unicode or
// punycode) is the same account, for the strangers' budget and for the clients it knows.
func TestKnownClientsBySpelling(t *testing.T) {
	e, _ := limitedEnv(t, loginLimits())
	e.do("POST", "/auth/signup", map[string]string{"email": "Ann@bücher.example", "password": "Passw0rd!",
		"firstname": "Ann", "lastname": "B"}, from("192.0.2.1")).want(t, 200)
	home := from("203.0.113.10")
	signin := func(email, password string, c ...cred) *resp {
		return e.do("POST", "/auth/signin", map[string]string{"email": email, "password": password}, c...)
	}
	signin("ANN@bücher.example", "Passw0rd!", home).want(t, 200)
	for _, spelling := range []string{"ann@xn--bcher-kva.example", "ANN@XN--BCHER-KVA.EXAMPLE", "Ann@bücher.example"} {
		signin(spelling, "guess", from("192.0.2.66")).want(t, 401)
	}
	want429(t, signin("ann@bücher.example", "Passw0rd!", from("192.0.2.99")), "login-email", scopeEmail)
	signin("ann@xn--bcher-kva.example", "Passw0rd!", home).want(t, 200)
}

// TestKnownClientsExpire: an address is known for KnownFor after its latest sign-in, then it is a
// stranger again.
func TestKnownClientsExpire(t *testing.T) {
	e, clk := limitedEnv(t, loginLimits())
	victim := e.signup("Victim")
	home := from("203.0.113.10")
	signin := func(password string, c ...cred) *resp {
		return e.do("POST", "/auth/signin", map[string]string{"email": victim.email, "password": password}, c...)
	}
	signin(victim.password, home).want(t, 200)
	clk.Add(31 * 24 * time.Hour)
	for range 3 {
		signin("guess", from("192.0.2.66")).want(t, 401)
	}
	want429(t, signin(victim.password, home), "login-email", scopeEmail)
}

// redisLimiters returns a function that makes another process's limiter: a client of its own on
// the tests' Redis, with the test's key prefix.
func redisLimiters(t *testing.T) func() tiledesk.RateLimiter {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	return func() tiledesk.RateLimiter {
		c, err := ratelimit.NewRedisClient(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return ratelimit.NewRedis(c, ratelimit.RedisOptions{Prefix: prefix})
	}
}

// TestBudgetsAcrossProcesses: with the budgets in Redis, two servers share them: a device known to
// one is known to the other, and guest tokens minted on one write on the other's address budget.
func TestBudgetsAcrossProcesses(t *testing.T) {
	newLimiter := redisLimiters(t)
	limits := loginLimits()
	limits.GuestWrites = rate(4, time.Hour)
	var cfg Config
	e := newEnvWith(t, func(c *Config) {
		c.RateLimits = limits
		c.RateLimits.Limiter = newLimiter()
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		cfg = *c
	})
	cfg.RateLimits.Limiter = newLimiter()
	other := httptest.NewServer(New(cfg))
	t.Cleanup(other.Close)
	on := func(srv *httptest.Server) cred {
		return func(r *http.Request) {
			u := *r.URL
			u.Host = strings.TrimPrefix(srv.URL, "http://")
			r.URL, r.Host = &u, u.Host
		}
	}
	victim := e.signup("Victim")
	pid := e.createProject(victim, "P")
	home := from("203.0.113.10")
	signin := func(password string, c ...cred) *resp {
		return e.do("POST", "/auth/signin", map[string]string{"email": victim.email, "password": password}, c...)
	}
	signin(victim.password, home).want(t, 200)
	for range 3 {
		signin("guess", from("192.0.2.66"), on(other)).want(t, 401)
	}
	want429(t, signin(victim.password, from("192.0.2.66")), "login-email", scopeEmail)
	signin(victim.password, home, on(other)).want(t, 200)

	visitor := from("198.51.100.7")
	for i := range 5 {
		srv := map[bool]cred{true: noCred, false: on(other)}[i%2 == 0]
		r := e.do("POST", "/auth/signinAnonymously", map[string]string{"id_project": pid}, visitor, srv).want(t, 200)
		token := jwtCred(r.json(t)["token"].(string))
		w := e.do("POST", "/"+pid+"/requests/support-group-"+pid+"-"+strconv.Itoa(i)+"/messages", `{"text":"hi"}`, token, visitor,
			map[bool]cred{true: on(other), false: noCred}[i%2 == 0])
		if i < 4 {
			w.want(t, 200)
		} else {
			want429(t, w, "guest-writes", scopeAddress)
		}
	}
}

// TestChangePasswordSpendsLoginBudgets: a stolen token guessing its account's password through
// PUT /users/changepsw draws on the budgets sign-in draws on, for the client it comes from: a
// stranger spends the strangers' budget (and is refused with the right password too once it is
// spent, on either route), while the owner goes on from a client it signed in from.
func TestChangePasswordSpendsLoginBudgets(t *testing.T) {
	e, _ := limitedEnv(t, loginLimits())
	victim := e.signup("Victim")
	home, thief := from("203.0.113.10"), from("192.0.2.66")
	e.do("POST", "/auth/signin", map[string]string{"email": victim.email, "password": victim.password}, home).want(t, 200)
	change := func(old string, c ...cred) *resp {
		return e.do("PUT", "/users/changepsw", map[string]string{"oldpsw": old, "newpsw": "N3w-secret"},
			append([]cred{victim.jwt()}, c...)...)
	}
	for range 3 {
		change("guess", thief).wantBody(t, 401, `{"success":false,"msg":"Current password is invalid."}`)
	}
	want429(t, change("guess", thief), "login-email", scopeEmail)
	want429(t, change(victim.password, thief), "login-email", scopeEmail)
	want429(t, e.do("POST", "/auth/signin", map[string]string{"email": victim.email, "password": victim.password}, thief),
		"login-email", scopeEmail)
	// The owner, at home, is a known client: its own budget is untouched.
	change(victim.password, home).want(t, 200)
}
