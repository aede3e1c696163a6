package api

import (
	"net/http"
	"path"
	"strings"
)

// The original server's router accepts a path with one trailing slash, and the fixed words of its
// paths in any letter case (the official SDK calls PUT /:pid/project_users/ and PATCH
// /:pid/requests/:rid/, the dashboard GET /projects/). A path that matches no route as written is
// tried once more in that form: without one trailing slash, and with each segment that spells a
// fixed word of some route, in other letter case, spelt as the route spells it. Ids and other
// variable segments keep their case, a path that matches as written is never rewritten, and the
// rewriting happens inside the server: no redirect is ever answered.

// fixedWords maps each fixed path segment of the registered routes, in lower case, to its spelling.
type fixedWords map[string]string

// addPattern records the fixed segments of a route pattern ("GET /{pid}/leads/{id}").
func (f fixedWords) addPattern(pattern string) {
	_, path, _ := strings.Cut(pattern, " ")
	for _, seg := range strings.Split(strings.Trim(path, "/"), "/") {
		if seg != "" && !strings.HasPrefix(seg, "{") {
			f[strings.ToLower(seg)] = seg
		}
	}
}

// tolerant returns path in the form the original's router would have matched, and whether it
// differs from path.
func (f fixedWords) tolerant(path string) (string, bool) {
	p := path
	if len(p) > 1 && strings.HasSuffix(p, "/") && !strings.HasSuffix(p, "//") {
		p = p[:len(p)-1]
	}
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		if canon, ok := f[strings.ToLower(seg)]; ok && canon != seg {
			segs[i] = canon
		}
	}
	p = strings.Join(segs, "/")
	return p, p != path
}

// withPath is a shallow copy of r asking for path.
func withPath(r *http.Request, path string) *http.Request {
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path, u.RawPath = path, ""
	r2.URL = &u
	return r2
}

// hasV1 reports whether path is under the public document's /v1 prefix, in any letter case.
func hasV1(path string) bool {
	return len(path) >= 3 && strings.EqualFold(path[:3], "/v1") && (len(path) == 3 || path[3] == '/')
}

// resolve strips /v1, picks the mux of the path's first segment and finds the route pattern ("" when
// none matches), trying the path in the original router's tolerant form when it matches nothing as
// written. Every route answers under /v1 (as the public document writes it) and without the prefix
// (as the original server mounts it); a project id is 24 hex digits, so "v1" is never one.
func (s *Server) resolve(r *http.Request) (*http.Request, *http.ServeMux, string) {
	if hasV1(r.URL.Path) {
		path := r.URL.Path[3:]
		if path == "" {
			path = "/"
		}
		r = withPath(r, path)
	}
	mux, pattern := s.match(r)
	if pattern != "" {
		return r, mux, pattern
	}
	if path, changed := s.fixed.tolerant(r.URL.Path); changed {
		r = withPath(r, path) // matched or not: a 405 then names the methods the route has
		mux, pattern = s.match(r)
	}
	return r, mux, pattern
}

// match finds the route of r's path as written, in the mux its first segment picks. A path with
// empty, "." or ".." segments matches nothing: ServeMux would answer it with a redirect to its
// clean form, another way to spell a route.
func (s *Server) match(r *http.Request) (*http.ServeMux, string) {
	mux := s.project
	first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if rootSegments[first] {
		mux = s.root
	}
	if !isClean(r.URL.EscapedPath()) {
		return mux, ""
	}
	_, pattern := mux.Handler(r)
	return mux, pattern
}

// isClean reports whether p is its own clean form, but for one trailing slash.
func isClean(p string) bool {
	c := path.Clean(p)
	return c == p || c+"/" == p
}
