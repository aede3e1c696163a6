package api

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
)

// RateLimits configures rate limiting. With a nil Limiter nothing is limited and no limit headers
// are sent. Limits with a zero Count are off.
type RateLimits struct {
	Limiter tiledesk.RateLimiter
	// Default is every client's budget on every API route: per credential and project once the
	// caller is identified, per client address otherwise (public routes, failed authentication).
	Default tiledesk.RateLimit
	// Routes replace Default on the routes they name by pattern, as written in routes.go
	// ("POST /{pid}/departments"); each has a budget of its own.
	Routes map[string]tiledesk.RateLimit
	// SignIn limits sign-in and sign-up attempts per client address, on top of Default.
	SignIn tiledesk.RateLimit
	// LoginFailures limits failed password checks (sign-in, Basic authentication, sign-up with a
	// taken email) per email address and LoginFailuresIP per client address, for clients not known
	// to the account; LoginFailuresKnown per account and known client: a device or address that
	// signed in to the account within KnownFor (0: none is known). Once a budget is spent,
	// attempts answer 429 before any password is compared, so guessing is slowed to the refill
	// rate, while strangers who spend theirs on purpose do not lock the owner out (see logins.go).
	LoginFailures      tiledesk.RateLimit
	LoginFailuresIP    tiledesk.RateLimit
	LoginFailuresKnown tiledesk.RateLimit
	KnownFor           time.Duration
	// AnonymousSignIns limits guest sign-ins, each a new membership and token, per client address;
	// AnonymousSignInsProject per project. GuestWrites limits the writes of guest tokens per client
	// address, on top of each token's own budget: minting tokens buys no budget.
	AnonymousSignIns        tiledesk.RateLimit
	AnonymousSignInsProject tiledesk.RateLimit
	GuestWrites             tiledesk.RateLimit
	// Mail limits the messages one address receives (verification, reset, invitation), so that
	// nobody can use the server to flood a mailbox.
	Mail tiledesk.RateLimit
	// ProjectMail limits the messages a project's members and bots send through the server
	// (POST /:pid/emails/internal/send), whoever they go to.
	ProjectMail tiledesk.RateLimit
	// Search limits full-text searches (lists and exports with full_text) per credential and
	// project, on top of the route's budget (see searchRoutes).
	Search tiledesk.RateLimit
}

// named gives every limit the name that keys, metrics and 429 bodies use.
func (l RateLimits) named() RateLimits {
	l.Default.Name, l.SignIn.Name = "default", "signin"
	l.LoginFailures.Name, l.LoginFailuresIP.Name, l.LoginFailuresKnown.Name = "login-email", "login-ip", "login-known"
	l.AnonymousSignIns.Name, l.AnonymousSignInsProject.Name = "signin-anonymous", "signin-anonymous-project"
	l.GuestWrites.Name = "guest-writes"
	l.Mail.Name, l.ProjectMail.Name = "mail", "project-mail"
	l.Search.Name = "search"
	routes := make(map[string]tiledesk.RateLimit, len(l.Routes))
	for pattern, rl := range l.Routes {
		rl.Name = pattern
		routes[pattern] = rl
	}
	l.Routes = routes
	return l
}

// general is the budget of a route: its own, or Default.
func (l RateLimits) general(pattern string) tiledesk.RateLimit {
	if rl, ok := l.Routes[pattern]; ok {
		return rl
	}
	return l.Default
}

// Scopes say whose budget a limit counts, in 429 bodies.
const (
	scopeCredential = "credential"
	scopeAddress    = "address"
	scopeEmail      = "email"
	scopeKnown      = "known-client"
	scopeProject    = "project"
)

// clientKey is the budget key of the client's address. IPv6 clients are counted per /64, the
// smallest network a single subscriber usually gets, so that rotating addresses buys nothing.
func clientKey(r *http.Request) string {
	ip := info(r).ip
	if ip.Is6() && !ip.Is4In6() {
		return "ip:" + netip.PrefixFrom(ip, 64).Masked().String()
	}
	return "ip:" + ip.String()
}

// limit takes one request from the caller's budget under rl: per credential (and project) once the
// caller is identified, else per client address. A guest's writes also draw on its address's
// guest budget: anyone can mint guest tokens, and each has a budget of its own.
func (s *Server) limit(w http.ResponseWriter, r *http.Request, c *call, rl tiledesk.RateLimit) error {
	if c.caller == nil {
		return s.take(w, r, rl, clientKey(r), scopeAddress)
	}
	key := "id:" + c.caller.id
	if c.project != nil {
		key += "@" + c.project.ID
	}
	if err := s.take(w, r, rl, key, scopeCredential); err != nil {
		return err
	}
	if c.caller.subject == auth.SubjectGuest && r.Method != http.MethodGet && r.Method != http.MethodHead {
		return s.take(w, r, s.limits.GuestWrites, clientKey(r), scopeAddress)
	}
	return nil
}

// limitAnonymousSignIn takes an anonymous sign-in from the client address's budget and the
// project's.
func (s *Server) limitAnonymousSignIn(w http.ResponseWriter, r *http.Request, projectID string) error {
	if err := s.take(w, r, s.limits.AnonymousSignIns, clientKey(r), scopeAddress); err != nil {
		return err
	}
	return s.take(w, r, s.limits.AnonymousSignInsProject, "project:"+projectID, scopeProject)
}

