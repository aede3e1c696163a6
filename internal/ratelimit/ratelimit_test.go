package ratelimit

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"hash/maphash"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/redistest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var ctx = context.Background()

func lim(name string, count int, period time.Duration, burst int) tiledesk.RateLimit {
	return tiledesk.RateLimit{Name: name, Count: count, Period: period, Burst: burst}
}

func allow(t *testing.T, l tiledesk.RateLimiter, key string, rl tiledesk.RateLimit) tiledesk.RateDecision {
	t.Helper()
	d, err := l.Allow(ctx, key, rl)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// conformance is every implementation's contract, run with a controllable clock.
func conformance(t *testing.T, newLimiter func(t *testing.T, now func() time.Time) tiledesk.RateLimiter) {
	t.Run("burst then refuse", func(t *testing.T) {
		c := newClock()
		l := newLimiter(t, c.Now)
		rl := lim("default", 5, time.Minute, 0)
		for i := 4; i >= 0; i-- {
			d := allow(t, l, "k", rl)
			if !d.Allowed || d.Remaining != i {
				t.Fatalf("request %d: %+v, want allowed with %d remaining", 5-i, d, i)
			}
		}
		d := allow(t, l, "k", rl)
		if d.Allowed || d.Remaining != 0 || d.RetryAfter != 12*time.Second || d.ResetAfter != time.Minute {
			t.Fatalf("6th request: %+v, want refused, retry after 12s, reset after 1m", d)
		}
		if d.Limit != rl {
			t.Fatalf("decision names limit %+v", d.Limit)
		}
	})
	t.Run("refills one interval at a time", func(t *testing.T) {
		c := newClock()
		l := newLimiter(t, c.Now)
		rl := lim("default", 5, time.Minute, 0)
		for range 5 {
			allow(t, l, "k", rl)
		}
		c.Add(12*time.Second - time.Millisecond)
		if d := allow(t, l, "k", rl); d.Allowed || d.RetryAfter != time.Millisecond {
			t.Fatalf("just before the refill: %+v", d)
		}
		c.Add(time.Millisecond)
		if d := allow(t, l, "k", rl); !d.Allowed || d.Remaining != 0 {
			t.Fatalf("after one interval: %+v, want one request", d)
		}
		if d := allow(t, l, "k", rl); d.Allowed {
			t.Fatalf("a second request after one interval was allowed: %+v", d)
		}
	})
	t.Run("idle time does not accumulate past the burst", func(t *testing.T) {
		c := newClock()
		l := newLimiter(t, c.Now)
		rl := lim("default", 5, time.Minute, 0)
		allow(t, l, "k", rl)
		c.Add(time.Hour)
		n := 0
		for allow(t, l, "k", rl).Allowed {
			n++
		}
		if n != 5 {
			t.Fatalf("after an idle hour %d requests passed, want the burst of 5", n)
		}
	})
	t.Run("explicit burst", func(t *testing.T) {
		c := newClock()
		l := newLimiter(t, c.Now)
		rl := lim("default", 10, time.Minute, 2)
		allow(t, l, "k", rl)
		allow(t, l, "k", rl)
		if d := allow(t, l, "k", rl); d.Allowed || d.RetryAfter != 6*time.Second {
			t.Fatalf("3rd request of a burst of 2: %+v", d)
		}
	})
	t.Run("keys and limit names are separate budgets", func(t *testing.T) {
		c := newClock()
		l := newLimiter(t, c.Now)
		a, b := lim("a", 1, time.Hour, 0), lim("b", 1, time.Hour, 0)
		allow(t, l, "k", a)
		if allow(t, l, "k", a).Allowed {
			t.Fatal("budget of 1 allowed 2")
		}
		if !allow(t, l, "other", a).Allowed || !allow(t, l, "k", b).Allowed {
			t.Fatal("another key or another limit shared the spent budget")
		}
	})
	t.Run("peek takes nothing", func(t *testing.T) {
		c := newClock()
		l := newLimiter(t, c.Now)
		rl := lim("login", 2, time.Hour, 0)
		for range 10 {
			if d, err := l.Peek(ctx, "k", rl); err != nil || !d.Allowed || d.Remaining != 2 {
				t.Fatalf("peek on a full budget: %+v, %v", d, err)
			}
		}
		allow(t, l, "k", rl)
		allow(t, l, "k", rl)
		d, err := l.Peek(ctx, "k", rl)
		if err != nil || d.Allowed || d.RetryAfter != 30*time.Minute {
			t.Fatalf("peek on a spent budget: %+v, %v", d, err)
		}
	})
	t.Run("disabled limit allows everything", func(t *testing.T) {
		l := newLimiter(t, newClock().Now)
		for range 3 {
			if !allow(t, l, "k", lim("off", 0, time.Minute, 0)).Allowed {
				t.Fatal("a disabled limit refused")
			}
		}
	})
	t.Run("marks last their ttl from the latest mark", func(t *testing.T) {
		c := newClock()
		l := newLimiter(t, c.Now)
		remembers := func(key string) bool {
			t.Helper()
			ok, err := l.Remembers(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if remembers("k") {
			t.Fatal("an unmarked key is remembered")
		}
		for _, ttl := range []time.Duration{time.Hour, 30 * time.Minute} { // marking again restarts the ttl
			if err := l.Remember(ctx, "k", ttl); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Remember(ctx, "never", 0); err != nil {
			t.Fatal(err)
		}
		c.Add(29 * time.Minute)
		if !remembers("k") || remembers("other") || remembers("never") {
			t.Fatal("a mark within its ttl is not remembered, or another key is")
		}
		c.Add(time.Minute)
		if remembers("k") {
			t.Fatal("a mark outlived its ttl")
		}
	})
	t.Run("marks and budgets do not share keys", func(t *testing.T) {
		c := newClock()
		l := newLimiter(t, c.Now)
		for _, name := range []string{"mark", "known", "login"} {
			if err := l.Remember(ctx, "k", time.Hour); err != nil {
				t.Fatal(err)
			}
			rl := lim(name, 2, time.Hour, 0)
			if d := allow(t, l, "k", rl); !d.Allowed || d.Remaining != 1 {
				t.Fatalf("a mark spent the budget of limit %q: %+v", name, d)
			}
			allow(t, l, "k", rl)
			if ok, err := l.Remembers(ctx, "k"); err != nil || !ok {
				t.Fatalf("spending limit %q's budget forgot the mark: %v, %v", name, ok, err)
			}
		}
	})
	t.Run("concurrent callers share one exact budget", func(t *testing.T) {
		l := newLimiter(t, nil) // the real clock: nothing refills within an hour's interval
		rl := lim("conc", 100, 100*time.Hour, 0)
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				for range 25 {
					d, err := l.Allow(ctx, "shared", rl)
					if err != nil {
						t.Error(err)
						return
					}
					if d.Allowed {
						allowed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if allowed.Load() != 100 {
			t.Fatalf("%d of 500 concurrent requests passed a budget of 100", allowed.Load())
		}
	})
}

func TestMemory(t *testing.T) {
	conformance(t, func(t *testing.T, now func() time.Time) tiledesk.RateLimiter {
		return NewMemory(MemoryOptions{Now: now})
	})
}

func TestMemoryIsBounded(t *testing.T) {
	c := newClock()
	m := NewMemory(MemoryOptions{MaxKeys: shards * 4, Now: c.Now})
	rl := lim("default", 10, time.Minute, 0)
	for i := range 5000 {
		allow(t, m, "client-"+string(rune('a'+i%26))+hex.EncodeToString([]byte{byte(i >> 8), byte(i)}), rl)
	}
	if n := m.Len(); n > shards*4 {
		t.Fatalf("%d keys kept, limit %d", n, shards*4)
	}
	// A minute later every old key's budget is full again: those keys hold no information, and a
	// full shard must drop them rather than the live keys that arrive now.
	c.Add(time.Minute)
	fresh, err := m.Peek(ctx, "never-seen", rl)
	if err != nil {
		t.Fatal(err)
	}
	perShard := map[uint64]int{}
	var late []string
	for i := range 200 {
		k := "late-" + hex.EncodeToString([]byte{byte(i)})
		allow(t, m, k, rl)
		late = append(late, k)
		perShard[maphash.String(m.seed, rl.Name+"\x00"+k)%shards]++
	}
	if n := m.Len(); n > shards*4 {
		t.Fatalf("%d keys kept, limit %d", n, shards*4)
	}
	for _, k := range late {
		if perShard[maphash.String(m.seed, rl.Name+"\x00"+k)%shards] > m.perShrd {
			continue // more live keys than the shard holds: one of them had to go
		}
		d, err := m.Peek(ctx, k, rl)
		if err != nil {
			t.Fatal(err)
		}
		if d.Remaining == fresh.Remaining {
			t.Fatalf("live key %s was dropped while stale keys were kept", k)
		}
	}
}

func TestParseLimit(t *testing.T) {
	for spec, want := range map[string]tiledesk.RateLimit{
		"200/1m":         {Name: "x", Count: 200, Period: time.Minute},
		"200":            {Name: "x", Count: 200, Period: time.Minute},
		"50/h":           {Name: "x", Count: 50, Period: time.Hour},
		"10/10m,burst=3": {Name: "x", Count: 10, Period: 10 * time.Minute, Burst: 3},
		" 5 / 30s ":      {Name: "x", Count: 5, Period: 30 * time.Second},
		"0":              {Name: "x"},
		"off":            {Name: "x"},
	} {
		got, err := ParseLimit("x", spec)
		if err != nil || got != want {
			t.Errorf("ParseLimit(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "abc", "10/", "10/forever", "10/-1m", "10/1m,burst=0", "10/1m,size=3", "2000000/1s"} {
		if _, err := ParseLimit("x", bad); err == nil {
			t.Errorf("ParseLimit(%q) accepted it", bad)
		}
	}
	if !(tiledesk.RateLimit{Count: 1, Period: time.Second}).Enabled() || (tiledesk.RateLimit{}).Enabled() {
		t.Fatal("Enabled is wrong")
	}
}

// redisClient connects to the tests' Redis (redistest.URL).
func redisClient(t *testing.T) (*redis.Client, string) {
	t.Helper()
	url := redistest.URL(t)
	c, err := NewRedisClient(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, url
}

func TestRedis(t *testing.T) {
	c, url := redisClient(t)
	conformance(t, func(t *testing.T, now func() time.Time) tiledesk.RateLimiter {
		return NewRedis(c, RedisOptions{Prefix: redistest.Prefix(t, url), Now: now})
	})
}

// TestRedisSharedAcrossClients: two clients (as two processes would have) draw on one budget.
func TestRedisSharedAcrossClients(t *testing.T) {
	c1, url := redisClient(t)
	c2 := redis.NewClient(&redis.Options{Addr: c1.Options().Addr, DB: c1.Options().DB})
	defer c2.Close()
	prefix := redistest.Prefix(t, url)
	limiters := []tiledesk.RateLimiter{NewRedis(c1, RedisOptions{Prefix: prefix}), NewRedis(c2, RedisOptions{Prefix: prefix})}
	rl := lim("shared", 60, 60*time.Hour, 0)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			for range 20 {
				if d, err := limiters[i%2].Allow(ctx, "client", rl); err != nil {
					t.Error(err)
				} else if d.Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if allowed.Load() != 60 {
		t.Fatalf("two clients let %d of 200 requests through a shared budget of 60", allowed.Load())
	}
	// A mark made through one client is seen through the other.
	if err := limiters[0].Remember(ctx, "signed-in", time.Hour); err != nil {
		t.Fatal(err)
	}
	if ok, err := limiters[1].Remembers(ctx, "signed-in"); err != nil || !ok {
		t.Fatalf("a mark made by another client: %v, %v", ok, err)
	}
	// The key expires with the budget: Redis keeps nothing that holds no information.
	ttl, err := c1.PTTL(ctx, prefix+"shared:client").Result()
	if err != nil || ttl <= 0 || ttl > 60*time.Hour {
		t.Fatalf("key TTL = %v, %v; want within the period", ttl, err)
	}
}

// flaky is a limiter that fails on demand.
type flaky struct {
	down  atomic.Bool
	calls atomic.Int64
	inner tiledesk.RateLimiter
}

func (f *flaky) Allow(ctx context.Context, key string, l tiledesk.RateLimit) (tiledesk.RateDecision, error) {
	f.calls.Add(1)
	if f.down.Load() {
		return tiledesk.RateDecision{}, errors.New("connection refused")
	}
	return f.inner.Allow(ctx, key, l)
}

func (f *flaky) Peek(ctx context.Context, key string, l tiledesk.RateLimit) (tiledesk.RateDecision, error) {
	f.calls.Add(1)
	if f.down.Load() {
		return tiledesk.RateDecision{}, errors.New("connection refused")
	}
	return f.inner.Peek(ctx, key, l)
}

func (f *flaky) Remember(ctx context.Context, key string, ttl time.Duration) error {
	f.calls.Add(1)
	if f.down.Load() {
		return errors.New("connection refused")
	}
	return f.inner.Remember(ctx, key, ttl)
}

func (f *flaky) Remembers(ctx context.Context, key string) (bool, error) {
	f.calls.Add(1)
	if f.down.Load() {
		return false, errors.New("connection refused")
	}
	return f.inner.Remembers(ctx, key)
}

// TestFailoverMarks: marks go to the primary while it answers and to local memory while it does not;
// each is read where it was made.
func TestFailoverMarks(t *testing.T) {
	c := newClock()
	primary := &flaky{inner: NewMemory(MemoryOptions{Now: c.Now})}
	f := NewFailover(primary, NewMemory(MemoryOptions{Now: c.Now}), slog.New(slog.DiscardHandler), FailoverOptions{Retry: time.Second, Now: c.Now})
	remembers := func(key string) bool {
		t.Helper()
		ok, err := f.Remembers(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if err := f.Remember(ctx, "before", time.Hour); err != nil || !remembers("before") {
		t.Fatalf("a mark through a healthy primary: %v", err)
	}
	if ok, _ := primary.inner.Remembers(ctx, "before"); !ok {
		t.Fatal("the mark was not kept by the primary")
	}
	primary.down.Store(true)
	if err := f.Remember(ctx, "during", time.Hour); err != nil || !remembers("during") || remembers("before") {
		t.Fatalf("while the primary is down, marks are local: %v", err)
	}
	primary.down.Store(false)
	c.Add(time.Second)
	if !remembers("before") || remembers("during") {
		t.Fatal("once the primary is back its marks answer again")
	}
}

func TestFailover(t *testing.T) {
	c := newClock()
	primary := &flaky{inner: NewMemory(MemoryOptions{Now: c.Now})}
	local := NewMemory(MemoryOptions{Now: c.Now})
	var logs bytes.Buffer
	f := NewFailover(primary, local, slog.New(slog.NewTextHandler(&logs, nil)), FailoverOptions{Retry: time.Second, Now: c.Now})
	rl := lim("default", 3, time.Hour, 0)

	allow(t, f, "k", rl)
	if primary.calls.Load() != 1 || local.Len() != 0 || f.Degraded() {
		t.Fatal("a healthy primary was not used")
	}
	primary.down.Store(true)
	for range 3 { // the primary fails: limits still hold, from local memory
		allow(t, f, "k", rl)
	}
	if !f.Degraded() || !strings.Contains(logs.String(), "unreachable") {
		t.Fatalf("failure not noticed or not logged: %s", logs.String())
	}
	if d := allow(t, f, "k", rl); d.Allowed {
		t.Fatal("local limits are not enforced while the primary is down")
	}
	if n := strings.Count(logs.String(), "unreachable"); n != 1 {
		t.Fatalf("the outage was logged %d times, want once", n)
	}
	calls := primary.calls.Load()
	allow(t, f, "k", rl)
	if primary.calls.Load() != calls {
		t.Fatal("the primary was retried before the retry interval")
	}
	primary.down.Store(false)
	c.Add(time.Second)
	if d := allow(t, f, "k", rl); !d.Allowed || d.Remaining != 1 { // primary's budget: 1 of 3 used before
		t.Fatalf("after recovery: %+v, want the primary's budget", d)
	}
	if f.Degraded() || !strings.Contains(logs.String(), "reachable again") {
		t.Fatalf("recovery not noticed or not logged: %s", logs.String())
	}
	if d, err := f.Peek(ctx, "k", rl); err != nil || !d.Allowed {
		t.Fatalf("peek through failover: %+v, %v", d, err)
	}
}

// TestFailoverRedisUnreachable runs the real Redis client against an address where Redis is down,
// then up, without any waiting: the dialer decides.
func TestFailoverRedisUnreachable(t *testing.T) {
	real, url := redisClient(t)
	var up atomic.Bool
	c := redis.NewClient(&redis.Options{Addr: real.Options().Addr, DB: real.Options().DB, MaxRetries: -1,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if !up.Load() {
				return nil, errors.New("dial tcp: connection refused")
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}})
	defer c.Close()
	clk := newClock()
	var logs bytes.Buffer
	f := NewFailover(NewRedis(c, RedisOptions{Prefix: redistest.Prefix(t, url)}), NewMemory(MemoryOptions{}),
		slog.New(slog.NewTextHandler(&logs, nil)), FailoverOptions{Now: clk.Now})
	rl := lim("default", 2, time.Hour, 0)
	for range 2 {
		if !allow(t, f, "k", rl).Allowed {
			t.Fatal("refused while Redis is down and the local budget is fresh")
		}
	}
	if allow(t, f, "k", rl).Allowed || !f.Degraded() {
		t.Fatal("local limit not enforced while Redis is down")
	}
	up.Store(true)
	clk.Add(time.Hour)
	if !allow(t, f, "k", rl).Allowed || f.Degraded() {
		t.Fatalf("did not return to Redis once it was back: %s", logs.String())
	}
}
