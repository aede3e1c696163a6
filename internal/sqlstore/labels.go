package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tiledesk-go/tiledesk"
)

const labelColumns = `id_project, id, data, created_by, created_at, updated_at`

func scanLabels(row scanner) (*tiledesk.Labels, error) {
	var l tiledesk.Labels
	var data sql.NullString
	var created, updated int64
	if err := row.Scan(&l.ProjectID, &l.ID, &data, &l.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	l.CreatedAt, l.UpdatedAt = fromMS(created), fromMS(updated)
	if err := json.Unmarshal([]byte(data.String), &l.Entries); err != nil {
		return nil, fmt.Errorf("labels of %s: %w", l.ProjectID, err)
	}
	return &l, nil
}

// FindLabels returns the project's labels.
func (s *Store) FindLabels(ctx context.Context, projectID string) (*tiledesk.Labels, error) {
	l, err := scanLabels(s.queryRow(ctx, `SELECT `+labelColumns+` FROM project_labels WHERE id_project = $1`, projectID))
	return l, notFound(err, "labels")
}

// ChangeLabels reads the project's labels locked, applies change and writes them back.
func (s *Store) ChangeLabels(ctx context.Context, projectID, createdBy string, change func(*tiledesk.Labels) error) (*tiledesk.Labels, error) {
	var out *tiledesk.Labels
	err := s.inTx(ctx, func(t *tx) error {
		l, err := scanLabels(t.queryRow(ctx, `SELECT `+labelColumns+` FROM project_labels WHERE id_project = $1`+
			s.dialect.ForUpdate(), projectID))
		existed := err == nil
		if errors.Is(err, sql.ErrNoRows) {
			l = &tiledesk.Labels{ID: tiledesk.NewIDAt(t.now), ProjectID: projectID, CreatedBy: createdBy, CreatedAt: t.now}
		} else if err != nil {
			return err
		}
		if err := change(l); err != nil {
			return err
		}
		l.UpdatedAt = t.now
		if len(l.Entries) == 0 {
			if existed {
				if _, err := t.exec(ctx, `DELETE FROM project_labels WHERE id_project = $1`, projectID); err != nil {
					return fmt.Errorf("delete labels: %w", err)
				}
				out = l
				return t.event(ctx, projectID, tiledesk.EventLabelsDelete, l.ID, l)
			}
			out = l
			return nil
		}
		data, err := json.Marshal(l.Entries)
		if err != nil {
			return tiledesk.Invalid("data", "the labels cannot be stored as JSON")
		}
		if _, err := t.exec(ctx, `INSERT INTO project_labels (`+labelColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (id_project) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
			projectID, l.ID, string(data), l.CreatedBy, ms(l.CreatedAt), ms(l.UpdatedAt)); err != nil {
			return fmt.Errorf("save labels: %w", err)
		}
		out = l
		return t.event(ctx, projectID, tiledesk.EventLabelsUpdate, l.ID, l)
	})
	return out, err
}
