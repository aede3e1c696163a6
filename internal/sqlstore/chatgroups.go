package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tiledesk-go/tiledesk"
)

var _ tiledesk.ChatGroupStore = (*Store)(nil)

const chatGroupColumns = `id, id_project, doc, created_at, updated_at`

func scanChatGroup(row scanner) (*tiledesk.ChatGroup, error) {
	var (
		g                tiledesk.ChatGroup
		id, pid, doc     string
		created, updated int64
	)
	if err := row.Scan(&id, &pid, &doc, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(doc), &g); err != nil {
		return nil, fmt.Errorf("chat group %s: %w", id, err)
	}
	g.ID, g.ProjectID, g.CreatedAt, g.UpdatedAt = id, pid, fromMS(created), fromMS(updated)
	return &g, nil
}

// CreateChatGroup saves a new chat group within the project's bound.
func (s *Store) CreateChatGroup(ctx context.Context, change *tiledesk.ChatGroupChange, infos []tiledesk.ChatInfo) error {
	g := change.Group
	return s.inTx(ctx, func(t *tx) error {
		var n int
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM chat_groups WHERE id_project = $1`, g.ProjectID).Scan(&n); err != nil {
			return fmt.Errorf("count chat groups: %w", err)
		}
		if n >= tiledesk.MaxChatGroupsPerProject {
			return tiledesk.Errorf(tiledesk.ECONFLICT, "a project has at most %d chat groups", tiledesk.MaxChatGroupsPerProject)
		}
		res, err := t.exec(ctx, `INSERT INTO chat_groups (`+chatGroupColumns+`) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id) DO NOTHING`, g.ID, g.ProjectID, mustJSON(g), ms(g.CreatedAt), ms(g.UpdatedAt))
		if err != nil {
			return fmt.Errorf("insert chat group: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return tiledesk.Errorf(tiledesk.ECONFLICT, "a chat group %s exists", g.ID)
		}
		return t.saveChatGroupChange(ctx, change, infos, tiledesk.EventChatGroupCreate, false)
	})
}

// FindChatGroup returns a chat group by its id.
func (s *Store) FindChatGroup(ctx context.Context, id string) (*tiledesk.ChatGroup, error) {
	g, err := scanChatGroup(s.queryRow(ctx, `SELECT `+chatGroupColumns+` FROM chat_groups WHERE id = $1`, id))
	return g, notFound(err, "chat group")
}

// ChangeChatGroup reads a chat group locked, applies change and saves what it did.
func (s *Store) ChangeChatGroup(ctx context.Context, id string, change func(*tiledesk.ChatGroup) (*tiledesk.ChatGroupChange, []tiledesk.ChatInfo, error)) (*tiledesk.ChatGroup, error) {
	var out *tiledesk.ChatGroup
	err := s.inTx(ctx, func(t *tx) error {
		g, err := scanChatGroup(t.queryRow(ctx, `SELECT `+chatGroupColumns+` FROM chat_groups WHERE id = $1`+s.dialect.ForUpdate(), id))
		if err != nil {
			return notFound(err, "chat group")
		}
		pid, created := g.ProjectID, g.CreatedAt
		done, infos, err := change(g)
		if err != nil || done == nil {
			out = g
			return err
		}
		g = done.Group
		g.ID, g.ProjectID, g.CreatedAt = id, pid, created
		g.UpdatedAt = nextStamp(t.now, g.UpdatedAt)
		if _, err := t.exec(ctx, `UPDATE chat_groups SET doc = $2, updated_at = $3 WHERE id = $1`, id, mustJSON(g), ms(g.UpdatedAt)); err != nil {
			return fmt.Errorf("update chat group: %w", err)
		}
		out = g
		return t.saveChatGroupChange(ctx, done, infos, tiledesk.EventChatGroupUpdate, true)
	})
	return out, err
}

// saveChatGroupChange writes a chat group's members where they are looked up, its info messages
// and its event.
func (t *tx) saveChatGroupChange(ctx context.Context, change *tiledesk.ChatGroupChange, infos []tiledesk.ChatInfo, event string, existed bool) error {
	g := change.Group
	if existed {
		if _, err := t.exec(ctx, `DELETE FROM chat_group_members WHERE id_group = $1`, g.ID); err != nil {
			return fmt.Errorf("chat group members: %w", err)
		}
	}
	for _, m := range g.Members {
		if _, err := t.exec(ctx, `INSERT INTO chat_group_members (id_group, member, id_project) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, g.ID, m, g.ProjectID); err != nil {
			return fmt.Errorf("chat group members: %w", err)
		}
	}
	for _, info := range infos {
		if err := t.addDirectMessage(ctx, info.Message, info.Event); err != nil {
			return err
		}
		change.Infos = append(change.Infos, info.Message.ID)
	}
	return t.event(ctx, g.ProjectID, event, g.ID, change)
}

// FindChatGroupConversations returns the last message of each of a member's chat groups.
func (s *Store) FindChatGroupConversations(ctx context.Context, projectID, member string, limit int) ([]*tiledesk.Message, error) {
	rows, err := s.query(ctx, `SELECT `+messageColumns+` FROM (
		SELECT `+messageColumns+`, ROW_NUMBER() OVER (PARTITION BY recipient ORDER BY created_at DESC, id DESC) AS nth
		FROM direct_messages WHERE id_project = $1 AND recipient IN (
			SELECT id_group FROM chat_group_members WHERE id_project = $1 AND member = $2)
	) last WHERE nth = 1 ORDER BY created_at DESC, id DESC LIMIT $3`, projectID, member, limit)
	if err != nil {
		return nil, fmt.Errorf("find chat group conversations: %w", err)
	}
	msgs, err := collect(rows, scanMessage)
	return orEmpty(msgs), err
}

// FindChatGroupMessages returns a chat group's newest messages.
func (s *Store) FindChatGroupMessages(ctx context.Context, projectID, groupID string, limit int) ([]*tiledesk.Message, error) {
	rows, err := s.query(ctx, `SELECT `+messageColumns+` FROM direct_messages WHERE id_project = $1 AND recipient = $2
		ORDER BY created_at DESC, id DESC LIMIT $3`, projectID, groupID, limit)
	if err != nil {
		return nil, fmt.Errorf("find chat group messages: %w", err)
	}
	msgs, err := collect(rows, scanMessage)
	return orEmpty(msgs), err
}
