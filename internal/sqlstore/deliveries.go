package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// The webhook dispatcher's side of subscriptions. Every change of delivery state is conditional on
// the lease (lease_owner), taken by a single-row UPDATE that PostgreSQL re-checks against the row
// as another transaction left it: of two processes claiming one subscription, one wins.

// DueSubscriptions lists subscriptions with work, earliest due first.
func (s *Store) DueSubscriptions(ctx context.Context, projectID, owner string, now time.Time, limit int) ([]*tiledesk.Subscription, error) {
	rows, err := s.query(ctx, `SELECT `+prefixed("s.", subscriptionColumns)+` FROM subscriptions s
		WHERE (CAST($1 AS TEXT) = '' OR s.id_project = $1)
		AND (s.cursor_seq < COALESCE((SELECT MAX(e.seq) FROM events e WHERE e.id_project = s.id_project), 0) OR EXISTS (SELECT 1 FROM subscription_redeliveries r
			WHERE r.id_project = s.id_project AND r.id_subscription = s.id))
		AND s.next_attempt_at <= $2 AND (s.lease_owner IS NULL OR s.lease_until < $2 OR s.lease_owner = $3)
		ORDER BY s.next_attempt_at LIMIT $4`, projectID, ms(now), owner, limit)
	if err != nil {
		return nil, fmt.Errorf("due subscriptions: %w", err)
	}
	return collect(rows, scanSubscription)
}

