package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
)

// FindChatbotParameters returns what the bots of a conversation set in it (empty when nothing).
func (s *Store) FindChatbotParameters(ctx context.Context, projectID, requestID string) (map[string]any, error) {
	var data string
	err := s.queryRow(ctx, `SELECT data FROM request_parameters WHERE id_project = $1 AND request_id = $2`,
		projectID, requestID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return map[string]any{}, nil
	} else if err != nil {
		return nil, fmt.Errorf("find chatbot parameters: %w", err)
	}
	out := map[string]any{}
	if err := json.Unmarshal([]byte(data), &out); err != nil {
		return nil, fmt.Errorf("chatbot parameters of %s: %w", requestID, err)
	}
	return out, nil
}

// MergeChatbotParameters sets m's keys over a conversation's parameters; check refuses the result
// (a bound), before anything is written.
func (s *Store) MergeChatbotParameters(ctx context.Context, projectID, requestID string, m map[string]any,
	check func(map[string]any) error) (map[string]any, error) {
	var out map[string]any
	err := s.inTx(ctx, func(t *tx) error {
		var one int
		if err := t.queryRow(ctx, `SELECT 1 FROM requests WHERE id_project = $1 AND request_id = $2`+s.dialect.ForUpdate(),
			projectID, requestID).Scan(&one); err != nil {
			return notFound(err, "request")
		}
		cur := map[string]any{}
		var data string
		err := t.queryRow(ctx, `SELECT data FROM request_parameters WHERE id_project = $1 AND request_id = $2`,
			projectID, requestID).Scan(&data)
		if err == nil {
			if err := json.Unmarshal([]byte(data), &cur); err != nil {
				return fmt.Errorf("chatbot parameters of %s: %w", requestID, err)
			}
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find chatbot parameters: %w", err)
		}
		maps.Copy(cur, m)
		if err := check(cur); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO request_parameters (id_project, request_id, data, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id_project, request_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
			projectID, requestID, mustJSON(cur), ms(t.now)); err != nil {
			return fmt.Errorf("save chatbot parameters: %w", err)
		}
		out = cur
		return nil
	})
	return out, err
}
