package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tiledesk-go/tiledesk/internal/eventbus"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

// eventConfig is what the event log keeps and how its readers reach out.
type eventConfig struct {
	retention time.Duration
}

// eventFlags registers the event log's flags.
func eventFlags(fs *flag.FlagSet, env *envDefaults, cfg *config) func(*config) error {
	var retention string
	fs.StringVar(&retention, "events-retention", env.str("TILEDESK_EVENTS_RETENTION", "168h"),
		"how long the event log keeps events for the feed, websocket resumes and webhook retries; older ones are pruned (TILEDESK_EVENTS_RETENTION)")
	return func(cfg *config) error {
		var err error
		if cfg.events.retention, err = time.ParseDuration(retention); err != nil || cfg.events.retention < time.Hour {
			return fmt.Errorf("--events-retention: %q is not a duration of an hour or more, such as 168h", retention)
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
			select {
			case <-ctx.Done():
				return
			case <-time.After(pruneEvery):
			}
		}
	}()
	return bus, func() { cancel(); wg.Wait() }
}
