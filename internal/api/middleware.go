package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk/internal/chat21"
)

// reqInfo is what the outer layer learns about a request and the inner layers fill in, for the one
// log line and the metrics written when the request ends.
type reqInfo struct {
	id      string
	ip      netip.Addr
	https   bool
	route   string // the matched route pattern, or a fixed label ("unmatched", "/healthz", ...)
	project string

	shown *rateShown // the rate-limit decision whose headers the response carries
}

type infoKey struct{}

// info returns the request's reqInfo; requests that did not come through ServeHTTP get a blank one.
func info(r *http.Request) *reqInfo {
	if i, ok := r.Context().Value(infoKey{}).(*reqInfo); ok {
		return i
	}
	return &reqInfo{}
}

// ServeHTTP is the outer layer every request passes: request id, client address, ssl-only, CORS,
// maintenance, then routing. Health and metrics endpoints answer before the API rules apply, so that
// probes keep working in maintenance and over plain HTTP.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	in := &reqInfo{id: requestID(r.Header.Get("X-Request-Id"))}
	in.ip, in.https = s.clientAddr(r)
	if internalCallOf(r) != nil {
		in.https = true // the server's call to itself, for a client whose connection passed ssl-only
	}
	r = r.WithContext(context.WithValue(r.Context(), infoKey{}, in))
	rec := &recorder{ResponseWriter: w}
	rec.Header().Set("X-Request-Id", in.id)
	s.metrics.inFlight.Inc()
	defer s.finish(rec, r, in, start)

	if s.serveOps(rec, r, in) {
		return
	}
	inner, mux, pattern := s.resolve(r)
	in.route = pattern
	if pattern == "" {
		in.route = "unmatched"
	}
	if s.sslOnly && !in.https {
		s.writeError(rec, r, &textError{status: http.StatusForbidden,
			msg: "This API is SSL-only: call it over https://."})
		return
	}
	if s.app != nil && s.app.Owns(r.URL.Path) {
		in.route = "app"
		s.app.ServeHTTP(rec, r)
		return
	}
	if s.cors(rec, r) {
		in.route = "preflight"
		return
	}
	if s.maintenance.Load() {
		rec.Header().Set("Retry-After", strconv.Itoa(ceilSeconds(s.maintenanceRetry)))
		writeJSON(rec, http.StatusServiceUnavailable, codedBody{Success: false, Code: "maintenance",
			Msg: "The server is under maintenance; please retry later."})
		return
	}
	if isLiveUpgrade(r) {
		s.serveLive(rec, r, in)
		return
	}
	if r.URL.Path == chat21.Path {
		s.serveMQTT(rec, r, in)
		return
	}
	if pattern == "" {
		if err := s.limit(rec, r, &call{}, s.limits.general("")); err != nil {
			s.writeError(rec, r, err)
			return
		}
		s.noRoute(rec, inner, mux)
		return
	}
	mux.ServeHTTP(rec, inner)
}

