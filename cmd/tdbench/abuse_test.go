package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// TestAbusiveQueriesAreTheWidest: the abuser's answered searches are exactly at the server's bounds
// (one more word of either kind would be refused), and the refused one is refused, so that the
// scenario measures the worst a tenant may do and keeps doing so when the bounds change.
func TestAbusiveQueriesAreTheWidest(t *testing.T) {
	for _, q := range abusiveQueries {
		problem := tiledesk.SearchProblem(q.text)
		if (problem == "") != (q.status == http.StatusOK) {
			t.Fatalf("%s?full_text=%q: the server's bounds say %q, the scenario expects %d", q.path, q.text, problem, q.status)
		}
	}
	if p := tiledesk.SearchProblem(widestSearch + " zz"); p == "" {
		t.Errorf("one more word than the widest search is still allowed: widen it")
	}
	if p := tiledesk.SearchProblem("u " + widestSearch); p == "" {
		t.Errorf("one more one-letter word than the widest search is still allowed: widen it")
	}
	if n := len(tiledesk.SearchTerms(oneLetterWords)); n != 36 {
		t.Errorf("the refused search has %d words, want 36", n)
	}
}

// TestClientsHonourTheExpectedStatus: a request marked with the status it expects is a success when
// answered with it and a failure when answered 200; an unmarked one fails on that status.
func TestClientsHonourTheExpectedStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("refuse") != "" {
			http.Error(w, `{"msg":"refused"}`, http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	for _, kind := range []string{"fasthttp", "net/http"} {
		c := newClient(kind, 1, 30*time.Second)
		for _, tc := range []struct {
			query  string
			expect int
			fails  bool
		}{
			{"?refuse=1", 400, false},
			{"?refuse=1", 200, true},
			{"", 400, true},
			{"", 200, false},
		} {
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/"+tc.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := c.send(expecting(req, tc.expect))
			if (got != "") != tc.fails {
				t.Errorf("%s: %s expecting %d: %q", kind, tc.query, tc.expect, got)
			}
		}
		c.closeIdle()
	}
}

// TestSideLoadVerdict: the abuser's p99 target is checked when it ran beside the stated
// concurrency, and only then.
func TestSideLoadVerdict(t *testing.T) {
	rs := []result{
		{Scenario: "search-abuse", Concurrency: abuseClients, BesideConcurrency: targetConcurrency, P99ms: 25},
		{Scenario: "search-abuse", Concurrency: abuseClients, BesideConcurrency: 1, P99ms: 2},
	}
	v := verdicts(rs)
	if len(v) != 1 || v[0].Met || !strings.Contains(v[0].Measured, "25.00") {
		t.Fatalf("verdicts = %+v: want one, missed, at 25 ms", v)
	}
}

// TestEveryLimitIsOff: every rate limit flag the server declares is one the harness switches off,
// so that a new budget cannot turn a benchmark into a measure of 429s. It reads the server's flag
// declarations from its source rather than building it.
func TestEveryLimitIsOff(t *testing.T) {
	files, err := filepath.Glob("../tiledesk/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("the server's sources: %v %v", files, err)
	}
	declared := regexp.MustCompile(`fs\.\w+\(&\w+, "([a-z-]*limit)"`)
	found := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range declared.FindAllStringSubmatch(string(src), -1) {
			found++
			if !slices.Contains(limitFlags, m[1]) {
				t.Errorf("the server declares --%s (%s), which the harness leaves on: add it to limitFlags", m[1], name)
			}
		}
	}
	if found < len(limitFlags) {
		t.Fatalf("found %d limit flags in the server's sources, fewer than the %d the harness turns off: the pattern no longer matches", found, len(limitFlags))
	}
}
