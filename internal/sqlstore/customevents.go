package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tiledesk-go/tiledesk"
)

// Custom events are entries of the event log (event.emit) whose id is the custom event's: they are
// listed from the log, and kept as long as it keeps its events. Their name and sender are read from
// the payload (->> reads a JSON object's key on both engines).

// AddCustomEvent appends a custom event to the project's log.
func (s *Store) AddCustomEvent(ctx context.Context, projectID, id string, payload json.RawMessage) error {
	return s.inTx(ctx, func(t *tx) error {
		return t.eventWithID(ctx, id, projectID, tiledesk.EventCustom, id, payload)
	})
}

const customEventWhere = ` FROM events WHERE id_project = $1 AND name = '` + tiledesk.EventCustom + `'
	AND (CAST($2 AS TEXT) = '' OR payload ->> 'name' = $2) AND (CAST($3 AS TEXT) = '' OR payload ->> 'project_user' = $3)`

// FindCustomEvents lists the project's custom events still kept, newest first, and counts them.
func (s *Store) FindCustomEvents(ctx context.Context, projectID string, f tiledesk.CustomEventFilter) ([]*tiledesk.Event, int, error) {
	limit := f.Limit
	if limit <= 0 || limit > tiledesk.MaxEventPage {
		limit = tiledesk.MaxEventPage
	}
	rows, err := s.query(ctx, `SELECT `+eventColumns+customEventWhere+` ORDER BY id DESC LIMIT $4 OFFSET $5`,
		projectID, f.Name, f.ProjectUser, limit, f.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("find custom events: %w", err)
	}
	evs, err := collect(rows, scanEvent)
	if err != nil {
		return nil, 0, err
	}
	var n int
	if err := s.queryRow(ctx, `SELECT COUNT(*)`+customEventWhere, projectID, f.Name, f.ProjectUser).Scan(&n); err != nil {
		return nil, 0, fmt.Errorf("count custom events: %w", err)
	}
	return evs, n, nil
}

// FindCustomEvent returns one custom event of the project, or ENOTFOUND.
func (s *Store) FindCustomEvent(ctx context.Context, projectID, id string) (*tiledesk.Event, error) {
	ev, err := scanEvent(s.queryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE id_project = $1 AND id = $2 AND name = $3`,
		projectID, id, tiledesk.EventCustom))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tiledesk.NotFound("event")
	}
	return ev, err
}
