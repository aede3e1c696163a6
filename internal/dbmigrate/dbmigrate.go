// Package dbmigrate moves a deployment's data from its SQLite file to PostgreSQL: it copies every
// table in key order, in batches that each commit together with a record of how far the copy got
// (so that a run stopped anywhere resumes without duplicating or skipping a row), then compares
// both sides table by table with checksums computed identically over each row's canonical
// encoding.
package dbmigrate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk/internal/dbopen"
	"github.com/tiledesk-go/tiledesk/internal/sqlite"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

// Migration is an SQLite source and a PostgreSQL target, both open.
type Migration struct {
	source   *sqlstore.Store
	target   *sqlstore.Store
	src, dst *sql.DB
	from     string
	identity string // of the source (see sourceIdentity)
	tables   []*tablePlan
}

// Open opens the SQLite file at from, which must exist, be at the schema version this binary
// knows, and be served by no running server (the SQLite opener claims the file), and the
// PostgreSQL database at to, whose schema it brings to the current version.
func Open(ctx context.Context, from, to string) (*Migration, error) {
	if err := checkSettings(from, to); err != nil {
		return nil, err
	}
	// Full-text merges are writes; the source is only read.
	source, err := sqlite.Open(ctx, from, sqlite.Options{TextMergeEvery: -1})
	if err != nil {
		return nil, fmt.Errorf("--from: %w", err)
	}
	m := &Migration{source: source, src: source.WriteDB(), from: from}
	if err := m.checkSource(ctx); err != nil {
		m.Close()
		return nil, err
	}
	if m.target, err = dbopen.Open(ctx, to, nil); err != nil {
		m.Close()
		return nil, fmt.Errorf("--to: %w", err)
	}
	m.dst = m.target.WriteDB()
	if m.tables, err = plan(ctx, m.src, m.dst); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// Close closes both databases.
func (m *Migration) Close() error {
	var err error
	if m.target != nil {
		err = m.target.Close()
	}
	return errors.Join(err, m.source.Close())
}

func checkSettings(from, to string) error {
	switch {
	case from == "":
		return errors.New("--from: the SQLite file to copy is required")
	case dbopen.IsPostgres(from):
		return errors.New("--from: give the SQLite file the server ran on; the PostgreSQL database is --to")
	case to == "":
		return errors.New("--to: the PostgreSQL database to copy into is required (postgres://user@host/db)")
	case !dbopen.IsPostgres(to):
		return fmt.Errorf("--to: %q is not a PostgreSQL URL: it starts with postgres:// or postgresql://", to)
	}
	if err := dbopen.Check(from); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	path := sqlitePath(from)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("--from: %w", err) // the opener would create an empty database
	}
	return nil
}

// sqlitePath is the file of a --db setting for SQLite: a path, or a sqlite: URL.
func sqlitePath(setting string) string {
	if !strings.HasPrefix(setting, "sqlite:") {
		return setting
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(setting, "sqlite:"), "//")
	path, _, _ := strings.Cut(rest, "?")
	return path
}

// checkSource makes the source's connection read-only, then refuses a file that is not a tiledesk
// database or whose schema is not the one this binary writes, and computes its identity.
func (m *Migration) checkSource(ctx context.Context) error {
	// The write pool is one connection, kept open: the setting holds for every later read.
	if _, err := m.src.ExecContext(ctx, `PRAGMA query_only = 1`); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	known, err := m.source.KnownSchemaVersion()
	if err != nil {
		return err
	}
	var tables int
	if err := m.src.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`).
		Scan(&tables); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	if tables == 0 {
		return fmt.Errorf("--from: %s is not a tiledesk database (it has no schema_migrations table)", m.from)
	}
	var version sql.NullInt64
	if err := m.src.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	switch v := int(version.Int64); {
	case v < known:
		return fmt.Errorf("--from: %s is at schema version %d and this binary writes version %d: "+
			"run this version's server on it once (tiledesk --db %s), stop it, then migrate", m.from, v, known, m.from)
	case v > known:
		return fmt.Errorf("--from: %s is at schema version %d, newer than this binary knows (%d): "+
			"migrate with the tiledesk binary that last served it", m.from, v, known)
	}
	m.identity, err = sourceIdentity(ctx, m.src)
	return err
}

// sourceIdentity tells one SQLite database from another without writing to it: its migrations
// were applied at instants of its own, and the token secret an earlier start generated (if any)
// is random. Neither changes while a server runs on the file.
func sourceIdentity(ctx context.Context, src *sql.DB) (string, error) {
	h := sha256.New()
	rows, err := src.QueryContext(ctx, `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	for rows.Next() {
		var v, at int64
		var name string
		if err := rows.Scan(&v, &name, &at); err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%d %s %d\n", v, name, at)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	var secret string
	err = src.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'jwt_secret'`).Scan(&secret)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	fmt.Fprintf(h, "%s\n", secret)
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

// ms is the Unix milliseconds of t, as the schema keeps time.
func ms(t time.Time) int64 { return t.UnixMilli() }
