package tiledesk

import (
	"context"
	"fmt"
	"time"
)

// RateLimit is a request budget: Burst requests at once, refilled at Count requests per Period
// (the generic cell rate algorithm). A client that never bursts gets Count requests every Period; a
// client that has been idle may send Burst at once. Name tells limits apart in keys, metrics and
// 429 bodies.
type RateLimit struct {
	Name   string
	Count  int           // requests per Period; 0 disables the limit
	Period time.Duration // the window
	Burst  int           // requests allowed at once; 0 means Count
}

// Enabled reports whether the limit limits anything.
func (l RateLimit) Enabled() bool { return l.Count > 0 && l.Period > 0 }

// MaxBurst is the effective burst: Burst, or Count when Burst is unset.
func (l RateLimit) MaxBurst() int {
	if l.Burst > 0 {
		return l.Burst
	}
	return l.Count
}

// Interval is the time one request's worth of budget takes to refill.
func (l RateLimit) Interval() time.Duration { return l.Period / time.Duration(l.Count) }

func (l RateLimit) String() string {
	s := fmt.Sprintf("%d/%s", l.Count, l.Period)
	if l.Burst > 0 && l.Burst != l.Count {
		s += fmt.Sprintf(",burst=%d", l.Burst)
	}
	return s
}

// RateDecision is a limiter's answer for one key under one limit.
type RateDecision struct {
	Allowed    bool
	Limit      RateLimit
	Remaining  int           // requests still allowed right now, after this one
	RetryAfter time.Duration // when refused: how long until one request is allowed again
	ResetAfter time.Duration // how long until the whole burst is available again
}

// RateLimiter keeps request budgets by key. Keys are scoped by the limit's Name, so one key may have
// a budget under several limits. Implementations are safe for concurrent use and, when they share
// state between processes, keep the budget exact under concurrent callers. They also keep marks,
// which say which budget applies: the clients that signed in to an account, whose failed
// attempts are counted apart from strangers'.
type RateLimiter interface {
	// Allow takes one request from key's budget under limit, or refuses it (Allowed false) when the
	// budget is spent. An error means the limiter could not decide (e.g. its store is unreachable);
	// callers choose whether to fail open.
	Allow(ctx context.Context, key string, limit RateLimit) (RateDecision, error)
	// Peek reports whether Allow would allow a request now, without taking anything. It guards
	// expensive work (a bcrypt comparison) with a budget that only failures consume.
	Peek(ctx context.Context, key string, limit RateLimit) (RateDecision, error)
	// Remember marks key for ttl from now; marking it again starts the ttl again. A ttl of zero
	// or less marks nothing. Marks and budgets do not share keys.
	Remember(ctx context.Context, key string, ttl time.Duration) error
	// Remembers reports whether key is marked: remembered, and its ttl not yet run out.
	Remembers(ctx context.Context, key string) (bool, error)
}
