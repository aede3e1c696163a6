package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// lockProject takes the project's counter row for the rest of the transaction. Every transaction that
// writes a project's leads, conversations or messages takes it first, before any other row: one lock
// order, so writers queue instead of deadlocking.
func (t *tx) lockProject(ctx context.Context, projectID string) error {
	if t.s.dialect.SingleWriter() {
		return nil // one writer at a time already: nothing to order
	}
	_, err := t.exec(ctx, `UPDATE project_counters SET ticket_seq = ticket_seq WHERE id_project = $1`, projectID)
	return err
}

// requestClock advances the project's request clock and open count, and numbers a ticket when asked;
// it returns the stamp for the change and the ticket number.
func (t *tx) requestClock(ctx context.Context, projectID string, openDelta int, newTicket bool) (time.Time, int, error) {
	ticket := 0
	if newTicket {
		ticket = 1
	}
	var clock int64
	var seq int
	err := t.queryRow(ctx, `INSERT INTO project_counters (id_project, requests_clock, requests_open, ticket_seq)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (id_project) DO UPDATE SET
			requests_clock = CASE WHEN project_counters.requests_clock + 1 > excluded.requests_clock
				THEN project_counters.requests_clock + 1 ELSE excluded.requests_clock END,
			requests_open = project_counters.requests_open + excluded.requests_open,
			ticket_seq = project_counters.ticket_seq + excluded.ticket_seq
		RETURNING requests_clock, ticket_seq`, projectID, ms(t.now), openDelta, ticket).Scan(&clock, &seq)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("advance request clock: %w", err)
	}
	return fromMS(clock), seq, nil
}

func boolDelta(before, after bool) int {
	switch {
	case before && !after:
		return -1
	case !before && after:
		return 1
	}
	return 0
}

// adjustAssigned moves the number_assigned_requests of agents (by user id) by delta, never below 0.
func (t *tx) adjustAssigned(ctx context.Context, projectID string, userIDs []string, delta int) error {
	for _, uid := range userIDs {
		if _, err := t.exec(ctx, `UPDATE project_users SET number_assigned_requests = CASE
				WHEN number_assigned_requests + $3 < 0 THEN 0 ELSE number_assigned_requests + $3 END,
				updated_at = `+nextStampSQL("$4")+`
			WHERE id_project = $1 AND id_user = $2`, projectID, uid, delta, ms(t.now)); err != nil {
			return fmt.Errorf("adjust assigned requests: %w", err)
		}
	}
	return nil
}

// openAgents are the agents a request counts against: its human participants while it is not closed.
func openAgents(r *tiledesk.Request) []string {
	if r.Status == tiledesk.RequestClosed {
		return nil
	}
	return r.ParticipantsAgents
}

// writeSet replaces the rows of a side table (participants, followers, tags) of a request.
func (t *tx) writeSet(ctx context.Context, table, column, projectID, requestID string, values []string) error {
	if _, err := t.exec(ctx, `DELETE FROM `+table+` WHERE id_project = $1 AND request = $2`, projectID, requestID); err != nil {
		return fmt.Errorf("clear %s: %w", table, err)
	}
	for _, v := range values {
		if _, err := t.exec(ctx, `INSERT INTO `+table+` (id_project, `+column+`, request) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, projectID, v, requestID); err != nil {
			return fmt.Errorf("insert %s: %w", table, err)
		}
	}
	return nil
}

func tagNames(tags []tiledesk.RequestTag) []string {
	out := []string{}
	for _, t := range tags {
		out = append(out, t.Tag)
	}
	return out
}
