package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tiledesk-go/tiledesk"
)

// gcraScript is gcra() run inside Redis, so that reading and writing a key's TAT is one atomic step
// however many processes and goroutines share the key. Times are microseconds, which doubles (Lua's
// only numbers) hold exactly; the clock is Redis's own, so processes with skewed clocks still agree.
//
// KEYS[1] the budget; ARGV: interval (µs), burst, cost (0 only looks), now (µs; 0 = Redis's clock).
// Returns {allowed, remaining, retry after (µs), reset after (µs)}.
var gcraScript = redis.NewScript(`
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local avail = math.floor((now + burst * interval - tat) / interval)
local allowed = 0
if cost == 0 then
  if avail >= 1 then allowed = 1 end
elseif avail >= cost then
  allowed = 1
  tat = tat + cost * interval
  avail = avail - cost
  -- %d: tostring() would print 16-digit numbers in exponent form and lose precision
  redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
end
local retry = 0
if allowed == 0 then retry = tat + interval - burst * interval - now end
return {allowed, avail, retry, tat - now}
`)

// rememberScript stores a mark as its expiry on the limiter's clock (Redis's, as gcraScript's), and
// lets Redis drop the key then. KEYS[1] the mark; ARGV: ttl (µs), now (µs; 0 = Redis's clock).
var rememberScript = redis.NewScript(`
local ttl = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
redis.call('SET', KEYS[1], string.format('%d', now + ttl), 'PX', math.ceil(ttl / 1000))
return 1
`)

// remembersScript answers 1 when a mark's expiry is still ahead. ARGV: now (µs; 0 = Redis's clock).
var remembersScript = redis.NewScript(`
local until_ = tonumber(redis.call('GET', KEYS[1]))
if not until_ then return 0 end
local now = tonumber(ARGV[1])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
if until_ > now then return 1 end
return 0
`)

// Redis is a RateLimiter whose budgets live in Redis, shared by every process that uses the same
// Redis and prefix. Each key expires when its budget is full again, so Redis holds only live keys.
type Redis struct {
	client redis.UniversalClient
	prefix string
	now    func() time.Time
}

// RedisOptions configures NewRedis.
type RedisOptions struct {
	Prefix string           // key prefix (default "tiledesk:ratelimit:")
	Now    func() time.Time // a clock for tests; nil uses Redis's clock
}

var _ tiledesk.RateLimiter = (*Redis)(nil)

// NewRedis returns a limiter over client.
func NewRedis(client redis.UniversalClient, o RedisOptions) *Redis {
	if o.Prefix == "" {
		o.Prefix = "tiledesk:ratelimit:"
	}
	return &Redis{client: client, prefix: o.Prefix, now: o.Now}
}

// NewRedisClient connects to a redis:// or rediss:// URL with short timeouts and no retries: a
// limiter that waits for a sick Redis slows every request, while Failover answers from memory.
func NewRedisClient(url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	opts.DialTimeout = 250 * time.Millisecond
	opts.ReadTimeout = 250 * time.Millisecond
	opts.WriteTimeout = 250 * time.Millisecond
	opts.PoolTimeout = 250 * time.Millisecond
	opts.MaxRetries = -1
	opts.DialerRetries = 1 // the default retries a refused dial five times, 100 ms apart, per request
	opts.DialerRetryTimeout = 10 * time.Millisecond
	return redis.NewClient(opts), nil
}

func (r *Redis) Allow(ctx context.Context, key string, l tiledesk.RateLimit) (tiledesk.RateDecision, error) {
	return r.take(ctx, key, l, 1)
}

func (r *Redis) Peek(ctx context.Context, key string, l tiledesk.RateLimit) (tiledesk.RateDecision, error) {
	return r.take(ctx, key, l, 0)
}

func (r *Redis) take(ctx context.Context, key string, l tiledesk.RateLimit, cost int) (tiledesk.RateDecision, error) {
	if !l.Enabled() {
		return allowAll(l), nil
	}
	res, err := gcraScript.Run(ctx, r.client, []string{r.prefix + l.Name + ":" + key},
		l.Interval().Microseconds(), l.MaxBurst(), cost, r.nowMicros()).Int64Slice()
	if err != nil {
		return tiledesk.RateDecision{}, fmt.Errorf("%w: %w", errNoRedis, err)
	}
	if len(res) != 4 {
		return tiledesk.RateDecision{}, fmt.Errorf("%w: script answered %d values", errNoRedis, len(res))
	}
	return tiledesk.RateDecision{Allowed: res[0] == 1, Limit: l, Remaining: int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond, ResetAfter: time.Duration(res[3]) * time.Microsecond}, nil
}

// markPrefix keeps marks apart from budgets, whose keys are a limit's name and a colon: no name holds a NUL.
const markPrefix = "mark\x00"

func (r *Redis) Remember(ctx context.Context, key string, ttl time.Duration) error {
	if ttl <= 0 {
		return nil
	}
	err := rememberScript.Run(ctx, r.client, []string{r.prefix + markPrefix + key}, ttl.Microseconds(), r.nowMicros()).Err()
	if err != nil {
		return fmt.Errorf("%w: %w", errNoRedis, err)
	}
	return nil
}

func (r *Redis) Remembers(ctx context.Context, key string) (bool, error) {
	n, err := remembersScript.Run(ctx, r.client, []string{r.prefix + markPrefix + key}, r.nowMicros()).Int()
	if err != nil {
		return false, fmt.Errorf("%w: %w", errNoRedis, err)
	}
	return n == 1, nil
}

// nowMicros is the test clock's time, or 0 for Redis's own.
func (r *Redis) nowMicros() int64 {
	if r.now == nil {
		return 0
	}
	return r.now().UnixMicro()
}
