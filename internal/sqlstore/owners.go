package sqlstore

import (
	"context"
	"fmt"

	"github.com/tiledesk-go/tiledesk"
)

// Ownership is decided inside the transaction that could end it. A transaction that may take the
// last active owner away (a change of role, status or trashed, a removal, a user's deletion) first
// takes the project's stripe 0 counter row, then counts the owners that remain. Two owners
// demoting each other at once are thus ordered: the second sees the first's change and is refused.

// lockOwnership takes the project's stripe 0 counter row for the rest of the transaction, creating
// it if the project has none yet. With one writer (SQLite) the transaction is alone already.
func (t *tx) lockOwnership(ctx context.Context, projectID string) error {
	if t.s.dialect.SingleWriter() {
		return nil
	}
	if _, err := t.exec(ctx, `INSERT INTO project_counters AS c (id_project, stripe) VALUES ($1, 0)
		ON CONFLICT (id_project, stripe) DO UPDATE SET ticket_seq = c.ticket_seq`, projectID); err != nil {
		return fmt.Errorf("lock project: %w", err)
	}
	return nil
}

// keepsAnOwner returns ErrLastOwner unless the project has an active owner other than membership
// except: an active, untrashed owner membership of an active user.
func (t *tx) keepsAnOwner(ctx context.Context, projectID, except string) error {
	var n int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM project_users pu JOIN users u ON u.id = pu.id_user
		WHERE pu.id_project = $1 AND pu.id <> $2 AND pu.role = $3 AND pu.status = $4 AND pu.trashed = FALSE
		AND u.status = $5`, projectID, except, tiledesk.RoleOwner, tiledesk.MemberActive, tiledesk.UserActive).Scan(&n); err != nil {
		return fmt.Errorf("count owners: %w", err)
	}
	if n == 0 {
		return tiledesk.ErrLastOwner()
	}
	return nil
}

// touchesOwnership reports whether an update may take ownership away.
func touchesOwnership(upd tiledesk.ProjectUserUpdate) bool {
	return upd.Role != nil || upd.Status != nil || upd.Trashed != nil
}
