package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strconv"
	"strings"
)

type migration struct {
	version int
	name    string
	sql     string
}

func (s *Store) migrations() ([]migration, error) {
	fsys := s.dialect.Migrations()
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name must be NNNN_description.sql", name)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %q: expected version %d", m.name, i+1)
		}
	}
	return out, nil
}

// SchemaVersion returns the version of the newest applied migration (0 on an empty database).
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	// Concurrent CREATE TABLE IF NOT EXISTS can still collide on PostgreSQL, hence the lock.
	t, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer t.Rollback()
	if err := s.dialect.LockMigrations(ctx, t); err != nil {
		return 0, fmt.Errorf("lock: %w", err)
	}
	if _, err := t.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return 0, fmt.Errorf("create schema_migrations: %w", err)
	}
	var v sql.NullInt64
	if err := t.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, err
	}
	return int(v.Int64), t.Commit()
}

// KnownSchemaVersion is the newest migration this binary carries.
func (s *Store) KnownSchemaVersion() (int, error) {
	ms, err := s.migrations()
	return len(ms), err
}

// Migrate applies the pending migrations, each in its own transaction under the dialect's
// cross-process lock, and refuses a database whose schema is newer than this binary knows.
func (s *Store) Migrate(ctx context.Context, log *slog.Logger) error {
	all, err := s.migrations()
	if err != nil {
		return err
	}
	current, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if current > len(all) {
		return fmt.Errorf("database schema version %d is newer than this server knows (%d): upgrade the server", current, len(all))
	}
	for _, m := range all[current:] {
		applied, err := s.apply(ctx, m)
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if applied && log != nil {
			log.Info("applied migration", "engine", s.dialect.Name(), "migration", m.name)
		}
	}
	if a, ok := s.dialect.(AfterMigrator); ok {
		if err := a.AfterMigrate(ctx, s.write); err != nil {
			return fmt.Errorf("after migrations: %w", err)
		}
	}
	s.committed() // migrations write outside inTx
	if s.relay != nil {
		return s.relay.Start(ctx)
	}
	return nil
}

// AfterMigrator is a Dialect that has work to do once the schema is current (SQLite writes its
// query planner statistics).
type AfterMigrator interface {
	AfterMigrate(ctx context.Context, write *sql.DB) error
}

func (s *Store) apply(ctx context.Context, m migration) (bool, error) {
	t, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer t.Rollback()
	if err := s.dialect.LockMigrations(ctx, t); err != nil {
		return false, fmt.Errorf("lock: %w", err)
	}
	// Another process may have applied it while we waited for the lock.
	var v sql.NullInt64
	if err := t.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return false, err
	}
	if int(v.Int64) >= m.version {
		return false, nil
	}
	if _, err := t.ExecContext(ctx, m.sql); err != nil {
		return false, err
	}
	if _, err := t.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`),
		m.version, m.name, ms(s.stamp())); err != nil {
		return false, err
	}
	return true, t.Commit()
}
