package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/ratelimit"
)

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/healthz", nil).wantBody(t, 200, `{"status":"ok"}`)
	e.do("HEAD", "/healthz", nil).want(t, 200)
	e.do("POST", "/healthz", nil).want(t, 405)
	e.do("GET", "/readyz", nil).wantBody(t, 200, `{"status":"ready","checks":{"database":"ok"},"maintenance":false}`)
	e.do("GET", "/v1/healthz", nil).want(t, 404) // not an API route, and not a project id either

	failing := errors.New("queue stuck")
	var fail atomic.Bool
	e.srv.AddReadyCheck("webhooks", func(context.Context) error {
		if fail.Load() {
			return failing
		}
		return nil
	})
	fail.Store(true)
	e.do("GET", "/readyz", nil).wantBody(t, 503, `{"status":"unavailable","checks":{"database":"ok","webhooks":"failing"},"maintenance":false}`)
	fail.Store(false)
	e.do("GET", "/readyz", nil).want(t, 200)

	e.srv.BeginShutdown()
	e.do("GET", "/readyz", nil).wantBody(t, 503, `{"status":"shutting down"}`)
	e.do("GET", "/healthz", nil).want(t, 200)
}

func TestReadinessFollowsTheDatabase(t *testing.T) {
	e := newEnv(t)
	e.store.Close()
	r := e.do("GET", "/readyz", nil)
	r.wantBody(t, 503, `{"status":"unavailable","checks":{"database":"failing"},"maintenance":false}`)
}

// scrape parses /metrics as Prometheus text.
func scrape(t *testing.T, e *testEnv) map[string]*dto.MetricFamily {
	t.Helper()
	r := e.do("GET", "/metrics", nil).want(t, 200)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("metrics content type %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v\n%s", err, r.body)
	}
	return fams
}

// sample finds the value of a counter or gauge with the given labels.
func sample(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		for k, v := range labels {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	clk := &testClock{t: time.Now()}
	e := newEnvWith(t, func(c *Config) {
		c.Metrics = reg
		c.RateLimits = RateLimits{Limiter: ratelimit.NewFailover(ratelimit.NewMemory(ratelimit.MemoryOptions{Now: clk.Now}),
			ratelimit.NewMemory(ratelimit.MemoryOptions{}), nil, ratelimit.FailoverOptions{}),
			Default: rate(1000, time.Minute), Routes: map[string]tiledesk.RateLimit{"GET /testauth": rate(1, time.Hour)}}
	})
	a := e.signup("Ann")
	pid := e.createProject(a, "P")
	for range 3 {
		e.do("GET", "/"+pid+"/departments", nil).want(t, 200)
	}
	e.do("GET", "/testauth", nil, a.jwt()).want(t, 200)
	e.do("GET", "/testauth", nil, a.jwt()).want(t, 429)
	e.do("GET", "/nosuch/thing/at/all", nil).want(t, 404)
	// Components registered later (websocket clients, webhook queue) appear on the same page.
	prometheus.WrapRegistererWithPrefix("tiledesk_", e.srv.Metrics()).MustRegister(prometheus.NewGaugeFunc(
		prometheus.GaugeOpts{Name: "websocket_clients", Help: "test"}, func() float64 { return 7 }))

	fams := scrape(t, e)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"tiledesk_http_requests_total", map[string]string{"route": "GET /{pid}/departments", "code": "200"}, 3},
		{"tiledesk_http_requests_total", map[string]string{"route": "GET /testauth", "code": "429"}, 1},
		{"tiledesk_http_requests_total", map[string]string{"route": "unmatched", "code": "404"}, 1},
		{"tiledesk_http_request_duration_seconds", map[string]string{"route": "GET /{pid}/departments"}, 3},
		{"tiledesk_ratelimit_rejections_total", map[string]string{"limit": "GET /testauth"}, 1},
		{"tiledesk_ratelimit_degraded", nil, 0},
		{"tiledesk_maintenance", nil, 0},
		{"tiledesk_websocket_clients", nil, 7},
	} {
		if got, ok := sample(fams, c.name, c.labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if got, ok := sample(fams, "tiledesk_db_max_open_connections", map[string]string{"pool": "write"}); !ok || got != 1 {
		t.Errorf("SQLite's write pool max open = %v (found %v), want 1", got, ok)
	}
	if _, ok := sample(fams, "tiledesk_db_in_use_connections", map[string]string{"pool": "read"}); !ok {
		t.Error("no read pool metrics")
	}
	// SQLite group-commits replies with every other write and batches none apart.
	// SQLite's reads are bounded by its pool and --max-active-reads, not queued in the store.
	for _, name := range []string{"tiledesk_db_reply_batches_total", "tiledesk_db_batched_replies_total",
		"tiledesk_db_replies_on_kept_conversations_total", "tiledesk_db_creation_batches_total",
		"tiledesk_db_batched_creations_total", "tiledesk_db_refused_creation_batches_total",
		"tiledesk_db_read_places", "tiledesk_db_read_waits_total", "tiledesk_db_read_wait_seconds_total"} {
		if got, ok := sample(fams, name, nil); !ok || got != 0 {
			t.Errorf("%s = %v (found %v), want 0 on SQLite", name, got, ok)
		}
	}
}

// TestMetricsCountRepliesOnKeptConversations: on PostgreSQL a reply into a conversation the
// process wrote last does not read it first, and /metrics counts those replies.
func TestMetricsCountRepliesOnKeptConversations(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnvOn(t, "postgres", func(c *Config) { c.Metrics = reg })
	a := e.signup("Ann")
	pid := e.createProject(a, "P")
	rid := "support-group-" + pid + "-kept"
	for i := range 4 { // the first creates the conversation, the second reads it, the others need not
		e.do("POST", "/"+pid+"/requests/"+rid+"/messages", fmt.Sprintf(`{"text":"reply %d"}`, i), a.jwt()).want(t, 200)
	}
	if got, ok := sample(scrape(t, e), "tiledesk_db_replies_on_kept_conversations_total", nil); !ok || got != 2 {
		t.Errorf("replies on kept conversations = %v (found %v), want 2", got, ok)
	}
}

// TestMetricsCountCreationBatches: on PostgreSQL first messages posted at once create their
// conversations in shared transactions, and /metrics counts them.
func TestMetricsCountCreationBatches(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnvOn(t, "postgres", func(c *Config) { c.Metrics = reg })
	a := e.signup("Ann")
	pid := e.createProject(a, "P")
	deadline := time.Now().Add(20 * time.Second)
	for round := 0; ; round++ {
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				path := fmt.Sprintf("/%s/requests/support-group-%s-%d-%d/messages", pid, pid, round, i)
				if code, body, err := e.send("POST", path, `{"text":"hello"}`, a.jwt()); err != nil || code != 200 {
					t.Errorf("first message: %d %s %v", code, body, err)
				}
			})
		}
		wg.Wait()
		fams := scrape(t, e)
		batches, _ := sample(fams, "tiledesk_db_creation_batches_total", nil)
		created, _ := sample(fams, "tiledesk_db_batched_creations_total", nil)
		if batches > 0 {
			if created < 2*batches {
				t.Errorf("%v batches created %v conversations", batches, created)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d rounds of 16 first messages at once shared no transaction", round+1)
		}
	}
}
