package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// Failover asks Primary (Redis) and, when Primary fails, answers from Local (memory) instead of
// failing requests: limits stay in force, per process, while the shared store is away. It logs the
// change both ways and, while Primary is down, lets one request try it again every Retry.
type Failover struct {
	primary, local tiledesk.RateLimiter
	log            *slog.Logger
	retry          time.Duration
	now            func() time.Time

	mu      sync.Mutex
	down    bool
	nextTry time.Time
}

var _ tiledesk.RateLimiter = (*Failover)(nil)

// FailoverOptions configures NewFailover.
type FailoverOptions struct {
	Retry time.Duration    // how long to stay on Local after a failure (default 2s)
	Now   func() time.Time // the clock (tests)
}

// NewFailover returns a limiter that prefers primary and falls back to local.
func NewFailover(primary, local tiledesk.RateLimiter, log *slog.Logger, o FailoverOptions) *Failover {
	if o.Retry <= 0 {
		o.Retry = 2 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Failover{primary: primary, local: local, log: log, retry: o.Retry, now: o.Now}
}

func (f *Failover) Allow(ctx context.Context, key string, l tiledesk.RateLimit) (tiledesk.RateDecision, error) {
	return do(f, ctx, func(lim tiledesk.RateLimiter) (tiledesk.RateDecision, error) { return lim.Allow(ctx, key, l) })
}

func (f *Failover) Peek(ctx context.Context, key string, l tiledesk.RateLimit) (tiledesk.RateDecision, error) {
	return do(f, ctx, func(lim tiledesk.RateLimiter) (tiledesk.RateDecision, error) { return lim.Peek(ctx, key, l) })
}

// Remember marks in Primary, or in Local while Primary is away: a mark made during an outage is
// known to this process only, and a client marked before it is a stranger until Primary is back.
func (f *Failover) Remember(ctx context.Context, key string, ttl time.Duration) error {
	_, err := do(f, ctx, func(lim tiledesk.RateLimiter) (struct{}, error) { return struct{}{}, lim.Remember(ctx, key, ttl) })
	return err
}

func (f *Failover) Remembers(ctx context.Context, key string) (bool, error) {
	return do(f, ctx, func(lim tiledesk.RateLimiter) (bool, error) { return lim.Remembers(ctx, key) })
}

func do[T any](f *Failover, ctx context.Context, call func(tiledesk.RateLimiter) (T, error)) (T, error) {
	if f.tryPrimary() {
		v, err := call(f.primary)
		if err == nil {
			f.succeeded()
			return v, nil
		}
		if ctx.Err() == nil { // a client that went away says nothing about Redis
			f.failed(err)
		}
	}
	return call(f.local)
}

func (f *Failover) tryPrimary() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.down {
		return true
	}
	if now := f.now(); !now.Before(f.nextTry) {
		f.nextTry = now.Add(f.retry) // one probe per Retry; the others stay local meanwhile
		return true
	}
	return false
}

func (f *Failover) failed(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.down {
		f.log.Warn("rate limits: shared store unreachable; each process enforces its own limits until it is back", "err", err)
	}
	f.down = true
	f.nextTry = f.now().Add(f.retry)
}

func (f *Failover) succeeded() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		f.log.Info("rate limits: shared store reachable again; limits are shared again")
		f.down = false
	}
}

// Degraded reports whether limits are currently kept locally because Primary is unreachable.
func (f *Failover) Degraded() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down
}
