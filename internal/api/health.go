package api

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// serveOps answers the operational endpoints, which are not part of the API: /healthz (the process
// is alive), /readyz (it can serve: the database answers and it is not shutting down) and /metrics.
// Their first segments can never be project ids (those are 24 hex digits).
func (s *Server) serveOps(w http.ResponseWriter, r *http.Request, in *reqInfo) bool {
	switch r.URL.Path {
	case "/healthz", "/readyz", "/metrics":
	default:
		return false
	}
	in.route = r.URL.Path
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, msgBody{Success: false, Msg: "Method " + r.Method + " is not allowed on " + r.URL.Path})
		return true
	}
	switch r.URL.Path {
	case "/healthz":
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	case "/readyz":
		s.handleReady(w, r)
	case "/metrics":
		promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	}
	return true
}

// readyCheck is one condition of readiness.
type readyCheck struct {
	name  string
	check func(context.Context) error
}

// AddReadyCheck makes /readyz also depend on check (e.g. a webhook dispatcher's queue). Call it
// before serving.
func (s *Server) AddReadyCheck(name string, check func(context.Context) error) {
	s.readyChecks = append(s.readyChecks, readyCheck{name, check})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{}
	status := http.StatusOK
	for _, c := range s.readyChecks {
		checks[c.name] = "ok"
		if err := c.check(ctx); err != nil {
			// The cause goes to the log only: probes are often public and errors name hosts.
			s.log.Warn("not ready", "check", c.name, "err", err)
			checks[c.name], status = "failing", http.StatusServiceUnavailable
		}
	}
	body := map[string]any{"status": "ready", "checks": checks, "maintenance": s.maintenance.Load()}
	if status != http.StatusOK {
		body["status"] = "unavailable"
	}
	writeJSON(w, status, body)
}

// BeginShutdown makes /readyz answer 503 from now on, so that load balancers stop sending requests
// while in-flight ones finish, and answers the feed's waiting polls at once.
func (s *Server) BeginShutdown() { s.draining.Store(true); s.stop() }

// SetMaintenance switches maintenance mode: API calls answer 503 with Retry-After while health,
// readiness and metrics keep answering.
func (s *Server) SetMaintenance(on bool) { s.maintenance.Store(on) }

// Maintenance reports whether maintenance mode is on.
func (s *Server) Maintenance() bool { return s.maintenance.Load() }
