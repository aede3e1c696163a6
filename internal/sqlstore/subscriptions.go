package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

var (
	_ tiledesk.SubscriptionStore = (*Store)(nil)
	_ tiledesk.DeliveryStore     = (*Store)(nil)
)

// notInternal leaves out the subscriptions whose target is the server itself: they are not the
// project's webhooks, and no route shows or changes them.
const notInternal = `target NOT LIKE 'internal:%'`

// ensureInternalSubscription gives the project the subscription to event whose target is the
// server itself, delivering from the project's last event on, unless it has it.
func (t *tx) ensureInternalSubscription(ctx context.Context, projectID, event, target string) error {
	var one int
	err := t.queryRow(ctx, `SELECT 1 FROM subscriptions WHERE id_project = $1 AND event = $2 AND target = $3`,
		projectID, event, target).Scan(&one)
	if err == nil {
		return nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("find internal subscription: %w", err)
	}
	var last int64
	if err := t.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events WHERE id_project = $1`, projectID).Scan(&last); err != nil {
		return fmt.Errorf("last event: %w", err)
	}
	if _, err := t.exec(ctx, `INSERT INTO subscriptions (id_project, id, event, target, secret, created_by, created_at,
		updated_at, cursor_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, projectID, tiledesk.NewIDAt(t.now), event, target,
		tiledesk.NewID(), "system", ms(t.now), ms(t.now), last); err != nil {
		return fmt.Errorf("insert internal subscription: %w", err)
	}
	return nil
}

const subscriptionColumns = `id_project, id, event, target, secret, created_by, created_at, updated_at,
	cursor_seq, attempts, failures, failing_since, next_attempt_at, lease_owner, lease_until`

func scanSubscription(row scanner) (*tiledesk.Subscription, error) {
	var (
		sub                                       tiledesk.Subscription
		createdBy, owner                          sql.NullString
		created, updated, since, next, leaseUntil int64
	)
	st := &sub.State
	if err := row.Scan(&sub.ProjectID, &sub.ID, &sub.Event, &sub.Target, &sub.Secret, &createdBy, &created, &updated,
		&st.Cursor, &st.Attempts, &st.Failures, &since, &next, &owner, &leaseUntil); err != nil {
		return nil, err
	}
	sub.CreatedBy, sub.CreatedAt, sub.UpdatedAt = createdBy.String, fromMS(created), fromMS(updated)
	st.FailingSince, st.NextAttempt = msOrZero(since), msOrZero(next)
	st.LeaseOwner, st.LeaseUntil = owner.String, msOrZero(leaseUntil)
	return &sub, nil
}

// msOrZero reads a stamp whose 0 means "none" into the zero time.
func msOrZero(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMS(v)
}

// msOf stores the zero time as 0.
func msOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ms(t)
}

