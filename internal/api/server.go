// Package api serves the Tiledesk REST API over HTTP: routing, authentication, role checks, request
// decoding and the original server's JSON shapes. Domain rules live in the root package and
// persistence behind tiledesk.Store.
package api

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
)

// Config wires a Server.
type Config struct {
	Store        tiledesk.Store
	Tokens       *auth.Tokens
	Logger       *slog.Logger
	Version      string
	MaxBodyBytes int64 // default 1 MiB
	// BasicCacheTTL bounds how long a verified Basic credential skips bcrypt (default 5 minutes).
	BasicCacheTTL time.Duration
	// PasswordCost is the bcrypt cost of new hashes (auth.BcryptCost when 0); tests lower it.
	PasswordCost int
	Now          func() time.Time
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
	s := &Server{store: cfg.Store, tokens: cfg.Tokens, log: cfg.Logger, version: cfg.Version,
		maxBody: cfg.MaxBodyBytes, pwCost: cfg.PasswordCost, now: cfg.Now, root: http.NewServeMux(), project: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxBody <= 0 {
		s.maxBody = 1 << 20
	}
	if s.now == nil {
		s.now = time.Now
	}
	ttl := cfg.BasicCacheTTL
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	s.basic = auth.NewBasicCache(ttl, 10000)
	s.routes()
	return s
}

// rootSegments are the first path segments that are not project ids.
var rootSegments = map[string]bool{"": true, "auth": true, "users": true, "projects": true, "testauth": true}

// ServeHTTP serves every route both under /v1 (as the public document writes it) and without the
// prefix (as the original server mounts it). A project id is 24 hex digits, so "v1" is never one.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; p == "/v1" || strings.HasPrefix(p, "/v1/") {
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path = strings.TrimPrefix(p, "/v1")
		if u.Path == "" {
			u.Path = "/"
		}
		u.RawPath = ""
		r2.URL = &u
		r = r2
	}
	mux := s.project
	first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if rootSegments[first] {
		mux = s.root
	}
	if _, pattern := mux.Handler(r); pattern == "" {
		s.noRoute(w, r, mux)
		return
	}
	mux.ServeHTTP(w, r)
}

// noRoute answers 405 with Allow when the path exists under other methods, else 404, both in JSON.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request, mux *http.ServeMux) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" {
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
}

var (
	public     = access{}
	authed     = access{authenticate: true}
	registered = access{authenticate: true, registered: true}
)

func member(role string) access {
	return access{authenticate: true, member: true, role: role}
}

// call is what a handler knows about the request beyond *http.Request.
type call struct {
	caller  *caller               // nil on public routes
	project *tiledesk.Project     // on project routes
	member  *tiledesk.ProjectUser // the caller's membership on member routes
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, c *call) error

// handle registers a route. Project routes (patterns with {pid}) resolve the project first, as the
// original does, then authenticate, then check membership and role.
func (s *Server) handle(mux *http.ServeMux, pattern string, acc access, h handlerFunc) {
	projectRoute := strings.Contains(pattern, "{pid}")
	s.table = append(s.table, routeInfo(pattern, acc))
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		c := &call{}
		err := func() error {
			if projectRoute {
				p, err := s.resolveProject(r, r.PathValue("pid"))
				if err != nil {
					return err
				}
				c.project = p
			}
			if acc.authenticate {
				cl, err := s.authenticate(r)
				if err != nil {
					return err
				}
				c.caller = cl
				if acc.registered && cl.user == nil {
					return errMsg(http.StatusForbidden, "This call needs a registered user, not a "+cl.subject+" token.")
				}
			}
			if acc.member {
				pu, err := s.checkRole(r, c.caller, c.project.ID, acc.role)
				if err != nil {
					return err
				}
				c.member = pu
			}
			return h(w, r, c)
		}()
		if err != nil {
			s.writeError(w, r, err)
		}
	})
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
