package webhook

import (
	"net/url"
	"sync"
	"time"
)

// hostBreakers slow a failing host for every subscription that targets it: the breaker of each
// subscription (SubscriptionState.Failures) paces one subscription, but ten subscriptions to one
// dead host would each probe it. Kept per process: a host's failures are seen by the process that
// met them.
type hostBreakers struct {
	mu    sync.Mutex
	hosts map[string]*hostBreaker // by host:port
}

type hostBreaker struct {
	failures  int       // consecutive failed attempts at the host, whichever subscription
	openUntil time.Time // no attempt at the host before then
}

// maxHostBreakers bounds the hosts remembered; past it, new failing hosts are not slowed.
const maxHostBreakers = 10000

func hostOf(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	return u.Host
}

// open reports until when attempts at target's host wait (false: they may go now).
func (h *hostBreakers) open(target string, now time.Time) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	b := h.hosts[hostOf(target)]
	if b == nil || !now.Before(b.openUntil) {
		return time.Time{}, false
	}
	return b.openUntil, true
}

// record notes an attempt's outcome; after b.BreakerAfter consecutive failures the host waits as a
// subscription's backoff would, counted from the failures past the threshold.
func (h *hostBreakers) record(target string, ok bool, now time.Time, b Backoff) {
	host := hostOf(target)
	h.mu.Lock()
	defer h.mu.Unlock()
	if ok {
		delete(h.hosts, host)
		return
	}
	hb := h.hosts[host]
	if hb == nil {
		if len(h.hosts) >= maxHostBreakers {
			return
		}
		hb = &hostBreaker{}
		h.hosts[host] = hb
	}
	hb.failures++
	if hb.failures >= b.BreakerAfter {
		hb.openUntil = now.Add(jitter(b.wait(hb.failures - b.BreakerAfter + 1)))
	}
}