// CreateSubscription saves sub unless its event and target are taken, delivering from the
// project's last numbered event on.
func (s *Store) CreateSubscription(ctx context.Context, sub *tiledesk.Subscription) (*tiledesk.Subscription, bool, error) {
	var stored *tiledesk.Subscription
	created := false
	err := s.inTx(ctx, func(t *tx) error {
		existing, err := scanSubscription(t.queryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
			WHERE id_project = $1 AND event = $2 AND target = $3`, sub.ProjectID, sub.Event, sub.Target))
		if err == nil {
			stored = existing
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find subscription: %w", err)
		}
		var last int64
		if err := t.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events WHERE id_project = $1`,
			sub.ProjectID).Scan(&last); err != nil {
			return fmt.Errorf("last event: %w", err)
		}
		sub.State = tiledesk.SubscriptionState{Cursor: last}
		if _, err := t.exec(ctx, `INSERT INTO subscriptions (id_project, id, event, target, secret, created_by,
			created_at, updated_at, cursor_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, sub.ProjectID, sub.ID,
			sub.Event, sub.Target, sub.Secret, nullString(sub.CreatedBy), ms(sub.CreatedAt), ms(sub.UpdatedAt), last); err != nil {
			if s.dialect.IsUniqueViolation(err) {
				return tiledesk.Errorf(tiledesk.ECONFLICT, "a subscription to this event and target was created meanwhile")
			}
			return fmt.Errorf("insert subscription: %w", err)
		}
		stored, created = sub, true
		return t.event(ctx, sub.ProjectID, tiledesk.EventSubscriptionCreate, sub.ID, sub)
	})
	return stored, created, err
}

// FindSubscriptionByID returns a subscription of the project.
func (s *Store) FindSubscriptionByID(ctx context.Context, projectID, id string) (*tiledesk.Subscription, error) {
	sub, err := scanSubscription(s.queryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
		WHERE id_project = $1 AND id = $2 AND `+notInternal, projectID, id))
	return sub, notFound(err, "subscription")
}

// FindSubscriptions lists the project's subscriptions, oldest first.
func (s *Store) FindSubscriptions(ctx context.Context, projectID string) ([]*tiledesk.Subscription, error) {
	rows, err := s.query(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE id_project = $1 AND `+notInternal+` ORDER BY id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("find subscriptions: %w", err)
	}
	return collect(rows, scanSubscription)
}

// UpdateSubscription changes a subscription's event or target.
func (s *Store) UpdateSubscription(ctx context.Context, projectID, id string, upd tiledesk.SubscriptionUpdate) (*tiledesk.Subscription, error) {
	var out *tiledesk.Subscription
	err := s.inTx(ctx, func(t *tx) error {
		sub, err := scanSubscription(t.queryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
			WHERE id_project = $1 AND id = $2 AND `+notInternal+s.dialect.ForUpdate(), projectID, id))
		if err != nil {
			return notFound(err, "subscription")
		}
		set(&sub.Event, upd.Event)
		set(&sub.Target, upd.Target)
		sub.UpdatedAt = nextStamp(t.now, sub.UpdatedAt)
		if _, err := t.exec(ctx, `UPDATE subscriptions SET event = $3, target = $4, updated_at = $5
			WHERE id_project = $1 AND id = $2`, projectID, id, sub.Event, sub.Target, ms(sub.UpdatedAt)); err != nil {
			if s.dialect.IsUniqueViolation(err) {
				return tiledesk.Errorf(tiledesk.ECONFLICT, "the project has a subscription to this event and target")
			}
			return fmt.Errorf("update subscription: %w", err)
		}
		out = sub
		return t.event(ctx, projectID, tiledesk.EventSubscriptionUpdate, id, sub)
	})
	return out, err
}

// DeleteSubscription deletes a subscription with its deliveries and queued redeliveries.
func (s *Store) DeleteSubscription(ctx context.Context, projectID, id string) (*tiledesk.Subscription, error) {
	var out *tiledesk.Subscription
	err := s.inTx(ctx, func(t *tx) error {
		sub, err := scanSubscription(t.queryRow(ctx, `DELETE FROM subscriptions WHERE id_project = $1 AND id = $2 AND `+
			notInternal+` RETURNING `+subscriptionColumns, projectID, id))
		if err != nil {
			return notFound(err, "subscription")
		}
		for _, table := range []string{"subscription_deliveries", "subscription_redeliveries"} {
			if _, err := t.exec(ctx, `DELETE FROM `+table+` WHERE id_project = $1 AND id_subscription = $2`,
				projectID, id); err != nil {
				return fmt.Errorf("delete %s: %w", table, err)
			}
		}
		out = sub
		return t.event(ctx, projectID, tiledesk.EventSubscriptionDelete, id, sub)
	})
	return out, err
}

const deliveryColumns = `id_project, id, id_subscription, delivery_id, seq, event, attempt, status, code, latency_ms,
	error, redelivery, created_at`

func scanDelivery(row scanner) (*tiledesk.Delivery, error) {
	var (
		d                tiledesk.Delivery
		errText          sql.NullString
		latency, created int64
	)
	if err := row.Scan(&d.ProjectID, &d.ID, &d.SubscriptionID, &d.DeliveryID, &d.Seq, &d.Event, &d.Attempt, &d.Status,
		&d.Code, &latency, &errText, &d.Redelivery, &created); err != nil {
		return nil, err
	}
	d.Error, d.Latency, d.CreatedAt = errText.String, time.Duration(latency)*time.Millisecond, fromMS(created)
	return &d, nil
}

// FindDeliveries lists a subscription's attempts, newest first.
func (s *Store) FindDeliveries(ctx context.Context, projectID, subscriptionID string, f tiledesk.DeliveryFilter) ([]*tiledesk.Delivery, error) {
	if _, err := s.FindSubscriptionByID(ctx, projectID, subscriptionID); err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 || limit > tiledesk.MaxDeliveryPage {
		limit = tiledesk.MaxDeliveryPage
	}
	rows, err := s.query(ctx, `SELECT `+deliveryColumns+` FROM subscription_deliveries
		WHERE id_project = $1 AND id_subscription = $2 AND (CAST($3 AS TEXT) = '' OR id < $3)
		ORDER BY id DESC LIMIT $4`, projectID, subscriptionID, f.BeforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("find deliveries: %w", err)
	}
	return collect(rows, scanDelivery)
}

// Redeliver queues an attempted delivery's event again.
func (s *Store) Redeliver(ctx context.Context, projectID, subscriptionID, deliveryID string) error {
	if _, err := s.FindSubscriptionByID(ctx, projectID, subscriptionID); err != nil {
		return err
	}
	return s.inTx(ctx, func(t *tx) error {
		var seq int64
		err := t.queryRow(ctx, `SELECT d.seq FROM subscription_deliveries d JOIN events e
			ON e.id_project = d.id_project AND e.seq = d.seq
			WHERE d.id_project = $1 AND d.id_subscription = $2 AND d.delivery_id = $3 LIMIT 1`,
			projectID, subscriptionID, deliveryID).Scan(&seq)
		if err != nil {
			return notFound(err, "delivery")
		}
		if _, err := t.exec(ctx, `INSERT INTO subscription_redeliveries (id_project, id_subscription, seq, requested_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, projectID, subscriptionID, seq, ms(t.now)); err != nil {
			return fmt.Errorf("queue redelivery: %w", err)
		}
		// A redelivery is due now, even while the breaker waits.
		_, err = t.exec(ctx, `UPDATE subscriptions SET next_attempt_at = 0 WHERE id_project = $1 AND id = $2`,
			projectID, subscriptionID)
		return err
	})
}
