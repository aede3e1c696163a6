package sqlstore

import (
	"context"
	"fmt"

	"github.com/tiledesk-go/tiledesk"
)

const invitationColumns = `id_project, id, email, role, created_by, created_at, updated_at`

func scanInvitation(row scanner) (*tiledesk.PendingInvitation, error) {
	var inv tiledesk.PendingInvitation
	var created, updated int64
	if err := row.Scan(&inv.ProjectID, &inv.ID, &inv.Email, &inv.Role, &inv.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	inv.CreatedAt, inv.UpdatedAt = fromMS(created), fromMS(updated)
	return &inv, nil
}

// SavePendingInvitation inserts an invitation or updates the role of the one for the same email.
func (s *Store) SavePendingInvitation(ctx context.Context, inv *tiledesk.PendingInvitation) (*tiledesk.PendingInvitation, error) {
	inv.Email = tiledesk.EmailKey(inv.Email)
	var out *tiledesk.PendingInvitation
	err := s.inTx(ctx, func(t *tx) error {
		var err error
		out, err = scanInvitation(t.queryRow(ctx, `INSERT INTO pending_invitations (`+invitationColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (id_project, email) DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at
			RETURNING `+invitationColumns,
			inv.ProjectID, inv.ID, inv.Email, inv.Role, inv.CreatedBy, ms(inv.CreatedAt), ms(inv.UpdatedAt)))
		if err != nil {
			return fmt.Errorf("save invitation: %w", err)
		}
		return t.event(ctx, out.ProjectID, tiledesk.EventInvitePending, out.ID, out)
	})
	return out, err
}

// FindPendingInvitations lists a project's invitations, oldest first.
func (s *Store) FindPendingInvitations(ctx context.Context, projectID string) ([]*tiledesk.PendingInvitation, error) {
	rows, err := s.query(ctx, `SELECT `+invitationColumns+` FROM pending_invitations WHERE id_project = $1 ORDER BY id`,
		projectID)
	if err != nil {
		return nil, fmt.Errorf("find invitations: %w", err)
	}
	return collect(rows, scanInvitation)
}

// FindPendingInvitationByID returns one invitation of a project.
func (s *Store) FindPendingInvitationByID(ctx context.Context, projectID, id string) (*tiledesk.PendingInvitation, error) {
	inv, err := scanInvitation(s.queryRow(ctx, `SELECT `+invitationColumns+` FROM pending_invitations
		WHERE id_project = $1 AND id = $2`, projectID, id))
	return inv, notFound(err, "pending invitation")
}

// DeletePendingInvitation revokes an invitation.
func (s *Store) DeletePendingInvitation(ctx context.Context, projectID, id string) (*tiledesk.PendingInvitation, error) {
	var out *tiledesk.PendingInvitation
	err := s.inTx(ctx, func(t *tx) error {
		inv, err := scanInvitation(t.queryRow(ctx, `DELETE FROM pending_invitations WHERE id_project = $1 AND id = $2
			RETURNING `+invitationColumns, projectID, id))
		if err != nil {
			return notFound(err, "pending invitation")
		}
		out = inv
		return t.event(ctx, projectID, tiledesk.EventInvitePendingDelete, inv.ID, inv)
	})
	return out, err
}

// VerifyUserEmail marks a user's email verified and turns the invitations of that email into
// memberships, in one transaction.
func (s *Store) VerifyUserEmail(ctx context.Context, id, email string) (*tiledesk.User, error) {
	var out *tiledesk.User
	err := s.inTx(ctx, func(t *tx) error {
		u, err := scanUser(t.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 AND email = $2 AND status = $3`+
			s.dialect.ForUpdate(), id, tiledesk.EmailKey(email), tiledesk.UserActive))
		if err != nil {
			return notFound(err, "user")
		}
		if !u.EmailVerified {
			u.EmailVerified = true
			u.UpdatedAt = nextStamp(t.now, u.UpdatedAt)
			if _, err := t.exec(ctx, `UPDATE users SET email_verified = TRUE, updated_at = $2 WHERE id = $1`,
				u.ID, ms(u.UpdatedAt)); err != nil {
				return fmt.Errorf("verify email: %w", err)
			}
			if err := t.event(ctx, "", tiledesk.EventUserUpdate, u.ID, u); err != nil {
				return err
			}
		}
		out = u
		return t.acceptInvitations(ctx, u)
	})
	return out, err
}

// acceptInvitations turns the pending invitations of u's email into memberships. A project u already
// belongs to keeps the membership it has; the invitation goes either way.
func (t *tx) acceptInvitations(ctx context.Context, u *tiledesk.User) error {
	rows, err := t.query(ctx, `SELECT `+invitationColumns+` FROM pending_invitations WHERE email = $1`, u.Email)
	if err != nil {
		return fmt.Errorf("find invitations: %w", err)
	}
	invs, err := collect(rows, scanInvitation)
	if err != nil {
		return err
	}
	for _, inv := range invs {
		if _, err := t.exec(ctx, `DELETE FROM pending_invitations WHERE id_project = $1 AND id = $2`,
			inv.ProjectID, inv.ID); err != nil {
			return fmt.Errorf("delete invitation: %w", err)
		}
		// Checked before inserting (on PostgreSQL a failed insert would abort the whole transaction):
		// a membership u already has stays as it is, and a deleted project gains no member.
		var members, live int
		if err := t.queryRow(ctx, `SELECT
			(SELECT COUNT(*) FROM project_users WHERE id_project = $1 AND id_user = $2),
			(SELECT COUNT(*) FROM projects WHERE id = $1 AND status = $3)`,
			inv.ProjectID, u.ID, tiledesk.ProjectActive).Scan(&members, &live); err != nil {
			return fmt.Errorf("find membership: %w", err)
		}
		if members > 0 || live == 0 {
			continue
		}
		pu := tiledesk.NewProjectUser(inv.ProjectID, inv.Role, inv.CreatedBy, t.now)
		pu.UserID = u.ID
		if err := t.insertProjectUser(ctx, pu); err != nil {
			return err
		}
		if err := t.event(ctx, pu.ProjectID, tiledesk.EventProjectUserInvite, pu.ID, pu); err != nil {
			return err
		}
	}
	return nil
}
