package webhook

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tiledesk-go/tiledesk"
)

// eventBatch is how many of a subscription's events one read fetches.
const eventBatch = 100

// maxErrorText bounds the error kept with an attempt.
const maxErrorText = 500

// Successes are recorded (and the cursor saved) in batches of up to flushBatch, or after
// flushEvery: a write transaction per delivery would make the writers' queue, not the target, set
// the pace. A process stopped between a success and its record has the event delivered again,
// under the same delivery id.
const (
	flushBatch = 100
	flushEvery = 100 * time.Millisecond
)

// delivery is a worker's hold on one leased subscription.
type delivery struct {
	d          *Dispatcher
	sub        *tiledesk.Subscription
	leaseUntil time.Time
	token      string
	pending    []*tiledesk.Delivery // successes not yet recorded
	saved      time.Time            // when the state was last saved
	lost       bool                 // the lease was lost: another dispatcher may deliver now
}

// step does the subscription's next due work: a queued redelivery first, then the events above its
// cursor. more reports whether further work may be due at once.
func (r *delivery) step() (more bool, err error) {
	d, sub := r.d, r.sub
	st := &sub.State
	if st.NextAttempt.After(d.now()) {
		return false, nil
	}
	reds, err := d.store.QueuedRedeliveries(d.work, sub.ProjectID, sub.ID, 1)
	if err != nil {
		return false, err
	}
	if len(reds) > 0 {
		seq := reds[0].Seq
		evs, err := d.store.EventsAfter(d.work, sub.ProjectID, seq-1, 1)
		if err != nil {
			return false, err
		}
		var ev *tiledesk.Event
		if len(evs) == 1 && evs[0].Seq == seq {
			ev = evs[0]
		}
		return r.attempt(ev, seq, reds[0].RequestedAt, true)
	}
	last, err := d.store.LastEventSeq(d.work, sub.ProjectID)
	if err != nil || st.Cursor >= last {
		return false, err
	}
	evs, err := d.store.SubscriptionEvents(d.work, sub.ProjectID, sub.Event, st.Cursor, last, eventBatch)
	if err != nil {
		return false, err
	}
	if len(evs) == 0 {
		st.Cursor = last // nothing of its name up to last
		return r.save(nil)
	}
	for _, ev := range evs {
		if more, err := r.attempt(ev, ev.Seq, ev.CreatedAt, false); err != nil || !more {
			return more, err
		}
		if d.loop.Err() != nil {
			return false, nil
		}
	}
	return true, nil
}

// attempt sends the event numbered seq (ev nil: no longer kept), happened or asked for at since,
// and records how it went. more is false when the subscription must wait (a failure) or its lease
// was lost.
func (r *delivery) attempt(ev *tiledesk.Event, seq int64, since time.Time, redelivery bool) (bool, error) {
	d, sub := r.d, r.sub
	st := &sub.State
	now := d.now()
	rec := &tiledesk.Delivery{ID: tiledesk.NewIDAt(now), ProjectID: sub.ProjectID, SubscriptionID: sub.ID,
		DeliveryID: tiledesk.DeliveryID(sub.ID, seq), Seq: seq, Event: sub.Event, Attempt: st.Attempts + 1,
		Redelivery: redelivery, CreatedAt: now}
	stale := now.Sub(since) >= d.opt.Backoff.GiveUpAfter
	var res result
	targetFault := true
	switch {
	case ev == nil:
		res, targetFault = result{err: errors.New("the event is no longer kept (see --events-retention)")}, false
	case stale && st.Failures >= d.opt.Backoff.BreakerAfter:
		res = result{err: errors.New("not attempted: the target has been failing since " +
			st.FailingSince.UTC().Format(time.RFC3339) + " and the event is older than the retry window")}
	case d.opt.Sinks[sub.Target] != nil:
		rec.Event = ev.Name
		if ok, err := r.renew(now); err != nil || !ok {
			return false, err
		}
		start := time.Now()
		res = result{err: d.opt.Sinks[sub.Target](d.work, sub, ev)}
		res.latency = time.Since(start)
		if d.work.Err() != nil {
			return false, nil // cut by Stop: tried again by the next owner
		}
	default:
		rec.Event = ev.Name
		if until, open := d.hosts.open(sub.Target, now); open {
			st.NextAttempt = until // the host's breaker is open: no attempt, nothing recorded
			_, err := r.save(nil)
			return false, err
		}
		if ok, err := r.renew(now); err != nil || !ok {
			return false, err
		}
		payload, err := r.payload(ev)
		if err != nil {
			res, targetFault = result{err: err}, false
			stale = true
			break
		}
		res = d.send(d.work, sub, r.token, ev, payload)
		if d.work.Err() != nil {
			return false, nil // cut by Stop: not the target's fault, and tried again by the next owner
		}
		d.hosts.record(sub.Target, res.ok(), now, d.opt.Backoff)
	}
	rec.Code, rec.Latency = res.code, res.latency
	if res.ok() {
		rec.Status = tiledesk.DeliverySucceeded
		st.Attempts, st.Failures, st.FailingSince, st.NextAttempt = 0, 0, time.Time{}, time.Time{}
		if redelivery {
			if err := r.passHead(seq); err != nil {
				return false, err
			}
			return r.save(rec)
		}
		st.Cursor = max(st.Cursor, seq)
		r.pending = append(r.pending, rec)
		if len(r.pending) < flushBatch && now.Sub(r.saved) < flushEvery {
			return true, nil
		}
		return r.save(nil)
	}
	rec.Error = truncate(res.err.Error(), maxErrorText)
	if targetFault {
		st.Failures++
		if st.FailingSince.IsZero() {
			st.FailingSince = now
		}
		st.NextAttempt = now.Add(jitter(d.opt.Backoff.wait(st.Failures)))
	}
	if !stale && ev != nil {
		rec.Status = tiledesk.DeliveryFailed
		st.Attempts++
		_, err := r.save(rec)
		return false, err
	}
	rec.Status = tiledesk.DeliveryGaveUp
	st.Attempts = 0
	if !redelivery {
		st.Cursor = max(st.Cursor, seq)
	}
	saved, err := r.save(rec)
	return saved && !st.NextAttempt.After(d.now()), err
}

