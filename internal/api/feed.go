package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// The sync feed hands out a project's event log after a sequence number, and with wait= holds the
// answer until something arrives. A waiting poll holds no place of the read gate (each read of the
// log takes one only while it reads) and ends at once when the server begins its shutdown.

const (
	feedDefaultLimit = 100
	feedMaxWait      = 25 * time.Second
	// feedWaitersPerCaller bounds the polls one credential keeps waiting in one project: more
	// answer at once, as without wait, so that a client cannot hold goroutines and connections
	// open by the thousand within its rate limit.
	feedWaitersPerCaller = 4
	// feedRetryPause spaces the reads of a poll woken with nothing new for it (its new events all
	// hidden from the caller), so that a busy project does not make it read in a tight loop.
	feedRetryPause = 50 * time.Millisecond
)

// readsInLine are the routes that do not wait at the read gate as a whole: their reads take their
// turn one by one (readGate.inLine), so that a poll holds no place while it waits.
var readsInLine = map[string]bool{"GET /{pid}/events/feed": true}

// feedEvent is one event of the feed, its payload in the original's shape.
type feedEvent struct {
	Seq       int64  `json:"seq"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt jsTime `json:"createdAt"`
	Payload   any    `json:"payload"`
}

// feedAnswer is a page of the feed. Next is the after= of the next call: the last Seq read, shown
// or not. Gap says that retention removed events after the caller's after=; Oldest is then the
// oldest Seq still kept (absent when none is).
type feedAnswer struct {
	Events []feedEvent `json:"events"`
	Next   int64       `json:"next"`
	Gap    bool        `json:"gap"`
	Oldest int64       `json:"oldest,omitempty"`
}

// feedQuery is the parsed query of a feed call.
type feedQuery struct {
	after int64
	limit int
	wait  time.Duration
}

func parseFeedQuery(r *http.Request) (feedQuery, error) {
	fq := feedQuery{limit: feedDefaultLimit}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return fq, invalidQuery("query", "is not a valid query string (a ';' or a bad % escape)", "")
	}
	if v := q.Get("after"); v != "" {
		if fq.after, err = strconv.ParseInt(v, 10, 64); err != nil || fq.after < 0 {
			return fq, invalidQuery("after", "must be a whole number from 0: the next of the previous answer", v)
		}
	}
	if v := q.Get("limit"); v != "" {
		if fq.limit, err = strconv.Atoi(v); err != nil || fq.limit < 1 || fq.limit > tiledesk.MaxEventPage {
			return fq, invalidQuery("limit", "must be a whole number from 1 to "+strconv.Itoa(tiledesk.MaxEventPage), v)
		}
	}
	if v := q.Get("wait"); v != "" {
		if fq.wait, err = parseWait(v); err != nil {
			return fq, invalidQuery("wait", "must be a duration from 0 to 25s (such as 25s or 500ms) or a number of seconds", v)
		}
	}
	return fq, nil
}

// parseWait reads a Go duration or a number of seconds, 0 to feedMaxWait.
func parseWait(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		secs, serr := strconv.ParseFloat(v, 64)
		if serr != nil || !(secs >= 0 && secs <= feedMaxWait.Seconds()) { // NaN fails both
			return 0, err
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d < 0 || d > feedMaxWait {
		return 0, errMsg(http.StatusBadRequest, "out of range")
	}
	return d, nil
}

func (s *Server) handleEventFeed(w http.ResponseWriter, r *http.Request, c *call) error {
	fq, err := parseFeedQuery(r)
	if err != nil {
		return err
	}
	f := s.newEventFilter(c)
	ctx := r.Context()
	ans, err := s.readFeed(ctx, c.project.ID, fq, f)
	if err != nil || len(ans.Events) > 0 || ans.Gap || fq.wait == 0 {
		return s.writeFeed(w, ans, err)
	}
	release, ok := s.feedWaiters.enter(feedWaiterKey(c))
	if !ok {
		return s.writeFeed(w, ans, nil)
	}
	defer release()
	wctx, cancel := context.WithTimeout(ctx, fq.wait)
	defer cancel()
	woke := false
	for len(ans.Events) == 0 && !ans.Gap {
		// Woken, yet nothing new was readable (announced events not readable here yet): pause
		// before the next read rather than spin.
		if woke && ans.Next == fq.after && !s.pause(wctx, feedRetryPause) {
			break
		}
		fq.after = ans.Next
		if !s.waitForEvents(wctx, c.project.ID, fq.after) {
			break
		}
		woke = true
		if ans, err = s.readFeed(ctx, c.project.ID, fq, f); err != nil {
			break
		}
	}
	return s.writeFeed(w, ans, err)
}

func (s *Server) writeFeed(w http.ResponseWriter, ans *feedAnswer, err error) error {
	if err != nil {
		return err
	}
	if s.stopping.Err() != nil {
		// Shutting down, polls do not wait: the client's next poll goes on a new connection, which
		// the load balancer gives to another process.
		w.Header().Set("Connection", "close")
	}
	writeJSON(w, http.StatusOK, ans)
	return nil
}

// waitForEvents waits until the project's log grows past after, the wait ends or the server
// begins its shutdown; it reports whether there may be something new to read.
func (s *Server) waitForEvents(ctx context.Context, projectID string, after int64) bool {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.stopping, cancel)()
	return s.events.Wait(ctx, projectID, after) == nil
}

// pause waits d, unless ctx ends or the server begins its shutdown first (then false).
func (s *Server) pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.stopping.Done():
	}
	return false
}

// readFeed reads one page of the log after fq.after, each read in its turn at the read gate.
func (s *Server) readFeed(ctx context.Context, projectID string, fq feedQuery, f *eventFilter) (*feedAnswer, error) {
	ans := &feedAnswer{Events: []feedEvent{}, Next: fq.after}
	var evs []*tiledesk.Event
	err := s.reads.inLine(ctx, func() error {
		var err error
		if evs, err = s.store.EventsAfter(ctx, projectID, fq.after, fq.limit); err != nil || len(evs) > 0 {
			return err
		}
		// Nothing after fq.after: either nothing new, or retention removed what came after it.
		// The counter is read before the log again, so that an event numbered in between is
		// read, not taken for a pruned one.
		last, err := s.store.LastEventSeq(ctx, projectID)
		if err != nil || last <= fq.after {
			return err
		}
		if evs, err = s.store.EventsAfter(ctx, projectID, fq.after, fq.limit); err != nil || len(evs) > 0 {
			return err
		}
		ans.Gap, ans.Next = true, last
		return nil
	})
	if err != nil || len(evs) == 0 {
		return ans, err
	}
	if evs[0].Seq > fq.after+1 { // numbering has no gaps: a jump is what retention removed
		ans.Gap, ans.Oldest = true, evs[0].Seq
	}
	ans.Next = evs[len(evs)-1].Seq
	err = s.reads.inLine(ctx, func() error {
		var err error
		ans.Events, err = f.render(ctx, evs, s.now())
		return err
	})
	return ans, err
}

// feedWaiterKey is who a waiting poll is counted against: the credential's subject in the project.
func feedWaiterKey(c *call) string { return c.project.ID + "/" + c.caller.id }

// waiterCounts counts the polls waiting per key.
type waiterCounts struct {
	mu sync.Mutex
	n  map[string]int
}

// enter counts one more waiter of key, unless it has feedWaitersPerCaller already.
func (wc *waiterCounts) enter(key string) (release func(), ok bool) {
	wc.mu.Lock()
	defer wc.mu.Unlock()
	if wc.n == nil {
		wc.n = map[string]int{}
	}
	if wc.n[key] >= feedWaitersPerCaller {
		return nil, false
	}
	wc.n[key]++
	return func() {
		wc.mu.Lock()
		defer wc.mu.Unlock()
		if wc.n[key]--; wc.n[key] == 0 {
			delete(wc.n, key)
		}
	}, true
}