// LeaseSubscription claims a subscription for owner.
func (s *Store) LeaseSubscription(ctx context.Context, projectID, id, owner string, now, until time.Time) (*tiledesk.Subscription, bool, error) {
	var sub *tiledesk.Subscription
	err := s.inTx(ctx, func(t *tx) error {
		var err error
		sub, err = scanSubscription(t.queryRow(ctx, `UPDATE subscriptions SET lease_owner = $3, lease_until = $4
			WHERE id_project = $1 AND id = $2 AND (lease_owner IS NULL OR lease_until < $5 OR lease_owner = $3)
			RETURNING `+subscriptionColumns, projectID, id, owner, ms(until), ms(now)))
		return err
	})
	if err != nil {
		if tiledesk.ErrorCode(notFound(err, "subscription")) == tiledesk.ENOTFOUND {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("lease subscription: %w", err)
	}
	return sub, true, nil
}

// ReleaseLeases frees every lease.
func (s *Store) ReleaseLeases(ctx context.Context) error {
	return s.inTx(ctx, func(t *tx) error {
		_, err := t.exec(ctx, `UPDATE subscriptions SET lease_owner = NULL, lease_until = 0 WHERE lease_owner IS NOT NULL`)
		return err
	})
}

// ReleaseSubscription frees owner's lease.
func (s *Store) ReleaseSubscription(ctx context.Context, projectID, id, owner string) error {
	return s.inTx(ctx, func(t *tx) error {
		_, err := t.exec(ctx, `UPDATE subscriptions SET lease_owner = NULL, lease_until = 0
			WHERE id_project = $1 AND id = $2 AND lease_owner = $3`, projectID, id, owner)
		return err
	})
}

// SubscriptionEvents lists a project's numbered events of one name in a Seq range. A name
// event.emit.<name> is the custom events (event.emit) of that name, as the original emits them.
func (s *Store) SubscriptionEvents(ctx context.Context, projectID, name string, after, upTo int64, limit int) ([]*tiledesk.Event, error) {
	if limit <= 0 || limit > tiledesk.MaxEventPage {
		limit = tiledesk.MaxEventPage
	}
	custom := ""
	if rest, ok := strings.CutPrefix(name, tiledesk.EventCustom+"."); ok {
		name, custom = tiledesk.EventCustom, rest
	}
	rows, err := s.query(ctx, `SELECT `+eventColumns+` FROM events
		WHERE id_project = $1 AND seq > $2 AND seq <= $3 AND name = $4
		AND (CAST($6 AS TEXT) = '' OR payload ->> 'name' = $6) ORDER BY seq LIMIT $5`,
		projectID, after, upTo, name, limit, custom)
	if err != nil {
		return nil, fmt.Errorf("subscription events: %w", err)
	}
	return collect(rows, scanEvent)
}

// QueuedRedeliveries lists a subscription's queued redeliveries, lowest Seq first.
func (s *Store) QueuedRedeliveries(ctx context.Context, projectID, id string, limit int) ([]tiledesk.Redelivery, error) {
	rows, err := s.query(ctx, `SELECT seq, requested_at FROM subscription_redeliveries
		WHERE id_project = $1 AND id_subscription = $2 ORDER BY seq LIMIT $3`, projectID, id, limit)
	if err != nil {
		return nil, fmt.Errorf("queued redeliveries: %w", err)
	}
	defer rows.Close()
	var out []tiledesk.Redelivery
	for rows.Next() {
		var r tiledesk.Redelivery
		var at int64
		if err := rows.Scan(&r.Seq, &at); err != nil {
			return nil, err
		}
		r.RequestedAt = fromMS(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveSubscriptionState writes a subscription's delivery state and the attempts that moved it, in
// one transaction, while owner holds the lease.
func (s *Store) SaveSubscriptionState(ctx context.Context, sub *tiledesk.Subscription, owner string, leaseUntil time.Time, ds []*tiledesk.Delivery) (bool, error) {
	held := false
	err := s.inTx(ctx, func(t *tx) error {
		st := sub.State
		res, err := t.exec(ctx, `UPDATE subscriptions SET cursor_seq = $4, attempts = $5, failures = $6,
			failing_since = $7, next_attempt_at = $8, lease_until = $9
			WHERE id_project = $1 AND id = $2 AND lease_owner = $3`, sub.ProjectID, sub.ID, owner, st.Cursor,
			st.Attempts, st.Failures, msOf(st.FailingSince), msOf(st.NextAttempt), ms(leaseUntil))
		if err != nil {
			return fmt.Errorf("save subscription state: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // the lease was lost: nothing is recorded
		}
		held = true
		for _, d := range ds {
			if err := t.recordDelivery(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	return held, err
}

// recordDelivery inserts an attempt; a redelivery that did not fail leaves the queue.
func (t *tx) recordDelivery(ctx context.Context, d *tiledesk.Delivery) error {
	if _, err := t.exec(ctx, `INSERT INTO subscription_deliveries (`+deliveryColumns+`) VALUES ($1, $2, $3, $4,
		$5, $6, $7, $8, $9, $10, $11, $12, $13)`, d.ProjectID, d.ID, d.SubscriptionID, d.DeliveryID, d.Seq, d.Event,
		d.Attempt, d.Status, d.Code, d.Latency.Milliseconds(), nullString(d.Error), d.Redelivery, ms(d.CreatedAt)); err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	if d.Redelivery && d.Status != tiledesk.DeliveryFailed {
		if _, err := t.exec(ctx, `DELETE FROM subscription_redeliveries WHERE id_project = $1 AND id_subscription = $2
			AND seq = $3`, d.ProjectID, d.SubscriptionID, d.Seq); err != nil {
			return fmt.Errorf("drop redelivery: %w", err)
		}
	}
	return nil
}

// PruneDeliveries deletes a bounded batch of old delivery attempts.
func (s *Store) PruneDeliveries(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	var n int64
	err := s.inTx(ctx, func(t *tx) error {
		res, err := t.exec(ctx, `DELETE FROM subscription_deliveries WHERE (id_project, id) IN (
			SELECT id_project, id FROM subscription_deliveries WHERE created_at < $1 ORDER BY created_at LIMIT $2)`,
			ms(cutoff), batch)
		if err != nil {
			return fmt.Errorf("prune deliveries: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// prefixed qualifies every column of a comma-separated list with prefix ("s.").
func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, c := range parts {
		parts[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
