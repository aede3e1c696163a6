package sqlstore

import (
	"context"
	"fmt"

	"github.com/tiledesk-go/tiledesk"
)

// ChangeRequest applies change in one transaction.
func (s *Store) ChangeRequest(ctx context.Context, projectID, requestID string, v *tiledesk.Visibility, change tiledesk.RequestChange,
	check func(*tiledesk.Request) error) (*tiledesk.Request, error) {
	return s.withLockedRequest(ctx, projectID, requestID, v, func(t *tx, r *tiledesk.Request) error {
		if check != nil {
			if err := check(r); err != nil {
				return err
			}
		}
		before := stateOf(r)
		events, err := change(r, &requestEnv{t: t, ctx: ctx, project: projectID, request: r.ID, recip: r.RequestID})
		if err != nil {
			return err
		}
		return t.saveRequest(ctx, before, r, events)
	})
}

// DeleteRequest removes a conversation and everything that hangs on it.
func (s *Store) DeleteRequest(ctx context.Context, projectID, requestID string, v *tiledesk.Visibility) (*tiledesk.Request, error) {
	return s.withLockedRequest(ctx, projectID, requestID, v, func(t *tx, r *tiledesk.Request) error {
		for _, q := range []string{
			`DELETE FROM messages WHERE id_project = $1 AND recipient = $2`,
			`DELETE FROM request_parameters WHERE id_project = $1 AND request_id = $2`,
			`DELETE FROM requests WHERE id_project = $1 AND request_id = $2`,
		} {
			if _, err := t.exec(ctx, q, projectID, requestID); err != nil {
				return fmt.Errorf("delete request: %w", err)
			}
		}
		for _, table := range []string{"request_participants", "request_followers", "request_tags"} {
			if _, err := t.exec(ctx, `DELETE FROM `+table+` WHERE id_project = $1 AND request = $2`, projectID, r.ID); err != nil {
				return fmt.Errorf("delete request: %w", err)
			}
		}
		if err := t.adjustAssigned(ctx, projectID, openAgents(r), -1); err != nil {
			return err
		}
		if _, err := t.requestClock(ctx, projectID, boolDelta(r.IsOpen(), false), r.UpdatedAt); err != nil {
			return err
		}
		return t.event(ctx, projectID, tiledesk.EventRequestDelete, r.ID, r)
	})
}

// withLockedRequest runs fn in one transaction on the conversation the visibility v lets its caller
// see, its row locked, and returns the conversation as fn left it.
func (s *Store) withLockedRequest(ctx context.Context, projectID, requestID string, v *tiledesk.Visibility,
	fn func(t *tx, r *tiledesk.Request) error) (*tiledesk.Request, error) {
	var out *tiledesk.Request
	err := s.inTx(ctx, func(t *tx) error {
		r, err := s.findRequestAs(ctx, t, projectID, requestID, v)
		if err != nil {
			return err
		}
		if err := fn(t, r); err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}
