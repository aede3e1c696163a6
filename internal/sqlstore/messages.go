package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/tiledesk-go/tiledesk"
)

const messageColumns = `id_project, id, recipient, sender, sender_fullname, recipient_fullname, type, channel_type, text,
	language, channel, status, attributes, metadata, created_by, created_at, updated_at`

func scanMessage(row scanner) (*tiledesk.Message, error) {
	var (
		m                         tiledesk.Message
		recipName, text, language sql.NullString
		attrs, meta               sql.NullString
		channel                   string
		created, updated          int64
	)
	if err := row.Scan(&m.ProjectID, &m.ID, &m.Recipient, &m.Sender, &m.SenderFullname, &recipName, &m.Type, &m.ChannelType,
		&text, &language, &channel, &m.Status, &attrs, &meta, &m.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	m.RecipientFullname, m.Text, m.Language = recipName.String, text.String, language.String
	m.Channel = tiledesk.Channel{Name: channel}
	m.CreatedAt, m.UpdatedAt = fromMS(created), fromMS(updated)
	if err := scanJSON(attrs, &m.Attributes); err != nil {
		return nil, fmt.Errorf("message %s: %w", m.ID, err)
	}
	if err := scanJSON(meta, &m.Metadata); err != nil {
		return nil, fmt.Errorf("message %s: %w", m.ID, err)
	}
	return &m, nil
}

func (t *tx) insertMessage(ctx context.Context, m *tiledesk.Message) error {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = t.now
	}
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = m.CreatedAt
	}
	attrs, meta, err := messageJSONArgs(m)
	if err != nil {
		return err
	}
	if err := t.insert(ctx, "messages", messageColumns, "", m.ProjectID, m.ID, m.Recipient, m.Sender, m.SenderFullname,
		nullString(m.RecipientFullname), m.Type, m.ChannelType, nullString(m.Text), nullString(m.Language), m.Channel.Name,
		m.Status, attrs, meta, m.CreatedBy, ms(m.CreatedAt), ms(m.UpdatedAt)); err != nil {
		return fmt.Errorf("insert message: %w", err)
	}
	return nil
}

// FindMessages lists a conversation's messages, oldest first.
func (s *Store) FindMessages(ctx context.Context, projectID, requestID string, f tiledesk.MessageFilter) ([]*tiledesk.Message, *tiledesk.Cursor, error) {
	q := newQuery(projectID)
	q.where("recipient = " + q.arg(requestID))
	if f.Newest {
		text := `SELECT ` + messageColumns + ` FROM messages WHERE ` + q.conditions() + ` ORDER BY created_at DESC, id DESC`
		if f.Limit > 0 {
			text += ` LIMIT ` + q.arg(f.Limit)
		}
		rows, err := s.query(ctx, text, q.args...)
		if err != nil {
			return nil, nil, fmt.Errorf("find newest messages: %w", err)
		}
		msgs, err := collect(rows, scanMessage)
		return orEmpty(msgs), nil, err
	}
	if f.After != nil {
		q.where("(created_at, id) > (" + q.arg(f.After.Value) + ", " + q.arg(f.After.ID) + ")")
	}
	text := `SELECT ` + messageColumns + ` FROM messages WHERE ` + q.conditions() + ` ORDER BY created_at, id`
	if f.Limit > 0 {
		text += ` LIMIT ` + q.arg(f.Limit+1)
	}
	rows, err := s.query(ctx, text, q.args...)
	if err != nil {
		return nil, nil, fmt.Errorf("find messages: %w", err)
	}
	msgs, err := collect(rows, scanMessage)
	if err != nil {
		return nil, nil, err
	}
	msgs = orEmpty(msgs)
	if f.Limit > 0 && len(msgs) > f.Limit {
		msgs = msgs[:f.Limit]
		last := msgs[len(msgs)-1]
		return msgs, &tiledesk.Cursor{Sort: tiledesk.RequestSortCreatedAt, Value: ms(last.CreatedAt), ID: last.ID}, nil
	}
	return msgs, nil, nil
}

