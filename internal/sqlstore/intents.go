package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// An intent is kept as its fields' JSON (doc) beside the columns that are searched or unique.
const intentColumns = `id_project, id, id_bot, intent_display_name, question, answer, doc, created_at, updated_at`

func scanIntent(row scanner) (*tiledesk.Intent, error) {
	var (
		in                      tiledesk.Intent
		pid, id, bot, name, doc string
		question, answer        string
		created, updated        int64
	)
	if err := row.Scan(&pid, &id, &bot, &name, &question, &answer, &doc, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(doc), &in); err != nil {
		return nil, fmt.Errorf("intent %s: %w", id, err)
	}
	in.ProjectID, in.ID, in.BotID, in.DisplayName, in.Question, in.Answer = pid, id, bot, name, question, answer
	in.CreatedAt, in.UpdatedAt = fromMS(created), fromMS(updated)
	return &in, nil
}

// CreateIntents saves intents of a bot of the project.
func (s *Store) CreateIntents(ctx context.Context, projectID, botID string, intents []*tiledesk.Intent, mode tiledesk.IntentImport) error {
	return s.inTx(ctx, func(t *tx) error {
		var one int
		if err := t.queryRow(ctx, `SELECT 1 FROM bots WHERE id_project = $1 AND id = $2`+s.dialect.ForUpdate(),
			projectID, botID).Scan(&one); err != nil {
			return notFound(err, "bot")
		}
		return t.insertIntents(ctx, projectID, botID, intents, mode)
	})
}

// insertIntents inserts intents of a bot the transaction holds, within the bot's bound; mode says
// what becomes of a display name the bot has.
func (t *tx) insertIntents(ctx context.Context, projectID, botID string, intents []*tiledesk.Intent, mode tiledesk.IntentImport) error {
	if mode == tiledesk.IntentsReplaceAll {
		if _, err := t.exec(ctx, `DELETE FROM intents WHERE id_project = $1 AND id_bot = $2`, projectID, botID); err != nil {
			return fmt.Errorf("delete intents: %w", err)
		}
	}
	if len(intents) == 0 {
		return nil
	}
	var n int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM intents WHERE id_project = $1 AND id_bot = $2`, projectID, botID).Scan(&n); err != nil {
		return fmt.Errorf("count intents: %w", err)
	}
	for _, in := range intents {
		in.ProjectID, in.BotID = projectID, botID
		if mode == tiledesk.IntentsSkipTaken {
			var one int
			err := t.queryRow(ctx, `SELECT 1 FROM intents WHERE id_project = $1 AND id_bot = $2 AND intent_display_name = $3`,
				projectID, botID, in.DisplayName).Scan(&one)
			if err == nil {
				continue
			} else if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("find intent: %w", err)
			}
		}
		if mode == tiledesk.IntentsOverwrite {
			replaced, err := t.replaceIntent(ctx, in)
			if err != nil || replaced {
				if err == nil {
					err = t.event(ctx, projectID, tiledesk.EventIntentUpdate, in.ID, in)
				}
				if err != nil {
					return err
				}
				continue
			}
		}
		if n++; n > tiledesk.MaxIntentsPerBot {
			return tiledesk.Errorf(tiledesk.ECONFLICT, "a bot has at most %d intents", tiledesk.MaxIntentsPerBot)
		}
		if _, err := t.exec(ctx, `INSERT INTO intents (`+intentColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			in.ProjectID, in.ID, in.BotID, in.DisplayName, in.Question, in.Answer, mustJSON(in), ms(in.CreatedAt),
			ms(in.UpdatedAt)); err != nil {
			if t.s.dialect.IsUniqueViolation(err) {
				return duplicateIntent(in.DisplayName)
			}
			return fmt.Errorf("insert intent: %w", err)
		}
		if err := t.event(ctx, projectID, tiledesk.EventIntentCreate, in.ID, in); err != nil {
			return err
		}
	}
	return nil
}

// replaceIntent writes in over the bot's intent of the same display name, if there is one; in
// takes that intent's id and creation.
func (t *tx) replaceIntent(ctx context.Context, in *tiledesk.Intent) (bool, error) {
	var id string
	var created int64
	err := t.queryRow(ctx, `SELECT id, created_at FROM intents WHERE id_project = $1 AND id_bot = $2 AND intent_display_name = $3`,
		in.ProjectID, in.BotID, in.DisplayName).Scan(&id, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("find intent: %w", err)
	}
	in.ID, in.CreatedAt = id, fromMS(created)
	in.UpdatedAt = nextStamp(t.now, in.CreatedAt)
	if _, err := t.exec(ctx, `UPDATE intents SET question = $3, answer = $4, doc = $5, updated_at = $6 WHERE id_project = $1 AND id = $2`,
		in.ProjectID, id, in.Question, in.Answer, mustJSON(in), ms(in.UpdatedAt)); err != nil {
		return false, fmt.Errorf("replace intent: %w", err)
	}
	return true, nil
}

func duplicateIntent(name string) error {
	return tiledesk.Errorf(tiledesk.ECONFLICT, "the bot has another intent named %q (intent_display_name)", name)
}

// FindIntent returns an intent of the project.
func (s *Store) FindIntent(ctx context.Context, projectID, id string) (*tiledesk.Intent, error) {
	in, err := scanIntent(s.queryRow(ctx, `SELECT `+intentColumns+` FROM intents WHERE id_project = $1 AND id = $2`, projectID, id))
	return in, notFound(err, "intent")
}

// FindIntents lists the project's intents by the filter, oldest first.
func (s *Store) FindIntents(ctx context.Context, projectID string, f tiledesk.IntentFilter) ([]*tiledesk.Intent, error) {
	q := `SELECT ` + intentColumns + ` FROM intents WHERE id_project = $1`
	args := []any{projectID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.BotID != "" {
		q += ` AND id_bot = ` + arg(f.BotID)
	}
	if f.DisplayName != "" {
		q += ` AND intent_display_name = ` + arg(f.DisplayName)
	}
	for _, word := range strings.Fields(strings.ToLower(f.Text)) {
		p := arg("%" + escapeLike(word) + "%")
		q += ` AND (LOWER(question) LIKE ` + p + ` ESCAPE '\' OR LOWER(answer) LIKE ` + p + ` ESCAPE '\')`
	}
	limit := f.Limit
	if limit <= 0 || limit > tiledesk.MaxIntentsPerBot {
		limit = tiledesk.MaxIntentsPerBot
	}
	q += ` ORDER BY id LIMIT ` + arg(limit) + ` OFFSET ` + arg(max(f.Page, 0)*limit)
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find intents: %w", err)
	}
	return collect(rows, scanIntent)
}

