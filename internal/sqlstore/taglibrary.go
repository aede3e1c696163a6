package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tiledesk-go/tiledesk"
)

var _ tiledesk.TagLibraryStore = (*Store)(nil)

const libraryTagColumns = `id_project, id, tag, color, attributes, created_by, created_at, updated_at, renamed_from`

func scanLibraryTag(row scanner) (*tiledesk.LibraryTag, error) {
	var (
		t                  tiledesk.LibraryTag
		color, attrs, from sql.NullString
		created, updated   int64
	)
	if err := row.Scan(&t.ProjectID, &t.ID, &t.Tag, &color, &attrs, &t.CreatedBy, &created, &updated, &from); err != nil {
		return nil, err
	}
	t.Color, t.CreatedAt, t.UpdatedAt, t.RenamedFrom = color.String, fromMS(created), fromMS(updated), from.String
	if err := scanJSON(attrs, &t.Attributes); err != nil {
		return nil, fmt.Errorf("tag %s: %w", t.ID, err)
	}
	return &t, nil
}

// CreateLibraryTag saves a tag unless the project has one of its name.
func (s *Store) CreateLibraryTag(ctx context.Context, tag *tiledesk.LibraryTag) (*tiledesk.LibraryTag, bool, error) {
	var stored *tiledesk.LibraryTag
	created := false
	err := s.inTx(ctx, func(t *tx) error {
		existing, err := scanLibraryTag(t.queryRow(ctx, `SELECT `+libraryTagColumns+` FROM project_tags
			WHERE id_project = $1 AND tag = $2`, tag.ProjectID, tag.Tag))
		if err == nil {
			stored = existing
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find tag: %w", err)
		}
		var n int
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM project_tags WHERE id_project = $1`, tag.ProjectID).Scan(&n); err != nil {
			return fmt.Errorf("count tags: %w", err)
		}
		if n >= tiledesk.MaxLibraryTags {
			return tiledesk.Errorf(tiledesk.ECONFLICT, "a project's library has at most %d tags", tiledesk.MaxLibraryTags)
		}
		if _, err := t.exec(ctx, `INSERT INTO project_tags (`+libraryTagColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)`,
			tag.ProjectID, tag.ID, tag.Tag, nullString(tag.Color), mustJSON(tag.Attributes), tag.CreatedBy,
			ms(tag.CreatedAt), ms(tag.UpdatedAt)); err != nil {
			if s.dialect.IsUniqueViolation(err) {
				return tiledesk.Errorf(tiledesk.ECONFLICT, "a tag %q was created meanwhile", tag.Tag)
			}
			return fmt.Errorf("insert tag: %w", err)
		}
		stored, created = tag, true
		return t.event(ctx, tag.ProjectID, tiledesk.EventTagCreate, tag.ID, tag)
	})
	return stored, created, err
}

// FindLibraryTag returns a tag of the project.
func (s *Store) FindLibraryTag(ctx context.Context, projectID, id string) (*tiledesk.LibraryTag, error) {
	tag, err := scanLibraryTag(s.queryRow(ctx, `SELECT `+libraryTagColumns+` FROM project_tags WHERE id_project = $1 AND id = $2`,
		projectID, id))
	return tag, notFound(err, "tag")
}

// FindLibraryTags lists a page of the project's tags.
func (s *Store) FindLibraryTags(ctx context.Context, projectID string, f tiledesk.LibraryTagFilter) ([]*tiledesk.LibraryTag, error) {
	order := "id"
	if f.ByName {
		order = "tag"
	}
	if f.Desc {
		order += " DESC"
	}
	limit := f.Limit
	if limit <= 0 || limit > tiledesk.MaxLibraryTags {
		limit = tiledesk.MaxLibraryTags
	}
	rows, err := s.query(ctx, `SELECT `+libraryTagColumns+` FROM project_tags WHERE id_project = $1 ORDER BY `+order+
		` LIMIT $2 OFFSET $3`, projectID, limit, max(f.Page, 0)*limit)
	if err != nil {
		return nil, fmt.Errorf("find tags: %w", err)
	}
	return collect(rows, scanLibraryTag)
}

// ChangeLibraryTag reads a tag locked, applies change and saves it.
func (s *Store) ChangeLibraryTag(ctx context.Context, projectID, id string, change func(*tiledesk.LibraryTag) error) (*tiledesk.LibraryTag, error) {
	var out *tiledesk.LibraryTag
	err := s.inTx(ctx, func(t *tx) error {
		tag, err := scanLibraryTag(t.queryRow(ctx, `SELECT `+libraryTagColumns+` FROM project_tags WHERE id_project = $1 AND id = $2`+
			s.dialect.ForUpdate(), projectID, id))
		if err != nil {
			return notFound(err, "tag")
		}
		before := tag.Tag
		if err := change(tag); err != nil {
			return err
		}
		if tag.Tag != before {
			if tag.RenamedFrom != "" {
				return tiledesk.Errorf(tiledesk.ECONFLICT, "the tag's rename from %q is still being carried to conversations and leads: try again shortly", tag.RenamedFrom)
			}
			tag.RenamedFrom = before
		}
		tag.UpdatedAt = nextStamp(t.now, tag.UpdatedAt)
		if _, err := t.exec(ctx, `UPDATE project_tags SET tag = $3, color = $4, attributes = $5, updated_at = $6, renamed_from = $7
			WHERE id_project = $1 AND id = $2`, projectID, id, tag.Tag, nullString(tag.Color), mustJSON(tag.Attributes),
			ms(tag.UpdatedAt), nullString(tag.RenamedFrom)); err != nil {
			if s.dialect.IsUniqueViolation(err) {
				return tiledesk.Errorf(tiledesk.ECONFLICT, "the project has another tag %q", tag.Tag)
			}
			return fmt.Errorf("update tag: %w", err)
		}
		out = tag
		return t.event(ctx, projectID, tiledesk.EventTagUpdate, id, tag)
	})
	return out, err
}

// DeleteLibraryTag deletes a tag of the project.
func (s *Store) DeleteLibraryTag(ctx context.Context, projectID, id string) (*tiledesk.LibraryTag, error) {
	var out *tiledesk.LibraryTag
	err := s.inTx(ctx, func(t *tx) error {
		tag, err := scanLibraryTag(t.queryRow(ctx, `DELETE FROM project_tags WHERE id_project = $1 AND id = $2 RETURNING `+
			libraryTagColumns, projectID, id))
		if err != nil {
			return notFound(err, "tag")
		}
		out = tag
		return t.event(ctx, projectID, tiledesk.EventTagDelete, id, tag)
	})
	return out, err
}

// PendingTagRenames lists tags whose rename is still being carried, of every project.
func (s *Store) PendingTagRenames(ctx context.Context, limit int) ([]*tiledesk.LibraryTag, error) {
	rows, err := s.query(ctx, `SELECT `+libraryTagColumns+` FROM project_tags WHERE renamed_from IS NOT NULL ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("pending tag renames: %w", err)
	}
	return collect(rows, scanLibraryTag)
}

// FinishTagRename clears a tag's former name, if it is still from.
func (s *Store) FinishTagRename(ctx context.Context, projectID, id, from string) error {
	return s.inTx(ctx, func(t *tx) error {
		if _, err := t.exec(ctx, `UPDATE project_tags SET renamed_from = NULL WHERE id_project = $1 AND id = $2 AND renamed_from = $3`,
			projectID, id, from); err != nil {
			return fmt.Errorf("finish tag rename: %w", err)
		}
		return nil
	})
}
