// Package api serves the Tiledesk REST API over HTTP: routing, authentication, role checks, request
// decoding and the original server's JSON shapes. Domain rules live in the root package and
// persistence behind tiledesk.Store.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
	"github.com/tiledesk-go/tiledesk/internal/chat21"
	"github.com/tiledesk-go/tiledesk/internal/eventbus"
	"github.com/tiledesk-go/tiledesk/internal/live"
	"github.com/tiledesk-go/tiledesk/internal/views"
	"github.com/tiledesk-go/tiledesk/internal/webhook"
)

// Config wires a Server. The zero values of the protection settings (no limiter, no trusted proxy,
// any CORS origin, maintenance off) keep tests and benchmarks free of them; cmd/tiledesk turns them on.
type Config struct {
	Store tiledesk.Store
	// ViewStore is what the views of leads and conversations check the renderings they keep
	// against (internal/views); nil: Store's own, which must then be one.
	ViewStore    tiledesk.ViewStore
	Tokens       *auth.Tokens
	Logger       *slog.Logger
	Version      string
	MaxBodyBytes int64 // default 1 MiB
	// BasicCacheTTL bounds how long a verified Basic credential skips bcrypt (default 5 minutes).
	BasicCacheTTL time.Duration
	// PasswordCost is the bcrypt cost of new hashes (auth.BcryptCost when 0); tests lower it.
	PasswordCost int
	Now          func() time.Time

	// RateLimits limits requests; a nil Limiter limits nothing.
	RateLimits RateLimits
	// TrustedProxies are the peers whose X-Forwarded-For and X-Forwarded-Proto are believed.
	TrustedProxies []netip.Prefix
	// SSLOnly refuses API calls that did not arrive over HTTPS, directly or per a trusted proxy.
	SSLOnly bool
	// CORSOrigins are the origins browsers may call from; empty admits any origin, as the original.
	CORSOrigins []string
	// Maintenance starts in maintenance mode (see SetMaintenance); MaintenanceRetryAfter is the
	// Retry-After of its 503s (default 5 minutes).
	Maintenance           bool
	MaintenanceRetryAfter time.Duration
	// Metrics is the registry /metrics serves, shared with other components that register their own
	// series (websocket clients, webhook queue); nil makes a private one.
	Metrics *prometheus.Registry
	// RenderCacheBytes bounds the JSON of leads and requests kept to answer reads (internal/views);
	// 0 means the default, 64 MiB; a negative value keeps nothing.
	RenderCacheBytes int
	// MaxActiveReads bounds the reads (GET, HEAD) that run at once; the others wait in arrival order
	// (see readGate). 0 runs every read at once.
	MaxActiveReads int

	// Events announces the growth of the projects' event logs in this process (the feed's long
	// polls wait on it); nil makes a private one, which only this process's writes move when the
	// store announces to it.
	Events *eventbus.Bus
	// WebhookGuard says which addresses subscription targets may name (the dispatcher checks each
	// connection again); nil refuses loopback, private and link-local addresses.
	WebhookGuard *webhook.Guard

	// Live bounds the websocket (internal/live): heartbeat, queues, caps; its zero values take the
	// defaults. Its Bus, Events, Source and Log are the server's.
	Live live.Options

	// Mailer sends address verifications, password resets and invitations; nil writes them (with
	// their links) to the log.
	Mailer tiledesk.Mailer
	// PublicURL is where people open the dashboard, without a trailing slash: mailed links start
	// with it (default http://localhost:3000).
	PublicURL string
	// LinkKey signs mailed links (at least 16 bytes; kept with the data so that links survive a
	// restart and work on every process). Empty: a random key for this process only.
	LinkKey []byte

	// App serves the paths it owns (the built-in web app, internal/webui) after the request id,
	// client address and ssl-only rules, before CORS, maintenance and the routes; nil serves none.
	App App
}

// App is a web application served beside the API on the paths it owns.
type App interface {
	http.Handler
	Owns(path string) bool
}

