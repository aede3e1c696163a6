package sqlstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/tiledesk-go/tiledesk"
)

// DeleteUser anonymises an active user, ends its sessions and disables its memberships.
func (s *Store) DeleteUser(ctx context.Context, id string) (*tiledesk.User, error) {
	var out *tiledesk.User
	err := s.inTx(ctx, func(t *tx) error {
		owned, err := t.lockUserProjects(ctx, id)
		if err != nil {
			return err
		}
		u, err := scanUser(t.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 AND status = $2`+
			s.dialect.ForUpdate(), id, tiledesk.UserActive))
		if err != nil {
			return notFound(err, "user")
		}
		for _, pu := range owned {
			if err := t.keepsAnOwner(ctx, pu.ProjectID, pu.ID); err != nil {
				return tiledesk.Errorf(tiledesk.ECONFLICT, "The user is the last active owner of project %s: "+
					"make another member owner first, or delete the project.", pu.ProjectID)
			}
		}
		u.Email = uuid.NewString() + "@tiledesk.com"
		u.Firstname, u.Lastname = "anonymized", "anonymized"
		u.PasswordHash, u.Phone, u.Description, u.PublicEmail, u.PublicWebsite = "", "", "", "", ""
		u.Attributes, u.EmailVerified, u.Status = nil, false, tiledesk.UserDeleted
		u.TokenGeneration++
		u.UpdatedAt = nextStamp(t.now, u.UpdatedAt)
		if _, err := t.exec(ctx, `UPDATE users SET email = $2, firstname = $3, lastname = $4, password_hash = '',
			email_verified = FALSE, status = $5, phone = NULL, description = NULL, public_email = NULL,
			public_website = NULL, attributes = NULL, token_generation = $6, updated_at = $7 WHERE id = $1`,
			u.ID, u.Email, u.Firstname, u.Lastname, u.Status, u.TokenGeneration, ms(u.UpdatedAt)); err != nil {
			return fmt.Errorf("anonymise user: %w", err)
		}
		rows, err := t.query(ctx, `UPDATE project_users SET status = $2, user_available = FALSE,
			updated_at = `+nextStampSQL("$3")+` WHERE id_user = $1 AND (status <> $2 OR user_available)
			RETURNING `+projectUserColumns, u.ID, tiledesk.MemberDisabled, ms(t.now))
		if err != nil {
			return fmt.Errorf("disable memberships: %w", err)
		}
		disabled, err := collect(rows, scanProjectUser)
		if err != nil {
			return fmt.Errorf("disable memberships: %w", err)
		}
		// Each project the user was a member of learns that the membership is disabled.
		for _, pu := range disabled {
			if err := t.event(ctx, pu.ProjectID, tiledesk.EventProjectUserUpdate, pu.ID, pu); err != nil {
				return err
			}
		}
		out = u
		return t.event(ctx, "", tiledesk.EventUserDelete, u.ID, u)
	})
	return out, err
}

// lockUserProjects takes the ownership rows (lockOwnership) of every project the user is a member
// of, in project id order, and returns its active owner memberships. A membership added
// between the read and the locks is found by reading again, until nothing new comes.
func (t *tx) lockUserProjects(ctx context.Context, userID string) ([]*tiledesk.ProjectUser, error) {
	locked := map[string]bool{}
	for {
		pus, err := t.userMemberships(ctx, userID)
		if err != nil {
			return nil, err
		}
		var more []string
		for _, pu := range pus {
			if !locked[pu.ProjectID] && !slices.Contains(more, pu.ProjectID) {
				more = append(more, pu.ProjectID)
			}
		}
		if len(more) == 0 {
			var owned []*tiledesk.ProjectUser
			for _, pu := range pus {
				if pu.IsActiveOwner() {
					owned = append(owned, pu)
				}
			}
			return owned, nil
		}
		slices.Sort(more)
		for _, pid := range more {
			if err := t.lockOwnership(ctx, pid); err != nil {
				return nil, err
			}
			locked[pid] = true
		}
	}
}

// userMemberships reads every membership of a registered user, in every project.
func (t *tx) userMemberships(ctx context.Context, userID string) ([]*tiledesk.ProjectUser, error) {
	rows, err := t.query(ctx, `SELECT `+projectUserColumns+` FROM project_users WHERE id_user = $1`, userID)
	if err != nil {
		return nil, fmt.Errorf("find memberships: %w", err)
	}
	return collect(rows, scanProjectUser)
}