// FindMessage returns one message of a conversation.
func (s *Store) FindMessage(ctx context.Context, projectID, requestID, id string) (*tiledesk.Message, error) {
	m, err := scanMessage(s.queryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE id_project = $1 AND id = $2
		AND recipient = $3`, projectID, id, requestID))
	return m, notFound(err, "message")
}

// AddDirectMessage stores a message outside any conversation.
func (s *Store) AddDirectMessage(ctx context.Context, m *tiledesk.Message, event json.RawMessage) error {
	attrs, meta, err := messageJSONArgs(m)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(t *tx) error {
		return t.addDirectMessageArgs(ctx, m, attrs, meta, event)
	})
}

// addDirectMessage stores a direct message and records its event, in t.
func (t *tx) addDirectMessage(ctx context.Context, m *tiledesk.Message, event json.RawMessage) error {
	attrs, meta, err := messageJSONArgs(m)
	if err != nil {
		return err
	}
	return t.addDirectMessageArgs(ctx, m, attrs, meta, event)
}

func (t *tx) addDirectMessageArgs(ctx context.Context, m *tiledesk.Message, attrs, meta any, event json.RawMessage) error {
	if m.CreatedAt.IsZero() {
		m.CreatedAt, m.UpdatedAt = t.now, t.now
	}
	_, err := t.exec(ctx, `INSERT INTO direct_messages (`+messageColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		m.ProjectID, m.ID, m.Recipient, m.Sender, m.SenderFullname, nullString(m.RecipientFullname), m.Type,
		m.ChannelType, nullString(m.Text), nullString(m.Language), m.Channel.Name, m.Status, attrs, meta,
		m.CreatedBy, ms(m.CreatedAt), ms(m.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert direct message: %w", err)
	}
	return t.event(ctx, m.ProjectID, tiledesk.EventDirectMessageCreate, m.ID, event)
}

// FindDirectMessages lists the project's messages outside conversations, newest first.
func (s *Store) FindDirectMessages(ctx context.Context, projectID string, limit, offset int) ([]*tiledesk.Message, error) {
	rows, err := s.query(ctx, `SELECT `+messageColumns+` FROM direct_messages WHERE id_project = $1
		ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`, projectID, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("find direct messages: %w", err)
	}
	msgs, err := collect(rows, scanMessage)
	return orEmpty(msgs), err
}

// messageJSONArgs are a message's attributes and metadata as statement arguments.
func messageJSONArgs(m *tiledesk.Message) (attrs, meta any, err error) {
	if attrs, err = jsonArg(m.Attributes); err != nil {
		return nil, nil, tiledesk.Invalid("attributes", "attributes cannot be stored as JSON")
	}
	if meta, err = jsonArg(m.Metadata); err != nil {
		return nil, nil, tiledesk.Invalid("metadata", "metadata cannot be stored as JSON")
	}
	return attrs, meta, nil
}

// FindDirectConversations returns the last direct message of each of a user's counterparts.
func (s *Store) FindDirectConversations(ctx context.Context, projectID, userID string, limit int) ([]*tiledesk.Message, error) {
	rows, err := s.query(ctx, `SELECT `+messageColumns+` FROM (
		SELECT `+messageColumns+`, ROW_NUMBER() OVER (
			PARTITION BY CASE WHEN sender = $2 THEN recipient ELSE sender END
			ORDER BY created_at DESC, id DESC) AS nth
		FROM direct_messages WHERE id_project = $1 AND channel_type = 'direct' AND (sender = $2 OR recipient = $2)
	) last WHERE nth = 1 ORDER BY created_at DESC, id DESC LIMIT $3`, projectID, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("find direct conversations: %w", err)
	}
	msgs, err := collect(rows, scanMessage)
	return orEmpty(msgs), err
}

// FindDirectMessagesBetween returns the newest direct messages two users exchanged.
func (s *Store) FindDirectMessagesBetween(ctx context.Context, projectID, a, b string, limit int) ([]*tiledesk.Message, error) {
	rows, err := s.query(ctx, `SELECT `+messageColumns+` FROM direct_messages WHERE id_project = $1
		AND channel_type = 'direct' AND (sender = $2 AND recipient = $3 OR sender = $3 AND recipient = $2)
		ORDER BY created_at DESC, id DESC LIMIT $4`, projectID, a, b, limit)
	if err != nil {
		return nil, fmt.Errorf("find direct messages between: %w", err)
	}
	msgs, err := collect(rows, scanMessage)
	return orEmpty(msgs), err
}

// FindDirectMessage returns one direct message.
func (s *Store) FindDirectMessage(ctx context.Context, projectID, id string) (*tiledesk.Message, error) {
	m, err := scanMessage(s.queryRow(ctx, `SELECT `+messageColumns+` FROM direct_messages WHERE id_project = $1 AND id = $2`,
		projectID, id))
	return m, notFound(err, "message")
}

// RaiseDirectMessageStatus raises a direct message's status, once.
func (s *Store) RaiseDirectMessageStatus(ctx context.Context, m *tiledesk.Message, event json.RawMessage) (bool, error) {
	raised := false
	err := s.inTx(ctx, func(t *tx) error {
		raised = false
		res, err := t.exec(ctx, `UPDATE direct_messages SET status = $3, updated_at = $4 WHERE id_project = $1 AND id = $2
			AND status < $3`, m.ProjectID, m.ID, m.Status, ms(m.UpdatedAt))
		if err != nil {
			return fmt.Errorf("raise direct message status: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		raised = true
		return t.event(ctx, m.ProjectID, tiledesk.EventDirectMessageUpdate, m.ID, event)
	})
	return raised, err
}
