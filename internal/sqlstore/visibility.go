package sqlstore

import (
	"context"
	"database/sql"

	"github.com/tiledesk-go/tiledesk"
)

// restrictedDepartments selects the departments of project $1 whose conversations are restricted
// to a group. Lists and reads by id both ask it, so that they cannot disagree on what is restricted.
const restrictedDepartments = `SELECT id FROM departments WHERE id_project = $1 AND id_group IS NOT NULL`

// restrictedColumn is what a read by id adds to its columns, when the caller's visibility needs it,
// to learn whether the conversation's department is restricted ($1 being the project).
const restrictedColumn = `department IN (` + restrictedDepartments + `)`

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
		OR department NOT IN (` + restrictedDepartments + `))`)
	return false, nil
}

// visibleColumns returns the columns a read by id selects for v besides its own: the department's
// restriction when deciding v.Sees may need it.
func visibleColumns(v *tiledesk.Visibility) string {
	if v.NeedsDepartment() {
		return ", " + restrictedColumn
	}
	return ""
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
	var row scanner
	if t != nil {
		row = t.queryRow(ctx, q+s.dialect.ForUpdate(), projectID, requestID)
	} else {
		row = s.queryRow(ctx, q, projectID, requestID)
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
