package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

const projectUserColumns = `id_project, id, id_user, uuid_user, role, role_type, user_available, profile_status,
	max_assigned_chat, number_assigned_requests, last_login_at, permissions, tags, status, trashed, attributes,
	settings, created_by, created_at, updated_at, presence_status, presence_changed_at`

func scanProjectUser(row scanner) (*tiledesk.ProjectUser, error) {
	var (
		pu                           tiledesk.ProjectUser
		userID, uuid, profileStatus  sql.NullString
		maxChat, lastLogin           sql.NullInt64
		presence                     sql.NullString
		presenceAt                   sql.NullInt64
		perms, tags, attrs, settings sql.NullString
		created, updated             int64
	)
	if err := row.Scan(&pu.ProjectID, &pu.ID, &userID, &uuid, &pu.Role, &pu.RoleType, &pu.UserAvailable,
		&profileStatus, &maxChat, &pu.NumberAssignedRequests, &lastLogin, &perms, &tags, &pu.Status, &pu.Trashed,
		&attrs, &settings, &pu.CreatedBy, &created, &updated, &presence, &presenceAt); err != nil {
		return nil, err
	}
	if presence.Valid {
		pu.Presence = &tiledesk.Presence{Status: presence.String, ChangedAt: fromMS(presenceAt.Int64)}
	}
	pu.UserID, pu.UUIDUser, pu.ProfileStatus = userID.String, uuid.String, profileStatus.String
	if maxChat.Valid {
		v := int(maxChat.Int64)
		pu.MaxAssignedChat = &v
	}
	if lastLogin.Valid {
		pu.LastLoginAt = fromMS(lastLogin.Int64)
	}
	pu.CreatedAt, pu.UpdatedAt = fromMS(created), fromMS(updated)
	for _, f := range []struct {
		src sql.NullString
		dst any
	}{{perms, &pu.Permissions}, {tags, &pu.Tags}, {attrs, &pu.Attributes}, {settings, &pu.Settings}} {
		if err := scanJSON(f.src, f.dst); err != nil {
			return nil, fmt.Errorf("project user %s: %w", pu.ID, err)
		}
	}
	if pu.Permissions == nil {
		pu.Permissions = []string{}
	}
	if pu.Tags == nil {
		pu.Tags = []string{}
	}
	return &pu, nil
}

func projectUserArgs(pu *tiledesk.ProjectUser) ([]any, error) {
	var maxChat any
	if pu.MaxAssignedChat != nil {
		maxChat = *pu.MaxAssignedChat
	}
	var lastLogin any
	if !pu.LastLoginAt.IsZero() {
		lastLogin = ms(pu.LastLoginAt)
	}
	attrs, err := jsonArg(pu.Attributes)
	if err != nil {
		return nil, tiledesk.Invalid("attributes", "attributes cannot be stored as JSON")
	}
	settings, err := jsonArg(pu.Settings)
	if err != nil {
		return nil, tiledesk.Invalid("settings", "settings cannot be stored as JSON")
	}
	var presence, presenceAt any
	if p := pu.Presence; p != nil {
		presence, presenceAt = p.Status, ms(p.ChangedAt)
	}
	return []any{pu.ProjectID, pu.ID, nullString(pu.UserID), nullString(pu.UUIDUser), pu.Role, pu.RoleType,
		pu.UserAvailable, nullString(pu.ProfileStatus), maxChat, pu.NumberAssignedRequests, lastLogin,
		mustJSON(pu.Permissions), mustJSON(pu.Tags), pu.Status, pu.Trashed, attrs, settings, pu.CreatedBy,
		ms(pu.CreatedAt), ms(pu.UpdatedAt), presence, presenceAt}, nil
}

// insertProjectUser inserts a membership; a second membership of the same user or uuid is ECONFLICT.
func (t *tx) insertProjectUser(ctx context.Context, pu *tiledesk.ProjectUser) error {
	args, err := projectUserArgs(pu)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO project_users (`+projectUserColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7,
		$8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`, args...)
	if t.s.dialect.IsUniqueViolation(err) {
		return tiledesk.Errorf(tiledesk.ECONFLICT, "The user is already a member of the project.")
	} else if err != nil {
		return fmt.Errorf("insert project user: %w", err)
	}
	return nil
}