// Server is the API's http.Handler.
type Server struct {
	store   tiledesk.Store
	tokens  *auth.Tokens
	basic   *auth.BasicCache
	log     *slog.Logger
	version string
	maxBody int64
	pwCost  int
	now     func() time.Time

	limits           RateLimits
	trustedProxies   []netip.Prefix
	sslOnly          bool
	corsOrigins      map[string]bool // nil: any origin
	maintenance      atomic.Bool
	maintenanceRetry time.Duration
	draining         atomic.Bool
	readyChecks      []readyCheck
	metrics          *metrics
	patterns         []string         // every registered route pattern
	fixed            fixedWords       // the patterns' fixed segments, for tolerant matching
	waiting          *publicAnswers   // recent average waiting times, per project
	botsRules        *publicAnswers   // the widget's botsRules, per project
	views            *views.Views     // the reads of leads and conversations, and what they keep
	reads            *readGate        // nil: reads are not gated
	sizes            *views.SizeHints // the rows' sizes of lists and exports, to read about what fits
	events           *eventbus.Bus
	feedWaiters      waiterCounts       // the feed's waiting polls per caller
	stopping         context.Context    // done once shutdown begins: waiting polls answer at once
	stop             context.CancelFunc // ends stopping
	webhookGuard     *webhook.Guard
	app              App
	botClient        *http.Client // deliveries to external bots, guarded as webhooks are
	renamer          tagRenamer   // carries library tags' renames to conversations and leads
	liveOpts         live.Options
	chat21Tokens     *chat21.Tokens
	brokerOnce       sync.Once
	broker           atomic.Pointer[chat21.Broker] // nil until the first chat21 connection
	chatProcess      string                        // names this process's records of chat connections
	liveOnce         sync.Once
	live             atomic.Pointer[live.Hub] // nil until the first websocket
	mailer           tiledesk.Mailer
	links            *auth.Links
	publicURL        string

	root    *http.ServeMux // routes whose first segment is fixed: /auth, /users, /projects, ...
	project *http.ServeMux // routes under /{pid}/
	table   []RouteInfo    // every registered route, in registration order
}

// RouteInfo describes a registered route, for tests that must cover every route (the tenancy and
// role matrix) and for documentation.
type RouteInfo struct {
	Method  string // GET, POST, ...
	Pattern string // the path pattern without the method: /{pid}/leads/{id}
	// Access is "public", "authed" (any valid credential), "registered" (a registered user, not a
	// guest) or "member" (an active member of the route's project with at least Role).
	Access string
	Role   string // for member routes: the least role; "" admits any member
}

// RouteTable lists every registered route with its access.
func (s *Server) RouteTable() []RouteInfo { return slices.Clone(s.table) }

