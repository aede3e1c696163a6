package sqlstore

import (
	"context"
	"fmt"

	"github.com/tiledesk-go/tiledesk"
)

// FindRequestsByIDs loads conversations by ObjectId.
func (s *Store) FindRequestsByIDs(ctx context.Context, projectID string, ids []string) (map[string]*tiledesk.Request, error) {
	return findByIDs(ctx, s, "requests", requestColumns, projectID, ids, scanRequest, func(r *tiledesk.Request) string { return r.ID })
}

// findByIDs loads rows of table whose id is in ids, keyed by id.
func findByIDs[T any](ctx context.Context, s *Store, table, columns, projectID string, ids []string, scan func(scanner) (*T, error), key func(*T) string) (map[string]*T, error) {
	out := make(map[string]*T, len(ids))
	uniq := dedupe(ids)
	if len(uniq) == 0 {
		return out, nil
	}
	args := []any{}
	cond := ""
	if projectID != "" {
		args = append(args, projectID)
		cond = "id_project = $1 AND "
	}
	for _, id := range uniq {
		args = append(args, id)
	}
	rows, err := s.query(ctx, `SELECT `+columns+` FROM `+table+` WHERE `+cond+`id IN (`+
		placeholders(len(args)-len(uniq)+1, len(uniq))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", table, err)
	}
	items, err := collect(rows, scan)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		out[key(it)] = it
	}
	return out, nil
}

// FindLeadsByIDs loads leads by ObjectId.
func (s *Store) FindLeadsByIDs(ctx context.Context, projectID string, ids []string) (map[string]*tiledesk.Lead, error) {
	return findByIDs(ctx, s, "leads", leadColumns, projectID, ids, scanLead, func(l *tiledesk.Lead) string { return l.ID })
}

// FindDepartmentsByIDs loads departments.
func (s *Store) FindDepartmentsByIDs(ctx context.Context, projectID string, ids []string) (map[string]*tiledesk.Department, error) {
	return findByIDs(ctx, s, "departments", departmentColumns, projectID, ids, scanDepartment, func(d *tiledesk.Department) string { return d.ID })
}

// FindProjectUsersByIDs loads memberships with their users.
func (s *Store) FindProjectUsersByIDs(ctx context.Context, projectID string, ids []string) (map[string]*tiledesk.ProjectUser, error) {
	m, err := findByIDs(ctx, s, "project_users", projectUserColumns, projectID, ids, scanProjectUser,
		func(pu *tiledesk.ProjectUser) string { return pu.ID })
	if err != nil {
		return nil, err
	}
	pus := make([]*tiledesk.ProjectUser, 0, len(m))
	for _, pu := range m {
		pus = append(pus, pu)
	}
	return m, s.populateUsers(ctx, pus)
}

// FindUsersByIDs loads active users.
func (s *Store) FindUsersByIDs(ctx context.Context, ids []string) (map[string]*tiledesk.User, error) {
	var valid []string
	for _, id := range ids {
		if tiledesk.IsID(id) {
			valid = append(valid, id)
		}
	}
	return findByIDs(ctx, s, "users", userColumns, "", valid, scanUser, func(u *tiledesk.User) string { return u.ID })
}
