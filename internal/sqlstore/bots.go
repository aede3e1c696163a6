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

var _ tiledesk.BotStore = (*Store)(nil)

// A bot is kept as its fields' JSON (doc) beside the columns that are searched or unique: the
// original's bots have many descriptive fields that nothing queries.
const botColumns = `id_project, id, name, slug, type, trashed, secret, doc, created_at, updated_at`

func scanBot(row scanner) (*tiledesk.Bot, error) {
	var (
		b                tiledesk.Bot
		doc              string
		created, updated int64
	)
	var id, pid, name, slug, typ, secret string
	var trashed bool
	if err := row.Scan(&pid, &id, &name, &slug, &typ, &trashed, &secret, &doc, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(doc), &b); err != nil {
		return nil, fmt.Errorf("bot %s: %w", id, err)
	}
	b.ProjectID, b.ID, b.Name, b.Slug, b.Type, b.Trashed, b.Secret = pid, id, name, slug, typ, trashed, secret
	b.CreatedAt, b.UpdatedAt = fromMS(created), fromMS(updated)
	return &b, nil
}

func botArgs(b *tiledesk.Bot) []any {
	return []any{b.ProjectID, b.ID, b.Name, b.Slug, b.Type, b.Trashed, b.Secret, mustJSON(b), ms(b.CreatedAt), ms(b.UpdatedAt)}
}

