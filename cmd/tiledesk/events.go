package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tiledesk-go/tiledesk/internal/dbopen"
	"github.com/tiledesk-go/tiledesk/internal/eventbus"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
	"github.com/tiledesk-go/tiledesk/internal/webhook"
)

// eventConfig is what the event log keeps and how its readers reach out.
type eventConfig struct {
	retention time.Duration
	// webhookAllow lists the private addresses (CIDRs, addresses, host names) webhook targets may
	// reach; every other private, loopback or link-local address is refused.
	webhookAllow *webhook.Guard
	// webhookTimeout bounds one delivery attempt; a stopped process's subscriptions are taken over
	// after four of them.
	webhookTimeout time.Duration
}

// eventFlags registers the event log's flags.
func eventFlags(fs *flag.FlagSet, env *envDefaults, cfg *config) func(*config) error {
	var retention, allow string
	fs.StringVar(&retention, "events-retention", env.str("TILEDESK_EVENTS_RETENTION", "168h"),
		"how long the event log keeps events for the feed, websocket resumes and webhook retries; older ones are pruned (TILEDESK_EVENTS_RETENTION)")
	fs.StringVar(&allow, "webhook-allow", env.str("TILEDESK_WEBHOOK_ALLOW", ""),
		"comma-separated CIDRs, addresses and host names webhooks may reach although loopback, private or link-local, e.g. 10.0.0.0/8,hooks.internal (TILEDESK_WEBHOOK_ALLOW)")
	fs.DurationVar(&cfg.events.webhookTimeout, "webhook-timeout", envParsed(env, "TILEDESK_WEBHOOK_TIMEOUT", 10*time.Second, time.ParseDuration, "a duration such as 10s"),
		"how long one webhook delivery attempt may take; a stopped process's deliveries are taken over after four times this (TILEDESK_WEBHOOK_TIMEOUT)")
	return func(cfg *config) error {
		var err error
		if cfg.events.webhookTimeout < 100*time.Millisecond || cfg.events.webhookTimeout > 5*time.Minute {
			return fmt.Errorf("--webhook-timeout: %s is not between 100ms and 5m", cfg.events.webhookTimeout)
		}
		if cfg.events.retention, err = time.ParseDuration(retention); err != nil || cfg.events.retention < time.Hour {
			return fmt.Errorf("--events-retention: %q is not a duration of an hour or more, such as 168h", retention)
		}
		if cfg.events.webhookAllow, err = webhook.ParseAllow(allow); err != nil {
			return fmt.Errorf("--webhook-allow: %w", err)
		}
		return nil
	}
}

// Pruning runs now and then, in batches small enough that a writer never waits long behind one.
const (
	pruneEvery = 10 * time.Minute
	pruneBatch = 1000
	prunePause = 20 * time.Millisecond
)

// startEventLog connects the store's announcements to the process's bus and prunes the log in
// the background; stop ends the pruning and waits for it.
func startEventLog(store *sqlstore.Store, cfg eventConfig, log *slog.Logger) (bus *eventbus.Bus, stop func()) {
	bus = eventbus.New()
	store.OnEvents(bus.Advance)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			n, err := store.PruneEventsUntil(ctx, cfg.retention, pruneBatch, prunePause)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("pruning the event log failed", "err", err)
			case n > 0:
				log.Info("pruned the event log", "events", n, "older than", cfg.retention)
			}
			pruneDeliveries(ctx, store, cfg.retention, log)
			select {
			case <-ctx.Done():
				return
			case <-time.After(pruneEvery):
			}
		}
	}()
	return bus, func() { cancel(); wg.Wait() }
}

// pruneDeliveries deletes the webhook delivery attempts older than the events' retention, in batches.
func pruneDeliveries(ctx context.Context, store *sqlstore.Store, retention time.Duration, log *slog.Logger) {
	cutoff := time.Now().Add(-retention)
	for ctx.Err() == nil {
		n, err := store.PruneDeliveries(ctx, cutoff, pruneBatch)
		if err != nil && ctx.Err() == nil {
			log.Warn("pruning webhook deliveries failed", "err", err)
		}
		if err != nil || n < pruneBatch {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(prunePause):
		}
	}
}

// startWebhooks delivers the subscriptions' events from the log until stop, which lets attempts
// in flight finish for up to grace: the webhooks, and the messages the project's bots get (bots).
func startWebhooks(store *sqlstore.Store, db string, bus *eventbus.Bus, render webhook.Render, bots webhook.Sink, cfg eventConfig,
	registry prometheus.Registerer, log *slog.Logger) (stop func(grace time.Duration)) {
	d := webhook.New(webhook.Options{Store: store, Events: bus, Render: render, Guard: cfg.webhookAllow, Logger: log,
		Sinks:   map[string]webhook.Sink{webhook.InternalBots: bots},
		Metrics: registry, Timeout: cfg.webhookTimeout, Lease: 4 * cfg.webhookTimeout,
		SoleProcess: !dbopen.IsPostgres(db)})
	d.Start()
	return d.Stop
}
