package api

import (
	"context"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// The widget shows a project's recent average waiting time, from a public route. Averaging reads
// every conversation of the last four hours, which anyone could ask for as often as they like;
// so each project's answer is kept for a while and computed once for the callers that miss it
// together.

// waitingWindow is how far back the average looks, as in the original.
const waitingWindow = 4 * time.Hour

// waitingTTL is how long an answer is kept: the widget shows it as "usually answers in ...".
const waitingTTL = 30 * time.Second

type waitingAnswer struct {
	body    []byte
	expires time.Time
}

// waitingCache keeps the answers per project; entries of projects no longer asked are dropped
// when the cache is swept, once it is large.
type waitingCache struct {
	mu      sync.Mutex
	answers map[string]waitingAnswer
	flight  singleflight.Group
}

const maxWaitingAnswers = 10_000

func (c *waitingCache) get(project string, now time.Time) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.answers[project]
	return a.body, ok && now.Before(a.expires)
}

func (c *waitingCache) put(project string, body []byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answers == nil {
		c.answers = map[string]waitingAnswer{}
	}
	if len(c.answers) >= maxWaitingAnswers {
		for p, a := range c.answers {
			if !now.Before(a.expires) {
				delete(c.answers, p)
			}
		}
		if len(c.answers) >= maxWaitingAnswers {
			clear(c.answers)
		}
	}
	c.answers[project] = waitingAnswer{body: body, expires: now.Add(waitingTTL)}
}

type waitingJSON struct {
	ID             string   `json:"_id"`
	WaitingTimeAvg *float64 `json:"waiting_time_avg"`
}

// handleWaitingCurrent answers the average waiting time (ms) of the conversations created in the
// last four hours: [] without any, [{"_id": project, "waiting_time_avg": ms or null}] otherwise.
func (s *Server) handleWaitingCurrent(w http.ResponseWriter, r *http.Request, c *call) error {
	pid := c.project.ID
	if body, ok := s.waiting.get(pid, s.now()); ok {
		writeRaw(w, http.StatusOK, body)
		return nil
	}
	v, err, _ := s.waiting.flight.Do(pid, func() (any, error) {
		now := s.now()
		// Not the first caller's context: the others wait on this read too.
		n, avg, err := s.store.WaitingTimeSince(context.WithoutCancel(r.Context()), pid, now.Add(-waitingWindow))
		if err != nil {
			return nil, err
		}
		out := []waitingJSON{}
		if n > 0 {
			out = append(out, waitingJSON{ID: pid, WaitingTimeAvg: avg})
		}
		body, err := encodeJSON(out)
		if err != nil {
			return nil, err
		}
		s.waiting.put(pid, body, now)
		return body, nil
	})
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, v.([]byte))
	return nil
}