// finish records the request in the metrics and writes its one log line. A panic in a handler
// becomes a logged 500 instead of a dropped connection.
func (s *Server) finish(rec *recorder, r *http.Request, in *reqInfo, start time.Time) {
	if p := recover(); p != nil {
		if p == http.ErrAbortHandler {
			panic(p)
		}
		s.log.Error("handler panicked", "request_id", in.id, "route", in.route, "panic", fmt.Sprint(p))
		if rec.status == 0 {
			writeJSON(rec, http.StatusInternalServerError, msgBody{Success: false, Msg: "Internal error."})
		}
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	elapsed := time.Since(start)
	s.metrics.inFlight.Dec()
	s.metrics.observe(in.route, rec.status, elapsed)
	level := slog.LevelInfo
	if in.route == "/healthz" || in.route == "/readyz" || in.route == "/metrics" {
		level = slog.LevelDebug // probes would drown the log
	}
	if !s.log.Enabled(r.Context(), level) {
		return // the attributes, the redacted path first, cost more than the rest of this
	}
	s.log.LogAttrs(r.Context(), level, "request",
		slog.String("request_id", in.id), slog.String("method", r.Method), slog.String("route", in.route),
		slog.String("path", redactedURI(r.URL, in.route)), slog.String("project", in.project), slog.Int("status", rec.status),
		slog.Int64("bytes", rec.bytes), slog.Duration("duration", elapsed), slog.String("ip", in.ip.String()))
}

// requestID returns the client's X-Request-Id when it is short and made of safe characters (it ends
// up in logs), or a new random one.
func requestID(given string) string {
	if n := len(given); n > 0 && n <= 128 && strings.IndexFunc(given, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:/+=@", c))
	}) < 0 {
		return given
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sensitiveParam reports whether a query parameter may hold a credential (?secret_token=).
func sensitiveParam(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"token", "secret", "password", "psw", "key", "jwt"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// redactedURI is the request path and query with credentials replaced, for logs: query parameters
// that may hold one, and the path segments of the route's {token} and {code} (mailed links).
func redactedURI(u *url.URL, route string) string {
	path := u.Path
	if strings.Contains(route, "{token}") || strings.Contains(route, "{code}") {
		segs, pat := strings.Split(path, "/"), strings.Split(route, "/")
		for i := 1; i <= len(pat) && i <= len(segs); i++ { // from the end: the path may start with /v1
			if p := pat[len(pat)-i]; p == "{token}" || p == "{code}" {
				segs[len(segs)-i] = "REDACTED"
			}
		}
		path = strings.Join(segs, "/")
	}
	if u.RawQuery == "" {
		return path
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return path + "?(unparsable query)"
	}
	for k := range q {
		if sensitiveParam(k) {
			q[k] = []string{"REDACTED"}
		}
	}
	return path + "?" + q.Encode()
}

// clientAddr returns the client's address and whether it called over HTTPS. X-Forwarded-For and
// X-Forwarded-Proto count only when the peer is a trusted proxy; the client is then the rightmost
// X-Forwarded-For hop that is not itself a trusted proxy (hops further left are the client's word).
func (s *Server) clientAddr(r *http.Request) (netip.Addr, bool) {
	https := r.TLS != nil
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, https
	}
	ip := peer.Addr().Unmap()
	if !s.trusted(ip) {
		return ip, https
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		ip = hop.Unmap()
		if !s.trusted(ip) {
			break
		}
	}
	if protos := r.Header.Values("X-Forwarded-Proto"); len(protos) > 0 {
		all := strings.Split(protos[len(protos)-1], ",")
		https = strings.EqualFold(strings.TrimSpace(all[len(all)-1]), "https") // the nearest proxy's word
	}
	return ip, https
}

func (s *Server) trusted(ip netip.Addr) bool {
	for _, p := range s.trustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// exposedHeaders are the response headers browsers may show to scripts of other origins.
const exposedHeaders = "ETag, Retry-After, X-Request-Id, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, " +
	"RateLimit-Policy, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"

// cors adds the CORS headers, as the original's cors() does: any origin unless a list was configured.
// It answers preflight requests itself (204) and reports that it did.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	h := w.Header()
	allowed := s.corsOrigins == nil || s.corsOrigins[origin]
	if s.corsOrigins == nil {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Add("Vary", "Origin")
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
		}
	}
	if allowed {
		h.Set("Access-Control-Expose-Headers", exposedHeaders)
	}
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	if allowed {
		h.Set("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
			h.Add("Vary", "Access-Control-Request-Headers")
		}
		h.Set("Access-Control-Max-Age", "600")
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// checkTransport applies the JSON rules before any authentication work: a client that cannot take
// JSON gets 406, a body that is neither JSON nor a form 415, a body announced too large 413.
func (s *Server) checkTransport(r *http.Request, textRoute, uploadRoute bool) error {
	if !textRoute && !acceptsJSON(r.Header.Values("Accept")) {
		return &textError{status: http.StatusNotAcceptable,
			msg: "This is a JSON-only API: send Accept: application/json (or */*)."}
	}
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		if _, err := mediaType(r); err != nil && !(uploadRoute && isUploadType(r)) {
			return err
		}
	}
	if r.ContentLength > s.maxBody {
		return bodyTooLarge(s.maxBody)
	}
	return nil
}

// acceptsJSON reports whether Accept headers admit application/json: the most specific range that
// covers it (application/json, then application/*, then */*) decides, and q=0 refuses. No header, or
// nothing parsable in it, admits anything.
func acceptsJSON(values []string) bool {
	best, bestQ, parsed := 0, 0.0, false
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			mt, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			parsed = true
			spec := 0
			switch mt {
			case "application/json":
				spec = 3
			case "application/*":
				spec = 2
			case "*/*", "*": // a bare * is invalid but old clients send it meaning */*
				spec = 1
			default:
				continue
			}
			q := 1.0
			if qs, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(qs, 64); err == nil {
					q = f
				}
			}
			if spec > best || spec == best && q > bestQ {
				best, bestQ = spec, q
			}
		}
	}
	return !parsed || best > 0 && bestQ > 0
}

// textError is an error answered in text/plain, as the public document says API-level errors such as
// calling without SSL may be, and as a client that refuses JSON can read.
type textError struct {
	status int
	msg    string
}

func (e *textError) Error() string { return e.msg }

func writeText(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(msg)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}

// codedBody is the error body of the checks this server adds to the original's: a stable code
// beside the message.
type codedBody struct {
	Success bool   `json:"success"`
	Code    string `json:"code"`
	Msg     string `json:"msg"`
}

func ceilSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

// recorder remembers the status and size of a response for the log line and the metrics.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Flush serves streamed answers (CSV exports), which look for http.Flusher.
func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach Hijack (websockets) of the connection.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// uploadRoutes take a file: besides JSON, a multipart/form-data body (the dashboard's) or the file
// itself as text/csv or text/plain.
var uploadRoutes = map[string]bool{"POST /{pid}/faq/uploadcsv": true, "POST /{pid}/intents/uploadcsv": true,
	"POST /{pid}/faq_kb/importjson/{id}": true, "POST /{pid}/bots/importjson/{id}": true}

func isUploadType(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && (mt == "multipart/form-data" || mt == "text/csv" || mt == "text/plain")
}
