package api

import (
	"net/http"
	"net/url"
	"strings"
)

// searchRoutes name, for each route that runs a full-text search, the query parameters that ask
// for one (the leads' list also reads "text").
var searchRoutes = map[string][]string{
	"GET /{pid}/leads":        {"full_text", "text"},
	"GET /{pid}/leads/csv":    {"full_text", "text"},
	"GET /{pid}/requests":     {"full_text"},
	"GET /{pid}/requests/me":  {"full_text"},
	"GET /{pid}/requests/csv": {"full_text"},
}

// limitSearch takes one search from the caller's search budget when the request searches. A search
// costs several index lookups and reads every match's row, more than any other read, so searches
// draw on a budget of their own besides the route's: a client can keep its console's lists polled
// and still not search without end.
func (s *Server) limitSearch(w http.ResponseWriter, r *http.Request, c *call, params []string) error {
	if len(params) == 0 || !s.limits.Search.Enabled() || !strings.Contains(r.URL.RawQuery, "text=") {
		return nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil // the handler refuses the query, naming it
	}
	for _, name := range params {
		if strings.TrimSpace(q.Get(name)) != "" {
			return s.limit(w, r, c, s.limits.Search)
		}
	}
	return nil
}