// CreateProjectUser inserts a membership.
func (s *Store) CreateProjectUser(ctx context.Context, pu *tiledesk.ProjectUser) error {
	return s.inTx(ctx, func(t *tx) error {
		if err := t.insertProjectUser(ctx, pu); err != nil {
			return err
		}
		name := tiledesk.EventProjectUserInvite
		if pu.UserID == "" {
			name = tiledesk.EventProjectUserCreate
		}
		return t.event(ctx, pu.ProjectID, name, pu.ID, pu)
	})
}

func (s *Store) findProjectUser(ctx context.Context, where string, args ...any) (*tiledesk.ProjectUser, error) {
	pu, err := scanProjectUser(s.queryRow(ctx, `SELECT `+projectUserColumns+` FROM project_users WHERE `+where, args...))
	return pu, notFound(err, "project user")
}

// FindProjectUserByID returns a membership with its user populated.
func (s *Store) FindProjectUserByID(ctx context.Context, projectID, id string) (*tiledesk.ProjectUser, error) {
	pu, err := s.findProjectUser(ctx, `id_project = $1 AND id = $2`, projectID, id)
	if err != nil {
		return nil, err
	}
	return pu, s.populateUsers(ctx, []*tiledesk.ProjectUser{pu})
}

// FindProjectUserByUserID returns the membership of a registered user.
func (s *Store) FindProjectUserByUserID(ctx context.Context, projectID, userID string) (*tiledesk.ProjectUser, error) {
	return s.findProjectUser(ctx, `id_project = $1 AND id_user = $2`, projectID, userID)
}

// FindProjectUserByUUID returns the membership of a guest or external user.
func (s *Store) FindProjectUserByUUID(ctx context.Context, projectID, uuid string) (*tiledesk.ProjectUser, error) {
	return s.findProjectUser(ctx, `id_project = $1 AND uuid_user = $2`, projectID, uuid)
}

// FindMember returns the membership a caller acts with.
func (s *Store) FindMember(ctx context.Context, projectID, who string, guest bool) (*tiledesk.ProjectUser, error) {
	if guest {
		return s.FindProjectUserByUUID(ctx, projectID, who)
	}
	return s.FindProjectUserByUserID(ctx, projectID, who)
}