// CreateBot saves a bot under a free slug, and its first intents.
func (s *Store) CreateBot(ctx context.Context, b *tiledesk.Bot, intents []*tiledesk.Intent) error {
	return s.inTx(ctx, func(t *tx) error {
		// One creation at a time per project: two bots of one name would otherwise pick the same slug.
		var one int
		if err := t.queryRow(ctx, `SELECT 1 FROM projects WHERE id = $1`+s.dialect.ForUpdate(), b.ProjectID).Scan(&one); err != nil {
			return notFound(err, "project")
		}
		var n int
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM bots WHERE id_project = $1`, b.ProjectID).Scan(&n); err != nil {
			return fmt.Errorf("count bots: %w", err)
		}
		if n >= tiledesk.MaxBotsPerProject {
			return tiledesk.Errorf(tiledesk.ECONFLICT, "a project has at most %d bots", tiledesk.MaxBotsPerProject)
		}
		slug, err := t.freeSlug(ctx, b.ProjectID, "", b.Slug)
		if err != nil {
			return err
		}
		b.Slug = slug
		if _, err := t.exec(ctx, `INSERT INTO bots (`+botColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			botArgs(b)...); err != nil {
			if s.dialect.IsUniqueViolation(err) {
				return tiledesk.Errorf(tiledesk.ECONFLICT, "another bot of the project has the slug %q", b.Slug)
			}
			return fmt.Errorf("insert bot: %w", err)
		}
		if err := t.event(ctx, b.ProjectID, tiledesk.EventBotCreate, b.ID, b); err != nil {
			return err
		}
		// The project's bots get their conversations' messages through a subscription of the server's.
		if err := t.ensureInternalSubscription(ctx, b.ProjectID, tiledesk.EventMessageCreate, tiledesk.InternalBotsTarget); err != nil {
			return err
		}
		return t.insertIntents(ctx, b.ProjectID, b.ID, intents, tiledesk.IntentsAdd)
	})
}

// freeSlug returns want, or want-2, want-3, ... whichever no other bot of the project than except has.
func (t *tx) freeSlug(ctx context.Context, projectID, except, want string) (string, error) {
	rows, err := t.query(ctx, `SELECT slug FROM bots WHERE id_project = $1 AND id <> $2 AND (slug = $3 OR slug LIKE $4 ESCAPE '\')`,
		projectID, except, want, escapeLike(want)+"-%")
	if err != nil {
		return "", fmt.Errorf("find slugs: %w", err)
	}
	taken := map[string]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return "", err
		}
		taken[s] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	slug := want
	for i := 2; taken[slug]; i++ {
		slug = fmt.Sprintf("%s-%d", want, i)
	}
	return slug, nil
}

// escapeLike escapes LIKE's wildcards in s, for ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// FindBot returns a bot of the project.
func (s *Store) FindBot(ctx context.Context, projectID, id string) (*tiledesk.Bot, error) {
	b, err := scanBot(s.queryRow(ctx, `SELECT `+botColumns+` FROM bots WHERE id_project = $1 AND id = $2`, projectID, id))
	return b, notFound(err, "bot")
}

// FindBots lists the project's bots (at most MaxBotsPerProject), filtered here.
func (s *Store) FindBots(ctx context.Context, projectID string, f tiledesk.BotFilter) ([]*tiledesk.Bot, error) {
	rows, err := s.query(ctx, `SELECT `+botColumns+` FROM bots WHERE id_project = $1 ORDER BY id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("find bots: %w", err)
	}
	all, err := collect(rows, scanBot)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, b := range all {
		if botMatches(b, f) {
			out = append(out, b)
		}
	}
	return out, nil
}

func botMatches(b *tiledesk.Bot, f tiledesk.BotFilter) bool {
	text := tiledesk.Fold(f.Text)
	switch {
	case b.Trashed && !f.WithTrashed, b.Type == tiledesk.BotIdentity && !f.WithIdentity, f.ForAgents && !b.AgentsAvailable:
		return false
	case f.Language != "" && b.Language != f.Language, f.Name != "" && b.Name != f.Name:
		return false
	case f.Public != nil && b.Public != *f.Public, f.Certified != nil && b.Certified != *f.Certified:
		return false
	case text != "" && !strings.Contains(tiledesk.Fold(b.Name), text) && !strings.Contains(tiledesk.Fold(b.Description), text):
		return false
	}
	return true
}

// ChangeBot reads a bot locked, applies change and saves it.
func (s *Store) ChangeBot(ctx context.Context, projectID, id string, change func(*tiledesk.Bot) error) (*tiledesk.Bot, error) {
	var out *tiledesk.Bot
	err := s.inTx(ctx, func(t *tx) error {
		var err error
		out, err = t.changeBot(ctx, projectID, id, change)
		return err
	})
	return out, err
}

// ImportIntoBot changes a bot and adds intents to it in one transaction (CreateIntents' rules).
func (s *Store) ImportIntoBot(ctx context.Context, projectID, id string, change func(*tiledesk.Bot) error,
	intents []*tiledesk.Intent, mode tiledesk.IntentImport) (*tiledesk.Bot, error) {
	var out *tiledesk.Bot
	err := s.inTx(ctx, func(t *tx) error {
		var err error
		if out, err = t.changeBot(ctx, projectID, id, change); err != nil {
			return err
		}
		return t.insertIntents(ctx, projectID, id, intents, mode)
	})
	return out, err
}

func (t *tx) changeBot(ctx context.Context, projectID, id string, change func(*tiledesk.Bot) error) (*tiledesk.Bot, error) {
	b, err := scanBot(t.queryRow(ctx, `SELECT `+botColumns+` FROM bots WHERE id_project = $1 AND id = $2`+
		t.s.dialect.ForUpdate(), projectID, id))
	if err != nil {
		return nil, notFound(err, "bot")
	}
	before := b.Slug
	if err := change(b); err != nil {
		return nil, err
	}
	if b.Slug != before {
		var other int
		err := t.queryRow(ctx, `SELECT 1 FROM bots WHERE id_project = $1 AND slug = $2 AND id <> $3`, projectID, b.Slug, id).Scan(&other)
		if err == nil {
			return nil, tiledesk.Errorf(tiledesk.ECONFLICT, "another bot of the project has the slug %q", b.Slug)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("find slug: %w", err)
		}
	}
	b.ID, b.ProjectID = id, projectID
	b.UpdatedAt = nextStamp(t.now, b.UpdatedAt)
	if _, err := t.exec(ctx, `UPDATE bots SET name = $3, slug = $4, type = $5, trashed = $6, secret = $7, doc = $8,
		updated_at = $9 WHERE id_project = $1 AND id = $2`, projectID, id, b.Name, b.Slug, b.Type, b.Trashed, b.Secret,
		mustJSON(b), ms(b.UpdatedAt)); err != nil {
		if t.s.dialect.IsUniqueViolation(err) {
			return nil, tiledesk.Errorf(tiledesk.ECONFLICT, "another bot of the project has the slug %q", b.Slug)
		}
		return nil, fmt.Errorf("update bot: %w", err)
	}
	return b, t.event(ctx, projectID, tiledesk.EventBotUpdate, id, b)
}

// DeleteBot deletes a bot no department routes to, with its intents.
func (s *Store) DeleteBot(ctx context.Context, projectID, id string) (*tiledesk.Bot, error) {
	var out *tiledesk.Bot
	err := s.inTx(ctx, func(t *tx) error {
		var dept string
		err := t.queryRow(ctx, `SELECT name FROM departments WHERE id_project = $1 AND id_bot = $2 LIMIT 1`, projectID, id).Scan(&dept)
		if err == nil {
			return tiledesk.Errorf(tiledesk.ECONFLICT, "the department %q routes to this bot: change its bot first", dept)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find departments: %w", err)
		}
		b, err := scanBot(t.queryRow(ctx, `DELETE FROM bots WHERE id_project = $1 AND id = $2 RETURNING `+botColumns, projectID, id))
		if err != nil {
			return notFound(err, "bot")
		}
		if _, err := t.exec(ctx, `DELETE FROM intents WHERE id_project = $1 AND id_bot = $2`, projectID, id); err != nil {
			return fmt.Errorf("delete intents: %w", err)
		}
		out = b
		return t.event(ctx, projectID, tiledesk.EventBotDelete, id, b)
	})
	return out, err
}
