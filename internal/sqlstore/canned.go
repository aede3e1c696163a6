package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

var _ tiledesk.CannedStore = (*Store)(nil)

const cannedColumns = `id_project, id, title, text, shared, attributes, status, created_by, created_at, updated_at`

func scanCanned(row scanner) (*tiledesk.Canned, error) {
	var (
		c                tiledesk.Canned
		attrs            sql.NullString
		created, updated int64
	)
	if err := row.Scan(&c.ProjectID, &c.ID, &c.Title, &c.Text, &c.Shared, &attrs, &c.Status, &c.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	if err := scanJSON(attrs, &c.Attributes); err != nil {
		return nil, fmt.Errorf("canned %s: %w", c.ID, err)
	}
	return &c, nil
}

// CreateCanned saves a canned response within the project's bound.
func (s *Store) CreateCanned(ctx context.Context, c *tiledesk.Canned) error {
	return s.inTx(ctx, func(t *tx) error {
		var n int
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM canned_responses WHERE id_project = $1`, c.ProjectID).Scan(&n); err != nil {
			return fmt.Errorf("count canned responses: %w", err)
		}
		if n >= tiledesk.MaxCannedPerProject {
			return tiledesk.Errorf(tiledesk.ECONFLICT, "a project has at most %d canned responses", tiledesk.MaxCannedPerProject)
		}
		if _, err := t.exec(ctx, `INSERT INTO canned_responses (`+cannedColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			c.ProjectID, c.ID, c.Title, c.Text, c.Shared, mustJSON(c.Attributes), c.Status, c.CreatedBy, ms(c.CreatedAt),
			ms(c.UpdatedAt)); err != nil {
			return fmt.Errorf("insert canned response: %w", err)
		}
		return t.event(ctx, c.ProjectID, tiledesk.EventCannedCreate, c.ID, c)
	})
}

// FindCanned returns a canned response of the project.
func (s *Store) FindCanned(ctx context.Context, projectID, id string) (*tiledesk.Canned, error) {
	c, err := scanCanned(s.queryRow(ctx, `SELECT `+cannedColumns+` FROM canned_responses WHERE id_project = $1 AND id = $2`,
		projectID, id))
	return c, notFound(err, "canned")
}

// FindCanneds lists a page of the canned responses the caller sees.
func (s *Store) FindCanneds(ctx context.Context, projectID string, f tiledesk.CannedFilter) ([]*tiledesk.Canned, error) {
	q := `SELECT ` + cannedColumns + ` FROM canned_responses WHERE id_project = $1 AND status < $2 AND (shared OR created_by = $3)`
	args := []any{projectID, tiledesk.CannedDeleted, f.UserID}
	for _, word := range strings.Fields(strings.ToLower(f.Text)) {
		args = append(args, "%"+escapeLike(word)+"%")
		p := fmt.Sprintf("$%d", len(args))
		q += ` AND (LOWER(title) LIKE ` + p + ` ESCAPE '\' OR LOWER(text) LIKE ` + p + ` ESCAPE '\')`
	}
	order := "id"
	if f.ByName {
		order = "title"
	}
	if f.Desc {
		order += " DESC"
	}
	limit := f.Limit
	if limit <= 0 || limit > tiledesk.MaxCannedPerProject {
		limit = tiledesk.MaxCannedPerProject
	}
	args = append(args, limit, max(f.Page, 0)*limit)
	q += fmt.Sprintf(` ORDER BY %s LIMIT $%d OFFSET $%d`, order, len(args)-1, len(args))
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find canned responses: %w", err)
	}
	return collect(rows, scanCanned)
}

// ChangeCanned reads a canned response locked, applies change and saves it.
func (s *Store) ChangeCanned(ctx context.Context, projectID, id string, change func(*tiledesk.Canned) error) (*tiledesk.Canned, error) {
	var out *tiledesk.Canned
	err := s.inTx(ctx, func(t *tx) error {
		c, err := scanCanned(t.queryRow(ctx, `SELECT `+cannedColumns+` FROM canned_responses WHERE id_project = $1 AND id = $2`+
			s.dialect.ForUpdate(), projectID, id))
		if err != nil {
			return notFound(err, "canned")
		}
		if err := change(c); err != nil {
			return err
		}
		c.UpdatedAt = nextStamp(t.now, c.UpdatedAt)
		if _, err := t.exec(ctx, `UPDATE canned_responses SET title = $3, text = $4, shared = $5, attributes = $6, status = $7,
			updated_at = $8 WHERE id_project = $1 AND id = $2`, projectID, id, c.Title, c.Text, c.Shared, mustJSON(c.Attributes),
			c.Status, ms(c.UpdatedAt)); err != nil {
			return fmt.Errorf("update canned response: %w", err)
		}
		out = c
		return t.event(ctx, projectID, tiledesk.EventCannedUpdate, id, c)
	})
	return out, err
}

// DeleteCanned removes a canned response of the project for good.
func (s *Store) DeleteCanned(ctx context.Context, projectID, id string) (*tiledesk.Canned, error) {
	var out *tiledesk.Canned
	err := s.inTx(ctx, func(t *tx) error {
		c, err := scanCanned(t.queryRow(ctx, `DELETE FROM canned_responses WHERE id_project = $1 AND id = $2 RETURNING `+cannedColumns,
			projectID, id))
		if err != nil {
			return notFound(err, "canned")
		}
		out = c
		return t.event(ctx, projectID, tiledesk.EventCannedDelete, id, c)
	})
	return out, err
}
