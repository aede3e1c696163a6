package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

var _ tiledesk.ChatPresenceStore = (*Store)(nil)

// SetChatPresence records a process's hold of a user's chat connections and sets the user's
// memberships' presence from every process's records, the user's row locked so that two
// processes' changes for one user follow each other.
func (s *Store) SetChatPresence(ctx context.Context, userID, process string, online bool, at, freshAfter time.Time) ([]*tiledesk.ProjectUser, error) {
	var changed []*tiledesk.ProjectUser
	err := s.inTx(ctx, func(t *tx) error {
		changed = nil
		var id string
		if err := t.queryRow(ctx, `SELECT id FROM users WHERE id = $1`+s.dialect.ForUpdate(), userID).Scan(&id); err != nil {
			return notFound(err, "user")
		}
		var err error
		if online {
			_, err = t.exec(ctx, `INSERT INTO chat_presence (user_id, process_id, seen_at) VALUES ($1, $2, $3)
				ON CONFLICT (user_id, process_id) DO UPDATE SET seen_at = excluded.seen_at`, userID, process, ms(at))
		} else {
			_, err = t.exec(ctx, `DELETE FROM chat_presence WHERE user_id = $1 AND process_id = $2`, userID, process)
		}
		if err != nil {
			return fmt.Errorf("chat presence: %w", err)
		}
		var held int
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM chat_presence WHERE user_id = $1 AND seen_at > $2`,
			userID, ms(freshAfter)).Scan(&held); err != nil {
			return fmt.Errorf("chat presence: %w", err)
		}
		status := tiledesk.PresenceOffline
		if held > 0 {
			status = tiledesk.PresenceOnline
		}
		rows, err := t.query(ctx, `SELECT `+projectUserColumns+` FROM project_users WHERE id_user = $1 AND status = $2
			AND role_type = $3`+s.dialect.ForUpdate(), userID, tiledesk.MemberActive, tiledesk.RoleTypeAgent)
		if err != nil {
			return fmt.Errorf("chat presence: %w", err)
		}
		pus, err := collect(rows, scanProjectUser)
		if err != nil {
			return err
		}
		for _, pu := range pus {
			if pu.Presence != nil && pu.Presence.Status == status {
				continue
			}
			pu.Presence = &tiledesk.Presence{Status: status, ChangedAt: at}
			if err := t.saveProjectUser(ctx, pu); err != nil {
				return err
			}
			changed = append(changed, pu)
		}
		return nil
	})
	return changed, err
}

// TouchChatPresence marks a process's records seen.
func (s *Store) TouchChatPresence(ctx context.Context, process string, at time.Time) error {
	return s.inTx(ctx, func(t *tx) error {
		if _, err := t.exec(ctx, `UPDATE chat_presence SET seen_at = $2 WHERE process_id = $1`, process, ms(at)); err != nil {
			return fmt.Errorf("touch chat presence: %w", err)
		}
		return nil
	})
}

// FindStaleChatPresence lists the records not seen since before.
func (s *Store) FindStaleChatPresence(ctx context.Context, before time.Time, limit int) ([]tiledesk.StalePresence, error) {
	rows, err := s.query(ctx, `SELECT user_id, process_id FROM chat_presence WHERE seen_at <= $1 ORDER BY seen_at LIMIT $2`,
		ms(before), limit)
	if err != nil {
		return nil, fmt.Errorf("find stale chat presence: %w", err)
	}
	defer rows.Close()
	var out []tiledesk.StalePresence
	for rows.Next() {
		var p tiledesk.StalePresence
		if err := rows.Scan(&p.UserID, &p.Process); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
