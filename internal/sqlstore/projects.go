package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tiledesk-go/tiledesk"
)

const projectColumns = `id, name, active_operating_hours, operating_hours, time_slots, settings, widget, attributes,
	status, profile, versions, channels, ip_filter_enabled, ip_filter, ip_filter_deny_enabled, ip_filter_deny,
	banned_users, created_by, created_at, updated_at, jwt_secret, public_key`

func scanProject(row scanner) (*tiledesk.Project, error) {
	var (
		p                                                          tiledesk.Project
		opHours, slots, settings, widget, attrs, profile, channels sql.NullString
		ipFilter, ipDeny, banned, jwtSecret, publicKey             sql.NullString
		created, updated                                           int64
	)
	if err := row.Scan(&p.ID, &p.Name, &p.ActiveOperatingHours, &opHours, &slots, &settings, &widget, &attrs,
		&p.Status, &profile, &p.Versions, &channels, &p.IPFilterEnabled, &ipFilter, &p.IPFilterDenyEnabled,
		&ipDeny, &banned, &p.CreatedBy, &created, &updated, &jwtSecret, &publicKey); err != nil {
		return nil, err
	}
	p.OperatingHours, p.JWTSecret, p.PublicKey = opHours.String, jwtSecret.String, publicKey.String
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	for _, f := range []struct {
		src sql.NullString
		dst any
	}{{slots, &p.TimeSlots}, {settings, &p.Settings}, {widget, &p.Widget}, {attrs, &p.Attributes},
		{profile, &p.Profile}, {channels, &p.Channels}, {ipFilter, &p.IPFilter}, {ipDeny, &p.IPFilterDeny},
		{banned, &p.BannedUsers}} {
		if err := scanJSON(f.src, f.dst); err != nil {
			return nil, fmt.Errorf("project %s: %w", p.ID, err)
		}
	}
	if p.IPFilter == nil {
		p.IPFilter = []string{}
	}
	if p.IPFilterDeny == nil {
		p.IPFilterDeny = []string{}
	}
	if p.BannedUsers == nil {
		p.BannedUsers = []tiledesk.BannedUser{}
	}
	if p.Channels == nil {
		p.Channels = []tiledesk.Channel{}
	}
	return &p, nil
}

func projectArgs(p *tiledesk.Project) ([]any, error) {
	args := []any{p.ID, p.Name, p.ActiveOperatingHours, nullString(p.OperatingHours)}
	for field, v := range map[string]any{"timeSlots": p.TimeSlots, "settings": p.Settings, "widget": p.Widget,
		"attributes": p.Attributes} {
		if _, err := jsonArg(v); err != nil {
			return nil, tiledesk.Invalid(field, "%s cannot be stored as JSON", field)
		}
	}
	args = append(args, mustJSON(p.TimeSlots), mustJSON(p.Settings), mustJSON(p.Widget), mustJSON(p.Attributes),
		p.Status, mustJSON(p.Profile), p.Versions, mustJSON(p.Channels), p.IPFilterEnabled, mustJSON(p.IPFilter),
		p.IPFilterDenyEnabled, mustJSON(p.IPFilterDeny), mustJSON(p.BannedUsers), p.CreatedBy,
		ms(p.CreatedAt), ms(p.UpdatedAt), nullString(p.JWTSecret), nullString(p.PublicKey))
	return args, nil
}

// CreateProject inserts the project, its owner's membership and its default department.
func (s *Store) CreateProject(ctx context.Context, p *tiledesk.Project, owner *tiledesk.ProjectUser, dept *tiledesk.Department) error {
	args, err := projectArgs(p)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(t *tx) error {
		if _, err := t.exec(ctx, `INSERT INTO projects (`+projectColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
			$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`, args...); err != nil {
			return fmt.Errorf("insert project: %w", err)
		}
		if err := t.insertProjectUser(ctx, owner); err != nil {
			return err
		}
		if err := t.insertDepartment(ctx, dept); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO project_counters (id_project, stripe) VALUES ($1, 0) ON CONFLICT (id_project, stripe) DO NOTHING`, p.ID); err != nil {
			return fmt.Errorf("insert project counters: %w", err)
		}
		// The project first, then what came with it, each with its event as if made on its own.
		if err := t.event(ctx, p.ID, tiledesk.EventProjectCreate, p.ID, p); err != nil {
			return err
		}
		if err := t.event(ctx, p.ID, tiledesk.EventProjectUserCreate, owner.ID, owner); err != nil {
			return err
		}
		return t.event(ctx, p.ID, tiledesk.EventDepartmentCreate, dept.ID, dept)
	})
}

// FindProjectByID returns an active project.
func (s *Store) FindProjectByID(ctx context.Context, id string) (*tiledesk.Project, error) {
	p, err := scanProject(s.queryRow(ctx, `SELECT `+projectColumns+` FROM projects WHERE id = $1 AND status = $2`,
		id, tiledesk.ProjectActive))
	return p, notFound(err, "project")
}