// FindProjectUsers lists memberships, oldest first.
func (s *Store) FindProjectUsers(ctx context.Context, projectID string, f tiledesk.ProjectUserFilter) ([]*tiledesk.ProjectUser, error) {
	where := []string{`id_project = $1`}
	args := []any{projectID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if len(f.Roles) == 0 {
		add(`role_type = ?`, tiledesk.RoleTypeAgent)
	} else {
		var in []string
		for _, r := range f.Roles {
			args = append(args, r)
			in = append(in, fmt.Sprintf("$%d", len(args)))
		}
		where = append(where, `role IN (`+strings.Join(in, ", ")+`)`)
	}
	if f.Status == nil {
		add(`status = ?`, tiledesk.MemberActive)
	} else if *f.Status != "" {
		add(`status = ?`, *f.Status)
	}
	if !f.Trashed {
		where = append(where, `trashed = FALSE`)
	}
	rows, err := s.query(ctx, `SELECT `+projectUserColumns+` FROM project_users WHERE `+strings.Join(where, " AND ")+
		` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("find project users: %w", err)
	}
	pus, err := collect(rows, scanProjectUser)
	if err != nil {
		return nil, err
	}
	return pus, s.populateUsers(ctx, pus)
}

// populateUsers sets ProjectUser.User for the registered users among pus, with one query.
func (s *Store) populateUsers(ctx context.Context, pus []*tiledesk.ProjectUser) error {
	var ids []any
	var marks []string
	for _, pu := range pus {
		if pu.UserID != "" {
			ids = append(ids, pu.UserID)
			marks = append(marks, fmt.Sprintf("$%d", len(ids)))
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := s.query(ctx, `SELECT `+userColumns+` FROM users WHERE id IN (`+strings.Join(marks, ", ")+`)`, ids...)
	if err != nil {
		return fmt.Errorf("populate users: %w", err)
	}
	users, err := collect(rows, scanUser)
	if err != nil {
		return err
	}
	byID := make(map[string]*tiledesk.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	for _, pu := range pus {
		pu.User = byID[pu.UserID]
	}
	return nil
}

// UpdateProjectUser applies upd to a membership.
func (s *Store) UpdateProjectUser(ctx context.Context, projectID, id string, upd tiledesk.ProjectUserUpdate) (*tiledesk.ProjectUser, error) {
	var out *tiledesk.ProjectUser
	guarded := touchesOwnership(upd)
	err := s.inTx(ctx, func(t *tx) error {
		if guarded {
			if err := t.lockOwnership(ctx, projectID); err != nil {
				return err
			}
		}
		pu, err := scanProjectUser(t.queryRow(ctx, `SELECT `+projectUserColumns+` FROM project_users
			WHERE id_project = $1 AND id = $2`+s.dialect.ForUpdate(), projectID, id))
		if err != nil {
			return notFound(err, "project user")
		}
		wasOwner := pu.IsActiveOwner()
		if upd.Role != nil {
			pu.Role = *upd.Role
			pu.RoleType = tiledesk.RoleTypeOf(pu.Role)
		}
		set(&pu.Status, upd.Status)
		set(&pu.UserAvailable, upd.UserAvailable)
		if upd.Presence != nil {
			p := *upd.Presence
			pu.Presence = &p
		}
		set(&pu.ProfileStatus, upd.ProfileStatus)
		set(&pu.Trashed, upd.Trashed)
		if upd.MaxAssignedChat != nil {
			v := *upd.MaxAssignedChat
			pu.MaxAssignedChat = &v
		}
		if upd.ClearMaxAssignedChat {
			pu.MaxAssignedChat = nil
		}
		if upd.NumberAssignedRequests != nil {
			pu.NumberAssignedRequests = *upd.NumberAssignedRequests
		}
		if upd.Attributes != nil {
			pu.Attributes = upd.Attributes
		}
		if upd.Tags != nil {
			pu.Tags = upd.Tags
		}
		if guarded && wasOwner && !pu.IsActiveOwner() {
			if err := t.keepsAnOwner(ctx, projectID, pu.ID); err != nil {
				return err
			}
		}
		out = pu
		return t.saveProjectUser(ctx, pu)
	})
	if err != nil {
		return nil, err
	}
	return out, s.populateUsers(ctx, []*tiledesk.ProjectUser{out})
}

// saveProjectUser writes a changed membership, stamped, and records project_user.update.
func (t *tx) saveProjectUser(ctx context.Context, pu *tiledesk.ProjectUser) error {
	pu.UpdatedAt = nextStamp(t.now, pu.UpdatedAt)
	args, err := projectUserArgs(pu)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `UPDATE project_users SET id_user = $3, uuid_user = $4, role = $5, role_type = $6,
		user_available = $7, profile_status = $8, max_assigned_chat = $9, number_assigned_requests = $10,
		last_login_at = $11, permissions = $12, tags = $13, status = $14, trashed = $15, attributes = $16,
		settings = $17, created_by = $18, created_at = $19, updated_at = $20, presence_status = $21,
		presence_changed_at = $22 WHERE id_project = $1 AND id = $2`, args...); err != nil {
		return fmt.Errorf("update project user: %w", err)
	}
	return t.event(ctx, pu.ProjectID, tiledesk.EventProjectUserUpdate, pu.ID, pu)
}

// DeleteProjectUser removes a membership for good.
func (s *Store) DeleteProjectUser(ctx context.Context, projectID, id string) error {
	return s.inTx(ctx, func(t *tx) error {
		if err := t.lockOwnership(ctx, projectID); err != nil {
			return err
		}
		pu, err := scanProjectUser(t.queryRow(ctx, `DELETE FROM project_users WHERE id_project = $1 AND id = $2
			RETURNING `+projectUserColumns, projectID, id))
		if err != nil {
			return notFound(err, "project user")
		}
		if pu.IsActiveOwner() {
			if err := t.keepsAnOwner(ctx, projectID, pu.ID); err != nil {
				return err // the transaction is rolled back: nothing is removed
			}
		}
		return t.event(ctx, projectID, tiledesk.EventProjectUserDelete, pu.ID, pu)
	})
}
