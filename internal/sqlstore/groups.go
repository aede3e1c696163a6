package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/tiledesk-go/tiledesk"
)

var _ tiledesk.GroupStore = (*Store)(nil)

// A group is kept as its fields' JSON (doc); "groups" is a word of SQL, hence agent_groups.
const groupColumns = `id_project, id, trashed, doc, created_at, updated_at`

func scanGroup(row scanner) (*tiledesk.Group, error) {
	var (
		g                tiledesk.Group
		pid, id, doc     string
		trashed          bool
		created, updated int64
	)
	if err := row.Scan(&pid, &id, &trashed, &doc, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(doc), &g); err != nil {
		return nil, fmt.Errorf("group %s: %w", id, err)
	}
	g.ProjectID, g.ID, g.Trashed, g.CreatedAt, g.UpdatedAt = pid, id, trashed, fromMS(created), fromMS(updated)
	return &g, nil
}

// CreateGroup saves a group within the project's bound.
func (s *Store) CreateGroup(ctx context.Context, g *tiledesk.Group) error {
	return s.inTx(ctx, func(t *tx) error {
		var n int
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM agent_groups WHERE id_project = $1`, g.ProjectID).Scan(&n); err != nil {
			return fmt.Errorf("count groups: %w", err)
		}
		if n >= tiledesk.MaxGroupsPerProject {
			return tiledesk.Errorf(tiledesk.ECONFLICT, "a project has at most %d groups", tiledesk.MaxGroupsPerProject)
		}
		if _, err := t.exec(ctx, `INSERT INTO agent_groups (`+groupColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
			g.ProjectID, g.ID, g.Trashed, mustJSON(g), ms(g.CreatedAt), ms(g.UpdatedAt)); err != nil {
			return fmt.Errorf("insert group: %w", err)
		}
		if err := t.syncGroupMembers(ctx, g, false); err != nil {
			return err
		}
		return t.event(ctx, g.ProjectID, tiledesk.EventGroupCreate, g.ID, g)
	})
}

// FindGroup returns a group of the project.
func (s *Store) FindGroup(ctx context.Context, projectID, id string) (*tiledesk.Group, error) {
	g, err := scanGroup(s.queryRow(ctx, `SELECT `+groupColumns+` FROM agent_groups WHERE id_project = $1 AND id = $2`, projectID, id))
	return g, notFound(err, "group")
}

// FindGroups lists the project's groups (at most MaxGroupsPerProject), filtered here.
func (s *Store) FindGroups(ctx context.Context, projectID string, f tiledesk.GroupFilter) ([]*tiledesk.Group, error) {
	rows, err := s.query(ctx, `SELECT `+groupColumns+` FROM agent_groups WHERE id_project = $1 ORDER BY id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("find groups: %w", err)
	}
	all, err := collect(rows, scanGroup)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, g := range all {
		if (f.WithTrashed || !g.Trashed) && (f.Member == "" || slices.Contains(g.Members, f.Member)) {
			out = append(out, g)
		}
	}
	return out, nil
}

// ChangeGroup reads a group locked, applies change and saves it.
func (s *Store) ChangeGroup(ctx context.Context, projectID, id string, change func(*tiledesk.Group) error) (*tiledesk.Group, error) {
	var out *tiledesk.Group
	err := s.inTx(ctx, func(t *tx) error {
		g, err := scanGroup(t.queryRow(ctx, `SELECT `+groupColumns+` FROM agent_groups WHERE id_project = $1 AND id = $2`+
			s.dialect.ForUpdate(), projectID, id))
		if err != nil {
			return notFound(err, "group")
		}
		if err := change(g); err != nil {
			return err
		}
		g.ID, g.ProjectID = id, projectID
		g.UpdatedAt = nextStamp(t.now, g.UpdatedAt)
		if _, err := t.exec(ctx, `UPDATE agent_groups SET trashed = $3, doc = $4, updated_at = $5 WHERE id_project = $1 AND id = $2`,
			projectID, id, g.Trashed, mustJSON(g), ms(g.UpdatedAt)); err != nil {
			return fmt.Errorf("update group: %w", err)
		}
		if err := t.syncGroupMembers(ctx, g, true); err != nil {
			return err
		}
		out = g
		return t.event(ctx, projectID, tiledesk.EventGroupUpdate, id, g)
	})
	return out, err
}

// DeleteGroup trashes or deletes a group no department routes to.
func (s *Store) DeleteGroup(ctx context.Context, projectID, id string, hard bool) (*tiledesk.Group, error) {
	var out *tiledesk.Group
	err := s.inTx(ctx, func(t *tx) error {
		g, err := scanGroup(t.queryRow(ctx, `SELECT `+groupColumns+` FROM agent_groups WHERE id_project = $1 AND id = $2`+
			s.dialect.ForUpdate(), projectID, id))
		if err != nil {
			return notFound(err, "group")
		}
		var dept string
		err = t.queryRow(ctx, `SELECT name FROM departments WHERE id_project = $1 AND (id_group = $2 OR CAST(groups_json AS TEXT) LIKE $3)
			LIMIT 1`, projectID, id, "%"+id+"%").Scan(&dept)
		if err == nil {
			return tiledesk.Errorf(tiledesk.EFORBIDDEN, "The group is used by the department %q: change its group first", dept)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find departments: %w", err)
		}
		if hard {
			_, err = t.exec(ctx, `DELETE FROM agent_groups WHERE id_project = $1 AND id = $2`, projectID, id)
		} else {
			g.Trashed, g.UpdatedAt = true, nextStamp(t.now, g.UpdatedAt)
			_, err = t.exec(ctx, `UPDATE agent_groups SET trashed = $3, doc = $4, updated_at = $5 WHERE id_project = $1 AND id = $2`,
				projectID, id, true, mustJSON(g), ms(g.UpdatedAt))
		}
		if err != nil {
			return fmt.Errorf("delete group: %w", err)
		}
		gone := *g
		gone.Trashed = true // trashed or removed: it grants nothing
		if err := t.syncGroupMembers(ctx, &gone, true); err != nil {
			return err
		}
		out = g
		return t.event(ctx, projectID, tiledesk.EventGroupDelete, id, g)
	})
	return out, err
}

// syncGroupMembers writes who is in g where routing and visibility look: its members while it is
// enabled and not trashed, nobody otherwise (existed: rows may be there to replace).
func (t *tx) syncGroupMembers(ctx context.Context, g *tiledesk.Group, existed bool) error {
	if existed {
		if _, err := t.exec(ctx, `DELETE FROM agent_group_members WHERE id_project = $1 AND id_group = $2`, g.ProjectID, g.ID); err != nil {
			return fmt.Errorf("group members: %w", err)
		}
	}
	if !g.Enabled || g.Trashed {
		return nil
	}
	for _, m := range g.Members {
		if _, err := t.exec(ctx, `INSERT INTO agent_group_members (id_project, id_group, member) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, g.ProjectID, g.ID, m); err != nil {
			return fmt.Errorf("group members: %w", err)
		}
	}
	return nil
}
