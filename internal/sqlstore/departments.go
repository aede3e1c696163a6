package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tiledesk-go/tiledesk"
)

const departmentColumns = `id_project, id, name, description, routing, id_bot, id_group, bot_only, is_default, status,
	groups_json, tags, online_msg, offline_msg, created_by, created_at, updated_at`

func scanDepartment(row scanner) (*tiledesk.Department, error) {
	var (
		d                                 tiledesk.Department
		desc, bot, group, online, offline sql.NullString
		groups, tags                      sql.NullString
		created, updated                  int64
	)
	if err := row.Scan(&d.ProjectID, &d.ID, &d.Name, &desc, &d.Routing, &bot, &group, &d.BotOnly, &d.Default,
		&d.Status, &groups, &tags, &online, &offline, &d.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	d.Description, d.IDBot, d.IDGroup, d.OnlineMsg, d.OfflineMsg = desc.String, bot.String, group.String,
		online.String, offline.String
	d.CreatedAt, d.UpdatedAt = fromMS(created), fromMS(updated)
	if err := scanJSON(groups, &d.Groups); err != nil {
		return nil, fmt.Errorf("department %s groups: %w", d.ID, err)
	}
	if err := scanJSON(tags, &d.Tags); err != nil {
		return nil, fmt.Errorf("department %s tags: %w", d.ID, err)
	}
	if d.Groups == nil {
		d.Groups = []tiledesk.DepartmentGroup{}
	}
	if d.Tags == nil {
		d.Tags = []string{}
	}
	return &d, nil
}

func departmentArgs(d *tiledesk.Department) []any {
	groups := d.Groups
	if groups == nil {
		groups = []tiledesk.DepartmentGroup{}
	}
	tags := d.Tags
	if tags == nil {
		tags = []string{}
	}
	return []any{d.ProjectID, d.ID, d.Name, nullString(d.Description), d.Routing, nullString(d.IDBot),
		nullString(d.IDGroup), d.BotOnly, d.Default, d.Status, mustJSON(groups), mustJSON(tags),
		nullString(d.OnlineMsg), nullString(d.OfflineMsg), d.CreatedBy, ms(d.CreatedAt), ms(d.UpdatedAt)}
}

// clearOtherDefaults keeps at most one default department per project.
func (t *tx) clearOtherDefaults(ctx context.Context, d *tiledesk.Department) error {
	if !d.Default {
		return nil
	}
	_, err := t.exec(ctx, `UPDATE departments SET is_default = FALSE, updated_at = $3
		WHERE id_project = $1 AND id <> $2 AND is_default = TRUE`, d.ProjectID, d.ID, ms(t.now))
	return err
}

func (t *tx) insertDepartment(ctx context.Context, d *tiledesk.Department) error {
	if err := t.clearOtherDefaults(ctx, d); err != nil {
		return fmt.Errorf("clear default departments: %w", err)
	}
	if _, err := t.exec(ctx, `INSERT INTO departments (`+departmentColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7,
		$8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`, departmentArgs(d)...); err != nil {
		return fmt.Errorf("insert department: %w", err)
	}
	return nil
}

// CreateDepartment inserts d.
func (s *Store) CreateDepartment(ctx context.Context, d *tiledesk.Department) error {
	return s.inTx(ctx, func(t *tx) error {
		if err := t.insertDepartment(ctx, d); err != nil {
			return err
		}
		return t.event(ctx, d.ProjectID, tiledesk.EventDepartmentCreate, d.ID, d)
	})
}

// FindDepartmentByID returns a department of the project.
func (s *Store) FindDepartmentByID(ctx context.Context, projectID, id string) (*tiledesk.Department, error) {
	d, err := scanDepartment(s.queryRow(ctx, `SELECT `+departmentColumns+` FROM departments
		WHERE id_project = $1 AND id = $2`, projectID, id))
	return d, notFound(err, "department")
}

// FindDefaultDepartment returns the project's default department.
func (s *Store) FindDefaultDepartment(ctx context.Context, projectID string) (*tiledesk.Department, error) {
	d, err := scanDepartment(s.queryRow(ctx, `SELECT `+departmentColumns+` FROM departments
		WHERE id_project = $1 AND is_default = TRUE ORDER BY id LIMIT 1`, projectID))
	return d, notFound(err, "department")
}

// FindDepartments lists the project's departments, oldest first or by name.
func (s *Store) FindDepartments(ctx context.Context, projectID string, f tiledesk.DepartmentFilter) ([]*tiledesk.Department, error) {
	cond, arg := `status = $2`, tiledesk.DepartmentVisible
	if f.MinStatus != nil {
		cond, arg = `status >= $2`, *f.MinStatus
	}
	order := `id`
	if f.SortByName {
		order = `name, id`
	}
	rows, err := s.query(ctx, `SELECT `+departmentColumns+` FROM departments WHERE id_project = $1 AND `+cond+
		` ORDER BY `+order, projectID, arg)
	if err != nil {
		return nil, fmt.Errorf("find departments: %w", err)
	}
	return collect(rows, scanDepartment)
}

// UpdateDepartment applies upd.
func (s *Store) UpdateDepartment(ctx context.Context, projectID, id string, upd tiledesk.DepartmentUpdate) (*tiledesk.Department, error) {
	var out *tiledesk.Department
	err := s.inTx(ctx, func(t *tx) error {
		d, err := s.lockDepartment(ctx, t, projectID, id)
		if err != nil {
			return err
		}
		set(&d.Name, upd.Name)
		set(&d.Description, upd.Description)
		set(&d.Routing, upd.Routing)
		set(&d.IDBot, upd.IDBot)
		set(&d.IDGroup, upd.IDGroup)
		set(&d.BotOnly, upd.BotOnly)
		set(&d.OnlineMsg, upd.OnlineMsg)
		set(&d.OfflineMsg, upd.OfflineMsg)
		if upd.Status != nil {
			d.Status = *upd.Status
		}
		if upd.Groups != nil {
			d.Groups = upd.Groups
		}
		if upd.Default != nil {
			if d.Default && !*upd.Default {
				return tiledesk.Invalid("default", "the default department stays default until another one is made default")
			}
			d.Default = *upd.Default
		}
		d.UpdatedAt = t.now
		if err := t.clearOtherDefaults(ctx, d); err != nil {
			return fmt.Errorf("clear default departments: %w", err)
		}
		if _, err := t.exec(ctx, `UPDATE departments SET name = $3, description = $4, routing = $5, id_bot = $6,
			id_group = $7, bot_only = $8, is_default = $9, status = $10, groups_json = $11, tags = $12, online_msg = $13,
			offline_msg = $14, created_by = $15, created_at = $16, updated_at = $17
			WHERE id_project = $1 AND id = $2`, departmentArgs(d)...); err != nil {
			return fmt.Errorf("update department: %w", err)
		}
		out = d
		return t.event(ctx, d.ProjectID, tiledesk.EventDepartmentUpdate, d.ID, d)
	})
	return out, err
}

// DeleteDepartment removes a department other than the default one.
func (s *Store) DeleteDepartment(ctx context.Context, projectID, id string) (*tiledesk.Department, error) {
	var out *tiledesk.Department
	err := s.inTx(ctx, func(t *tx) error {
		d, err := s.lockDepartment(ctx, t, projectID, id)
		if err != nil {
			return err
		}
		if d.Default {
			return tiledesk.Errorf(tiledesk.ECONFLICT, "The default department cannot be deleted: make another department the default first.")
		}
		if _, err := t.exec(ctx, `DELETE FROM departments WHERE id_project = $1 AND id = $2`, projectID, id); err != nil {
			return fmt.Errorf("delete department: %w", err)
		}
		out = d
		return t.event(ctx, projectID, tiledesk.EventDepartmentDelete, d.ID, d)
	})
	return out, err
}

// lockDepartment reads a department for a change in t, holding its row until t ends.
func (s *Store) lockDepartment(ctx context.Context, t *tx, projectID, id string) (*tiledesk.Department, error) {
	d, err := scanDepartment(t.queryRow(ctx, `SELECT `+departmentColumns+` FROM departments
		WHERE id_project = $1 AND id = $2`+s.dialect.ForUpdate(), projectID, id))
	if err != nil {
		return nil, notFound(err, "department")
	}
	return d, nil
}
