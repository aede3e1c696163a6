package dbmigrate

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// The target keeps where the copy stands in two tables of its own, written in the transactions
// that write the rows: the source it copies from (one row), and per table the key of the last row
// copied.
const (
	sourceTable   = "migrate_source"
	progressTable = "migrate_progress"
)

const bookkeepingSchema = `
CREATE TABLE IF NOT EXISTS migrate_source (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	identity    TEXT NOT NULL,
	source      TEXT NOT NULL,
	started_at  BIGINT NOT NULL,
	finished_at BIGINT
);
CREATE TABLE IF NOT EXISTS migrate_progress (
	source_table TEXT PRIMARY KEY,
	last_key     TEXT,
	rows         BIGINT NOT NULL DEFAULT 0,
	done         BOOLEAN NOT NULL DEFAULT FALSE
)`

// tableProgress is a table's row of migrate_progress.
type tableProgress struct {
	lastKey []any // nil before the first batch
	rows    int64
	done    bool
}

// lockTarget holds, on a connection of its own for the whole run, a session lock that a second
// migrate into the same schema waits for in vain: it is refused instead of interleaving batches.
func (m *Migration) lockTarget(ctx context.Context) (*sql.Conn, error) {
	conn, err := m.dst.Conn(ctx)
	if err != nil {
		return nil, err
	}
	var schema string
	if err := conn.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		conn.Close()
		return nil, err
	}
	h := fnv.New64a()
	h.Write([]byte("tiledesk migrate " + schema))
	var locked bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, int64(h.Sum64()>>1)).Scan(&locked); err != nil {
		conn.Close()
		return nil, err
	}
	if !locked {
		conn.Close()
		return nil, errors.New("another tiledesk migrate is copying into this database: wait for it, or stop it first")
	}
	return conn, nil
}

// claimTarget records the source in an empty target, or checks that the target's record names
// this source. It returns when the copy finished, zero if it has not.
func (m *Migration) claimTarget(ctx context.Context, conn *sql.Conn, now time.Time) (finished time.Time, err error) {
	if _, err := conn.ExecContext(ctx, bookkeepingSchema); err != nil {
		return time.Time{}, fmt.Errorf("create %s: %w", progressTable, err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return time.Time{}, err
	}
	defer tx.Rollback()
	var identity, source string
	var started int64
	var done sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT identity, source, started_at, finished_at FROM migrate_source`).
		Scan(&identity, &source, &started, &done)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if err := m.checkTargetEmpty(ctx, tx); err != nil {
			return time.Time{}, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO migrate_source (id, identity, source, started_at) VALUES (1, $1, $2, $3)`,
			m.identity, m.from, ms(now)); err != nil {
			return time.Time{}, err
		}
	case err != nil:
		return time.Time{}, err
	case identity != m.identity:
		return time.Time{}, fmt.Errorf("--to already holds a migration from another SQLite file (%s, begun %s): "+
			"migrate into an empty database or schema", source, time.UnixMilli(started).UTC().Format(time.RFC3339))
	case done.Valid:
		finished = time.UnixMilli(done.Int64)
	}
	for _, p := range m.tables {
		if _, err := tx.ExecContext(ctx, `INSERT INTO migrate_progress (source_table) VALUES ($1)
			ON CONFLICT (source_table) DO NOTHING`, p.name); err != nil {
			return time.Time{}, err
		}
	}
	return finished, tx.Commit()
}

// checkTargetEmpty refuses a target that holds data of its own: copied rows would mix with it.
func (m *Migration) checkTargetEmpty(ctx context.Context, tx *sql.Tx) error {
	var full []string
	for _, p := range m.tables {
		var hasRows bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM "`+p.name+`")`).Scan(&hasRows); err != nil {
			return err
		}
		if hasRows {
			full = append(full, p.name)
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("--to already holds data that no migration from this file wrote (in %s): "+
			"migrate into an empty database or schema (a server started on it once already writes its settings)",
			strings.Join(full, ", "))
	}
	return nil
}

// progressOf reads a table's progress.
func (m *Migration) progressOf(ctx context.Context, conn *sql.Conn, p *tablePlan) (tableProgress, error) {
	var st tableProgress
	var key sql.NullString
	err := conn.QueryRowContext(ctx, `SELECT last_key, rows, done FROM migrate_progress WHERE source_table = $1`, p.name).
		Scan(&key, &st.rows, &st.done)
	if err != nil {
		return st, fmt.Errorf("progress of %s: %w", p.name, err)
	}
	if key.Valid {
		st.lastKey, err = p.decodeKey(key.String)
	}
	return st, err
}

// encodeKey writes key values as a JSON array, for migrate_progress.last_key.
func encodeKey(values []any) (string, error) {
	b, err := json.Marshal(values)
	return string(b), err
}

// decodeKey reads what encodeKey wrote, with each value of its column's kind.
func (p *tablePlan) decodeKey(text string) ([]any, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var raw []any
	if err := dec.Decode(&raw); err != nil || len(raw) != len(p.keyCols) {
		return nil, fmt.Errorf("progress of %s: unreadable last key %q", p.name, text)
	}
	for i, c := range p.keyCols {
		if c.kind != kindInt {
			continue
		}
		n, ok := raw[i].(json.Number)
		if !ok {
			return nil, fmt.Errorf("progress of %s: unreadable last key %q", p.name, text)
		}
		v, err := n.Int64()
		if err != nil {
			return nil, fmt.Errorf("progress of %s: unreadable last key %q", p.name, text)
		}
		raw[i] = v
	}
	return raw, nil
}

// markFinished records that every table was copied.
func (m *Migration) markFinished(ctx context.Context, conn *sql.Conn, now time.Time) error {
	_, err := conn.ExecContext(ctx, `UPDATE migrate_source SET finished_at = $1 WHERE finished_at IS NULL`, ms(now))
	return err
}

// tablesLeft counts the tables a copy into the target has not finished; 0 where no copy began.
func (m *Migration) tablesLeft(ctx context.Context) (int, error) {
	var exists bool
	if err := m.dst.QueryRowContext(ctx, `SELECT to_regclass('migrate_progress') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return 0, err
	}
	var left int
	err := m.dst.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrate_progress WHERE NOT done`).Scan(&left)
	return left, err
}
