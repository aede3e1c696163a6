package api

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSearchBounds: a search of more distinct words, or more one-letter words, than a search may
// look up answers 400 naming full_text, on every route that searches; searches within the bounds
// answer.
func TestSearchBounds(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Search")
	every := strings.Join(strings.Split("abcdefghijklmnopqrstuvwxyz0123456789", ""), " ")
	words := func(n int) string {
		var w []string
		for i := range n {
			w = append(w, "word"+string(rune('a'+i)))
		}
		return strings.Join(w, " ")
	}
	for _, path := range []string{"/leads", "/leads/csv", "/requests", "/requests/me", "/requests/csv"} {
		for q, want := range map[string]string{
			every:                    "must have at most 16 different words (it has 36)",
			words(17):                "must have at most 16 different words (it has 17)",
			"a b c d e mario":        "must have at most 4 words of a single letter or digit (it has 5)",
			strings.Repeat("x", 501): "must be at most 500 characters",
		} {
			r := e.do("GET", "/"+pid+path+"?full_text="+url.QueryEscape(q), nil, owner.jwt())
			r.want(t, 400)
			errs, _ := r.json(t)["errors"].([]any)
			if len(errs) != 1 || errs[0].(map[string]any)["param"] != "full_text" || errs[0].(map[string]any)["msg"] != want {
				t.Errorf("GET %s?full_text=%.20q...: %s, want full_text %q", path, q, r.body, want)
			}
		}
		for _, q := range []string{words(16), "a b c d mario", "j r r tolkien", "a a a a a a a"} {
			if r := e.do("GET", "/"+pid+path+"?full_text="+url.QueryEscape(q), nil, owner.jwt()); r.status != 200 {
				t.Errorf("GET %s?full_text=%q: %d %s, want 200", path, q, r.status, r.body)
			}
		}
	}
	e.do("GET", "/"+pid+"/leads?text="+url.QueryEscape(every), nil, owner.jwt()).want(t, 400)
}

// TestSearchRateLimit: searches draw on a budget of their own, per credential and project, besides
// the route's; the lists without a search do not.
func TestSearchRateLimit(t *testing.T) {
	e, clk := limitedEnv(t, RateLimits{Search: rate(3, time.Minute)})
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Search")
	for _, path := range []string{"/leads?full_text=mario", "/requests?full_text=ros", "/leads/csv?text=giu"} {
		if r := e.do("GET", "/"+pid+path, nil, owner.jwt()); r.status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
	}
	for _, path := range []string{"/leads?full_text=mario", "/requests/csv?full_text=x", "/requests/me?full_text=x"} {
		r := e.do("GET", "/"+pid+path, nil, owner.jwt()).want(t, 429)
		if lim, _ := r.json(t)["limit"].(map[string]any); lim["name"] != "search" || lim["scope"] != "credential" {
			t.Errorf("GET %s: 429 of %v, want the search limit per credential", path, lim)
		}
	}
	// Lists without a search, and with an empty one, are not searches.
	for _, path := range []string{"/leads", "/requests", "/leads?full_text=", "/requests?full_text=%20"} {
		e.do("GET", "/"+pid+path, nil, owner.jwt()).want(t, 200)
	}
	// Another member has a budget of its own.
	agent := e.signup("Agent")
	e.join(owner, agent, pid, "agent")
	e.do("GET", "/"+pid+"/leads?full_text=mario", nil, agent.jwt()).want(t, 200)
	clk.Add(20 * time.Second)
	e.do("GET", "/"+pid+"/leads?full_text=mario", nil, owner.jwt()).want(t, 200)
}

// TestSearchRoutesRegistered: every route searchRoutes names is registered, so that renaming one
// cannot leave its searches without their budget.
func TestSearchRoutesRegistered(t *testing.T) {
	s := newEnv(t).srv
	for pattern := range searchRoutes {
		if !slices.Contains(s.patterns, pattern) {
			t.Errorf("searchRoutes names %q, which is not a route", pattern)
		}
	}
}
