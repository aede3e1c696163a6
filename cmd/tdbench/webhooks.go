package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// The webhook scenarios: while clients create leads, one subscription to lead.create sends each to
// a receiver in this process (the server runs with --webhook-allow 127.0.0.1).

// How a webhook scenario measures (see measureWebhooks).
const (
	webhookLive = iota + 1
	webhookBacklog
)

// hookReceiver is the local webhook target.
type hookReceiver struct {
	srv  *http.Server
	url  string
	hold chan struct{} // when set, the first delivery waits until it is closed

	mu    sync.Mutex
	times []time.Time     // arrival of each delivery
	lags  []time.Duration // its lag
}

func startHookReceiver() (*hookReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hookReceiver{url: "http://" + ln.Addr().String() + "/hook"}
	h.srv = &http.Server{Handler: http.HandlerFunc(h.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = h.srv.Serve(ln) }()
	return h, nil
}

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	if h.hold != nil {
		<-h.hold
	}
	now := time.Now()
	raw, _ := io.ReadAll(r.Body)
	var b struct {
		Payload struct {
			CreatedAt time.Time `json:"createdAt"`
		} `json:"payload"`
	}
	_ = json.Unmarshal(raw, &b)
	h.mu.Lock()
	h.times = append(h.times, now)
	h.lags = append(h.lags, now.Sub(b.Payload.CreatedAt))
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) count() int { h.mu.Lock(); defer h.mu.Unlock(); return len(h.times) }

func (h *hookReceiver) close() { _ = h.srv.Close() }

// subscribe subscribes the receiver to the project's lead.create and returns the subscription's id.
func (f *fixture) subscribe(ctx context.Context, target string) (string, error) {
	body, _ := json.Marshal(map[string]string{"event": "lead.create", "target": target})
	req, _ := f.post(f.api+"/"+f.pid+"/subscriptions", body, f.jwt)
	var sub struct {
		ID string `json:"_id"`
	}
	if err := fetchJSON(ctx, req.WithContext(ctx), &sub); err != nil {
		return "", fmt.Errorf("subscribe: %w (does the server take --webhook-allow?)", err)
	}
	return sub.ID, nil
}

func (f *fixture) unsubscribe(ctx context.Context, id string) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, f.api+"/"+f.pid+"/subscriptions/"+id, nil)
	f.jwt(req)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

// measureWebhooks drives the scenario's load with a subscription at a local receiver, and returns
// the load's result and the deliveries' (named after the scenario). Live (webhookLive), the
// deliveries are counted while the load runs, and their lag is measured. As a backlog
// (webhookBacklog), the receiver holds its first delivery until the load stops (the server's
// --webhook-timeout outlasts it), so that every event waits; the result is how fast the dispatcher
// then delivers them, the load stopped: its capacity, where the live figure can be no more than
// the rate leads are created.
func (b *session) measureWebhooks(ctx context.Context, client loadClient, cfg loadConfig, s scenario) (load, hooks result, err error) {
	h, err := startHookReceiver()
	if err != nil {
		return load, hooks, err
	}
	defer h.close()
	if s.webhooks == webhookBacklog {
		h.hold = make(chan struct{})
	}
	id, err := b.f.subscribe(ctx, h.url)
	if err != nil {
		return load, hooks, err
	}
	defer b.f.unsubscribe(context.Background(), id)
	measured := cfg
	measured.goStats = goStatsReader(b.srv.url)
	start := time.Now()
	load = drive(ctx, client, s.build(b.f), measured, b.srv.pid())
	load.Scenario = s.name + "-load"
	released := time.Now()
	if h.hold != nil {
		close(h.hold)
	}
	h.waitQuiet(ctx)
	h.mu.Lock()
	defer h.mu.Unlock()
	hooks = result{Scenario: s.name, Concurrency: cfg.concurrency}
	if s.webhooks == webhookBacklog {
		if n := len(h.times); n > 1 {
			took := h.times[n-1].Sub(released)
			hooks.Requests, hooks.Seconds = n, took.Seconds()
			hooks.RPS = float64(n) / took.Seconds()
		}
		fmt.Fprintf(b.out, "%-18s a backlog of %d lead.create events delivered in %.2f s\n", "", hooks.Requests, hooks.Seconds)
		return load, hooks, nil
	}
	from, end := start.Add(cfg.warmup), start.Add(cfg.warmup+cfg.duration)
	var lags []time.Duration
	for i, t := range h.times {
		if !t.Before(from) && t.Before(end) {
			lags = append(lags, h.lags[i])
		}
	}
	slices.Sort(lags)
	hooks.Requests, hooks.Seconds = len(lags), cfg.duration.Seconds()
	hooks.RPS, hooks.P50ms, hooks.P90ms, hooks.P99ms = float64(len(lags))/cfg.duration.Seconds(), pct(lags, 50), pct(lags, 90), pct(lags, 99)
	fmt.Fprintf(b.out, "%-18s %d deliveries in all, the last %.1f s after the load stopped; p50/p99: lag from the lead's creation\n", "",
		len(h.times), max(h.times[len(h.times)-1].Sub(end), 0).Seconds())
	return load, hooks, nil
}

// waitQuiet waits until nothing has arrived for 2 s.
func (h *hookReceiver) waitQuiet(ctx context.Context) {
	last, quiet := h.count(), time.Now()
	for time.Since(quiet) < 2*time.Second && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
		if n := h.count(); n != last {
			last, quiet = n, time.Now()
		}
	}
}