// New returns a Server with every route registered.
func New(cfg Config) *Server {
	s := &Server{fixed: fixedWords{}, store: cfg.Store, tokens: cfg.Tokens, log: cfg.Logger, version: cfg.Version,
		maxBody: cfg.MaxBodyBytes, pwCost: cfg.PasswordCost, now: cfg.Now, root: http.NewServeMux(), project: http.NewServeMux(),
		limits: cfg.RateLimits.named(), trustedProxies: cfg.TrustedProxies, sslOnly: cfg.SSLOnly,
		maintenanceRetry: cfg.MaintenanceRetryAfter, liveOpts: cfg.Live,
		waiting: &publicAnswers{ttl: waitingTTL}, botsRules: &publicAnswers{ttl: botsRulesTTL}}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxBody <= 0 {
		s.maxBody = 1 << 20
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maintenanceRetry <= 0 {
		s.maintenanceRetry = 5 * time.Minute
	}
	if len(cfg.CORSOrigins) > 0 && !slices.Contains(cfg.CORSOrigins, "*") {
		s.corsOrigins = map[string]bool{}
		for _, o := range cfg.CORSOrigins {
			s.corsOrigins[o] = true
		}
	}
	s.maintenance.Store(cfg.Maintenance)
	renderBytes := cfg.RenderCacheBytes
	if renderBytes == 0 {
		renderBytes = 64 << 20
	}
	s.sizes = &views.SizeHints{}
	fresh := cfg.ViewStore
	if fresh == nil {
		fresh, _ = cfg.Store.(tiledesk.ViewStore)
	}
	if fresh == nil {
		panic("api: Config.ViewStore is required: the Store given is no tiledesk.ViewStore")
	}
	s.views = views.New(views.Config{Store: cfg.Store, ViewStore: fresh, Wire: viewWire, CacheBytes: renderBytes,
		Sizes: s.sizes, Log: s.log})
	s.reads = newReadGate(cfg.MaxActiveReads)
	s.mailer, s.links, s.publicURL = mailSetup(cfg, s.log)
	s.stopping, s.stop = context.WithCancel(context.Background())
	if s.events = cfg.Events; s.events == nil {
		s.events = eventbus.New()
	}
	s.webhookGuard = cfg.WebhookGuard
	s.chat21Tokens = chat21.NewTokens(cfg.Tokens.DeriveKey("chat21"), cfg.Tokens.Lifetime(), s.now)
	s.app = cfg.App
	s.botClient = webhook.NewClient(cfg.WebhookGuard, botDeliveryTimeout)
	ttl := cfg.BasicCacheTTL
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	s.basic = auth.NewBasicCache(ttl, 10000)
	reg := cfg.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s.metrics = newMetrics(reg, s)
	s.AddReadyCheck("database", s.store.Ping)
	s.routes()
	return s
}

// Close stops the work the server runs in the background (the websocket hub, whose connections
// it closes; readings of lead orders), and waits for it to end. Call it once the HTTP server has
// stopped serving, before the store closes.
func (s *Server) Close() {
	s.stop()
	s.liveOnce.Do(func() {}) // no hub starts once closing began
	s.brokerOnce.Do(func() {})
	if b := s.broker.Load(); b != nil {
		b.Close()
	}
	if h := s.live.Load(); h != nil {
		h.Close()
	}
	s.views.Close()
	s.botClient.CloseIdleConnections()
	s.waitTagRenames()
}

// Metrics returns the registry /metrics serves, for components that add their own series.
func (s *Server) Metrics() *prometheus.Registry { return s.metrics.reg }

// Routes returns every route pattern, as RateLimits.Routes names them.
func (s *Server) Routes() []string { return slices.Clone(s.patterns) }

// rootSegments are the first path segments that are not project ids.
var rootSegments = map[string]bool{"": true, "auth": true, "users": true, "projects": true, "testauth": true, "public": true,
	"chat21": true, "chatapi": true}

// noRoute answers 405 with Allow when the path exists under other methods, else 404, both in JSON.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request, mux *http.ServeMux) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && isClean(r.URL.EscapedPath()) {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, msgBody{Success: false,
			Msg: "Method " + r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + strings.Join(allowed, ", ")})
		return
	}
	writeJSON(w, http.StatusNotFound, msgBody{Success: false, Msg: "Cannot " + r.Method + " " + r.URL.Path})
}

// access says who may call a route.
type access struct {
	authenticate bool   // a credential is required
	role         string // for project routes: the least role; "" admits any member
	member       bool   // for project routes: the caller must be an active member
	registered   bool   // guests and external users are refused
	signIn       bool   // password routes: the stricter per-address sign-in limit applies too
	bots         bool   // for project routes: the project's bots are admitted too (the original's +bot)
	chat         bool   // a chat21 token is a credential too (the chat clients' routes)
}

var (
	public     = access{}
	signIn     = access{signIn: true}
	authed     = access{authenticate: true}
	chatUser   = access{authenticate: true, chat: true}
	registered = access{authenticate: true, registered: true}
)

