package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tiledesk-go/tiledesk"
)

func scanEvent(row scanner) (*tiledesk.Event, error) {
	var ev tiledesk.Event
	var objectID, payload sql.NullString
	var created int64
	if err := row.Scan(&ev.ProjectID, &ev.ID, &ev.Name, &objectID, &payload, &created); err != nil {
		return nil, err
	}
	ev.ObjectID, ev.CreatedAt = objectID.String, fromMS(created)
	if payload.Valid {
		ev.Payload = []byte(payload.String)
	}
	return &ev, nil
}

// FindEvents lists a project's events, oldest first.
func (s *Store) FindEvents(ctx context.Context, projectID string, f tiledesk.EventFilter) ([]*tiledesk.Event, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := s.query(ctx, `SELECT id_project, id, name, object_id, payload, created_at FROM events
		WHERE id_project = $1 AND (CAST($2 AS TEXT) = '' OR name = $2) AND id > $3 ORDER BY id LIMIT $4`,
		projectID, f.Name, f.AfterID, limit)
	if err != nil {
		return nil, fmt.Errorf("find events: %w", err)
	}
	return collect(rows, scanEvent)
}