// take asks the limiter and answers 429 when the budget is spent. A limiter that cannot decide lets
// the request through: limits protect the service, an outage of theirs must not stop it.
func (s *Server) take(w http.ResponseWriter, r *http.Request, rl tiledesk.RateLimit, key, scope string) error {
	if s.limits.Limiter == nil || !rl.Enabled() {
		return nil
	}
	d, err := s.limits.Limiter.Allow(r.Context(), key, rl)
	if err != nil {
		s.log.Warn("rate limiter failed; request let through", "request_id", info(r).id, "limit", rl.Name, "err", err)
		return nil
	}
	if !d.Allowed {
		return s.tooMany(d, scope)
	}
	s.showLimit(w.Header(), r, d)
	return nil
}

// budget is one key's budget under one limit.
type budget struct {
	limit      tiledesk.RateLimit
	key, scope string
}

// rateShown is the decision whose headers a response carries: the one closest to refusal.
type rateShown struct{ remaining int }

func (s *Server) showLimit(h http.Header, r *http.Request, d tiledesk.RateDecision) {
	in := info(r)
	if in.shown != nil && in.shown.remaining <= d.Remaining {
		return
	}
	in.shown = &rateShown{remaining: d.Remaining}
	s.limitHeaders(h, d)
}

// limitHeaders writes the IETF draft's RateLimit-* headers and the X-RateLimit-* twins other APIs
// send. Reset counts seconds until the whole burst is available again or, when refused, until the
// next request is; X-RateLimit-Reset is that instant in Unix seconds, as GitHub's.
func (s *Server) limitHeaders(h http.Header, d tiledesk.RateDecision) {
	wait := d.ResetAfter
	if !d.Allowed {
		wait = d.RetryAfter
	}
	secs := ceilSeconds(wait)
	limit, remaining := strconv.Itoa(d.Limit.MaxBurst()), strconv.Itoa(d.Remaining)
	h.Set("RateLimit-Limit", limit)
	h.Set("RateLimit-Remaining", remaining)
	h.Set("RateLimit-Reset", strconv.Itoa(secs))
	h.Set("RateLimit-Policy", fmt.Sprintf("%d;w=%d;burst=%d", d.Limit.Count, ceilSeconds(d.Limit.Period), d.Limit.MaxBurst()))
	h.Set("X-RateLimit-Limit", limit)
	h.Set("X-RateLimit-Remaining", remaining)
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.now().Add(time.Duration(secs)*time.Second).Unix(), 10))
}

// limitJSON details the limit a 429 enforces.
type limitJSON struct {
	Name          string  `json:"name"`
	Scope         string  `json:"scope"`
	Requests      int     `json:"requests"`
	Window        string  `json:"window"`
	WindowSeconds float64 `json:"window_seconds"`
	Burst         int     `json:"burst"`
	Remaining     int     `json:"remaining"`
	ResetAt       jsTime  `json:"reset_at"`
}

type tooManyBody struct {
	Success    bool      `json:"success"`
	Code       string    `json:"code"`
	Msg        string    `json:"msg"`
	Limit      limitJSON `json:"limit"`
	RetryAfter int       `json:"retry_after"`
}

var scopePhrase = map[string]string{scopeCredential: "per credential and project", scopeAddress: "per client address",
	scopeEmail: "per email address, from clients that have not signed in to it recently",
	scopeKnown: "per account and client that signed in to it recently", scopeProject: "per project"}

// limitWhat words what a limit counts, in 429 messages; "requests" unless named here.
var limitWhat = map[string]string{"login-email": "failed sign-ins", "login-ip": "failed sign-ins", "login-known": "failed sign-ins",
	"signin-anonymous": "anonymous sign-ins", "signin-anonymous-project": "anonymous sign-ins", "guest-writes": "guest writes"}

// tooMany is the 429 for a refused decision: the body says which limit, its size and window, and
// when it resets; Retry-After and the limit headers travel with it.
func (s *Server) tooMany(d tiledesk.RateDecision, scope string) error {
	s.metrics.rejected.WithLabelValues(d.Limit.Name).Inc()
	retry := max(1, ceilSeconds(d.RetryAfter))
	what := limitWhat[d.Limit.Name]
	if what == "" {
		what = "requests"
	}
	h := http.Header{}
	s.limitHeaders(h, d)
	h.Set("Retry-After", strconv.Itoa(retry))
	return &apiError{status: http.StatusTooManyRequests, header: h, body: tooManyBody{Success: false, Code: "rate_limited",
		Msg: fmt.Sprintf("Too many requests: the %q limit allows %d %s per %s %s. Retry in %d seconds.",
			d.Limit.Name, d.Limit.Count, what, per(d.Limit.Period), scopePhrase[scope], retry),
		Limit: limitJSON{Name: d.Limit.Name, Scope: scope, Requests: d.Limit.Count, Window: d.Limit.Period.String(),
			WindowSeconds: d.Limit.Period.Seconds(), Burst: d.Limit.MaxBurst(), Remaining: d.Remaining,
			ResetAt: jsTime(s.now().Add(d.ResetAfter))},
		RetryAfter: retry}}
}

// per words a period: "minute", "10 minutes", "1m30s".
func per(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		if d%u.d == 0 {
			if n := d / u.d; n != 1 {
				return fmt.Sprintf("%d %ss", n, u.name)
			}
			return u.name
		}
	}
	return d.String()
}
