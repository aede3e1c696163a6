package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// idempotencyTTL is how long a retried create with the same key returns the first result.
const idempotencyTTL = 24 * time.Hour

// claimIdempotency records key for scope in this transaction, or returns the object id of the first
// request that used it. A concurrent first request with the same key makes this one wait for its
// commit (PostgreSQL) or run after it (SQLite).
func (t *tx) claimIdempotency(ctx context.Context, projectID, scope string, idem *tiledesk.Idempotency, objectID string) (string, error) {
	if _, err := t.exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, ms(t.now.Add(-idempotencyTTL))); err != nil {
		return "", fmt.Errorf("expire idempotency keys: %w", err)
	}
	res, err := t.exec(ctx, `INSERT INTO idempotency_keys (id_project, scope, key, request_hash, object_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id_project, scope, key) DO NOTHING`,
		projectID, scope, idem.Key, idem.Hash, objectID, ms(t.now))
	if err != nil {
		return "", fmt.Errorf("claim idempotency key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return "", nil
	}
	var hash, first string
	if err := t.queryRow(ctx, `SELECT request_hash, object_id FROM idempotency_keys
		WHERE id_project = $1 AND scope = $2 AND key = $3`, projectID, scope, idem.Key).Scan(&hash, &first); err != nil {
		return "", fmt.Errorf("read idempotency key: %w", err)
	}
	if hash != idem.Hash {
		return "", tiledesk.Errorf(tiledesk.ECONFLICT, "Idempotency-Key %q was already used for a different request.", idem.Key)
	}
	return first, nil
}
