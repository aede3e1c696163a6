package api

import (
	"context"
	"net/http"
	"time"
)

// The widget shows a project's recent average waiting time, from a public route. Averaging reads
// every conversation of the last four hours, which anyone could ask for as often as they like;
// so each project's answer is kept for a while (publicAnswers).

// waitingWindow is how far back the average looks, as in the original.
const waitingWindow = 4 * time.Hour

// waitingTTL is how long an answer is kept: the widget shows it as "usually answers in ...".
const waitingTTL = 30 * time.Second

type waitingJSON struct {
	ID             string   `json:"_id"`
	WaitingTimeAvg *float64 `json:"waiting_time_avg"`
}

// handleWaitingCurrent answers the average waiting time (ms) of the conversations created in the
// last four hours: [] without any, [{"_id": project, "waiting_time_avg": ms or null}] otherwise.
func (s *Server) handleWaitingCurrent(w http.ResponseWriter, r *http.Request, c *call) error {
	pid := c.project.ID
	body, err := s.waiting.answer(pid, s.now(), func(now time.Time) ([]byte, error) {
		// Not the first caller's context: the others wait on this read too.
		n, avg, err := s.store.WaitingTimeSince(context.WithoutCancel(r.Context()), pid, now.Add(-waitingWindow))
		if err != nil {
			return nil, err
		}
		out := []waitingJSON{}
		if n > 0 {
			out = append(out, waitingJSON{ID: pid, WaitingTimeAvg: avg})
		}
		return encodeJSON(out)
	})
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, body)
	return nil
}
