package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// MarkChat records a chat user's reading or archiving of a conversation.
func (s *Store) MarkChat(ctx context.Context, projectID, requestID, userID string, read, archive bool, at time.Time) error {
	var readAt, archivedAt any
	if read {
		readAt = ms(at)
	}
	if archive {
		archivedAt = ms(at)
	}
	err := s.inTx(ctx, func(t *tx) error {
		_, err := t.exec(ctx, `INSERT INTO chat_states (id_project, request_id, user_id, read_at, archived_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id_project, user_id, request_id) DO UPDATE SET
			read_at = COALESCE(excluded.read_at, chat_states.read_at),
			archived_at = COALESCE(excluded.archived_at, chat_states.archived_at)`,
			projectID, requestID, userID, readAt, archivedAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark chat: %w", err)
	}
	return nil
}

// FindChatStates returns a user's states of some conversations of a project.
func (s *Store) FindChatStates(ctx context.Context, projectID, userID string, requestIDs []string) (map[string]tiledesk.ChatState, error) {
	out := map[string]tiledesk.ChatState{}
	if len(requestIDs) == 0 {
		return out, nil
	}
	args := []any{projectID, userID}
	marks := make([]string, len(requestIDs))
	for i, rid := range requestIDs {
		args = append(args, rid)
		marks[i] = fmt.Sprintf("$%d", i+3)
	}
	rows, err := s.query(ctx, `SELECT request_id, read_at, archived_at FROM chat_states
		WHERE id_project = $1 AND user_id = $2 AND request_id IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("find chat states: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var rid string
		var read, archived *int64
		if err := rows.Scan(&rid, &read, &archived); err != nil {
			return nil, err
		}
		var st tiledesk.ChatState
		if read != nil {
			t := fromMS(*read)
			st.ReadAt = &t
		}
		if archived != nil {
			t := fromMS(*archived)
			st.ArchivedAt = &t
		}
		out[rid] = st
	}
	return out, rows.Err()
}