// passHead moves the cursor past seq when a redelivery delivered the very event the cursor waits
// for (one being retried), so that it is not sent once more.
func (r *delivery) passHead(seq int64) error {
	st := &r.sub.State
	if seq <= st.Cursor {
		return nil
	}
	next, err := r.d.store.SubscriptionEvents(r.d.work, r.sub.ProjectID, r.sub.Event, st.Cursor, seq, 1)
	if err == nil && len(next) == 1 && next[0].Seq == seq {
		st.Cursor = seq
	}
	return err
}

// wait is the pause after the n-th consecutive failure, before jitter.
func (b Backoff) wait(n int) time.Duration {
	w := b.Base
	for i := 1; i < n && w < b.Max; i++ {
		w *= 2
	}
	return min(w, b.Max)
}

// renew extends the lease before an attempt when less than two attempts' time is left of it.
func (r *delivery) renew(now time.Time) (bool, error) {
	if r.leaseUntil.Sub(now) > 2*r.d.opt.Timeout {
		return true, nil
	}
	return r.save(nil)
}

// payload renders the event (once per attempt: the rendering may read the store).
func (r *delivery) payload(ev *tiledesk.Event) (json.RawMessage, error) {
	if r.token == "" {
		tok, err := Token(r.sub, r.d.now())
		if err != nil {
			return nil, err
		}
		r.token = tok
	}
	if r.d.opt.Render == nil {
		return ev.Payload, nil
	}
	return r.d.opt.Render(r.d.work, ev)
}

// save writes the subscription's state with the pending successes and rec (when not nil), while
// the lease holds, extending it.
func (r *delivery) save(rec *tiledesk.Delivery) (bool, error) {
	recs := r.pending
	if rec != nil {
		recs = append(recs, rec)
	}
	now := r.d.now()
	until := now.Add(r.d.opt.Lease)
	ok, err := r.d.store.SaveSubscriptionState(r.d.work, r.sub, r.d.opt.Owner, until, recs)
	r.pending = r.pending[:0]
	if err != nil || !ok {
		r.lost = r.lost || err == nil
		return false, err
	}
	r.leaseUntil, r.saved = until, now
	for _, d := range recs {
		r.d.metrics.observe(d)
	}
	return true, nil
}

// flush records the pending successes.
func (r *delivery) flush() error {
	if len(r.pending) == 0 {
		return nil
	}
	_, err := r.save(nil)
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// metrics are the dispatcher's series; nil records nothing.
type metrics struct {
	attempts *prometheus.CounterVec
	latency  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tiledesk_webhook_attempts_total",
			Help: "Webhook delivery attempts by outcome (success, failed, gave_up)."}, []string{"status"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tiledesk_webhook_attempt_seconds",
			Help: "Time webhook targets took to answer.", Buckets: prometheus.DefBuckets}),
	}
	reg.MustRegister(m.attempts, m.latency)
	return m
}

func (m *metrics) observe(d *tiledesk.Delivery) {
	if m == nil {
		return
	}
	m.attempts.WithLabelValues(d.Status).Inc()
	if d.Latency > 0 {
		m.latency.Observe(d.Latency.Seconds())
	}
}
