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

// The webhook scenario: while clients create leads, one subscription to lead.create sends each to
// a receiver in this process (the server runs with --webhook-allow 127.0.0.1). Its result counts
// the deliveries the receiver accepted while the load was measured, per second, and their lag:
// from the lead's creation to its arrival.

// hookReceiver is the local webhook target.
type hookReceiver struct {
	srv *http.Server
	url string

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
// the load's result and the deliveries' (named after the scenario).
func (b *session) measureWebhooks(ctx context.Context, client loadClient, cfg loadConfig, s scenario) (load, hooks result, err error) {
	h, err := startHookReceiver()
	if err != nil {
		return load, hooks, err
	}
	defer h.close()
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
	from, end := start.Add(cfg.warmup), start.Add(cfg.warmup+cfg.duration)
	// Wait for the backlog: until every lead the load created has arrived, or nothing arrives for 2 s.
	last, quiet := h.count(), time.Now()
	for time.Since(quiet) < 2*time.Second && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		if n := h.count(); n != last {
			last, quiet = n, time.Now()
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var lags []time.Duration
	for i, t := range h.times {
		if !t.Before(from) && t.Before(end) {
			lags = append(lags, h.lags[i])
		}
	}
	slices.Sort(lags)
	hooks = result{Scenario: s.name, Concurrency: cfg.concurrency, Requests: len(lags), Seconds: cfg.duration.Seconds(),
		RPS: float64(len(lags)) / cfg.duration.Seconds(), P50ms: pct(lags, 50), P90ms: pct(lags, 90), P99ms: pct(lags, 99)}
	drain := h.times[len(h.times)-1].Sub(end)
	fmt.Fprintf(b.out, "%-18s %d deliveries in all; the last arrived %.1f s after the load stopped (lag: lead created -> received)\n",
		"", len(h.times), max(drain, 0).Seconds())
	return load, hooks, nil
}