func member(role string) access {
	return access{authenticate: true, member: true, role: role}
}

// orBot is the access that also admits the project's bots.
func (a access) orBot() access {
	a.bots = true
	return a
}

// call is what a handler knows about the request beyond *http.Request.
type call struct {
	caller  *caller               // nil on public routes
	project *tiledesk.Project     // on project routes
	member  *tiledesk.ProjectUser // the caller's membership on member routes
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, c *call) error

// handle registers a route. Every request passes, in order: the JSON rules (406, 415, 413) before
// any work; identification (the project, as the original resolves it first, then the credential);
// the rate limit, keyed by the credential when there is one and by the client address otherwise, so
// that failed identifications are limited too; the role check; the handler. GET answers carry an
// ETag and become 304 when the client has them.
func (s *Server) handle(mux *http.ServeMux, pattern string, acc access, h handlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.fixed.addPattern(pattern)
	projectRoute := strings.Contains(pattern, "{pid}")
	s.table = append(s.table, routeInfo(pattern, acc))
	// The greeting (plain text) and the CSV exports do not answer JSON: the Accept rule is not theirs.
	streamed := strings.HasSuffix(pattern, "/csv")
	textRoute := pattern == "GET /{$}" || streamed || pattern == transcriptFiles
	inLine := streamed || readsInLine[pattern] // routes whose reads take their turn at the gate one by one
	searchParams := searchRoutes[pattern]
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		body := r.Body
		r.Body = http.MaxBytesReader(w, body, s.maxBody)
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			ew := &etagWriter{ResponseWriter: w, r: r}
			defer ew.flush()
			w = ew
		}
		c := &call{}
		err := s.checkTransport(r, textRoute, uploadRoutes[pattern])
		if err == nil {
			err = s.identify(r, projectRoute, acc, c)
			if lerr := s.limit(w, r, c, s.limits.general(pattern)); lerr != nil {
				err = lerr // over the limit: 429 whatever identification found
			}
		}
		if err == nil {
			err = s.limitSearch(w, r, c, searchParams)
		}
		if err == nil && acc.signIn {
			err = s.take(w, r, s.limits.SignIn, clientKey(r), scopeAddress)
		}
		if err == nil && acc.member {
			c.member, err = s.checkRole(r, c.caller, c.project.ID, acc.role, acc.bots)
		}
		switch {
		case err != nil:
		case s.reads.gated(r, inLine):
			err = s.reads.run(r.Context(), func() error { return h(w, r, c) })
		default:
			err = h(w, r, c)
		}
		if err != nil {
			s.writeFailure(w, r, body, err)
		}
	})
}

// identify resolves the route's project and authenticates the caller, as the route requires.
func (s *Server) identify(r *http.Request, projectRoute bool, acc access, c *call) error {
	if projectRoute {
		p, err := s.resolveProject(r, r.PathValue("pid"))
		if err != nil {
			return err
		}
		c.project = p
		info(r).project = p.ID
	}
	if !acc.authenticate {
		return nil
	}
	authenticate := s.authenticate
	if acc.chat {
		authenticate = s.chatCaller
	}
	cl, err := authenticate(r)
	if err != nil {
		return err
	}
	c.caller = cl
	if acc.registered && cl.user == nil {
		return errMsg(http.StatusForbidden, "This call needs a registered user, not a "+cl.subject+" token.")
	}
	if acc.registered && cl.scope != "" {
		return errMsg(http.StatusForbidden, "This token acts in one project only; sign in with your password for your account's calls.")
	}
	return nil
}

func routeInfo(pattern string, acc access) RouteInfo {
	method, path, _ := strings.Cut(pattern, " ")
	ri := RouteInfo{Method: method, Pattern: path, Access: "public", Role: acc.role}
	switch {
	case acc.member:
		ri.Access = "member"
	case acc.registered:
		ri.Access = "registered"
	case acc.authenticate:
		ri.Access = "authed"
	}
	return ri
}