// UpdateProject applies upd to an active project.
func (s *Store) UpdateProject(ctx context.Context, id string, upd tiledesk.ProjectUpdate) (*tiledesk.Project, error) {
	return s.changeProject(ctx, id, tiledesk.EventProjectUpdate, func(p *tiledesk.Project) error {
		set(&p.Name, upd.Name)
		set(&p.ActiveOperatingHours, upd.ActiveOperatingHours)
		set(&p.OperatingHours, upd.OperatingHours)
		set(&p.IPFilterEnabled, upd.IPFilterEnabled)
		set(&p.IPFilterDenyEnabled, upd.IPFilterDenyEnabled)
		if upd.TimeSlots != nil {
			p.TimeSlots = upd.TimeSlots
		}
		if upd.Settings != nil {
			p.Settings = upd.Settings
		}
		if len(upd.SettingsPaths) > 0 && p.Settings == nil {
			p.Settings = map[string]any{}
		}
		for path, v := range upd.SettingsPaths {
			tiledesk.SetPath(p.Settings, path, v)
		}
		if len(upd.SettingsPaths) > 0 { // each path was checked alone; together they must fit too
			if err := tiledesk.CheckMergedJSON("settings", p.Settings, tiledesk.MaxProjectJSONBytes); err != nil {
				return err
			}
		}
		if upd.Widget != nil {
			p.Widget = upd.Widget
		}
		if upd.Channels != nil {
			p.Channels = upd.Channels
		}
		set(&p.JWTSecret, upd.JWTSecret)
		set(&p.PublicKey, upd.PublicKey)
		for k, v := range upd.Attributes {
			if p.Attributes == nil {
				p.Attributes = map[string]any{}
			}
			p.Attributes[k] = v
		}
		if len(upd.Attributes) > 0 {
			if err := tiledesk.CheckMergedJSON("attributes", p.Attributes, tiledesk.MaxProjectJSONBytes); err != nil {
				return err
			}
		}
		if upd.IPFilter != nil {
			p.IPFilter = upd.IPFilter
		}
		if upd.IPFilterDeny != nil {
			p.IPFilterDeny = upd.IPFilterDeny
		}
		return nil
	})
}

// DeleteProject marks an active project deleted.
func (s *Store) DeleteProject(ctx context.Context, id string) (*tiledesk.Project, error) {
	return s.changeProject(ctx, id, tiledesk.EventProjectDelete, func(p *tiledesk.Project) error {
		p.Status = tiledesk.ProjectDeleted
		return nil
	})
}

func (s *Store) changeProject(ctx context.Context, id, event string, change func(*tiledesk.Project) error) (*tiledesk.Project, error) {
	var out *tiledesk.Project
	err := s.inTx(ctx, func(t *tx) error {
		p, err := scanProject(t.queryRow(ctx, `SELECT `+projectColumns+` FROM projects WHERE id = $1 AND status = $2`+
			s.dialect.ForUpdate(), id, tiledesk.ProjectActive))
		if err != nil {
			return notFound(err, "project")
		}
		if err := change(p); err != nil {
			return err
		}
		p.UpdatedAt = t.now
		args, err := projectArgs(p)
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, `UPDATE projects SET name = $2, active_operating_hours = $3, operating_hours = $4,
			time_slots = $5, settings = $6, widget = $7, attributes = $8, status = $9, profile = $10, versions = $11,
			channels = $12, ip_filter_enabled = $13, ip_filter = $14, ip_filter_deny_enabled = $15,
			ip_filter_deny = $16, banned_users = $17, created_by = $18, created_at = $19, updated_at = $20,
			jwt_secret = $21, public_key = $22
			WHERE id = $1`, args...); err != nil {
			return fmt.Errorf("update project: %w", err)
		}
		out = p
		return t.event(ctx, p.ID, event, p.ID, p)
	})
	return out, err
}

// FindMemberships returns a user's active agent memberships in active projects, the most recently
// updated project first.
// FindMembershipProjects lists the projects of a user's active memberships.
func (s *Store) FindMembershipProjects(ctx context.Context, who string, guest bool) ([]string, error) {
	column := "id_user"
	if guest {
		column = "uuid_user"
	}
	rows, err := s.query(ctx, `SELECT id_project FROM project_users WHERE `+column+` = $1 AND status = $2
		ORDER BY id_project LIMIT 1000`, who, tiledesk.MemberActive)
	if err != nil {
		return nil, fmt.Errorf("find projects of member: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var pid string
		if err := rows.Scan(&pid); err != nil {
			return nil, err
		}
		out = append(out, pid)
	}
	return out, rows.Err()
}

func (s *Store) FindMemberships(ctx context.Context, userID string) ([]tiledesk.Membership, error) {
	rows, err := s.query(ctx, `SELECT `+projectColumns+` FROM projects WHERE status = $1 AND id IN (
		SELECT id_project FROM project_users WHERE id_user = $2 AND status = $3 AND role_type = $4)
		ORDER BY updated_at DESC, id DESC`,
		tiledesk.ProjectActive, userID, tiledesk.MemberActive, tiledesk.RoleTypeAgent)
	if err != nil {
		return nil, fmt.Errorf("find projects of user: %w", err)
	}
	projects, err := collect(rows, scanProject)
	if err != nil {
		return nil, err
	}
	out := make([]tiledesk.Membership, 0, len(projects))
	for _, p := range projects {
		pu, err := s.FindProjectUserByUserID(ctx, p.ID, userID)
		if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
			continue // removed between the two reads
		} else if err != nil {
			return nil, err
		}
		out = append(out, tiledesk.Membership{ProjectUser: pu, Project: p})
	}
	return out, nil
}
