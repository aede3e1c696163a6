// Package ratelimit keeps request budgets for tiledesk.RateLimiter: in this process's memory
// (Memory), in Redis so that several server processes share one budget (Redis), and a Failover that
// serves from memory while Redis is unreachable. Every implementation runs the same algorithm, the
// generic cell rate algorithm (GCRA): one stored number per key, the "theoretical arrival time"
// (TAT) at which the key's budget would be full again.
package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// gcra decides one request at now (Unix nanoseconds) against a key's stored TAT (0 when none).
// cost 1 takes a request, cost 0 only looks. It returns the TAT to store when the request was taken.
func gcra(now, tat int64, l tiledesk.RateLimit, cost int64) (int64, tiledesk.RateDecision) {
	interval := int64(l.Interval())
	burst := int64(l.MaxBurst())
	if tat < now {
		tat = now // a full budget: idle time does not accumulate past the burst
	}
	// Requests the budget allows right now; never negative because a stored TAT never runs more
	// than burst intervals ahead of the time it was stored at.
	avail := (now + burst*interval - tat) / interval
	d := tiledesk.RateDecision{Limit: l}
	switch {
	case cost == 0:
		d.Allowed = avail >= 1
	case avail >= cost:
		d.Allowed = true
		tat += cost * interval
		avail -= cost
	}
	d.Remaining = int(avail)
	if !d.Allowed {
		d.RetryAfter = time.Duration(tat + interval - burst*interval - now)
	}
	d.ResetAfter = time.Duration(tat - now)
	return tat, d
}

// allowAll is the decision for a disabled limit.
func allowAll(l tiledesk.RateLimit) tiledesk.RateDecision {
	return tiledesk.RateDecision{Allowed: true, Limit: l, Remaining: l.MaxBurst()}
}

// ParseLimit reads a limit written as COUNT[/PERIOD][,burst=N]: "200/1m", "10/10m,burst=3", "50/h",
// or a bare "200" meaning per minute. "0" and "off" disable the limit.
func ParseLimit(name, spec string) (tiledesk.RateLimit, error) {
	l := tiledesk.RateLimit{Name: name}
	spec = strings.TrimSpace(spec)
	if spec == "0" || strings.EqualFold(spec, "off") {
		return l, nil
	}
	rate, opts, _ := strings.Cut(spec, ",")
	count, period, hasPeriod := strings.Cut(rate, "/")
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if err != nil || n < 1 {
		return l, fmt.Errorf("%q: the count must be a positive integer (e.g. 200/1m, or 0 to disable)", spec)
	}
	l.Count, l.Period = n, time.Minute
	if hasPeriod {
		p := strings.TrimSpace(period)
		d, err := time.ParseDuration(p)
		if err != nil {
			d, err = time.ParseDuration("1" + p) // "m", "h", "s"
		}
		if err != nil || d <= 0 {
			return l, fmt.Errorf("%q: the period must be a duration such as 1m, 10s or h", spec)
		}
		l.Period = d
	}
	if opts != "" {
		k, v, _ := strings.Cut(strings.TrimSpace(opts), "=")
		b, err := strconv.Atoi(strings.TrimSpace(v))
		if strings.TrimSpace(k) != "burst" || err != nil || b < 1 {
			return l, fmt.Errorf("%q: after the comma only burst=N (a positive integer) is understood", spec)
		}
		l.Burst = b
	}
	if l.Interval() < time.Microsecond {
		return l, fmt.Errorf("%q: more than one request per microsecond cannot be limited", spec)
	}
	return l, nil
}

// errNoRedis wraps failures to reach Redis, so that Failover can tell them apart in logs.
var errNoRedis = errors.New("ratelimit: redis")
