package sqlstore

import (
	"context"
	"database/sql"

	"github.com/tiledesk-go/tiledesk"
)

// restrictedDepartments selects the departments of project $1 whose conversations are restricted
// to a group.
const restrictedDepartments = `SELECT id FROM departments WHERE id_project = $1 AND id_group IS NOT NULL`

// restrictedFor selects the departments of project $1 whose conversations are restricted to a
// group the user (the placeholder member) is not in: a group that is gone, trashed or disabled has
// no members. Lists and reads by id both ask it, so that they cannot disagree on what is restricted.
func restrictedFor(member string) string {
	return `SELECT d.id FROM departments d WHERE d.id_project = $1 AND d.id_group IS NOT NULL AND NOT EXISTS (
		SELECT 1 FROM agent_group_members g WHERE g.id_project = $1 AND g.id_group = d.id_group AND g.member = ` + member + `)`
}

// hasGroupedDepartments reports whether some department restricts its conversations to a group; when
// none does, every agent sees every conversation and visibility needs no condition.
func (s *Store) hasGroupedDepartments(ctx context.Context, projectID string) (bool, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM (`+restrictedDepartments+` LIMIT 1) AS g`, projectID).Scan(&n)
	return n > 0, err
}

// applyVisibility adds to a list the condition of what v sees: the SQL form of
// tiledesk.Visibility.Sees. It reports whether the list holds every conversation anyway (v is nil,
// or an agent in a project without restricted departments), which lets counts use the counters.
func (s *Store) applyVisibility(ctx context.Context, q *query, projectID string, v *tiledesk.Visibility) (seesAll bool, err error) {
	switch {
	case v == nil:
		return true, nil
	case v.Visitor:
		q.where("requester = " + q.arg(v.ProjectUserID))
		return false, nil
	}
	grouped, err := s.hasGroupedDepartments(ctx, projectID)
	if err != nil || !grouped {
		return err == nil, err
	}
	// Participants and followers are read from their tables, where each has a row.
	q.where(`(id IN (SELECT request FROM request_participants WHERE id_project = $1 AND participant = ` + q.arg(v.UserID) + `)
		OR id IN (SELECT request FROM request_followers WHERE id_project = $1 AND follower = ` + q.arg(v.ProjectUserID) + `)
		OR department NOT IN (` + restrictedFor(q.arg(v.UserID)) + `))`)
	return false, nil
}

// visibleColumns returns the columns a read by id (whose $1 is the project and $2 the request_id)
// selects for v besides its own: whether the department restricts the conversation from v, when
// deciding v.Sees may need it; its argument, $3, is visibleArgs(v).
func visibleColumns(v *tiledesk.Visibility) string {
	if v.NeedsDepartment() {
		return ", department IN (" + restrictedFor("$3") + ")"
	}
	return ""
}

// visibleArgs are the arguments of visibleColumns(v), after the project and the request_id.
func visibleArgs(v *tiledesk.Visibility) []any {
	if v.NeedsDepartment() {
		return []any{v.UserID}
	}
	return nil
}

// rowRestricted holds the restriction read by visibleColumns.
type rowRestricted struct{ restricted sql.NullBool }

// dest is the scan destination of visibleColumns' columns for v.
func (x *rowRestricted) dest(v *tiledesk.Visibility) []any {
	if v.NeedsDepartment() {
		return []any{&x.restricted}
	}
	return nil
}

// check answers ENOTFOUND, as for an unknown id, when v may not see r.
func (x *rowRestricted) check(v *tiledesk.Visibility, r *tiledesk.Request) error {
	if !v.Sees(r, x.restricted.Bool) {
		return tiledesk.NotFound("request")
	}
	return nil
}

// findRequestAs reads a conversation by its request_id for v (forUpdate: inside t, locking it).
func (s *Store) findRequestAs(ctx context.Context, t *tx, projectID, requestID string, v *tiledesk.Visibility) (*tiledesk.Request, error) {
	q := `SELECT ` + requestColumns + visibleColumns(v) + ` FROM requests WHERE id_project = $1 AND request_id = $2`
	args := append([]any{projectID, requestID}, visibleArgs(v)...)
	var row scanner
	if t != nil {
		row = t.queryRow(ctx, q+s.dialect.ForUpdate(), args...)
	} else {
		row = s.queryRow(ctx, q, args...)
	}
	var x rowRestricted
	r, err := scanRequest(extraScan{row, x.dest(v)})
	if err != nil {
		return nil, notFound(err, "request")
	}
	if err := x.check(v, r); err != nil {
		return nil, err
	}
	return r, nil
}

// FindRequest returns a conversation by its request_id, if v may see it.
func (s *Store) FindRequest(ctx context.Context, projectID, requestID string, v *tiledesk.Visibility) (*tiledesk.Request, error) {
	return s.findRequestAs(ctx, nil, projectID, requestID, v)
}