// ChangeIntent reads an intent locked, applies change and saves it.
func (s *Store) ChangeIntent(ctx context.Context, projectID, id string, change func(*tiledesk.Intent) error) (*tiledesk.Intent, error) {
	var out *tiledesk.Intent
	err := s.inTx(ctx, func(t *tx) error {
		in, err := scanIntent(t.queryRow(ctx, `SELECT `+intentColumns+` FROM intents WHERE id_project = $1 AND id = $2`+
			s.dialect.ForUpdate(), projectID, id))
		if err != nil {
			return notFound(err, "intent")
		}
		bot := in.BotID
		if err := change(in); err != nil {
			return err
		}
		in.ID, in.ProjectID, in.BotID = id, projectID, bot
		in.UpdatedAt = nextStamp(t.now, in.UpdatedAt)
		if _, err := t.exec(ctx, `UPDATE intents SET intent_display_name = $3, question = $4, answer = $5, doc = $6,
			updated_at = $7 WHERE id_project = $1 AND id = $2`, projectID, id, in.DisplayName, in.Question, in.Answer,
			mustJSON(in), ms(in.UpdatedAt)); err != nil {
			if s.dialect.IsUniqueViolation(err) {
				return duplicateIntent(in.DisplayName)
			}
			return fmt.Errorf("update intent: %w", err)
		}
		out = in
		return t.event(ctx, projectID, tiledesk.EventIntentUpdate, id, in)
	})
	return out, err
}

// DeleteIntent deletes an intent of the project.
func (s *Store) DeleteIntent(ctx context.Context, projectID, id string) (*tiledesk.Intent, error) {
	var out *tiledesk.Intent
	err := s.inTx(ctx, func(t *tx) error {
		in, err := scanIntent(t.queryRow(ctx, `DELETE FROM intents WHERE id_project = $1 AND id = $2 RETURNING `+intentColumns,
			projectID, id))
		if err != nil {
			return notFound(err, "intent")
		}
		out = in
		return t.event(ctx, projectID, tiledesk.EventIntentDelete, id, in)
	})
	return out, err
}
